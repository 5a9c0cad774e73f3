//! Processes: VMAs and page tables (`mm_struct`, `vm_area_struct`, PTEs).
//!
//! Virtual addresses are page numbers (`vpn`); each `mmap` takes the next
//! free range of the process, like a bottom-up `get_unmapped_area`.

use crate::ids::{FileId, Pfn};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Vma {
    pub start: u16,
    pub pages: u8,
    /// `None`: anonymous memory.
    pub file: Option<FileId>,
    /// File page mapped at `start`.
    pub pgoff: u8,
    /// MAP_SHARED
    pub shared: bool,
    /// PROT_WRITE (VM_WRITE)
    pub write: bool,
    /// VM_DONTCOPY (`madvise(MADV_DONTFORK)`): not inherited by a fork child.
    pub dontfork: bool,
    /// Anon THP: the first write fault fills the whole (aligned) VMA with one
    /// folio of 2^order pages, PTE-mapped (a 2 MiB THP scaled down).
    pub order: u8,
    /// `MAP_HUGETLB`: one hugetlb folio of 2^order pages (`mm/hugetlb.rs`).
    pub hugetlb: bool,
    /// `vma_is_shmem`: a mapping of a tmpfs file.
    pub shmem: bool,
}

impl Vma {
    pub fn contains(&self, vpn: u16) -> bool {
        vpn >= self.start && vpn < self.start + u16::from(self.pages)
    }

    /// File page index mapped at `vpn` (which must be inside the VMA).
    pub fn file_index(&self, vpn: u16) -> u8 {
        self.pgoff + (vpn - self.start) as u8
    }

    /// `vma_needs_dirty_tracking`: a shared writable file mapping whose
    /// file system wants `page_mkwrite` notifications or can write back
    /// (csumfs and ext4like; not shmem).
    pub fn needs_dirty_tracking(&self) -> bool {
        self.file.is_some() && self.shared && self.write && !self.shmem
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pte {
    pub pfn: Pfn,
    pub writable: bool,
    pub dirty: bool,
    /// A migration entry (`make_migration_entry`): the page is being moved;
    /// an access waits (`migration_entry_wait`) until it is restored.
    pub migration: bool,
}

impl Pte {
    pub fn new(pfn: Pfn, writable: bool) -> Pte {
        Pte { pfn, writable, dirty: writable, migration: false }
    }
}

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProcState {
    /// Created by a `fork` that has not run yet.
    Unborn,
    #[default]
    Alive,
    Exited,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Process {
    pub state: ProcState,
    pub vmas: Vec<Vma>,
    /// Present PTEs, sorted by vpn.
    pub ptes: Vec<(u16, Pte)>,
    pub next_vpn: u16,
}

impl Process {
    pub fn vma(&self, vpn: u16) -> Option<&Vma> {
        self.vmas.iter().find(|v| v.contains(vpn))
    }

    pub fn pte(&self, vpn: u16) -> Option<&Pte> {
        self.ptes.binary_search_by_key(&vpn, |e| e.0).ok().map(|i| &self.ptes[i].1)
    }

    pub fn pte_mut(&mut self, vpn: u16) -> Option<&mut Pte> {
        self.ptes.binary_search_by_key(&vpn, |e| e.0).ok().map(|i| &mut self.ptes[i].1)
    }

    /// `set_pte_at` for a PTE that was not present.
    pub fn install(&mut self, vpn: u16, pte: Pte) {
        match self.ptes.binary_search_by_key(&vpn, |e| e.0) {
            Ok(_) => unreachable!("installing over a present PTE"),
            Err(i) => self.ptes.insert(i, (vpn, pte)),
        }
    }

    /// Reserve `pages` of address space for a new VMA.
    pub fn map(&mut self, vma: Vma) {
        self.next_vpn = vma.start + u16::from(vma.pages);
        self.vmas.push(vma);
    }

    /// Remove the PTE at `vpn`, returning it.
    pub fn zap(&mut self, vpn: u16) -> Option<Pte> {
        let i = self.ptes.binary_search_by_key(&vpn, |e| e.0).ok()?;
        Some(self.ptes.remove(i).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vma_lookup_and_ptes_stay_sorted() {
        let mut p = Process::default();
        p.map(Vma {
            start: 0,
            pages: 2,
            file: Some(FileId(0)),
            pgoff: 1,
            shared: true,
            write: true,
            dontfork: false,
            order: 0,
            hugetlb: false,
            shmem: false,
        });
        assert_eq!(p.next_vpn, 2);
        assert_eq!(p.vma(1).map(|v| v.file_index(1)), Some(2));
        assert!(p.vma(2).is_none());
        p.install(1, Pte::new(Pfn(3), false));
        p.install(0, Pte::new(Pfn(4), true));
        assert_eq!(p.ptes.iter().map(|e| e.0).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(p.pte(1).unwrap().pfn, Pfn(3));
        assert!(p.pte(5).is_none());
        assert_eq!(p.zap(0).map(|e| e.pfn), Some(Pfn(4)));
        assert!(p.pte(0).is_none() && p.zap(0).is_none());
    }
}
