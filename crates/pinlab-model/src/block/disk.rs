//! A block device of 512-byte sectors with an optional volatile write cache,
//! optionally an md RAID1 array of two such devices (`mirrors=2`).
//!
//! Writes land in the cache and reach the media only at `flush`
//! (`blkdev_issue_flush` / REQ_PREFLUSH); a crash discards the cache. Reads see
//! the cache first, as the device itself would serve them.
//!
//! md RAID1 (`drivers/md/raid1.c`): `raid1_write_request` clones the bio
//! once per mirror (`bio_alloc_clone`), and each clone shares the caller's
//! pages, so each member device reads the data by its own DMA. A page that
//! changes between the two reads leaves the mirrors different, and nothing
//! notices until a `check` (`process_checks` counts `resync_mismatches`).
//! The model writes file data to each mirror in its own pass
//! (`write_leg`); everything the kernel itself owns while it is written
//! (block pointers, zeroed sectors, mkfs) reaches both at once.
//! Deviations, on purpose: reads always come from the first mirror
//! (`read_balance` may pick either; scenarios see the other one through
//! `scrub`), and a crash ends with a full resync from the first mirror (md
//! without a write-intent bitmap after an unclean shutdown), so a mismatch
//! a crash cut short is never reported.

use crate::data::SectorData;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// What a sector holds. csumfs uses one sector per block pointer, so a
/// pointer and the checksum it carries are switched by one atomic sector write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DiskSector {
    #[default]
    Zero,
    Data(SectorData),
    /// A csumfs block pointer: the block holding a file page and its CRC32C.
    Ptr {
        block: u16,
        crc: u32,
    },
}

impl DiskSector {
    /// The bytes a `memcmp` of two copies compares: data without its ghost
    /// version.
    fn bytes(self) -> DiskSector {
        match self {
            DiskSector::Data(d) => DiskSector::Data(SectorData { byte: d.byte, ver: 0 }),
            s => s,
        }
    }
}

/// An injected write failure (`BLK_STS_IOERR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoError;

/// One member device: media and write cache.
///
/// The media change only at a flush (or on a write-through disk), far less
/// often than the world is cloned and hashed, so they are shared
/// copy-on-write between worlds and carry a digest computed when they
/// change: cloning a disk copies a pointer, hashing it hashes 8 bytes.
#[derive(Clone, Debug)]
struct Leg {
    media: Arc<Vec<DiskSector>>,
    media_digest: u64,
    /// Written but not yet durable, sorted by sector.
    cache: Vec<(u16, DiskSector)>,
}

impl PartialEq for Leg {
    fn eq(&self, o: &Leg) -> bool {
        self.media_digest == o.media_digest
            && self.cache == o.cache
            && (Arc::ptr_eq(&self.media, &o.media) || self.media == o.media)
    }
}

impl Eq for Leg {}

impl Hash for Leg {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.media_digest.hash(h);
        self.cache.hash(h);
    }
}

fn digest(media: &[DiskSector]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    media.hash(&mut h);
    h.finish()
}

impl Leg {
    fn new(sectors: u16) -> Leg {
        let media = vec![DiskSector::Zero; usize::from(sectors)];
        Leg { media_digest: digest(&media), media: Arc::new(media), cache: Vec::new() }
    }

    fn update_media(&mut self, f: impl FnOnce(&mut Vec<DiskSector>)) {
        f(Arc::make_mut(&mut self.media));
        self.media_digest = digest(&self.media);
    }

    fn read(&self, sector: u16) -> DiskSector {
        match self.cache.binary_search_by_key(&sector, |e| e.0) {
            Ok(i) => self.cache[i].1,
            Err(_) => self.media[usize::from(sector)],
        }
    }

    fn write(&mut self, volatile: bool, sector: u16, data: DiskSector) {
        if !volatile {
            self.update_media(|m| m[usize::from(sector)] = data);
            return;
        }
        match self.cache.binary_search_by_key(&sector, |e| e.0) {
            Ok(i) => self.cache[i].1 = data,
            Err(i) => self.cache.insert(i, (sector, data)),
        }
    }

    fn write_fua(&mut self, sector: u16, data: DiskSector) {
        if let Ok(i) = self.cache.binary_search_by_key(&sector, |e| e.0) {
            self.cache.remove(i);
        }
        self.update_media(|m| m[usize::from(sector)] = data);
    }

