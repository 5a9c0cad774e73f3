//! A block device of 512-byte sectors with an optional volatile write cache.
//!
//! Writes land in the cache and reach the media only at `flush`
//! (`blkdev_issue_flush` / REQ_PREFLUSH); a crash discards the cache. Reads see
//! the cache first, as the device itself would serve them.

use crate::data::SectorData;

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

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Disk {
    pub volatile: bool,
    pub media: Vec<DiskSector>,
    /// Written but not yet durable, sorted by sector.
    pub cache: Vec<(u16, DiskSector)>,
}

impl Disk {
    pub fn new(sectors: u16, volatile: bool) -> Disk {
        Disk { volatile, media: vec![DiskSector::Zero; usize::from(sectors)], cache: Vec::new() }
    }

    /// A sector as a read would return it now.
    pub fn read(&self, sector: u16) -> DiskSector {
        match self.cache.binary_search_by_key(&sector, |e| e.0) {
            Ok(i) => self.cache[i].1,
            Err(_) => self.media[usize::from(sector)],
        }
    }

    /// A sector as it would be after a crash now.
    pub fn read_media(&self, sector: u16) -> DiskSector {
        self.media[usize::from(sector)]
    }

    pub fn write(&mut self, sector: u16, data: DiskSector) {
        if !self.volatile {
            self.media[usize::from(sector)] = data;
            return;
        }
        match self.cache.binary_search_by_key(&sector, |e| e.0) {
            Ok(i) => self.cache[i].1 = data,
            Err(i) => self.cache.insert(i, (sector, data)),
        }
    }

    /// Make every cached write durable.
    pub fn flush(&mut self) {
        for (s, d) in self.cache.drain(..) {
            self.media[usize::from(s)] = d;
        }
    }

    /// Power loss: the volatile cache is gone.
    pub fn crash(&mut self) {
        self.cache.clear();
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
        let mut disk = Disk::new(8, true);
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
    fn writethrough_disk_is_durable_at_once() {
        let mut disk = Disk::new(8, false);
        disk.write(0, d(9));
        disk.crash();
        assert_eq!(disk.read(0), d(9));
    }
}
