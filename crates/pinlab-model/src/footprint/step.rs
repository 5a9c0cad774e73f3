//! Step footprints: what one thread's *next step* reads and writes, for
//! sleep sets.
//!
//! The operation footprints of the parent module answer "may anything this
//! thread still does touch what that one touches", over alias classes; in
//! the races pinlab exists for everything shares one class, so the answer
//! is almost always yes. Sleep sets need a narrower question: do the two
//! steps enabled *now* commute? That is answered here, per step, over
//! single frames, disks and files, with reads apart from writes, computed
//! from the current state by the same read-only helpers the step itself
//! uses (`dev_target`, `bvec_page`, `wb_next_dirty`).
//!
//! Two enabled steps whose footprints do not conflict commute exactly:
//! neither writes anything the other reads or writes, so each does the same
//! thing in either order, stays enabled, and both orders reach the *same*
//! world. Unlike operation footprints, the ghost version clock is a
//! resource here (`VER`): two steps that both take a version conflict, so
//! the equality is exact, not up to renaming, and a search with sleep sets
//! visits exactly the states of one without (tested in
//! `pinlab-explore/tests/sleep.rs`, which also checks every claimed
//! independence by running both orders).
//!
//! Only the steps that dominate the races are analysed: a device moving a
//! sector by PFN, and the writeback stages that only read the folio or
//! only write the disk (checksum, the per-sector copy, the flush, the
//! waits, the folio lock). Everything else touches everything
//! ([`StepFootprint::ALL`]); that is always sound, merely unreduced.
//!
//! What is never a resource, and why:
//! - a thread's own state (`pc`, op state, registers, `err`): no other
//!   thread's step reads it (`finally`, which waits for everyone, touches
//!   everything);
//! - the oracle bits: they are only ever set, so setting commutes, and no
//!   step reads them;
//! - `stats`: not state.

use crate::dev::rdma::Target;
use crate::fs::fsync::FsyncStage;
use crate::fs::writeback::{WbStage, WbState};
use crate::ids::*;
use crate::limits::SECTORS_PER_PAGE;
use crate::mm::frame::Owner;
use crate::program::Op;
use crate::world::{Cx, OpState, World};

/// Read and write sets over single resources, as bit masks:
/// - bits 0–31: a frame's data (`DATA`);
/// - bits 32–63: a folio's flags, lock and counts, with the ghost pin count
///   (`META`);
/// - bits 64–95: a frame's identity: free or not, its folio's head, its
///   generation (`IDENT`; only allocation and freeing write it);
/// - bits 96–103: a disk, with the file system on it (bitmap, pending
///   frees, its write cache and injected errors);
/// - bits 104–111: a file's mapping: page-cache slots, size, errseq;
/// - `REG`: names, pin sets, MRs, ODP tables; `VER`: the ghost version
///   clock; `PROC`: processes, their VMAs and page tables; `GHOST`: what
///   fsync and sync acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepFootprint {
    pub r: u128,
    pub w: u128,
}

const META_SHIFT: u32 = 32;
const IDENT_SHIFT: u32 = 64;
const DISK_SHIFT: u32 = 96;
const FILE_SHIFT: u32 = 104;
const REG: u128 = 1 << 112;
const VER: u128 = 1 << 113;
const PROC: u128 = 1 << 114;
const GHOST: u128 = 1 << 115;
const META_ALL: u128 = 0xFFFF_FFFF << META_SHIFT;
const IDENT_ALL: u128 = 0xFFFF_FFFF << IDENT_SHIFT;

// Frames fit the bit ranges exactly.
const _: () = assert!(crate::limits::FRAMES_MAX <= 32);

fn data(p: Pfn) -> u128 {
    1 << p.0
}

fn meta(p: Pfn) -> u128 {
    1 << (META_SHIFT + u32::from(p.0))
}

fn ident(p: Pfn) -> u128 {
    1 << (IDENT_SHIFT + u32::from(p.0))
}

/// Disks and files past the eighth share bits: a false conflict, never a
/// missed one.
fn disk(d: DiskId) -> u128 {
    1 << (DISK_SHIFT + u32::from(d.0 % 8))
}

fn file(f: FileId) -> u128 {
    1 << (FILE_SHIFT + u32::from(f.0 % 8))
}

impl StepFootprint {
    /// Touches everything: conflicts with every step.
    pub const ALL: StepFootprint = StepFootprint { r: u128::MAX, w: u128::MAX };

    pub fn conflicts(self, o: StepFootprint) -> bool {
        self.w & (o.r | o.w) != 0 || o.w & self.r != 0
    }

