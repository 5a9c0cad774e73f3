//! csumfs: a copy-on-write file system with a CRC32C per 4 KiB block, made
//! crash-consistent the way btrfs is.
//!
//! On-disk layout: the first blocks hold one pointer sector per file page
//! (`{block, crc32c}`); the rest are data blocks of 8 sectors. Writeback of a
//! page goes to a fresh block; after the data is flushed, one sector write
//! switches the pointer and the checksum together. The old block is freed
//! only after the next flush has made the switch durable. So a crash at any
//! step leaves the old or the new version, each with a matching checksum:
//! a checksum error can only come from data that changed while it was
//! being written.

use crate::block::disk::DiskSector;
use crate::data::{page_crc, page_fill, PageData, SectorData};
use crate::errno::Errno;
use crate::fs::pagecache::File;
use crate::ids::*;
use crate::limits::SECTORS_PER_PAGE;
use crate::oracle::Oracle;
use crate::program::{FsType, Program};
use crate::trace::Tracer;
use crate::world::{InitError, World};

const SPP: u16 = SECTORS_PER_PAGE as u16;

/// The in-memory state of a mounted file system (csumfs or ext4like; they
/// share the layout: an ext4like file's block map is its pointer sectors,
/// written once and never switched, and its blocks are rewritten in place).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FsState {
    pub ty: FsType,
    pub disk: DiskId,
    /// Block pointers are committed with REQ_FUA (the disk's `fua=yes`).
    pub fua_commits: bool,
    pub first_data_block: u16,
    pub blocks: u16,
    /// In-memory block bitmap: blocks referenced or being written.
    pub used: u64,
    /// Blocks replaced by a pointer switch not yet made durable.
    pub pending_free: u64,
}

/// Every block, for `World::forget_dead_blocks`.
pub(crate) const ALL_BLOCKS: u64 = u64::MAX;

impl FsState {
    /// `mkfs` + create every file with its fill, written and flushed.
    pub(crate) fn mkfs(w: &mut World, prog: &Program) -> Result<(), InitError> {
        for (i, decl) in prog.fss.iter().enumerate() {
            let pages: u16 = prog.files.iter().filter(|f| f.fs.idx() == i).map(|f| u16::from(f.pages)).sum();
            let sectors = prog.disks[decl.disk.idx()].sectors;
            let first_data_block = pages.div_ceil(SPP);
            let blocks = (sectors / SPP).min(64);
            // Every page needs a block, plus one spare so a page can be
            // rewritten copy-on-write. tmpfs keeps its pages in memory.
            if decl.ty != FsType::Tmpfs && blocks < first_data_block + pages + 1 {
                let need = (first_data_block + pages + 1) * SPP;
                return Err(InitError(format!(
                    "disk `{}` has {sectors} sectors; fs `{}` with {pages} file pages needs at least {need}",
                    prog.disks[decl.disk.idx()].name,
                    decl.name
                )));
            }
            w.fss.push(FsState {
                ty: decl.ty,
                disk: decl.disk,
                fua_commits: prog.disks[decl.disk.idx()].fua,
                first_data_block,
                blocks,
                used: 0,
                pending_free: 0,
            });
        }
        let mut next_ptr = vec![0u16; prog.fss.len()];
        for f in &prog.files {
            let ptr_first = next_ptr[f.fs.idx()];
            next_ptr[f.fs.idx()] += u16::from(f.pages);
            w.files.push(File {
                fs: f.fs,
                pages: f.pages,
                size: f.pages,
                errseq: 0,
                ptr_first,
                cache: vec![None; usize::from(f.pages)],
            });
            for index in 0..f.pages {
                let fs = &mut w.fss[f.fs.idx()];
                if fs.ty == FsType::Tmpfs {
                    continue; // the page cache is the file (World::new)
                }
                let block = fs.alloc_block().expect("mkfs checked the space");
                let data = page_fill(f.fill, 0);
                w.disks[fs.disk.idx()].update_media(|media| {
                    for (s, d) in data.iter().enumerate() {
                        media[usize::from(block * SPP) + s] = DiskSector::Data(*d);
                    }
                    media[usize::from(ptr_first + u16::from(index))] =
                        DiskSector::Ptr { block, crc: page_crc(&data) };
                });
            }
        }
        Ok(())
    }

    /// Lowest block neither used nor waiting to be freed.
    pub(crate) fn alloc_block(&mut self) -> Option<u16> {
        let b =
            (self.first_data_block..self.blocks).find(|b| (self.used | self.pending_free) & (1 << b) == 0)?;
        self.used |= 1 << b;
        Some(b)
    }

