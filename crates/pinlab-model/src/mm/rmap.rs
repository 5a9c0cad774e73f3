//! Reverse mapping: from a folio to the PTEs that map it.
//!
//! Linux keeps an rmap (`anon_vma`, the file's `i_mmap` tree); the model
//! derives it by scanning every process's page table, which gives the same
//! answer for the small worlds explored.

use crate::ids::Pfn;
use crate::world::World;

impl World {
    /// `folio_mkclean` (mm/rmap.c, `page_vma_mkclean_one`): write-protect and
    /// clean every PTE mapping the folio, so the next CPU write faults and goes
    /// through `page_mkwrite`. Returns how many PTEs were dirty. A device
    /// writing through a pin has no PTE and is not stopped by this.
    pub(crate) fn folio_mkclean(&mut self, pfn: Pfn) -> usize {
        // mmu_notifier_invalidate_range_start(MMU_NOTIFY_PROTECTION_PAGE)
        self.odp_invalidate(pfn);
        let mut dirty = 0;
        let head = self.mem.head(pfn);
        let mem = &self.mem;
        for p in &mut self.procs {
            for (_, pte) in p.ptes.iter_mut().filter(|(_, pte)| !pte.migration && mem.head(pte.pfn) == head) {
                dirty += usize::from(pte.dirty);
                pte.writable = false;
                pte.dirty = false;
            }
        }
        dirty
    }

    /// `try_to_unmap`: remove every PTE mapping the folio, moving their
    /// dirty bits into PG_dirty. Returns how many were removed.
    pub(crate) fn try_to_unmap(&mut self, pfn: Pfn) -> usize {
        let mut victims = Vec::new();
        let head = self.mem.head(pfn);
        for (p, pr) in self.procs.iter().enumerate() {
            for (vpn, pte) in pr.ptes.iter().filter(|(_, e)| !e.migration && self.mem.head(e.pfn) == head) {
                victims.push((crate::ids::ProcId(p as u8), *vpn, pte.dirty));
            }
        }
        if victims.iter().any(|v| v.2) {
            self.folio_mark_dirty(pfn);
        }
        for (p, vpn, _) in &victims {
            self.zap_pte(*p, *vpn);
        }
        victims.len()
    }

    /// Number of PTEs mapping the folio (what `folio_mapcount` should say).
    /// A tail page counts the PTEs of its whole folio.
    pub fn rmap_count(&self, pfn: Pfn) -> usize {
        if Some(pfn) == self.zero_pfn {
            return 0; // the zero page keeps no mapcount
        }
        let head = self.mem.head(pfn);
        self.procs
            .iter()
            .map(|p| p.ptes.iter().filter(|(_, e)| !e.migration && self.mem.head(e.pfn) == head).count())
            .sum()
    }
}
