//! O_DIRECT (`iomap_dio_rw` / `__blockdev_direct_IO`): I/O straight between
//! a user buffer and the disk.
//!
//! 1. the user page is pinned with a short-term FOLL_PIN (`iov_iter_extract_pages`;
//!    FOLL_WRITE for a read into the buffer);
//! 2. dirty page-cache pages of the file are written back and waited for
//!    (`filemap_write_and_wait_range`); a write then invalidates the cached
//!    page, unmapping it first (`kiocb_invalidate_pages`), and again when
//!    it completes (`kiocb_invalidate_post_direct_write`);
//! 3. the device moves the data one sector per step, by PFN: it reads the
//!    user page (write) or writes it (read). csumfs checksums the user page
//!    when the bio is built, as btrfs does, so a buffer that changes during
//!    the I/O breaks the checksum;
//! 4. csumfs flushes and commits the new block pointer; the pin is released,
//!    dirtying the page after a read (`bio_release_pages`).
//!
//! With `dio_csum_fallback` (btrfs 6.14) a write to csumfs copies the user
//! page into the page cache at step 3 instead and writes that back
//! (WB_SYNC_ALL), then waits. Deviation: btrfs decides to fall back before
//! it pins the user page; the model has pinned it already (step 1), which
//! only matters to a design's pin test on the user page meanwhile.

