//! Creating and tearing down mappings: `mmap`, `munmap`, `madvise`.

use crate::errno::Errno;
use crate::ids::*;
use crate::mm::vma::{ProcState, Vma};
use crate::program::Backing;
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
    ) -> &'static str {
        let Some(p) = proc.filter(|p| self.procs[p.idx()].state == ProcState::Alive) else {
            self.fail(t, Errno::EFAULT, Some(bind));
            return "do_mmap: no mm";
        };
        let file = match backing {
            Backing::File(f) => Some(f),
            Backing::Anon => None,
        };
        let order = if thp { pages.trailing_zeros() as u8 } else { 0 };
        let pr = &mut self.procs[p.idx()];
        // A THP mapping is aligned to its folio size (thp_get_unmapped_area).
        let start = pr.next_vpn.next_multiple_of(1 << order);
        pr.map(Vma { start, pages, file, pgoff: first, shared, write, dontfork: false, order });
        self.names[bind.idx()] = Binding::Map { start, pages };
        self.finish(t);
        "do_mmap"
    }

    /// The VMA a mapping name denotes in the thread's process, as
    /// (process, index of the VMA), or the error the syscall returns.
    fn vma_of(&self, cx: &Cx, t: ThreadId, map: NameId) -> Result<(ProcId, usize), Errno> {
        let Ok(Binding::Map { start, .. }) = self.resolve(map) else { return Err(Errno::EINVAL) };
        let p = cx.prog.thread(t).proc.ok_or(Errno::EINVAL)?;
        let i = self.procs[p.idx()].vmas.iter().position(|v| v.start == start).ok_or(Errno::EINVAL)?;
        Ok((p, i))
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

    /// `munmap X`: zap the VMA's PTEs and remove it. Pages die only when
    /// their last reference goes: a pinned page outlives its mapping.
    pub(crate) fn op_munmap(&mut self, cx: &Cx, t: ThreadId, map: NameId) -> Option<&'static str> {
        if self.resolve(map) == Err(None) {
            return None; // not mapped yet: wait
        }
        let (p, i) = match self.vma_of(cx, t, map) {
            Ok(x) => x,
            Err(e) => {
                self.fail(t, e, None);
                return Some("munmap: no such mapping (EINVAL)");
            }
        };
        let v = self.procs[p.idx()].vmas.remove(i);
        for vpn in v.start..v.start + u16::from(v.pages) {
            self.zap_pte(p, vpn);
        }
        self.finish(t);
        Some("__do_munmap → unmap_region → zap_pte_range")
    }

    /// `madvise X dontfork`: mark the VMA VM_DONTCOPY.
    pub(crate) fn op_madvise_dontfork(&mut self, cx: &Cx, t: ThreadId, map: NameId) -> Option<&'static str> {
        if self.resolve(map) == Err(None) {
            return None;
        }
        match self.vma_of(cx, t, map) {
            Ok((p, i)) => {
                self.procs[p.idx()].vmas[i].dontfork = true;
                self.finish(t);
            }
            Err(e) => self.fail(t, e, None),
        }
        Some("madvise(MADV_DONTFORK): VM_DONTCOPY")
    }
}