    /// A crash loses the in-memory bitmaps; `recover` rebuilds them.
    pub(crate) fn forget_in_memory_state(&mut self) {
        self.used = 0;
        self.pending_free = 0;
    }
}

impl World {
    pub(crate) fn fs_of(&self, file: FileId) -> FsId {
        self.files[file.idx()].fs
    }

    fn ptr_sector(&self, file: FileId, index: u8) -> (DiskId, u16) {
        let f = &self.files[file.idx()];
        (self.fss[f.fs.idx()].disk, f.ptr_first + u16::from(index))
    }

    /// The block pointer of a file page, as a read (`media == false`) or a
    /// crash (`media == true`) would see it.
    pub(crate) fn csumfs_ptr(&self, file: FileId, index: u8, media: bool) -> Option<(u16, u32)> {
        let (d, s) = self.ptr_sector(file, index);
        let disk = &self.disks[d.idx()];
        match if media { disk.read_media(s) } else { disk.read(s) } {
            DiskSector::Ptr { block, crc } => Some((block, crc)),
            _ => None,
        }
    }

    /// The contents of a data block, or `None` if a sector holds no data.
    pub(crate) fn csumfs_block(&self, disk: DiskId, block: u16, media: bool) -> Option<PageData> {
        let disk = &self.disks[disk.idx()];
        let mut out = [SectorData::default(); SECTORS_PER_PAGE];
        for (i, o) in out.iter_mut().enumerate() {
            let s = block * SPP + i as u16;
            match if media { disk.read_media(s) } else { disk.read(s) } {
                DiskSector::Data(d) => *o = d,
                _ => return None,
            }
        }
        Some(out)
    }

    /// `csumfs_read_folio`: read a page from disk and verify its checksum.
    pub(crate) fn csumfs_read(&self, file: FileId, index: u8, media: bool) -> Result<PageData, Errno> {
        // A zeroed pointer is a hole (after truncate or punch): reads as zeros.
        let Some((block, crc)) = self.csumfs_ptr(file, index, media) else { return Ok(page_fill(0, 0)) };
        let disk = self.fss[self.fs_of(file).idx()].disk;
        let data = self.csumfs_block(disk, block, media).ok_or(Errno::EIO)?;
        if self.fss[self.fs_of(file).idx()].ty == FsType::Csumfs && page_crc(&data) != crc {
            return Err(Errno::EIO);
        }
        Ok(data)
    }

    /// Verify the checksum of one file page on disk; fire `checksum_error`
    /// if the block and its stored CRC disagree.
    pub(crate) fn csumfs_verify<T: Tracer>(&mut self, file: FileId, index: u8, media: bool, tr: &mut T) {
        if self.fss[self.fs_of(file).idx()].ty != FsType::Csumfs {
            return; // no checksums to verify
        }
        let Some((block, crc)) = self.csumfs_ptr(file, index, media) else { return };
        let disk = self.fss[self.fs_of(file).idx()].disk;
        let actual = self.csumfs_block(disk, block, media).map(|d| page_crc(&d));
        if actual != Some(crc) {
            self.fire(Oracle::ChecksumError);
            tr.note(|| {
                format!(
                    "CHECKSUM ERROR: f{}[{index}] block {block} stores crc {crc:#010x}, data has {:#010x}",
                    file.0,
                    actual.unwrap_or(0)
                )
            });
        }
    }

    /// `torn`: after an in-place write-back, the page on disk is not the
    /// page as it was at any one moment: it changed while its sectors were
    /// being copied (`crc` is its fingerprint when the copy began).
    pub(crate) fn check_torn<T: Tracer>(&mut self, file: FileId, index: u8, crc: u32, tr: &mut T) {
        let Some((block, _)) = self.csumfs_ptr(file, index, false) else { return };
        let disk = self.fss[self.fs_of(file).idx()].disk;
        if self.csumfs_block(disk, block, false).is_some_and(|d| page_crc(&d) != crc) {
            self.fire(Oracle::Torn);
            tr.note(|| {
                format!(
                    "TORN: f{}[{index}] on disk mixes the page before and after a concurrent write",
                    file.0
                )
            });
        }
    }

