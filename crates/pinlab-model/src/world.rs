//! The world: the whole modelled machine as one plain value.
//!
//! `World` is `Clone + Eq + Hash` and holds no pointers: every part refers to
//! another through a typed index. The explorer clones it, runs one step of
//! one thread with [`World::step`], and hashes the result. A step that cannot
//! run yet (a lock is held, a name is not bound) returns [`Step::Blocked`]
//! and leaves the world untouched: waiting is a disabled step, never a spin.

use crate::block::disk::Disk;
use crate::data::{page_fill, PageData};
use crate::design::Design;
use crate::errno::Errno;
use crate::fs::csumfs::FsState;
use crate::fs::fsync::FsyncState;
use crate::fs::fsync::Promise;
use crate::fs::pagecache::File;
use crate::fs::writeback::WbState;
use crate::ids::*;
use crate::mm::frame::{Folio, FolioFlags, Memory, Owner};
use crate::mm::gup::PinSet;
use crate::mm::vma::{ProcState, Process};
use crate::oracle::{Bug, Fired, Oracle};
use crate::program::{Op, Program};
use crate::trace::Tracer;

/// What a scenario name is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binding {
    /// The binding statement has not run yet: users of the name wait.
    Unbound,
    /// The binding statement failed: users of the name fail with the same error.
    Failed(Errno),
    /// A virtual range of `pages` pages starting at page number `start`, read
    /// in the address space of whichever process uses it.
    Map { start: u16, pages: u8 },
    /// A set of GUP-acquired pages.
    Pin(PinSetId),
    /// An RDMA memory region of a NIC, backed by a pin set.
    Mr { dev: DevId, set: PinSetId, rkey: u16 },
    /// An on-demand-paging MR (`World::odp[id]`): no pins.
    OdpMr { id: u8, rkey: u16 },
}

/// Progress of a thread's current multi-step operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpState {
    /// The current op has not started (or is a one-step op).
    Idle,
    /// GUP in progress: pages acquired so far are in the pin set.
    Gup {
        set: PinSetId,
    },
    /// Unpinning page `page` of a pin set; `stage` is the step within the
    /// page (see `mm::gup`).
    Unpin {
        set: PinSetId,
        page: u8,
        stage: u8,
    },
    /// A device transfer: the next sector to move.
    Xfer {
        sector: u8,
    },
    Writeback(WbState),
    Fsync(FsyncState),
    /// `reclaim`: scanning from `next`; `cur` is the isolated folio.
    Reclaim {
        next: u8,
        cur: Option<Pfn>,
        stage: u8,
    },
    /// `migrate`: the folio being moved and its new frame once allocated.
    Migrate {
        old: Pfn,
        new: Option<Pfn>,
        stage: u8,
    },
    /// `lookup`: the folio whose transient reference is held.
    Lookup {
        pfn: Pfn,
    },
    /// Buffered write: the folio `write_begin` locked.
    Write {
        pfn: Pfn,
    },
    /// Truncate or hole punch: next page to remove.
    Truncate {
        next: u8,
    },
    /// O_DIRECT: see `fs::direct_io`.
    Dio(crate::fs::direct_io::DioState),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ThreadState {
    /// Index of the current op; `ops.len()` when finished.
    pub pc: u8,
    pub op: OpState,
    pub regs: Vec<Option<u64>>,
    /// `thread.err`: the error of the most recent failed op.
    pub err: Option<Errno>,
    /// Per file, the errseq this thread's file descriptor has seen (an fd
    /// reports a writeback error once: `file_check_and_advance_wb_err`).
    pub fd_seen: Vec<u8>,
}

/// Truth the modelled kernel never reads; kept for the oracles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ghost {
    /// Exact number of live FOLL_PIN pins per frame (FOLL_GET is not a pin).
    pub pins: Vec<u16>,
    /// What the last `sync` promised, checked again by `recover`.
    pub sync_promise: Vec<Promise>,
    /// Everything a successful fsync or sync acknowledged, newest per page:
    /// a crash at any later moment must keep it (`--crash-points`).
    pub acked: Vec<Promise>,
    /// The machine crashed; memory is gone until `recover`.
    pub crashed: bool,
}

