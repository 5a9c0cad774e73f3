//! Page and sector contents.
//!
//! The scenario language only ever fills whole sectors with one byte, so a
//! sector's bytes are stored as that byte plus a ghost version instead of 512
//! real bytes: the world stays small and cloning or hashing it costs a few
//! bytes per sector. The real 4 KiB contents are materialised only where the
//! kernel would compute over them (the CRC32C of a block).

use crate::limits::{SECTORS_PER_PAGE, SECTOR_BYTES};

/// One 512-byte sector: every byte is `byte`. `ver` is ghost state: the
/// value of a world-wide clock when these bytes were written into memory
/// (a CPU store stamps its whole page at once, a device each sector as it
/// lands; the initial fill is version 0), so oracles can tell "older" from
/// "newer" exactly. The modelled kernel never reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SectorData {
    pub byte: u8,
    pub ver: u16,
}

/// The contents of one page (or one file-system block).
pub type PageData = [SectorData; SECTORS_PER_PAGE];

/// The T10-PI guard tags of a page, one per sector, as the block layer
/// computes them when it builds the bio (`bio_integrity_prep`). A sector's
/// bytes are all one byte in the model, so its tag is that byte: the page's
/// tags pack into a `u64`.
pub fn pi_tags(page: &PageData) -> u64 {
    page.iter().enumerate().fold(0, |t, (i, s)| t | u64::from(s.byte) << (8 * i))
}

/// The guard tag of sector `s` in `pi_tags`' packing.
pub fn pi_tag(tags: u64, s: u8) -> u8 {
    (tags >> (8 * u32::from(s))) as u8
}

/// A page filled with `byte` at version `ver`.
pub fn page_fill(byte: u8, ver: u16) -> PageData {
    [SectorData { byte, ver }; SECTORS_PER_PAGE]
}

/// CRC32C (Castagnoli) of the page's materialised 4 KiB, as csumfs stores it.
///
/// Most pages hold one byte throughout; their CRC comes from a table of the
/// 256 uniform pages, computed once (a constant: it depends on nothing but
/// the byte). Scrubbing after every crash point made this the explorer's
/// hottest function.
pub fn page_crc(page: &PageData) -> u32 {
    match uniform_byte(page) {
        Some(b) => sector_tables().uniform[usize::from(b)],
        None => page_crc_by_sectors(page),
    }
}

/// Tables for CRCs of pages whose sectors each hold one byte, computed
/// once (constants: they depend on nothing but the polynomial).
struct SectorTables {
    /// The CRC32C of the uniform page of each byte.
    uniform: [u32; 256],
    /// Per byte `b`, the raw CRC (no initial or final inversion) of a
    /// sector of `b`s.
    sector: [u32; 256],
    /// The raw CRC register pushed through one sector of zeros, a linear
    /// map of the register, as four byte-indexed tables (slicing-by-4).
    shift: [[u32; 256]; 4],
}

fn sector_tables() -> &'static SectorTables {
    static TABLES: std::sync::OnceLock<SectorTables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        // crc32c_append(c, d) = !raw(!c, d), where raw(x, d) is the CRC
        // register after feeding d to register x; raw is linear in (x, d).
        let raw = |x: u32, d: &[u8]| !crc32c::crc32c_append(!x, d);
        SectorTables {
            uniform: std::array::from_fn(|b| page_crc_slow(&page_fill(b as u8, 0))),
            sector: std::array::from_fn(|b| raw(0, &[b as u8; SECTOR_BYTES])),
            shift: std::array::from_fn(|k| {
                std::array::from_fn(|v| raw((v as u32) << (8 * k), &[0; SECTOR_BYTES]))
            }),
        }
    })
}

/// The CRC32C of a page of uniform sectors without materialising it:
/// raw(x, s ‖ rest) = raw(shift(x) ^ raw(0, s), rest) by linearity, so each
/// sector costs four table lookups instead of 512 bytes of CRC.
fn page_crc_by_sectors(page: &PageData) -> u32 {
    let t = sector_tables();
    let shift = |x: u32| {
        t.shift[0][(x & 0xff) as usize]
            ^ t.shift[1][(x >> 8 & 0xff) as usize]
            ^ t.shift[2][(x >> 16 & 0xff) as usize]
            ^ t.shift[3][(x >> 24) as usize]
    };
    !page.iter().fold(!0u32, |x, s| shift(x) ^ t.sector[usize::from(s.byte)])
}

fn page_crc_slow(page: &PageData) -> u32 {
    let mut crc = 0;
    let mut buf = [0u8; SECTOR_BYTES];
    for s in page {
        buf.fill(s.byte);
        crc = crc32c::crc32c_append(crc, &buf);
    }
    crc
}

/// The byte every sector of the page holds, or `None` when the sectors differ.
pub fn uniform_byte(page: &PageData) -> Option<u8> {
    let b = page[0].byte;
    page.iter().all(|s| s.byte == b).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_materialised_bytes() {
        let p = page_fill(0xAA, 3);
        assert_eq!(page_crc(&p), crc32c::crc32c(&[0xAA; 4096]));
        let mut q = p;
        q[5].byte = 0x22;
        assert_ne!(page_crc(&q), page_crc(&p), "one changed sector must change the checksum");
        // The ghost version is not data: it must not affect the checksum.
        assert_eq!(page_crc(&page_fill(0xAA, 9)), page_crc(&p));
    }

    #[test]
    fn the_uniform_page_table_matches_the_materialised_bytes() {
        for b in [0u8, 0x11, 0xAA, 0xFF] {
            assert_eq!(page_crc(&page_fill(b, 7)), crc32c::crc32c(&[b; 4096]));
        }
    }

    #[test]
    fn the_sector_tables_give_the_crc_of_the_materialised_bytes() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200 {
            let page: PageData = std::array::from_fn(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                SectorData { byte: [0x00, 0x11, 0x22, 0xAA, 0xFF, x as u8][(x >> 8) as usize % 6], ver: 1 }
            });
            assert_eq!(page_crc_by_sectors(&page), page_crc_slow(&page), "{page:?}");
            assert_eq!(page_crc(&page), page_crc_slow(&page));
        }
    }

    #[test]
    fn uniform_byte_detects_mixed_pages() {
        let mut p = page_fill(0x11, 1);
        assert_eq!(uniform_byte(&p), Some(0x11));
        p[7].byte = 0x22;
        assert_eq!(uniform_byte(&p), None);
    }
}