    fn rw(r: u128, w: u128) -> StepFootprint {
        StepFootprint { r: r | w, w }
    }
}

impl World {
    /// What thread `t`'s next step reads and writes, in this state. Only
    /// meaningful for a thread that may run; anything not analysed is
    /// [`StepFootprint::ALL`].
    pub fn step_footprint(&self, cx: &Cx, t: ThreadId) -> StepFootprint {
        if Some(t) == cx.prog.finally_id() {
            return StepFootprint::ALL;
        }
        let tp = cx.prog.thread(t);
        let ts = &self.threads[t.idx()];
        let Some(op) = tp.ops.get(usize::from(ts.pc)) else { return StepFootprint::ALL };
        match (op, &ts.op) {
            (&Op::DevWrite { dev, obj, page, key, .. }, st) => {
                let done = match st {
                    OpState::Xfer { sector } => *sector,
                    _ => 0,
                };
                let pg = done / SECTORS_PER_PAGE as u8;
                self.dev_step_footprint(cx, dev, obj, page + pg, true, key)
            }
            (&Op::DevRead { dev, obj, page, key, .. }, _) => {
                self.dev_step_footprint(cx, dev, obj, page, false, key)
            }
            // `do_mmap`: a VMA in the process, and the name bound to it.
            (Op::Mmap { .. }, _) => StepFootprint::rw(0, PROC | REG),
            (Op::Writeback { .. }, OpState::Writeback(wb)) => self.wb_step_footprint(cx, wb),
            // The pass's first step is its first `folio_lock`.
            (&Op::Writeback { file }, OpState::Idle) => {
                self.wb_step_footprint(cx, &WbState::new(false, file, file))
            }
            (&Op::Fsync { file, .. }, st) => self.fsync_step_footprint(cx, file, file, st),
            (Op::Sync, st) if !self.files.is_empty() => {
                let last = FileId(self.files.len() as u8 - 1);
                self.fsync_step_footprint(cx, FileId(0), last, st)
            }
            _ => StepFootprint::ALL,
        }
    }

    /// A device access by PFN (`op_dev_write` / `op_dev_read`): it reads the
    /// binding and pin set (or MR) to find the frame, the frame's folio and
    /// generation to check it is still the one it was given, and moves data.
    /// An ODP MR faults through page tables: not analysed.
    fn dev_step_footprint(
        &self,
        cx: &Cx,
        dev: DevId,
        obj: NameId,
        page: u8,
        write: bool,
        key: Option<u16>,
    ) -> StepFootprint {
        match self.dev_target(cx, dev, obj, page, write, key) {
            // Unbound: the step waits; nothing to say about it.
            Err(None) => StepFootprint::ALL,
            // Rejected: the thread fails, having read only the binding.
            Err(Some(_)) => StepFootprint::rw(REG, 0),
            Ok(Target::Odp(..)) => StepFootprint::ALL,
            Ok(Target::Pinned(set, i)) => {
                let pfn = self.bvec_page(set, i).pfn;
                // A coalesced entry is found through the folio of an earlier
                // entry (`mem.head` reads that frame's identity); the frame
                // is checked to be the one the device was given.
                let entries = self.pinsets[set.idx()].pages.iter().fold(0, |a, p| a | ident(p.pfn));
                let r = REG | ident(pfn) | entries;
                if write {
                    StepFootprint::rw(r, data(pfn) | VER)
                } else {
                    StepFootprint::rw(r | data(pfn), 0)
                }
            }
        }
    }

    /// One step of `fsync`/`sync` over files `first..=last` (`op_fsync`).
    fn fsync_step_footprint(&self, cx: &Cx, first: FileId, last: FileId, st: &OpState) -> StepFootprint {
        let range = first.0..=last.0;
        let files = range.clone().fold(0, |a, f| a | file(FileId(f)));
        let cached =
            || range.clone().flat_map(|f| self.files[usize::from(f)].cache.iter().flatten().copied());
        match st {
            // The ghost promise: the version of every cached sector.
            OpState::Idle => StepFootprint::rw(files | cached().fold(0, |a, p| a | data(p)), 0),
            OpState::Fsync(st) => match &st.stage {
                FsyncStage::Writeback(wb) => self.wb_step_footprint(cx, wb),
                // `filemap_fdatawait_range`: PG_writeback of every cached folio.
                FsyncStage::Wait => StepFootprint::rw(files | META_ALL | IDENT_ALL, 0),
                // Flush each disk, read the errseq, check the promise against
                // the disk and record what was acknowledged.
                FsyncStage::Flush => {
                    let disks = range
                        .clone()
                        .fold(0, |a, f| a | disk(self.fss[self.files[usize::from(f)].fs.idx()].disk));
                    StepFootprint::rw(files | disks, disks | GHOST)
                }
            },
            _ => StepFootprint::ALL,
        }
    }

