//! hugetlb: private anonymous huge pages (`MAP_HUGETLB|MAP_PRIVATE`).
//!
//! A hugetlb VMA is one folio, scaled down like the model's THP to 2–16
//! pages. Linux maps it with a single huge PTE; the model maps every page
//! with its own PTE, but only ever all of them together, so the folio's
//! `mapcount` is always a multiple of its size and `folio_mapcount()` (the
//! number of huge mappings) is `mapcount >> order`. A hugetlb VMA cannot be
//! split: range verbs that cut it fail with EINVAL, as they do in Linux for
//! ranges not aligned to the huge page size.
//!
//! What sets hugetlb apart in the pinning story (mm/hugetlb.c, 6.12–6.18):
//! - `hugetlb_no_page` allocates the folio on any fault, read or write (no
//!   zero page), and a write to a private mapping does the COW at once.
//! - `hugetlb_wp` reuses the folio when `folio_mapcount() == 1` and it is
//!   anon, *ignoring other references*: the kernel comments that "there can
//!   still be leaks between processes, for example, with FOLL_GET users".
//!   That is why `cow.c`'s four vmsplice tests are XFAIL on hugetlb. The
//!   reuse sets `PageAnonExclusive`; otherwise the whole folio is copied.
//! - `copy_hugetlb_page_range` (fork) gives the child a copy of a
//!   maybe-pinned exclusive folio (`hugetlb_try_dup_anon_rmap` fails), as
//!   for small pages; otherwise both sides map it read-only.
//! - `hugetlb_change_protection` never maps a private PTE writable: a
//!   private mapping's page protection is read-only (COW).
//! - No FOLL_FORCE write faults (`hugetlb_wp` WARNs and returns SIGSEGV):
//!   GUP on a hugetlb VMA without PROT_WRITE fails with EFAULT.
//! - hugetlb folios are not on the LRU: reclaim and migration leave them.

use crate::data::page_fill;
use crate::errno::Errno;
use crate::ids::*;
use crate::mm::fault::Access;
use crate::mm::frame::{FolioFlags, Owner};
use crate::mm::vma::{Pte, Vma};
use crate::trace::Tracer;
use crate::world::World;

impl World {
    /// `hugetlb_fault` for `vpn` in hugetlb VMA `vma` of process `p`.
    pub(crate) fn hugetlb_fault<T: Tracer>(
        &mut self,
        p: ProcId,
        vma: Vma,
        vpn: u16,
        write: bool,
        tr: &mut T,
    ) -> Access {
        if write && !vma.write {
            return Access::Err(Errno::EFAULT);
        }
        match self.procs[p.idx()].pte(vpn).copied() {
            None => {
                // hugetlb_no_page: a new folio for the whole VMA; a write
                // to a private mapping is its own COW ("Optimization, do
                // the COW without a second fault").
                let Some(head) = self.mem.alloc_order(Owner::Anon, vma.order) else {
                    return Access::Err(Errno::ENOMEM);
                };
                self.sync_ghost_len();
                let n = 1u16 << vma.order;
                for i in 0..n {
                    self.mem.frames[head.idx() + usize::from(i)].data = page_fill(0, 0);
                    let pte = Pte { dirty: write, ..Pte::new(Pfn(head.0 + i as u8), write) };
                    self.procs[p.idx()].install(vma.start + i, pte);
                }
                let f = self.folio_mut(head);
                f.refcount = u32::from(n);
                f.mapcount = n;
                f.flags.set(FolioFlags::ANON_EXCLUSIVE);
                tr.note(|| {
                    format!("new hugetlb folio pfn {}..{} at vpn {}..", head.0, head.0 + n as u8, vma.start)
                });
                Access::Faulted("hugetlb_fault → hugetlb_no_page")
            }
            Some(pte) if pte.migration => Access::Blocked,
            Some(pte) if write && !pte.writable => match self.hugetlb_wp(p, vma, pte.pfn, false, tr) {
                Ok(label) => Access::Faulted(label),
                Err(e) => Access::Err(e),
            },
            Some(pte) => Access::Ready(pte.pfn),
        }
    }