/// What the last step did that the explorer counts but the state does not
/// keep: how often the design consulted its pin test and how often the
/// answer disagreed with the ghost count. Equality and hashing ignore it, so
/// it never splits states.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepStats {
    /// Bytes copied into bounce buffers.
    pub bounce_bytes: u32,
    pub pin_tests: u32,
    pub false_positives: u32,
    pub false_negatives: u32,
    /// Threads other than the one stepping whose state the step changed (a
    /// bit per thread). A step writes only its own thread's state, with one
    /// exception: `ghost_supersede` retracts promises that other threads'
    /// fsyncs in flight hold. The explorer rehashes exactly these threads
    /// besides the one that moved.
    pub other_threads: u16,
}

impl PartialEq for StepStats {
    fn eq(&self, _: &StepStats) -> bool {
        true
    }
}

impl Eq for StepStats {}

impl std::hash::Hash for StepStats {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// The design and program a world is stepped under. Neither changes during
/// exploration, so they stay outside the hashed state.
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    pub prog: &'a Program,
    pub design: &'a Design,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World {
    pub mem: Memory,
    pub procs: Vec<Process>,
    pub files: Vec<File>,
    pub fss: Vec<FsState>,
    pub disks: Vec<Disk>,
    pub pinsets: Vec<PinSet>,
    /// On-demand-paging memory regions.
    pub odp: Vec<crate::dev::rdma::OdpMr>,
    /// Memory regions registered so far (their rkeys are `rkey_of(n)`).
    pub mr_count: u16,
    pub names: Vec<Binding>,
    pub threads: Vec<ThreadState>,
    pub ghost: Ghost,
    pub fired: Fired,
    /// Source of ghost versions: every write that produces new bytes takes one.
    pub ver_clock: u16,
    /// The shared zero page, allocated on the first anonymous read fault.
    pub zero_pfn: Option<Pfn>,
    /// Not state: counters of the last step (see `StepStats`).
    pub stats: StepStats,
}

/// Outcome of asking a thread to take one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The step ran; the label names the kernel function it models.
    Ran(&'static str),
    /// The thread cannot move now (it waits on a lock, a flag or a name).
    Blocked,
    /// The thread has finished its program.
    Finished,
}

/// Why a world could not be built from a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitError(pub String);

impl World {
    /// Build the machine of the scenario's `setup`: disks formatted, files
    /// created, written and synced (so their pages sit clean in the page
    /// cache, as after `write` + `fsync`), processes with empty address spaces.
    pub fn new(prog: &Program) -> Result<World, InitError> {
        let mut w = World {
            mem: Memory::new(prog.memory.frames, prog.memory.movable_from),
            procs: prog
                .procs
                .iter()
                .map(|p| Process {
                    state: if p.forked { ProcState::Unborn } else { ProcState::Alive },
                    ..Process::default()
                })
                .collect(),
            files: Vec::new(),
            fss: Vec::new(),
            disks: prog.disks.iter().map(|d| Disk::new(d.sectors, d.volatile, d.mirrors)).collect(),
            pinsets: Vec::new(),
            odp: Vec::new(),
            mr_count: 0,
            names: vec![Binding::Unbound; prog.names.len()],
            threads: prog
                .all_threads()
                .map(|t| ThreadState {
                    pc: 0,
                    op: OpState::Idle,
                    regs: vec![None; t.regs.len()],
                    err: None,
                    fd_seen: vec![0; prog.files.len()],
                })
                .collect(),
            ghost: Ghost::default(),
            fired: Fired::default(),
            ver_clock: 0,
            zero_pfn: None,
            stats: StepStats::default(),
        };
        FsState::mkfs(&mut w, prog)?;
        for (i, f) in prog.files.iter().enumerate() {
            for index in 0..f.pages {
                let pfn = w
                    .mem
                    .alloc(Owner::File { file: FileId(i as u8), index })
                    .ok_or_else(|| InitError("not enough frames for the files' page cache".into()))?;
                w.mem.frames[pfn.idx()].data = page_fill(f.fill, 0);
                w.mem.folio_mut(pfn).flags.set(FolioFlags::UPTODATE);
                w.mem.folio_mut(pfn).flags.set(FolioFlags::LRU);
                if prog.fss[f.fs.idx()].ty == crate::program::FsType::Tmpfs {
                    // Written with write(2): dirty, and never written back.
                    w.mem.folio_mut(pfn).flags.set(FolioFlags::DIRTY);
                }
                // The file was written with write(2): its buffers are attached.
                let private = prog.fss[f.fs.idx()].private;
                if private != crate::program::PrivateData::None {
                    let fo = w.mem.folio_mut(pfn);
                    fo.flags.set(FolioFlags::PRIVATE);
                    fo.refcount += u32::from(private == crate::program::PrivateData::Ref);
                }
                w.files[i].cache[usize::from(index)] = Some(pfn);
            }
        }
        w.sync_ghost_pins();
        Ok(w)
    }

