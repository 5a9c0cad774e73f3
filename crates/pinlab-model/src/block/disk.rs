//! A block device of 512-byte sectors with an optional volatile write cache.
//!
//! Writes land in the cache and reach the media only at `flush`
//! (`blkdev_issue_flush` / REQ_PREFLUSH); a crash discards the cache. Reads see
//! the cache first, as the device itself would serve them.

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

/// The media change only at a flush (or on a write-through disk), far less
/// often than the world is cloned and hashed, so they are shared
/// copy-on-write between worlds and carry a digest computed when they
/// change: cloning a disk copies a pointer, hashing it hashes 8 bytes.
/// An injected write failure (`BLK_STS_IOERR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoError;

#[derive(Clone, Debug)]
pub struct Disk {
    pub volatile: bool,
    media: Arc<Vec<DiskSector>>,
    media_digest: u64,
    /// Written but not yet durable, sorted by sector.
    pub cache: Vec<(u16, DiskSector)>,
    /// An injected fault: the next write fails (and writes nothing).
    pub fail_next_write: bool,
}

impl PartialEq for Disk {
    fn eq(&self, o: &Disk) -> bool {
        self.volatile == o.volatile
            && self.media_digest == o.media_digest
            && self.cache == o.cache
            && self.fail_next_write == o.fail_next_write
            && (Arc::ptr_eq(&self.media, &o.media) || self.media == o.media)
    }
}

impl Eq for Disk {}

impl Hash for Disk {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.volatile.hash(h);
        self.media_digest.hash(h);
        self.cache.hash(h);
        self.fail_next_write.hash(h);
    }
}

fn digest(media: &[DiskSector]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    media.hash(&mut h);
    h.finish()
}

impl Disk {
    pub fn new(sectors: u16, volatile: bool) -> Disk {
        let media = vec![DiskSector::Zero; usize::from(sectors)];
        Disk {
            volatile,
            media_digest: digest(&media),
            media: Arc::new(media),
            cache: Vec::new(),
            fail_next_write: false,
        }
    }

    /// The durable contents.
    pub fn media(&self) -> &[DiskSector] {
        &self.media
    }

    /// Change the media directly (mkfs), keeping the digest current.
    pub fn update_media(&mut self, f: impl FnOnce(&mut Vec<DiskSector>)) {
        f(Arc::make_mut(&mut self.media));
        self.media_digest = digest(&self.media);
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

    /// A write that may fail by injection (`bio->bi_status = BLK_STS_IOERR`).
    pub fn try_write(&mut self, sector: u16, data: DiskSector) -> Result<(), IoError> {
        if std::mem::take(&mut self.fail_next_write) {
            return Err(IoError);
        }
        self.write(sector, data);
        Ok(())
    }

    pub fn write(&mut self, sector: u16, data: DiskSector) {
        if !self.volatile {
            self.update_media(|m| m[usize::from(sector)] = data);
            return;
        }
        match self.cache.binary_search_by_key(&sector, |e| e.0) {
            Ok(i) => self.cache[i].1 = data,
            Err(i) => self.cache.insert(i, (sector, data)),
        }
    }

    /// A write with REQ_FUA: durable when it completes, whatever the cache
    /// holds for other sectors (a cached older copy of this sector goes).
    pub fn write_fua(&mut self, sector: u16, data: DiskSector) {
        if let Ok(i) = self.cache.binary_search_by_key(&sector, |e| e.0) {
            self.cache.remove(i);
        }
        self.update_media(|m| m[usize::from(sector)] = data);
    }

    /// Make every cached write durable.
    pub fn flush(&mut self) {
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
    fn equal_contents_hash_equal_whatever_the_history() {
        use std::hash::BuildHasher;
        let h = |d: &Disk| rustc_hash::FxBuildHasher.hash_one(d);
        let mut a = Disk::new(8, true);
        let mut b = Disk::new(8, true);
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
        let mut disk = Disk::new(8, true);
        disk.fail_next_write = true;
        assert_eq!(disk.try_write(2, d(1)), Err(IoError));
        assert_eq!(disk.read(2), DiskSector::Zero);
        assert_eq!(disk.try_write(2, d(1)), Ok(()));
        assert_eq!(disk.read(2), d(1));
    }

    #[test]
    fn fua_write_is_durable_without_a_flush_and_leaves_other_cached_writes_volatile() {
        let mut disk = Disk::new(8, true);
        disk.write(1, d(1));
        disk.write(2, d(2));
        disk.write_fua(2, d(3));
        disk.crash();
        assert_eq!((disk.read(1), disk.read(2)), (DiskSector::Zero, d(3)));
    }

    #[test]
    fn writethrough_disk_is_durable_at_once() {
        let mut disk = Disk::new(8, false);
        disk.write(0, d(9));
        disk.crash();
        assert_eq!(disk.read(0), d(9));
    }
}