    /// A new exclusive anon hugetlb folio holding a copy of `head`'s,
    /// counted as mapped whole by one process (its caller maps it).
    fn hugetlb_copy(&mut self, head: Pfn) -> Option<Pfn> {
        let order = self.folio(head).order;
        let new = self.mem.alloc_order(Owner::Anon, order)?;
        self.sync_ghost_len();
        let n = 1u16 << order;
        for i in 0..usize::from(n) {
            self.mem.frames[new.idx() + i].data = self.mem.frames[head.idx() + i].data;
        }
        let f = self.folio_mut(new);
        f.refcount = u32::from(n);
        f.mapcount = n;
        f.flags.set(FolioFlags::ANON_EXCLUSIVE);
        Some(new)
    }

    /// `hugetlb_wp`: reuse the folio if one mapping maps it and it is anon
    /// (other references do not count), else copy the whole folio for this
    /// process. `unshare` (FAULT_FLAG_UNSHARE, from GUP) leaves the PTEs
    /// read-only.
    pub(crate) fn hugetlb_wp<T: Tracer>(
        &mut self,
        p: ProcId,
        vma: Vma,
        pfn: Pfn,
        unshare: bool,
        tr: &mut T,
    ) -> Result<&'static str, Errno> {
        let head = self.mem.head(pfn);
        let f = *self.folio(head);
        let n = 1u16 << f.order;
        let range = vma.start..vma.start + n;
        if f.mapcount >> f.order == 1 && f.owner == Owner::Anon {
            self.folio_mut(head).flags.set(FolioFlags::ANON_EXCLUSIVE);
            if !unshare {
                for vpn in range {
                    let e = self.procs[p.idx()].pte_mut(vpn).expect("hugetlb PTEs come and go together");
                    e.writable = true;
                    e.dirty = true;
                }
            }
            tr.note(|| {
                format!("hugetlb folio pfn {} reused (folio_mapcount 1, refcount {})", head.0, f.refcount)
            });
            return Ok(if unshare {
                "hugetlb_wp (unshare): folio_mapcount == 1, reuse"
            } else {
                "hugetlb_wp: folio_mapcount == 1, reuse (other references ignored)"
            });
        }
        let Some(new) = self.hugetlb_copy(head) else { return Err(Errno::ENOMEM) };
        for (i, vpn) in range.enumerate() {
            self.zap_pte(p, vpn);
            let pte = Pte { dirty: !unshare, ..Pte::new(Pfn(new.0 + i as u8), !unshare) };
            self.procs[p.idx()].install(vpn, pte);
        }
        tr.note(|| format!("hugetlb folio pfn {} copied to pfn {}", head.0, new.0));
        Ok(if unshare { "hugetlb_wp (unshare): copy the folio" } else { "hugetlb_wp: copy the folio" })
    }

    /// `copy_hugetlb_page_range` for one hugetlb VMA of `parent`: the
    /// child's PTEs. A maybe-pinned exclusive folio is copied for the child
    /// where the design copies pinned pages at fork; otherwise it is shared
    /// read-only.
    pub(crate) fn fork_hugetlb<T: Tracer>(
        &mut self,
        cx: &crate::world::Cx,
        parent: ProcId,
        vma: Vma,
        tr: &mut T,
    ) -> Vec<(u16, Pte)> {
        let Some(first) = self.procs[parent.idx()].pte(vma.start).copied() else { return Vec::new() };
        let head = self.mem.head(first.pfn);
        let f = *self.folio(head);
        let n = 1u16 << f.order;
        if cx.design.fork_copy_pinned
            && f.flags.has(FolioFlags::ANON_EXCLUSIVE)
            && self.maybe_pinned(cx, head, 0)
        {
            let Some(copy) = self.hugetlb_copy(head) else {
                tr.note(|| "no frames for the child's hugetlb copy".into());
                return Vec::new();
            };
            tr.note(|| format!("hugetlb pfn {} may be pinned: child gets a copy in pfn {}", head.0, copy.0));
            return (0..n)
                .map(|i| (vma.start + i, Pte::new(Pfn(copy.0 + i as u8), first.writable)))
                .collect();
        }
        self.odp_invalidate(head);
        let hf = self.folio_mut(head);
        hf.mapcount += n;
        hf.refcount += u32::from(n);
        hf.flags.clear(FolioFlags::ANON_EXCLUSIVE);
        let mut out = Vec::new();
        for vpn in vma.start..vma.start + n {
            let e = self.procs[parent.idx()].pte_mut(vpn).expect("hugetlb PTEs come and go together");
            e.writable = false;
            out.push((vpn, Pte { writable: false, ..*e }));
        }
        out
    }
}