    pub fn fired(&self) -> Fired {
        self.fired
    }

    pub fn reg(&self, t: ThreadId, r: RegId) -> Option<u64> {
        self.threads[t.idx()].regs[r.idx()]
    }

    pub fn err(&self, t: ThreadId) -> Option<Errno> {
        self.threads[t.idx()].err
    }

    /// The thread ran its last op, or its process exited (which ends every
    /// thread of the process).
    pub fn thread_done(&self, cx: &Cx, t: ThreadId) -> bool {
        let tp = cx.prog.thread(t);
        usize::from(self.threads[t.idx()].pc) >= tp.ops.len()
            || tp.proc.is_some_and(|p| self.procs[p.idx()].state == ProcState::Exited)
    }

    /// The thread's process exists yet (a fork child's threads wait for the fork).
    fn thread_born(&self, cx: &Cx, t: ThreadId) -> bool {
        cx.prog.thread(t).proc.is_none_or(|p| self.procs[p.idx()].state != ProcState::Unborn)
    }

    /// Whether stepping `t` could do anything: it has not finished and, for
    /// `finally`, every other thread has. A cheap filter that spares the
    /// explorer a clone; `step` still decides.
    pub fn may_run(&self, cx: &Cx, t: ThreadId) -> bool {
        if self.thread_done(cx, t) || !self.thread_born(cx, t) {
            return false;
        }
        Some(t) != cx.prog.finally_id()
            || (0..cx.prog.threads.len()).all(|i| self.thread_done(cx, ThreadId(i as u8)))
    }

    /// Why nothing can move (call only when nothing can): a thread waits
    /// for pins that no unfinished thread will ever release → starvation;
    /// anything else is a deadlock (a cycle of waits, or a wait on a name or
    /// a lock that nobody will provide).
    pub fn stuck_oracle(&self, cx: &Cx) -> Oracle {
        let n = self.threads.len();
        let waiting = |t: usize| !self.thread_done(cx, ThreadId(t as u8));
        let waits_on_pins = (0..n).filter(|&t| waiting(t)).any(|t| match &self.threads[t].op {
            OpState::Writeback(wb) => wb.stage == crate::fs::writeback::WbStage::WaitPins,
            OpState::Fsync(st) => {
                matches!(&st.stage, crate::fs::fsync::FsyncStage::Writeback(wb) if wb.stage == crate::fs::writeback::WbStage::WaitPins)
            }
            _ => false,
        });
        let could_unpin = (0..n).filter(|&t| waiting(t)).any(|t| {
            let tp = cx.prog.thread(ThreadId(t as u8));
            tp.ops[usize::from(self.threads[t].pc)..].iter().any(|op| {
                matches!(op, Op::Unpin { .. } | Op::Dereg { .. } | Op::DioRead { .. } | Op::DioWrite { .. })
            })
        });
        if waits_on_pins && !could_unpin {
            Oracle::Starvation
        } else {
            Oracle::Deadlock
        }
    }

    /// What a thread that cannot move waits for, in words, for the end of a
    /// deadlock's story: a name no statement has bound yet, pins to drop,
    /// or (the rest) the lock or flag its current step needs.
    pub fn blocked_on(&self, cx: &Cx, t: ThreadId) -> String {
        use crate::fs::fsync::FsyncStage;
        use crate::fs::writeback::WbStage;
        let tp = cx.prog.thread(t);
        if Some(t) == cx.prog.finally_id() && self.threads[t.idx()].pc == 0 {
            return "every thread to finish".into();
        }
        let Some(op) = tp.ops.get(usize::from(self.threads[t.idx()].pc)) else { return "nothing".into() };
        if let Some(n) = op.uses().filter(|n| self.names[n.idx()] == Binding::Unbound) {
            return format!("`{}` to be bound", cx.prog.names[n.idx()]);
        }
        let wb_waits = |wb: &WbState| wb.stage == WbStage::WaitPins;
        match &self.threads[t.idx()].op {
            OpState::Writeback(wb) if wb_waits(wb) => {
                "the pins on its locked folio to drop (page_mkclean waits)".into()
            }
            OpState::Fsync(st) if matches!(&st.stage, FsyncStage::Writeback(wb) if wb_waits(wb)) => {
                "the pins on its locked folio to drop (page_mkclean waits)".into()
            }
            OpState::Idle => "its first step (a folio lock or flag another thread holds)".into(),
            st => format!("a folio lock or flag another thread holds ({st:?})"),
        }
    }