    fn flush(&mut self) {
        if self.cache.is_empty() {
            return;
        }
        let cache = std::mem::take(&mut self.cache);
        self.update_media(|m| {
            for (s, d) in cache {
                m[usize::from(s)] = d;
            }
        });
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Disk {
    pub volatile: bool,
    primary: Leg,
    /// md RAID1's second member (`mirrors=2`), `None` for a plain disk.
    mirror: Option<Box<Leg>>,
    /// An injected fault: the next write fails (and writes nothing).
    pub fail_next_write: bool,
}

impl Disk {
    pub fn new(sectors: u16, volatile: bool, mirrors: u8) -> Disk {
        Disk {
            volatile,
            primary: Leg::new(sectors),
            mirror: (mirrors > 1).then(|| Box::new(Leg::new(sectors))),
            fail_next_write: false,
        }
    }

    /// 1 for a plain disk, 2 for RAID1.
    pub fn mirrors(&self) -> u8 {
        1 + u8::from(self.mirror.is_some())
    }

    fn legs_mut(&mut self) -> impl Iterator<Item = &mut Leg> {
        std::iter::once(&mut self.primary).chain(self.mirror.as_deref_mut())
    }

    /// A digest of the durable contents a crash leaves (the first mirror's
    /// media: md resyncs the second from it).
    pub fn durable_digest(&self) -> u64 {
        self.primary.media_digest
    }

    /// The durable contents (of the first mirror).
    pub fn media(&self) -> &[DiskSector] {
        &self.primary.media
    }

    /// Written but not yet durable (on the first mirror), sorted by sector.
    pub fn cache(&self) -> &[(u16, DiskSector)] {
        &self.primary.cache
    }

    /// Change the media directly (mkfs), keeping the digest current.
    pub fn update_media(&mut self, f: impl Fn(&mut Vec<DiskSector>)) {
        for leg in self.legs_mut() {
            leg.update_media(&f);
        }
    }

    /// A sector as a read would return it now (`read_balance`: the model
    /// always reads the first mirror).
    pub fn read(&self, sector: u16) -> DiskSector {
        self.primary.read(sector)
    }

    /// A sector as it would be after a crash now.
    pub fn read_media(&self, sector: u16) -> DiskSector {
        self.primary.media[usize::from(sector)]
    }

    /// A write that may fail by injection (`bio->bi_status = BLK_STS_IOERR`).
    pub fn try_write(&mut self, sector: u16, data: DiskSector) -> Result<(), IoError> {
        if std::mem::take(&mut self.fail_next_write) {
            return Err(IoError);
        }
        self.write(sector, data);
        Ok(())
    }

    /// One mirror's copy of a sector of data, as that member device's own
    /// DMA read it; may fail by injection like `try_write`.
    pub fn try_write_leg(&mut self, leg: u8, sector: u16, data: DiskSector) -> Result<(), IoError> {
        if std::mem::take(&mut self.fail_next_write) {
            return Err(IoError);
        }
        let volatile = self.volatile;
        match (leg, self.mirror.as_deref_mut()) {
            (0, _) => self.primary.write(volatile, sector, data),
            (_, Some(m)) => m.write(volatile, sector, data),
            (_, None) => unreachable!("mirror {leg} of a plain disk"),
        }
        Ok(())
    }

    /// A write of data the kernel owns, the same bytes to every mirror.
    pub fn write(&mut self, sector: u16, data: DiskSector) {
        let volatile = self.volatile;
        for leg in self.legs_mut() {
            leg.write(volatile, sector, data);
        }
    }

    /// Give a sector's data a new ghost version on every mirror, keeping
    /// each mirror's bytes.
    pub fn restamp(&mut self, sector: u16, ver: u16) {
        let volatile = self.volatile;
        for leg in self.legs_mut() {
            if let DiskSector::Data(d) = leg.read(sector) {
                leg.write(volatile, sector, DiskSector::Data(SectorData { byte: d.byte, ver }));
            }
        }
    }

    /// A write with REQ_FUA: durable when it completes, whatever the cache
    /// holds for other sectors (a cached older copy of this sector goes).
    pub fn write_fua(&mut self, sector: u16, data: DiskSector) {
        for leg in self.legs_mut() {
            leg.write_fua(sector, data);
        }
    }

    /// Make every cached write durable.
    pub fn flush(&mut self) {
        for leg in self.legs_mut() {
            leg.flush();
        }
    }

    /// Power loss: the volatile caches are gone; md resyncs the second
    /// mirror from the first (see the module doc).
    pub fn crash(&mut self) {
        self.primary.cache.clear();
        if let Some(m) = self.mirror.as_deref_mut() {
            *m = self.primary.clone();
        }
    }

    /// Forget what the blocks in the mask `blocks` hold (blocks of
    /// `per_block` sectors that nothing points to), on every mirror, cached
    /// or durable: they read as zero from now on.
    pub fn forget_blocks(&mut self, blocks: u64, per_block: u16) {
        let dead = |s: u16| s / per_block < 64 && blocks & (1 << (s / per_block)) != 0;
        let sectors = || {
            (0..64u16)
                .filter(move |b| blocks & (1 << b) != 0)
                .flat_map(move |b| b * per_block..(b + 1) * per_block)
        };
        for leg in self.legs_mut() {
            leg.cache.retain(|&(s, _)| !dead(s));
            if sectors().any(|s| leg.media[usize::from(s)] != DiskSector::Zero) {
                leg.update_media(|m| sectors().for_each(|s| m[usize::from(s)] = DiskSector::Zero));
            }
        }
    }

    /// `echo check > md/sync_action` (`process_checks`): the sectors whose
    /// mirrors differ, compared as a device read returns them.
    pub fn scrub(&self) -> Vec<u16> {
        let Some(m) = self.mirror.as_deref() else { return Vec::new() };
        (0..self.primary.media.len() as u16)
            .filter(|&s| self.primary.read(s).bytes() != m.read(s).bytes())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(byte: u8) -> DiskSector {
        DiskSector::Data(SectorData { byte, ver: 1 })
    }

    #[test]
    fn volatile_cache_is_lost_on_crash_and_kept_by_flush() {
        let mut disk = Disk::new(8, true, 1);
        disk.write(3, d(1));
        assert_eq!(disk.read(3), d(1));
        assert_eq!(disk.read_media(3), DiskSector::Zero);
        disk.crash();
        assert_eq!(disk.read(3), DiskSector::Zero);
        disk.write(3, d(2));
        disk.write(1, d(3));
        disk.flush();
        disk.crash();
        assert_eq!((disk.read(3), disk.read(1)), (d(2), d(3)));
    }

    #[test]
    fn equal_contents_hash_equal_whatever_the_history() {
        use std::hash::BuildHasher;
        let h = |d: &Disk| rustc_hash::FxBuildHasher.hash_one(d);
        let mut a = Disk::new(8, true, 1);
        let mut b = Disk::new(8, true, 1);
        a.write(1, d(1));
        a.flush();
        b.write(1, d(2));
        b.write(1, d(1));
        b.flush();
        assert_eq!(a, b);
        assert_eq!(h(&a), h(&b));
        b.write(2, d(3));
        b.flush();
        assert_ne!(a, b);
        assert_ne!(h(&a), h(&b));
    }

    #[test]
    fn an_injected_failure_fails_one_write_and_writes_nothing() {
        let mut disk = Disk::new(8, true, 1);
        disk.fail_next_write = true;
        assert_eq!(disk.try_write(2, d(1)), Err(IoError));
        assert_eq!(disk.read(2), DiskSector::Zero);
        assert_eq!(disk.try_write(2, d(1)), Ok(()));
        assert_eq!(disk.read(2), d(1));
    }

    #[test]
    fn fua_write_is_durable_without_a_flush_and_leaves_other_cached_writes_volatile() {
        let mut disk = Disk::new(8, true, 1);
        disk.write(1, d(1));
        disk.write(2, d(2));
        disk.write_fua(2, d(3));
        disk.crash();
        assert_eq!((disk.read(1), disk.read(2)), (DiskSector::Zero, d(3)));
    }

    #[test]
    fn writethrough_disk_is_durable_at_once() {
        let mut disk = Disk::new(8, false, 1);
        disk.write(0, d(9));
        disk.crash();
        assert_eq!(disk.read(0), d(9));
    }

    #[test]
    fn mirrors_written_apart_differ_until_a_crash_resyncs_them() {
        let mut md = Disk::new(8, true, 2);
        assert_eq!(md.mirrors(), 2);
        md.write(0, DiskSector::Ptr { block: 1, crc: 7 });
        md.try_write_leg(0, 4, d(1)).unwrap();
        md.try_write_leg(1, 4, d(1)).unwrap();
        md.try_write_leg(0, 5, d(2)).unwrap();
        md.try_write_leg(1, 5, d(3)).unwrap();
        // Versions are ghost state: equal bytes are not a mismatch.
        md.restamp(4, 9);
        assert_eq!(md.scrub(), vec![5]);
        assert_eq!(md.read(5), d(2));
        md.flush();
        assert_eq!(md.scrub(), vec![5]);
        md.crash();
        assert_eq!(md.scrub(), Vec::<u16>::new());
        assert_eq!(md.read(0), DiskSector::Ptr { block: 1, crc: 7 });
    }

    #[test]
    fn a_plain_disk_has_nothing_to_scrub() {
        let mut disk = Disk::new(8, true, 1);
        disk.try_write_leg(0, 1, d(1)).unwrap();
        assert_eq!((disk.mirrors(), disk.scrub()), (1, vec![]));
    }
}
