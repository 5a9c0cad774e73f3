//! Faults a simulator injects between two thread steps.
//!
//! Each fault runs to completion in one pseudo-step, as if the kernel
//! thread that causes it (kswapd, kcompactd, the block layer's error path)
//! ran without being interleaved: one of the interleavings the real kernel
//! allows, so everything a fault reveals is a real execution. The steps
//! reuse the model's own reclaim and migration state machines, so every
//! design knob (`reclaim_keep_pinned`, `migrate_refuse_pinned`, ODP
//! invalidation) applies exactly as it does to a scenario's `reclaim` and
//! `migrate` statements.

use crate::errno::Errno;
use crate::ids::*;
use crate::mm::frame::{FolioFlags, Owner};
use crate::trace::Tracer;
use crate::world::{Cx, OpState, ThreadState, World};

/// A fault to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// The next write to the disk fails: the driver completes the bio with
    /// `bio->bi_status = BLK_STS_IOERR` (`blk_update_request` → `bio_endio`);
    /// writeback sees it in `end_page_writeback` → `mapping_set_error`.
    FailNextWrite(DiskId),
    /// Memory pressure: one kswapd pass, `shrink_inactive_list` →
    /// `shrink_folio_list` over every file folio on the LRU.
    Reclaim,
    /// Compaction (`kcompactd` → `compact_zone` → `migrate_pages`) moves the
    /// small folio at this frame to a new one.
    Migrate(Pfn),
}

impl Fault {
    /// The kind's short name, as used by `pinlab sim --faults`.
    pub fn kind(self) -> &'static str {
        match self {
            Fault::FailNextWrite(_) => "eio",
            Fault::Reclaim => "reclaim",
            Fault::Migrate(_) => "migrate",
        }
    }
}

impl World {
    /// Inject a fault. `Err` if it names something the machine does not
    /// have (a disk or frame number out of range); a fault that finds
    /// nothing to do (a frame not on the LRU) is a valid no-op.
    pub fn inject<T: Tracer>(&mut self, cx: &Cx, f: Fault, tr: &mut T) -> Result<&'static str, String> {
        match f {
            Fault::FailNextWrite(d) => {
                let disk = self.disks.get_mut(d.idx()).ok_or_else(|| format!("there is no disk {}", d.0))?;
                disk.fail_next_write = true;
                Ok("fault injection: the next write to the disk completes with BLK_STS_IOERR")
            }
            Fault::Reclaim => Ok(self.reclaim_pass(cx, tr)),
            Fault::Migrate(pfn) => {
                if pfn.idx() >= usize::from(self.mem.frames_max) {
                    return Err(format!("there is no pfn {}", pfn.0));
                }
                Ok(self.compact_one(cx, pfn, tr))
            }
        }
    }

    /// Frames compaction could try to move now: heads of small anon or
    /// page-cache folios on the LRU, not locked and not under writeback
    /// (`isolate_migratepages_block` skips the others).
    pub fn migrate_candidates(&self) -> Vec<Pfn> {
        (0..self.mem.frames.len())
            .filter(|&i| {
                self.mem.frames[i].folio.is_some_and(|f| {
                    f.order == 0
                        && matches!(f.owner, Owner::Anon | Owner::File { .. })
                        && f.flags.has(FolioFlags::LRU)
                        && !f.flags.has(FolioFlags::LOCKED)
                        && !f.flags.has(FolioFlags::WRITEBACK)
                })
            })
            .map(|i| Pfn(i as u8))
            .filter(|&p| Some(p) != self.zero_pfn)
            .collect()
    }

    /// Run `f` as a kernel thread of its own (one past the scenario's
    /// threads) until it finishes its one op; return the labels of its steps.
    fn as_kthread<T: Tracer>(
        &mut self,
        op: OpState,
        tr: &mut T,
        mut f: impl FnMut(&mut World, ThreadId, &mut T) -> Option<&'static str>,
    ) {
        let t = ThreadId(self.threads.len() as u8);
        self.threads.push(ThreadState { pc: 0, op, regs: Vec::new(), err: None, fd_seen: Vec::new() });
        while self.threads[t.idx()].pc == 0 {
            match f(self, t, tr) {
                Some(label) => tr.note(|| label.to_string()),
                // Cannot happen: the callers check the waits first. Give up
                // rather than spin.
                None => break,
            }
        }
        self.threads.pop();
        self.sync_ghost_len();
    }

    fn reclaim_pass<T: Tracer>(&mut self, cx: &Cx, tr: &mut T) -> &'static str {
        self.as_kthread(OpState::Idle, tr, |w, t, tr| w.op_reclaim(cx, t, tr));
        "kswapd: shrink_folio_list over the LRU (one reclaim pass)"
    }

    fn compact_one<T: Tracer>(&mut self, cx: &Cx, pfn: Pfn, tr: &mut T) -> &'static str {
        if !self.migrate_candidates().contains(&pfn) {
            tr.note(|| format!("pfn {} is not a movable LRU folio now: skipped", pfn.0));
            return "kcompactd: isolate_migratepages_block skips the frame";
        }
        // isolate_migratepages_block → folio_isolate_lru, then
        // migrate_pages runs the same stages as the `migrate` statement.
        self.folio_isolate_lru(pfn);
        tr.note(|| format!("pfn {} isolated (+1 reference)", pfn.0));
        let mut err = None;
        self.as_kthread(OpState::Migrate { old: pfn, new: None, stage: 1 }, tr, |w, t, tr| {
            let label = w.op_migrate(cx, t, NameId(0), 0, tr);
            err = w.threads[t.idx()].err;
            label
        });
        match err {
            Some(Errno::EAGAIN) => "kcompactd: migrate_pages failed (EAGAIN), folio stays",
            Some(_) => "kcompactd: migrate_pages failed",
            None => "kcompactd: migrate_pages moved the folio",
        }
    }
}