    /// Every thread, `finally` included, has finished.
    pub fn all_done(&self, cx: &Cx) -> bool {
        (0..self.threads.len()).all(|t| self.thread_done(cx, ThreadId(t as u8)))
    }

    pub(crate) fn fire(&mut self, o: Oracle) {
        self.fired.set(o);
    }

    pub(crate) fn bug(&mut self, b: Bug) {
        self.fired.set_bug(b);
    }

    pub(crate) fn next_ver(&mut self) -> u16 {
        self.ver_clock += 1;
        self.ver_clock
    }

    pub(crate) fn sync_ghost_len(&mut self) {
        self.sync_ghost_pins();
    }

    fn sync_ghost_pins(&mut self) {
        self.ghost.pins.resize(self.mem.frames.len(), 0);
    }

    /// The frame of a file page in the page cache, if cached.
    pub fn cached(&self, file: FileId, index: u8) -> Option<Pfn> {
        self.files[file.idx()].cache[usize::from(index)]
    }

    /// The page as `read(2)` would return it now: the page cache if cached,
    /// else the disk through csumfs, `None` on a checksum failure (EIO).
    pub fn read_file_page(&self, file: FileId, index: u8) -> Option<PageData> {
        match self.cached(file, index) {
            Some(pfn) => Some(self.mem.frames[pfn.idx()].data),
            None => self.csumfs_read(file, index, false).ok(),
        }
    }

    /// Drop one reference on a folio (`folio_put`), freeing it at zero.
    pub(crate) fn folio_put(&mut self, pfn: Pfn, refs: u32) {
        let f = self.mem.folio_mut(pfn);
        let underflow = f.refcount < refs;
        f.refcount = f.refcount.saturating_sub(refs);
        if underflow {
            self.bug(Bug::RefcountUnderflow);
        }
        let f = self.mem.folio(pfn);
        if f.refcount == 0 {
            let busy = f.mapcount > 0
                || f.flags.has(FolioFlags::LOCKED)
                || f.flags.has(FolioFlags::WRITEBACK)
                || self.ghost.pins[self.mem.head(pfn).idx()] > 0;
            if busy {
                self.bug(Bug::BadPageFree);
            }
            self.mem.free(pfn);
        }
    }

    /// `folio_mark_dirty`: PG_dirty and the xarray dirty tag.
    /// On tmpfs `noop_dirty_folio`: PG_dirty only, so writeback never
    /// finds the folio.
    pub(crate) fn folio_mark_dirty(&mut self, pfn: Pfn) {
        let tmpfs = match self.folio(pfn).owner {
            Owner::File { file, .. } => self.is_tmpfs(file),
            _ => false,
        };
        let f = self.folio_mut(pfn);
        f.flags.set(FolioFlags::DIRTY);
        if !tmpfs {
            f.flags.set(FolioFlags::TAG_DIRTY);
        }
    }

    /// The file lives on tmpfs (shmem).
    pub(crate) fn is_tmpfs(&self, file: FileId) -> bool {
        self.fss[self.files[file.idx()].fs.idx()].ty == crate::program::FsType::Tmpfs
    }

    /// Allocate a frame, keeping the ghost record the same length.
    pub(crate) fn alloc(&mut self, owner: Owner) -> Option<Pfn> {
        let pfn = self.mem.alloc(owner)?;
        self.sync_ghost_pins();
        Some(pfn)
    }

    pub(crate) fn folio(&self, pfn: Pfn) -> &Folio {
        self.mem.folio(pfn)
    }

    pub(crate) fn folio_mut(&mut self, pfn: Pfn) -> &mut Folio {
        self.mem.folio_mut(pfn)
    }

    /// Finish the current op of `t` and move to the next.
    pub(crate) fn finish(&mut self, t: ThreadId) {
        let ts = &mut self.threads[t.idx()];
        ts.pc += 1;
        ts.op = OpState::Idle;
    }

    /// Fail the current op of `t` with `e` (it becomes `t.err`); a name the
    /// op would have bound is bound to the failure so its users fail too.
    pub(crate) fn fail(&mut self, t: ThreadId, e: Errno, bind: Option<NameId>) {
        if let Some(n) = bind {
            self.names[n.idx()] = Binding::Failed(e);
        }
        self.threads[t.idx()].err = Some(e);
        self.finish(t);
    }

