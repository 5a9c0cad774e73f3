//! Process lifecycle: `fork` and `exit`.
//!
//! `fork` copies VMAs and, for private mappings, PTEs (`copy_present_ptes`):
//! both sides are write-protected so the next write breaks COW. Shared
//! mappings are not copied; the child faults them in (`vma_needs_copy`).
//! Designs with `fork_copy_pinned` give the child its own copy of an
//! exclusive anon page that may be pinned (`folio_needs_cow_for_dma` →
//! `copy_present_page`), so the parent keeps the pinned page writable.

use crate::errno::Errno;
use crate::ids::*;
use crate::mm::frame::{FolioFlags, Owner};
use crate::mm::vma::{ProcState, Pte};
use crate::trace::Tracer;
use crate::world::{Cx, World};

impl World {
    /// `fork CHILD`: one step, as `copy_process` holds `mmap_lock` (and
    /// `write_protect_seq`) for the whole copy.
    pub(crate) fn op_fork<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        child: ProcId,
        tr: &mut T,
    ) -> &'static str {
        let Some(parent) = cx.prog.thread(t).proc else {
            self.fail(t, Errno::EINVAL, None);
            return "fork: no process";
        };
        if self.procs[child.idx()].state != ProcState::Unborn {
            self.fail(t, Errno::EINVAL, None);
            return "fork: child already exists";
        }
        let vmas: Vec<_> = self.procs[parent.idx()].vmas.iter().filter(|v| !v.dontfork).copied().collect();
        let mut child_ptes = Vec::new();
        for v in &vmas {
            if v.shared {
                continue;
            }
            if v.hugetlb {
                child_ptes.extend(self.fork_hugetlb(cx, parent, *v, tr));
                continue;
            }
            for vpn in v.start..v.start + u16::from(v.pages) {
                let Some(pte) = self.procs[parent.idx()].pte(vpn).copied() else { continue };
                if pte.migration {
                    // copy_nonpresent_pte: the child gets the migration entry
                    // too, made non-exclusive (the page is now shared), and
                    // remove_migration_ptes maps the page in both.
                    child_ptes.push((vpn, pte));
                    self.folio_mut(pte.pfn).flags.clear(FolioFlags::ANON_EXCLUSIVE);
                    let moved_to: Vec<Pfn> = self
                        .threads
                        .iter()
                        .filter_map(|ts| match ts.op {
                            crate::world::OpState::Migrate { old, new: Some(n), .. } if old == pte.pfn => {
                                Some(n)
                            }
                            _ => None,
                        })
                        .collect();
                    for n in moved_to {
                        self.folio_mut(n).flags.clear(FolioFlags::ANON_EXCLUSIVE);
                    }
                    continue;
                }
                if Some(pte.pfn) == self.zero_pfn {
                    child_ptes.push((vpn, pte));
                    continue;
                }
                let f = *self.folio(pte.pfn);
                let anon = f.owner == Owner::Anon;
                if anon
                    && cx.design.fork_copy_pinned
                    && f.flags.has(FolioFlags::ANON_EXCLUSIVE)
                    && self.maybe_pinned(cx, pte.pfn, 0)
                {
                    // copy_present_page: the child gets a private copy now.
                    let Some(copy) = self.alloc(Owner::Anon) else {
                        tr.note(|| "no frame for the child's copy".into());
                        continue;
                    };
                    self.mem.frames[copy.idx()].data = self.mem.frames[pte.pfn.idx()].data;
                    let c = self.folio_mut(copy);
                    c.mapcount = 1;
                    c.flags.set(FolioFlags::ANON_EXCLUSIVE);
                    c.flags.set(FolioFlags::LRU);
                    child_ptes.push((
                        vpn,
                        Pte { pfn: copy, writable: pte.writable, dirty: pte.dirty, migration: false },
                    ));
                    tr.note(|| {
                        format!("pfn {} may be pinned: child gets a copy in pfn {}", pte.pfn.0, copy.0)
                    });
                    continue;
                }
                // Share: write-protect both sides, one more mapping
                // (mmu_notifier_invalidate_range_start for the parent's PTEs).
                self.odp_invalidate(pte.pfn);
                let pf = self.folio_mut(pte.pfn);
                pf.mapcount += 1;
                pf.refcount += 1;
                pf.flags.clear(FolioFlags::ANON_EXCLUSIVE);
                let e = self.procs[parent.idx()].pte_mut(vpn).expect("PTE vanished");
                e.writable = false;
                child_ptes.push((vpn, Pte { writable: false, ..pte }));
            }
        }
        let next_vpn = self.procs[parent.idx()].next_vpn;
        let c = &mut self.procs[child.idx()];
        c.state = ProcState::Alive;
        c.vmas = vmas;
        child_ptes.sort_by_key(|e| e.0);
        c.ptes = child_ptes;
        c.next_vpn = next_vpn;
        tr.note(|| {
            format!(
                "{} PTE(s) copied to the child, write-protected for COW",
                self.procs[child.idx()].ptes.len()
            )
        });
        self.finish(t);
        "copy_process → dup_mmap → copy_present_ptes"
    }

    /// `exit`: `exit_mmap` zaps every PTE; pages die when their last
    /// reference goes. Every thread of the process ends.
    /// Sibling threads in the middle of a kernel operation finish it first:
    /// a fatal signal takes effect on the way back to user space.
    pub(crate) fn op_exit(&mut self, cx: &Cx, t: ThreadId) -> Option<&'static str> {
        let Some(p) = cx.prog.thread(t).proc else {
            self.fail(t, Errno::EINVAL, None);
            return Some("exit: no process");
        };
        let busy_sibling = (0..cx.prog.threads.len()).map(|i| ThreadId(i as u8)).any(|u| {
            u != t
                && cx.prog.thread(u).proc == Some(p)
                && !self.thread_done(cx, u)
                && self.threads[u.idx()].op != crate::world::OpState::Idle
        });
        if busy_sibling {
            return None;
        }
        let vpns: Vec<u16> = self.procs[p.idx()].ptes.iter().map(|e| e.0).collect();
        for vpn in vpns {
            self.zap_pte(p, vpn);
        }
        let pr = &mut self.procs[p.idx()];
        pr.vmas.clear();
        pr.state = ProcState::Exited;
        self.finish(t);
        Some("do_exit → exit_mmap → zap_pte_range")
    }

    /// `wait CHILD` (`wait4` → `do_wait`): the thread blocks until the
    /// child's `exit` has run. A child whose threads end without `exit`
    /// never exits (the model has no implicit exit at the end of a thread).
    pub(crate) fn op_wait(&mut self, t: ThreadId, child: ProcId) -> Option<&'static str> {
        if self.procs[child.idx()].state != ProcState::Exited {
            return None;
        }
        self.finish(t);
        Some("do_wait: child exited")
    }
}
