//! Creating, changing and tearing down mappings: `mmap`, `munmap`,
//! `madvise`, `mprotect`, `mremap`. The last four take a page range of a
//! mapping and split VMAs at its ends (`split_vma`).

use crate::design::CowReuse;
use crate::errno::Errno;
use crate::ids::*;
use crate::mm::frame::{FolioFlags, Owner};
use crate::mm::vma::{ProcState, Vma};
use crate::program::{Advice, Backing};
use crate::world::{Binding, Cx, World};

impl World {
    /// `do_mmap`: a new VMA in the thread's process. No PTEs yet: pages are
    /// faulted in on first touch.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn op_mmap(
        &mut self,
        proc: Option<ProcId>,
        t: ThreadId,
        bind: NameId,
        backing: Backing,
        first: u8,
        pages: u8,
        shared: bool,
        write: bool,
        thp: bool,
        hugetlb: bool,
    ) -> &'static str {
        let Some(p) = proc.filter(|p| self.procs[p.idx()].state == ProcState::Alive) else {
            self.fail(t, Errno::EFAULT, Some(bind));
            return "do_mmap: no mm";
        };
        let file = match backing {
            Backing::File(f) => Some(f),
            Backing::Anon => None,
        };
        let order = if thp || hugetlb { pages.trailing_zeros() as u8 } else { 0 };
        let pr = &mut self.procs[p.idx()];
        // A THP mapping is aligned to its folio size (thp_get_unmapped_area).
        let start = pr.next_vpn.next_multiple_of(1 << order);
        let shmem = file.is_some_and(|f| self.is_tmpfs(f));
        let pr = &mut self.procs[p.idx()];
        pr.map(Vma {
            start,
            pages,
            file,
            pgoff: first,
            shared,
            write,
            dontfork: false,
            order,
            hugetlb,
            shmem,
        });
        self.names[bind.idx()] = Binding::Map { start, pages };
        self.finish(t);
        "do_mmap"
    }

    /// The address range `range` of a mapping name denotes in the thread's
    /// process, as (process, first vpn, end vpn), or the error the syscall
    /// returns: `Err(None)` while the name is unbound (the thread waits).
    /// A range with no VMA in it at all is `EINVAL`; holes inside one are
    /// ignored, as `munmap` does (`mprotect`/`madvise` would say `ENOMEM`).
    fn map_range(
        &self,
        cx: &Cx,
        t: ThreadId,
        map: NameId,
        range: Option<(u8, u8)>,
    ) -> Result<(ProcId, u16, u16), Option<Errno>> {
        let Binding::Map { start, pages } = self.resolve(map)? else { return Err(Some(Errno::EINVAL)) };
        let p = cx.prog.thread(t).proc.ok_or(Some(Errno::EINVAL))?;
        let (first, n) = range.unwrap_or((0, pages));
        if first + n > pages {
            return Err(Some(Errno::EINVAL));
        }
        let (lo, hi) = (start + u16::from(first), start + u16::from(first + n));
        let vmas = &self.procs[p.idx()].vmas;
        if !vmas.iter().any(|v| v.start < hi && lo < v.start + u16::from(v.pages)) {
            return Err(Some(Errno::EINVAL));
        }
        // A hugetlb VMA is cut only at huge page boundaries: never, here.
        if vmas
            .iter()
            .any(|v| v.hugetlb && [lo, hi].iter().any(|&a| v.start < a && a < v.start + u16::from(v.pages)))
        {
            return Err(Some(Errno::EINVAL));
        }
        Ok((p, lo, hi))
    }

    /// `split_vma` at both ends of `lo..hi`, so that every VMA is either
    /// inside the range or outside it. A piece of a THP VMA no longer holds
    /// a whole aligned folio, so its later faults are order 0 (a folio
    /// already there stays, PTE-mapped: `__split_huge_pmd`).
    fn split_vmas(&mut self, p: ProcId, lo: u16, hi: u16) {
        let pr = &mut self.procs[p.idx()];
        for at in [lo, hi] {
            let Some(i) = pr.vmas.iter().position(|v| v.start < at && at < v.start + u16::from(v.pages))
            else {
                continue;
            };
            let v = pr.vmas[i];
            let left = (at - v.start) as u8;
            let right = Vma { start: at, pages: v.pages - left, pgoff: v.pgoff + left, order: 0, ..v };
            pr.vmas[i] = Vma { pages: left, order: 0, ..v };
            pr.vmas.insert(i + 1, right);
        }
    }

    /// Indexes of the VMAs inside `lo..hi` (after `split_vmas`).
    fn vmas_in(&self, p: ProcId, lo: u16, hi: u16) -> Vec<usize> {
        let pr = &self.procs[p.idx()];
        (0..pr.vmas.len()).filter(|&i| pr.vmas[i].start >= lo && pr.vmas[i].start < hi).collect()
    }

    /// Remove one PTE and drop what it held (`zap_pte_range` →
    /// `folio_remove_rmap_pte` + `folio_put`). A migration entry holds no
    /// reference; the zero page keeps no counts.
    pub(crate) fn zap_pte(&mut self, p: ProcId, vpn: u16) {
        let Some(pte) = self.procs[p.idx()].zap(vpn) else { return };
        if pte.migration || Some(pte.pfn) == self.zero_pfn {
            return;
        }
        self.odp_invalidate(pte.pfn); // mmu_notifier_invalidate_range_start(MMU_NOTIFY_UNMAP)
        self.folio_mut(pte.pfn).mapcount -= 1;
        self.folio_put(pte.pfn, 1);
    }

    /// `munmap X [pages=A..B]`: zap the range's PTEs and remove it from the
    /// VMAs (`__do_munmap`, splitting a VMA it cuts). Pages die only when
    /// their last reference goes: a pinned page outlives its mapping.
    pub(crate) fn op_munmap(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        map: NameId,
        range: Option<(u8, u8)>,
    ) -> Option<&'static str> {
        let (p, lo, hi) = match self.map_range(cx, t, map, range) {
            Ok(x) => x,
            Err(None) => return None, // not mapped yet: wait
            Err(Some(e)) => {
                self.fail(t, e, None);
                return Some("munmap: no such mapping (EINVAL)");
            }
        };
        self.split_vmas(p, lo, hi);
        for i in self.vmas_in(p, lo, hi).into_iter().rev() {
            self.procs[p.idx()].vmas.remove(i);
        }
        for vpn in lo..hi {
            self.zap_pte(p, vpn);
        }
        self.finish(t);
        Some("__do_munmap → unmap_region → zap_pte_range")
    }

    /// `madvise X [pages=A..B] dontfork|dofork|dontneed`.
    pub(crate) fn op_madvise(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        map: NameId,
        range: Option<(u8, u8)>,
        advice: Advice,
    ) -> Option<&'static str> {
        let label = match advice {
            Advice::DontFork => "madvise(MADV_DONTFORK): madvise_update_vma → VM_DONTCOPY",
            Advice::DoFork => "madvise(MADV_DOFORK): madvise_update_vma → clear VM_DONTCOPY",
            Advice::DontNeed => "madvise(MADV_DONTNEED): madvise_dontneed_single_vma → zap_page_range_single",
        };
        let (p, lo, hi) = match self.map_range(cx, t, map, range) {
            Ok(x) => x,
            Err(None) => return None,
            Err(Some(e)) => {
                self.fail(t, e, None);
                return Some(label);
            }
        };
        match advice {
            Advice::DontFork | Advice::DoFork => {
                self.split_vmas(p, lo, hi);
                for i in self.vmas_in(p, lo, hi) {
                    self.procs[p.idx()].vmas[i].dontfork = advice == Advice::DontFork;
                }
            }
            // The VMA stays: the next touch faults a fresh page in (zero
            // page or new anon page, or the page cache for a file).
            Advice::DontNeed => {
                for vpn in lo..hi {
                    self.zap_pte(p, vpn);
                }
            }
        }
        self.finish(t);
        Some(label)
    }

    /// `mprotect X [pages=A..B] ro|rw` (`mprotect_fixup` → `change_protection`):
    /// split, set or clear VM_WRITE, and write-protect the range's PTEs. On
    /// the way to `rw`, `change_pte_range` makes a PTE writable at once where
    /// the write fault would have (`can_change_pte_writable`): in a private
    /// mapping an exclusive anon page (v5.19, 64fe24a3e05e; the model ties
    /// it to `cow_reuse = exclusive`, its PageAnonExclusive era), in a
    /// dirty-tracked shared mapping a dirty PTE (since before 4.19, the
    /// `dirty_accountable` path). Every other PTE stays read-only and the
    /// next write faults (`do_wp_page`, or `page_mkwrite`).
    pub(crate) fn op_mprotect(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        map: NameId,
        range: Option<(u8, u8)>,
        write: bool,
    ) -> Option<&'static str> {
        let (p, lo, hi) = match self.map_range(cx, t, map, range) {
            Ok(x) => x,
            Err(None) => return None,
            Err(Some(e)) => {
                self.fail(t, e, None);
                return Some("mprotect: no such mapping (EINVAL)");
            }
        };
        self.split_vmas(p, lo, hi);
        for i in self.vmas_in(p, lo, hi) {
            self.procs[p.idx()].vmas[i].write = write;
        }
        for vpn in lo..hi {
            let Some(pte) = self.procs[p.idx()].pte(vpn).copied() else { continue };
            if pte.migration || Some(pte.pfn) == self.zero_pfn {
                continue;
            }
            // mmu_notifier_invalidate_range_start(MMU_NOTIFY_PROTECTION_VMA)
            self.odp_invalidate(pte.pfn);
            let vma = *self.procs[p.idx()].vma(vpn).expect("PTE outside a VMA");
            let f = self.folio(pte.pfn);
            // hugetlb_change_protection: a private mapping's protection is
            // read-only (COW); the write fault decides.
            let writable = write
                && !vma.hugetlb
                && if vma.shared {
                    !vma.needs_dirty_tracking() || pte.dirty
                } else {
                    cx.design.cow_reuse == CowReuse::Exclusive
                        && f.owner == Owner::Anon
                        && f.flags.has(FolioFlags::ANON_EXCLUSIVE)
                };
            self.procs[p.idx()].pte_mut(vpn).expect("PTE vanished").writable = writable;
        }
        self.finish(t);
        Some(if write {
            "mprotect_fixup → change_protection (VM_WRITE; can_change_pte_writable)"
        } else {
            "mprotect_fixup → change_protection (clear VM_WRITE; pte_wrprotect)"
        })
    }

    /// `NAME = mremap X pages=A..B` (MREMAP_MAYMOVE|MREMAP_FIXED to a fresh
    /// range): `move_vma` → `move_page_tables`. The PTEs move with their
    /// pages, counts and flags; the old range is unmapped. An ODP MR over
    /// the old addresses is invalidated (`MMU_NOTIFY_UNMAP`); pins keep
    /// their pages.
    pub(crate) fn op_mremap(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        bind: NameId,
        map: NameId,
        first: u8,
        pages: u8,
    ) -> Option<&'static str> {
        let (p, lo, hi) = match self.map_range(cx, t, map, Some((first, pages))) {
            Ok(x) => x,
            Err(None) => return None,
            Err(Some(e)) => {
                self.fail(t, e, Some(bind));
                return Some("mremap: no such mapping (EINVAL)");
            }
        };
        self.split_vmas(p, lo, hi);
        let pr = &mut self.procs[p.idx()];
        let to = pr.next_vpn;
        let mut moved: Vec<Vma> = Vec::new();
        for i in self.vmas_in(p, lo, hi).into_iter().rev() {
            moved.push(self.procs[p.idx()].vmas.remove(i));
        }
        let pr = &mut self.procs[p.idx()];
        for v in moved.into_iter().rev() {
            pr.map(Vma { start: to + (v.start - lo), ..v });
        }
        pr.next_vpn = to + (hi - lo);
        for vpn in lo..hi {
            if let Some(pte) = self.procs[p.idx()].zap(vpn) {
                if !pte.migration && Some(pte.pfn) != self.zero_pfn {
                    self.odp_invalidate(pte.pfn);
                }
                self.procs[p.idx()].install(to + (vpn - lo), pte);
            }
        }
        self.names[bind.idx()] = Binding::Map { start: to, pages };
        self.finish(t);
        Some("mremap → move_vma → move_page_tables")
    }
}