    /// Run one step of thread `t`.
    pub fn step<T: Tracer>(&mut self, cx: &Cx, t: ThreadId, tr: &mut T) -> Step {
        let tp = cx.prog.thread(t);
        let pc = usize::from(self.threads[t.idx()].pc);
        if self.thread_done(cx, t) {
            return Step::Finished;
        }
        if !self.thread_born(cx, t) {
            return Step::Blocked;
        }
        let Some(op) = tp.ops.get(pc) else { return Step::Finished };
        if Some(t) == cx.prog.finally_id()
            && !(0..cx.prog.threads.len()).all(|i| self.thread_done(cx, ThreadId(i as u8)))
        {
            return Step::Blocked;
        }
        let ran = match *op {
            Op::Mmap { bind, backing, first, pages, shared, write, thp, hugetlb } => {
                Some(self.op_mmap(tp.proc, t, bind, backing, first, pages, shared, write, thp, hugetlb))
            }
            Op::Munmap { map, range } => self.op_munmap(cx, t, map, range),
            Op::Madvise { map, range, advice } => self.op_madvise(cx, t, map, range, advice),
            Op::Mprotect { map, range, write } => self.op_mprotect(cx, t, map, range, write),
            Op::Mremap { bind, map, first, pages } => self.op_mremap(cx, t, bind, map, first, pages),
            Op::Fork { child } => Some(self.op_fork(cx, t, child, tr)),
            Op::Exit => self.op_exit(cx, t),
            Op::Wait { child } => self.op_wait(t, child),
            Op::Reclaim => self.op_reclaim(cx, t, tr),
            Op::Migrate { map, page } => self.op_migrate(cx, t, map, page, tr),
            Op::Lookup { file, page } => Some(self.op_lookup(t, file, page)),
            Op::Offline => Some(self.op_offline(cx, t, tr)),
            Op::Store { map, page, byte } => self.op_store(cx, t, map, page, byte, tr),
            Op::Load { reg, map, page } => self.op_load(cx, t, reg, map, page, tr),
            Op::Gup { bind, map, first, pages, foll, write, longterm, coalesce } => {
                self.op_gup(cx, t, bind, None, map, first, pages, foll, write, longterm, coalesce, tr)
            }
            Op::RegMr { bind, dev, map, first, pages, write, odp } => {
                if odp || cx.prog.devs[dev.idx()].odp || cx.design.rdma_odp {
                    self.op_reg_mr_odp(cx, t, bind, map, first, pages, write)
                } else {
                    let foll = crate::program::Foll::Pin;
                    self.op_gup(cx, t, bind, Some(dev), map, first, pages, foll, write, true, false, tr)
                }
            }
            Op::Unpin { pin, dirty } => self.op_unpin(cx, t, pin, dirty, false, tr),
            Op::Dereg { mr, .. } => match self.resolve(mr) {
                Ok(Binding::OdpMr { id, .. }) => {
                    let label = self.odp_dereg(id);
                    self.finish(t);
                    Some(label)
                }
                _ => self.op_unpin(cx, t, mr, true, true, tr),
            },
            Op::DevWrite { dev, obj, page, pages, byte, key } => {
                self.op_dev_write(cx, t, dev, obj, page, pages, byte, key, tr)
            }
            Op::DevRead { reg, dev, obj, page, key } => self.op_dev_read(cx, t, reg, dev, obj, page, key, tr),
            Op::UringFixed { file, page, buf, bpage, is_write } => {
                self.op_uring_fixed(cx, t, file, page, buf, bpage, is_write, tr)
            }
            Op::Writeback { file } => self.op_writeback(cx, t, file, tr),
            Op::Fsync { file, reg } => self.op_fsync(cx, t, Some(file), reg, tr),
            Op::Write { file, page, byte } => self.op_write(cx, t, file, page, byte, tr),
            Op::Read { reg, file, page } => self.op_read(t, reg, file, page),
            Op::Truncate { file, pages } => {
                let end = self.files[file.idx()].pages;
                self.op_truncate(cx, t, file, pages, end, true, tr)
            }
            Op::Punch { file, page } => self.op_truncate(cx, t, file, page, page + 1, false, tr),
            Op::DioWrite { file, page, map, mpage } => self.op_dio(cx, t, file, page, map, mpage, true, tr),
            Op::DioRead { file, page, map, mpage } => self.op_dio(cx, t, file, page, map, mpage, false, tr),
            Op::FailIo { disk } => Some(self.op_fail_io(t, disk)),
            Op::Scrub { disk } => Some(self.op_scrub(t, disk, tr)),
            Op::Sync => self.op_fsync(cx, t, None, None, tr),
            Op::Crash => Some(self.op_crash(t)),
            Op::Recover => Some(self.op_recover(t, tr)),
        };
        self.sync_ghost_pins();
        match ran {
            Some(label) => Step::Ran(label),
            None => Step::Blocked,
        }
    }