    /// One sector write switching the page's pointer and checksum to `block`.
    /// The old block becomes free after the next flush.
    pub(crate) fn csumfs_commit<T: Tracer>(
        &mut self,
        file: FileId,
        index: u8,
        block: u16,
        crc: u32,
        tr: &mut T,
    ) {
        let old = self.csumfs_ptr(file, index, false).map(|p| p.0);
        let (d, s) = self.ptr_sector(file, index);
        let fua = self.fss[self.fs_of(file).idx()].fua_commits;
        if fua {
            self.disks[d.idx()].write_fua(s, DiskSector::Ptr { block, crc });
        } else {
            self.disks[d.idx()].write(s, DiskSector::Ptr { block, crc });
        }
        let fs_id = self.fs_of(file);
        let fs = &mut self.fss[fs_id.idx()];
        if let Some(old) = old {
            fs.used &= !(1 << old);
            // Free once the switch is durable: now with FUA, else at the
            // next flush.
            if !fua {
                fs.pending_free |= 1 << old;
            }
        }
        if let (true, Some(old)) = (fua, old) {
            self.forget_dead_blocks(fs_id, 1 << old);
        }
        tr.note(|| format!("f{}[{index}] → block {block}, crc {crc:#010x}", file.0));
        self.csumfs_verify(file, index, false, tr);
    }

    /// `blkdev_issue_flush` issued by the file system: everything written is
    /// durable, so blocks whose replacement was committed can be reused.
    pub(crate) fn csumfs_flush(&mut self, fs: FsId) {
        let f = &mut self.fss[fs.idx()];
        self.disks[f.disk.idx()].flush();
        let freed = std::mem::take(&mut f.pending_free);
        self.forget_dead_blocks(fs, freed);
    }

    /// Forget what free blocks of `fs` hold, as a discard (TRIM) would: a
    /// block neither in use, nor waiting for its replacement to become
    /// durable, nor named by any block pointer (written or durable) reads
    /// as zeroes again, in the write cache and on the media.
    ///
    /// A deliberate difference from a real disk, which keeps the stale
    /// bytes: nothing in the model ever reads a block no pointer names
    /// (reads, scrub, the torn-page check and O_DIRECT all go through the
    /// pointer), so the old bytes are invisible, yet they made states that
    /// differ only in garbage distinct. Measured on the seed, the disk was
    /// what distinguished most states (`tests/census.rs`).
    ///
    /// Only the blocks in `candidates` are looked at: the caller names the
    /// ones that may just have died (`ALL_BLOCKS` after losing the
    /// in-memory state), so a flush does not scan the whole disk.
    pub(crate) fn forget_dead_blocks(&mut self, fs: FsId, candidates: u64) {
        let f = &self.fss[fs.idx()];
        let (disk, first, blocks) = (f.disk, f.first_data_block, f.blocks);
        let mut live = f.used | f.pending_free | !candidates;
        for (i, file) in self.files.iter().enumerate().filter(|(_, file)| file.fs == fs) {
            for index in 0..file.pages {
                for media in [false, true] {
                    if let Some((b, _)) = self.csumfs_ptr(FileId(i as u8), index, media) {
                        live |= 1 << b;
                    }
                }
            }
        }
        let in_fs = (first..blocks).fold(0u64, |m, b| m | 1 << b);
        let dead_blocks = !live & in_fs;
        if dead_blocks == 0 {
            return;
        }
        self.disks[disk.idx()].forget_blocks(dead_blocks, SPP);
    }

    /// `recover`: mount after a crash (rebuild the block bitmap from the
    /// pointers on the media) and scrub: verify every file page's checksum,
    /// and check that what the last `sync` promised is on the media.
    pub(crate) fn op_recover<T: Tracer>(&mut self, t: ThreadId, tr: &mut T) -> &'static str {
        self.mount_and_scrub(tr);
        self.finish(t);
        "mount + scrub: read every block back, verify crc32c"
    }

    /// Mount: rebuild the block bitmap from the pointers on the media;
    /// scrub: verify every checksum, and check that everything a `sync` or
    /// successful `fsync` acknowledged is on the media (`lost_write`).
    pub(crate) fn mount_and_scrub<T: Tracer>(&mut self, tr: &mut T) {
        for fs in &mut self.fss {
            fs.forget_in_memory_state();
        }
        for file in 0..self.files.len() {
            let file = FileId(file as u8);
            for index in 0..self.files[file.idx()].pages {
                if let Some((block, _)) = self.csumfs_ptr(file, index, true) {
                    let fs = self.fs_of(file);
                    self.fss[fs.idx()].used |= 1 << block;
                }
                self.csumfs_verify(file, index, true, tr);
            }
        }
        let promise = std::mem::take(&mut self.ghost.sync_promise);
        self.check_promise(&promise, true, tr);
        self.ghost.sync_promise = promise;
        let acked = std::mem::take(&mut self.ghost.acked);
        self.check_promise(&acked, true, tr);
        self.ghost.acked = acked;
        for fs in 0..self.fss.len() {
            self.forget_dead_blocks(FsId(fs as u8), ALL_BLOCKS);
        }
    }
}