    /// One writeback stage (`wb_step`). The stages that lock, clean, start,
    /// commit or end I/O on a folio touch page tables, pin counts, the
    /// allocator or the ghost record: not analysed.
    fn wb_step_footprint(&self, cx: &Cx, wb: &WbState) -> StepFootprint {
        let files = (wb.file.0..=wb.last_file.0).fold(0, |a, f| a | file(FileId(f)));
        match wb.stage {
            // The dirty-tag lookup reads every folio of the range; the lock
            // (and, for a folio under writeback with WB_SYNC_NONE, the
            // unlock) writes the one found.
            // A layout-lease break (after folio_mkclean) touches pin sets,
            // counts and whatever the released pages free, and reads the
            // registrations in flight (their threads' op state).
            WbStage::Clean
                if cx.design.layout_lease
                    && cx.prog.devs.iter().any(|d| d.kind == crate::program::DevKind::Nic) =>
            {
                StepFootprint::ALL
            }
            WbStage::Lock => match self.wb_next_dirty(wb) {
                Some((_, _, pfn)) => {
                    StepFootprint::rw(files | META_ALL | IDENT_ALL, meta(self.mem.head(pfn)))
                }
                None => StepFootprint::rw(files | META_ALL | IDENT_ALL, 0),
            },
            WbStage::WaitWriteback | WbStage::WaitPins => match self.cached(wb.file, wb.page) {
                Some(pfn) => StepFootprint::rw(file(wb.file) | ident(pfn) | meta(self.mem.head(pfn)), 0),
                None => StepFootprint::ALL,
            },
            // `folio_clear_dirty_for_io`: the pin test of a design that
            // skips pinned folios, then `folio_mkclean` over every process's
            // PTEs (and, with ODP MRs, their device mappings), PG_dirty.
            WbStage::Clean => {
                let Some(pfn) = self.cached(wb.file, wb.page) else { return StepFootprint::ALL };
                let head = self.mem.head(pfn);
                let odp = if self.odp.is_empty() { 0 } else { REG };
                // Not dirty: unlock and look for the next dirty folio.
                StepFootprint::rw(files | META_ALL | IDENT_ALL, PROC | odp | meta(head))
            }
            // `folio_start_writeback`: a block from the file system (or the
            // block in place), flags, and for a folio the design bounces, a
            // fresh frame with a copy of the data. An allocation that would
            // grow the frame table is not analysed.
            WbStage::Start => {
                let Some(pfn) = self.cached(wb.file, wb.page) else { return StepFootprint::ALL };
                let head = self.mem.head(pfn);
                let d = disk(self.fss[self.files[wb.file.idx()].fs.idx()].disk);
                let r = files | META_ALL | IDENT_ALL | d;
                let w = meta(head) | d;
                if !self.wb_bounces(cx, wb) || !self.pin_guess(cx, pfn, 0) || !self.wb_bounce_pinned(cx, pfn)
                {
                    return StepFootprint::rw(r, w);
                }
                match self.mem.next_alloc(Owner::Bounce) {
                    Some(b) if b.idx() < self.mem.frames.len() => {
                        StepFootprint::rw(r | data(pfn), w | ident(b) | meta(b) | data(b))
                    }
                    _ => StepFootprint::ALL,
                }
            }
            WbStage::Csum { src, .. } => StepFootprint::rw(data(src), 0),
            // One sector to the disk (its write cache, or an injected error
            // that frees the block and bumps the mapping's errseq); an
            // in-place block's last sector also reads it back for a torn
            // page (`check_torn`), which is the same disk.
            WbStage::Copy { src, .. } => {
                let d = self.fss[self.files[wb.file.idx()].fs.idx()].disk;
                let errseq = if self.disks[d.idx()].fail_next_write { file(wb.file) } else { 0 };
                StepFootprint::rw(data(src) | file(wb.file) | disk(d), disk(d) | errseq)
            }
            WbStage::Flush { .. } => {
                StepFootprint::rw(0, disk(self.fss[self.files[wb.file.idx()].fs.idx()].disk))
            }
            _ => StepFootprint::ALL,
        }
    }
}