    /// Power loss: volatile disk caches and all of memory are gone. Every
    /// frame is freed (generations bump), page tables and page caches empty,
    /// pins forgotten.
    fn op_crash(&mut self, t: ThreadId) -> &'static str {
        self.power_loss();
        self.finish(t);
        "crash (power loss: disk cache and memory lost)"
    }

    /// Hash what a power loss now would leave that anything can still
    /// observe: the fired oracles, every thread's registers and error (a
    /// crash changes neither, and conditions read them), each file's
    /// metadata, each disk's durable media, and what fsync and sync
    /// promised. `crash_and_recover` is a function of exactly this: memory,
    /// page tables, page caches, pins, write caches and the file systems'
    /// in-memory state are gone or rebuilt from the media, and every
    /// thread's operation in flight stops. The explorer keys crash points
    /// by it, so two states that differ only in what a crash erases share
    /// one crashed state.
    pub fn hash_after_power_loss<H: std::hash::Hasher>(&self, h: &mut H) {
        use std::hash::Hash;
        self.fired.hash(h);
        for t in &self.threads {
            t.regs.hash(h);
            t.err.hash(h);
        }
        for f in &self.files {
            (f.fs, f.pages, f.size, f.errseq, f.ptr_first).hash(h);
        }
        for d in &self.disks {
            d.durable_digest().hash(h);
        }
        self.ghost.acked.hash(h);
        self.ghost.sync_promise.hash(h);
    }

    /// A crash at this very moment, then mount and scrub: what a power loss
    /// here would leave. Used by the explorer's crash points; the world it
    /// leaves is final.
    pub fn crash_and_recover<T: Tracer>(&mut self, tr: &mut T) {
        self.power_loss();
        self.mount_and_scrub(tr);
    }

    fn power_loss(&mut self) {
        self.zero_pfn = None;
        for d in &mut self.disks {
            d.crash();
        }
        for i in 0..self.mem.frames.len() {
            if self.mem.frames[i].folio.is_some() {
                self.mem.free(Pfn(i as u8));
            }
        }
        for p in &mut self.procs {
            *p = Process::default();
        }
        for f in &mut self.files {
            f.cache.iter_mut().for_each(|c| *c = None);
        }
        for s in &mut self.pinsets {
            s.live = false;
            s.pages.iter_mut().for_each(|p| p.held = false);
        }
        self.ghost.pins.iter_mut().for_each(|c| *c = 0);
        self.ghost.crashed = true;
        for fs in &mut self.fss {
            fs.forget_in_memory_state();
        }
        // Blocks only the lost in-memory state kept are free now.
        for fs in 0..self.fss.len() {
            self.forget_dead_blocks(FsId(fs as u8), crate::fs::csumfs::ALL_BLOCKS);
        }
    }

    /// Resolve a name; `Err(None)` means "not bound yet, wait".
    pub(crate) fn resolve(&self, n: NameId) -> Result<Binding, Option<Errno>> {
        match self.names[n.idx()] {
            Binding::Unbound => Err(None),
            Binding::Failed(e) => Err(Some(e)),
            b => Ok(b),
        }
    }

    /// Ghost check: the recorded exact pin count of every frame equals the
    /// number of live FOLL_PIN pages pointing at it. Used by property tests.
    pub fn ghost_pins_consistent(&self) -> bool {
        let mut expect = vec![0u16; self.mem.frames.len()];
        for s in self.pinsets.iter().filter(|s| s.foll == crate::program::Foll::Pin) {
            // The zero page is never counted: pinning it pins nothing.
            for p in s.pages.iter().filter(|p| p.held && Some(p.pfn) != self.zero_pfn) {
                expect[self.mem.head(p.pfn).idx()] += 1;
            }
        }
        expect == self.ghost.pins
    }
}