use crate::block::disk::DiskSector;
use crate::data::{page_crc, pi_tag, SectorData};
use crate::errno::Errno;
use crate::fs::writeback::WbState;
use crate::ids::*;
use crate::limits::SECTORS_PER_PAGE;
use crate::mm::fault::Access;
use crate::mm::frame::FolioFlags;
use crate::mm::gup::GupStep;
use crate::oracle::Oracle;
use crate::program::{Foll, FsType};
use crate::trace::Tracer;
use crate::world::{Binding, Cx, OpState, World};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DioState {
    pub set: Option<PinSetId>,
    /// The page of the pin set the I/O uses.
    pub idx: u8,
    /// An io_uring fixed buffer: pinned at registration, not by this I/O.
    pub preset: bool,
    /// `dio_csum_fallback`: the data went through the page cache; the
    /// second `Wait` waits for its writeback and finishes.
    pub buffered: bool,
    /// `dio_bounce_stable`: the kernel page the device uses instead of the
    /// user page.
    pub bounce: Option<Pfn>,
    pub stage: DioStage,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DioStage {
    Pin,
    Flush(WbState),
    Wait,
    /// Data moving; `block` is `None` for a read of a hole.
    Io {
        block: Option<u16>,
        crc: u32,
        sector: u8,
        fresh: bool,
        /// T10-PI guard tags of a write's bio (`data::pi_tags`), 0 without.
        pi: u64,
    },
    Commit {
        block: u16,
        crc: u32,
    },
    Release,
}

impl World {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn op_dio<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        file: FileId,
        page: u8,
        map: NameId,
        mpage: u8,
        is_write: bool,
        tr: &mut T,
    ) -> Option<&'static str> {
        let mut st = match &self.threads[t.idx()].op {
            OpState::Dio(st) => st.clone(),
            _ => DioState {
                set: None,
                idx: 0,
                preset: false,
                buffered: false,
                bounce: None,
                stage: DioStage::Pin,
            },
        };
        // kiocb_invalidate_post_direct_write, in the completion: a page
        // faulted back in while the data moved holds the old bytes.
        if is_write && st.stage == DioStage::Release {
            self.dio_invalidate(cx, file, page, tr)?;
        }
        let label = match &mut st.stage {
            DioStage::Pin => {
                let start = match self.resolve(map) {
                    Err(None) => return None,
                    Ok(Binding::Map { start, pages }) if mpage < pages => start,
                    _ => {
                        self.fail(t, Errno::EFAULT, None);
                        return Some("iov_iter_extract_pages: bad buffer (EFAULT)");
                    }
                };
                let Some(p) = cx.prog.thread(t).proc else {
                    self.fail(t, Errno::EFAULT, None);
                    return Some("iov_iter_extract_pages: no mm");
                };
                // A read into the buffer needs FOLL_WRITE.
                match self.gup_step(
                    cx,
                    p,
                    start + u16::from(mpage),
                    Foll::Pin,
                    !is_write,
                    false,
                    false,
                    None,
                    tr,
                ) {
                    GupStep::Blocked => return None,
                    GupStep::Progress(l) => return Some(l),
                    GupStep::Failed(e, l) => {
                        self.fail(t, e, None);
                        return Some(l);
                    }
                    GupStep::Grabbed(set) => {
                        st.set = Some(set);
                        st.stage = DioStage::Flush(WbState::new(true, file, file));
                        "iov_iter_extract_pages → pin_user_pages_fast (FOLL_PIN)"
                    }
                }
            }
            DioStage::Flush(wb) => {
                let (label, done) = self.wb_step(cx, wb, tr)?;
                if done {
                    st.stage = DioStage::Wait;
                }
                label
            }
            DioStage::Wait if st.buffered => {
                if self.cached(file, page).is_some_and(|p| self.folio(p).flags.has(FolioFlags::WRITEBACK)) {
                    return None;
                }
                st.stage = DioStage::Release;
                "btrfs_direct_write: filemap_fdatawait_range (buffered fallback written)"
            }
            DioStage::Wait
                if is_write
                    && cx.design.dio_csum_fallback
                    && self.fss[self.files[file.idx()].fs.idx()].ty == FsType::Csumfs =>
            {
                // btrfs_direct_write (6.14): an inode with data checksums
                // falls back to btrfs_buffered_write, then
                // filemap_fdatawrite_range + wait. The user page is copied
                // at one instant; later changes to it do not reach the file.
                if let Some(pfn) = self.cached(file, page) {
                    let f = self.folio(pfn).flags;
                    if f.has(FolioFlags::LOCKED) || f.has(FolioFlags::WRITEBACK) {
                        return None;
                    }
                }
                let pfn = match self.cache_folio(file, page) {
                    Ok(p) => p,
                    Err(e) => {
                        self.threads[t.idx()].err = Some(e);
                        st.stage = DioStage::Release;
                        self.threads[t.idx()].op = OpState::Dio(st);
                        return Some("btrfs_buffered_write: cannot read the page (EIO)");
                    }
                };
                let src = self.dio_user_pfn(&st);
                let ver = self.next_ver();
                let copy = self.mem.frames[src.idx()].data.map(|s| SectorData { byte: s.byte, ver });
                self.mem.frames[pfn.idx()].data = copy;
                self.folio_mark_dirty(pfn);
                let fl = &mut self.files[file.idx()];
                fl.size = fl.size.max(page + 1);
                tr.note(|| format!("user pfn {} copied into f{}[{page}] (pfn {})", src.0, file.0, pfn.0));
                st.buffered = true;
                st.stage = DioStage::Flush(WbState::new(true, file, file));
                "btrfs_direct_write: data checksums, fall back to btrfs_buffered_write (copy_page_from_iter)"
            }
            DioStage::Wait => {
                if let Some(pfn) = self.cached(file, page) {
                    if self.folio(pfn).flags.has(FolioFlags::WRITEBACK) {
                        return None;
                    }
                    // kiocb_invalidate_pages: the cached copy is stale now.
                    if is_write {
                        self.dio_invalidate(cx, file, page, tr)?;
                    }
                }
                let mut src = self.dio_user_pfn(&st);
                let fs = self.files[file.idx()].fs;
                let csum = self.fss[fs.idx()].ty == FsType::Csumfs;
                // IOMAP_DIO_BOUNCE (7.0): xfs on a device that needs stable
                // pages bounces the I/O through a kernel page.
                if cx.design.dio_bounce_stable
                    && self.fss[fs.idx()].ty == FsType::Xfslike
                    && cx.prog.fss[fs.idx()].stable_writes
                    && st.bounce.is_none()
                {
                    let Some(b) = self.alloc(crate::mm::frame::Owner::Bounce) else {
                        st.stage = DioStage::Release;
                        self.threads[t.idx()].err = Some(Errno::ENOMEM);
                        self.threads[t.idx()].op = OpState::Dio(st);
                        return Some("bio_iov_iter_bounce: no memory (ENOMEM)");
                    };
                    if is_write {
                        self.mem.frames[b.idx()].data = self.mem.frames[src.idx()].data;
                        self.stats.bounce_bytes += crate::limits::PAGE_BYTES as u32;
                    }
                    tr.note(|| format!("bounce pfn {} stands in for user pfn {}", b.0, src.0));
                    st.bounce = Some(b);
                    src = b;
                }
                let existing = self.csumfs_ptr(file, page, false).map(|p| p.0);
                let (block, fresh) = if !is_write {
                    (existing, false)
                } else if csum || existing.is_none() {
                    match self.fss[fs.idx()].alloc_block() {
                        Some(b) => (Some(b), true),
                        None => {
                            st.stage = DioStage::Release;
                            self.threads[t.idx()].err = Some(Errno::ENOSPC);
                            self.threads[t.idx()].op = OpState::Dio(st);
                            return Some("iomap_dio: no space (ENOSPC)");
                        }
                    }
                } else {
                    (existing, false)
                };
                // btrfs computes data checksums when it builds the bio.
                let crc = if is_write && csum { page_crc(&self.mem.frames[src.idx()].data) } else { 0 };
                let disk = self.fss[fs.idx()].disk;
                let pi = if is_write { self.bio_pi(cx, disk, src) } else { 0 };
                st.stage = DioStage::Io { block, crc, sector: 0, fresh, pi };
                if is_write {
                    "filemap_write_and_wait_range + kiocb_invalidate_pages; csum the user page"
                } else {
                    "filemap_write_and_wait_range"
                }
            }
            DioStage::Io { block, crc, sector, fresh, pi } => {
                let (block, crc, sector, fresh, pi) = (*block, *crc, *sector, *fresh, *pi);
                let set = st.set.expect("pinned");
                let mut pg = self.bvec_page(set, usize::from(st.idx));
                if self.mem.frames[pg.pfn.idx()].folio.is_none() || self.mem.gen(pg.pfn) != pg.gen {
                    self.fire(Oracle::DmaAfterFree);
                }
                if let Some(b) = st.bounce {
                    pg.pfn = b; // the device reads or writes the bounce page
                }
                let disk = self.fss[self.files[file.idx()].fs.idx()].disk;
                // A write goes to each md RAID1 mirror by its own DMA
                // (`raid1_write_request`); a read comes from one.
                let mirrors = if is_write { self.disks[disk.idx()].mirrors() } else { 1 };
                let (leg, in_page) = (sector / SECTORS_PER_PAGE as u8, sector % SECTORS_PER_PAGE as u8);
                if is_write {
                    let b = block.expect("a write has a block");
                    // The data reaches the file now: a new version, not the
                    // version it had in the user buffer.
                    let byte = self.mem.frames[pg.pfn.idx()].data[usize::from(in_page)].byte;
                    // The device checks the guard tag as it reads the sector.
                    let guard_ok = !cx.prog.disks[disk.idx()].pi || pi_tag(pi, in_page) == byte;
                    if !guard_ok {
                        self.fire(Oracle::IntegrityError);
                        tr.note(|| format!("INTEGRITY ERROR: user page sector {in_page} changed after its guard tag was computed"));
                    }
                    let data = SectorData { byte, ver: self.next_ver() };
                    if !guard_ok
                        || self.disks[disk.idx()]
                            .try_write_leg(
                                leg,
                                b * SECTORS_PER_PAGE as u16 + u16::from(in_page),
                                DiskSector::Data(data),
                            )
                            .is_err()
                    {
                        if fresh {
                            let fs = self.files[file.idx()].fs;
                            self.fss[fs.idx()].used &= !(1 << b);
                            self.forget_dead_blocks(fs, 1 << b);
                        }
                        self.threads[t.idx()].err = Some(Errno::EIO);
                        st.stage = DioStage::Release;
                        self.threads[t.idx()].op = OpState::Dio(st);
                        return Some(if guard_ok {
                            "submit_bio: I/O error (EIO)"
                        } else {
                            "submit_bio: guard tag mismatch (BLK_STS_PROTECTION, EIO)"
                        });
                    }
                } else {
                    let d = match block {
                        Some(b) => match self.disks[disk.idx()]
                            .read(b * SECTORS_PER_PAGE as u16 + u16::from(sector))
                        {
                            DiskSector::Data(d) => d.byte,
                            _ => 0,
                        },
                        None => 0,
                    };
                    let ver = self.next_ver();
                    self.mem.frames[pg.pfn.idx()].data[usize::from(sector)] = SectorData { byte: d, ver };
                }
                st.stage = if usize::from(sector) + 1 < SECTORS_PER_PAGE * usize::from(mirrors) {
                    DioStage::Io { block, crc, sector: sector + 1, fresh, pi }
                } else if is_write && fresh {
                    DioStage::Commit { block: block.expect("write"), crc }
                } else {
                    DioStage::Release
                };
                if is_write {
                    match (mirrors, leg) {
                        (1, _) => "dio bio: device reads one sector of the user page",
                        (_, 0) => "dio bio, raid1_write_request: mirror 0 reads one sector of the user page",
                        _ => "dio bio, raid1_write_request: mirror 1 reads one sector of the user page",
                    }
                } else {
                    "dio bio: device writes one sector into the user page"
                }
            }
            DioStage::Commit { block, crc } => {
                let (block, crc) = (*block, *crc);
                // Ghost: the data becomes file content at the pointer switch,
                // so that is its version (the sectors are re-stamped while
                // still in the cache, flushed in this same step).
                let disk = self.fss[self.files[file.idx()].fs.idx()].disk;
                for s in 0..SECTORS_PER_PAGE as u16 {
                    let sector = block * SECTORS_PER_PAGE as u16 + s;
                    if let DiskSector::Data(_) = self.disks[disk.idx()].read(sector) {
                        let ver = self.next_ver();
                        self.disks[disk.idx()].restamp(sector, ver);
                    }
                }
                self.csumfs_flush(self.files[file.idx()].fs);
                self.csumfs_commit(file, page, block, crc, tr);
                self.files[file.idx()].size = self.files[file.idx()].size.max(page + 1);
                st.stage = DioStage::Release;
                "iomap_dio_complete: flush, then the block pointer (+crc) switches"
            }
            DioStage::Release if st.bounce.is_some() => {
                // bio_iov_iter_unbounce: a read's data reaches the user
                // page only now, copied by the CPU through the page tables
                // (copy_to_iter): a write-protected page faults first, and a
                // page under writeback with stable pages waits.
                let b = st.bounce.expect("checked");
                if !is_write {
                    let to = match self.user_page(cx, t, map, mpage) {
                        Ok((p, vpn)) => match self.fault_in(cx, p, vpn, true, false, tr) {
                            Access::Blocked => return None,
                            Access::Faulted(l) => {
                                self.threads[t.idx()].op = OpState::Dio(st);
                                return Some(l);
                            }
                            Access::Err(e) => Err(e),
                            Access::Ready(pfn) => Ok(pfn),
                        },
                        Err(e) => Err(e.unwrap_or(Errno::EFAULT)),
                    };
                    match to {
                        Ok(pfn) => {
                            self.mem.frames[pfn.idx()].data = self.mem.frames[b.idx()].data;
                            self.stats.bounce_bytes += crate::limits::PAGE_BYTES as u32;
                        }
                        Err(e) => self.threads[t.idx()].err = Some(e),
                    }
                }
                st.bounce = None;
                self.folio_put(b, 1);
                if is_write {
                    "bio_iov_iter_unbounce: free the bounce page"
                } else {
                    "bio_iov_iter_unbounce: copy the bounce page to the user page"
                }
            }
            DioStage::Release if st.preset => {
                // A fixed buffer stays registered; io_uring's bvec I/O does
                // not dirty its pages either.
                self.finish(t);
                return Some(if is_write {
                    "io_uring: write_fixed complete"
                } else {
                    "io_uring: read_fixed complete"
                });
            }
            DioStage::Release => {
                let set = st.set.expect("pinned");
                let pfn = self.pinsets[set.idx()].pages[0].pfn;
                let alive = self.mem.frames[pfn.idx()].folio.is_some();
                let file_page =
                    alive && matches!(self.folio(pfn).owner, crate::mm::frame::Owner::File { .. });
                if !is_write && file_page {
                    // bio_release_pages(bio, mark_dirty) → set_page_dirty_lock:
                    // the device wrote the page behind the page tables.
                    if self.folio(pfn).flags.has(FolioFlags::LOCKED) {
                        return None;
                    }
                    self.gup_set_page_dirty(pfn);
                }
                self.pinsets[set.idx()].live = false;
                self.dio_unpin(cx, set);
                self.finish(t);
                return Some(if is_write {
                    "bio_release_pages → unpin_user_pages"
                } else {
                    "bio_release_pages: folio_mark_dirty + unpin_user_pages"
                });
            }
        };
        self.threads[t.idx()].op = OpState::Dio(st);
        Some(label)
    }

    /// `invalidate_inode_pages2_range` over the page an O_DIRECT write
    /// wrote: lock the folio (wait; `None`, nothing changed), unmap it from
    /// every process (`unmap_mapping_folio`; a dirty PTE makes the folio
    /// dirty), then drop it from the page cache whatever its refcount
    /// (`invalidate_complete_folio2`), so the next access refaults and
    /// reads the new data. A dirty folio stays: csumfs, like ext4, has no
    /// `launder_folio`, so invalidation fails (`-EBUSY`) and the page cache
    /// keeps stale data (`dio_warn_stale_pagecache`). A pinned folio leaves
    /// the page cache as in truncate; its frame lives on with the pin.
    /// The caller has waited for writeback.
    fn dio_invalidate<T: Tracer>(&mut self, cx: &Cx, file: FileId, page: u8, tr: &mut T) -> Option<()> {
        let Some(pfn) = self.cached(file, page) else { return Some(()) };
        let fl = self.folio(pfn).flags;
        if fl.has(FolioFlags::LOCKED) || fl.has(FolioFlags::WRITEBACK) {
            return None;
        }
        if self.folio(pfn).mapcount > 0 {
            let n = self.try_to_unmap(pfn);
            tr.note(|| format!("f{}[{page}] (pfn {}) unmapped from {n} PTE(s)", file.0, pfn.0));
        }
        if self.folio(pfn).flags.has(FolioFlags::DIRTY) {
            tr.note(|| format!("f{}[{page}] is dirty: not invalidated, the page cache is stale", file.0));
            return Some(());
        }
        let private = self.private_refs(cx, pfn);
        let f = self.folio_mut(pfn);
        f.flags.clear(FolioFlags::PRIVATE);
        f.owner = crate::mm::frame::Owner::Anon;
        self.files[file.idx()].cache[usize::from(page)] = None;
        self.folio_put(pfn, 1 + private);
        tr.note(|| format!("cached f{}[{page}] invalidated", file.0));
        Some(())
    }

    /// The user page the I/O moves data to or from: for a fixed buffer,
    /// through its folio's entry when `io_coalesce_buffer` merged it
    /// (`io_import_fixed`, `imu->folio_shift`).
    fn dio_user_pfn(&self, st: &DioState) -> Pfn {
        self.bvec_page(st.set.expect("pinned"), usize::from(st.idx)).pfn
    }

    /// `u.read_fixed F[p] into B[q]` / `u.write_fixed F[p] from B[q]`
    /// (`IORING_OP_READ_FIXED` / `WRITE_FIXED`): O_DIRECT-style I/O through a
    /// buffer registered (and pinned) earlier with `u.register`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn op_uring_fixed<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        file: FileId,
        page: u8,
        buf: NameId,
        bpage: u8,
        is_write: bool,
        tr: &mut T,
    ) -> Option<&'static str> {
        if !matches!(self.threads[t.idx()].op, OpState::Dio(_)) {
            let set = match self.resolve(buf) {
                Err(None) => return None,
                Ok(Binding::Pin(set))
                    if self.pinsets[set.idx()].live
                        && usize::from(bpage) < self.pinsets[set.idx()].pages.len() =>
                {
                    set
                }
                Err(Some(e)) => {
                    self.fail(t, e, None);
                    return Some("io_uring: buffer was never registered");
                }
                _ => {
                    self.fail(t, Errno::EFAULT, None);
                    return Some("io_uring: bad fixed buffer (EFAULT)");
                }
            };
            let stage = DioStage::Flush(WbState::new(true, file, file));
            self.threads[t.idx()].op = OpState::Dio(DioState {
                set: Some(set),
                idx: bpage,
                preset: true,
                buffered: false,
                bounce: None,
                stage,
            });
        }
        self.op_dio(cx, t, file, page, buf, bpage, is_write, tr)
    }
}
