//! RDMA NIC: memory regions (pinned or on-demand), keys, and the
//! remote-access check.
//!
//! A pinned MR is `ib_reg_user_mr` → `ib_umem_get`, which pins the range with
//! `pin_user_pages_fast(FOLL_LONGTERM [| FOLL_WRITE])` (see `mm::gup`);
//! `ib_dereg_mr` → `ib_umem_release` unpins with
//! `unpin_user_pages_dirty_lock(…, writable)`. Between the two the NIC
//! reaches the pages only by the PFNs it recorded.
//!
//! An ODP MR (`IB_ACCESS_ON_DEMAND`, `ib_umem_odp_get`) pins nothing: the
//! NIC keeps its own page table of the range, filled by device page faults
//! (`ib_umem_odp_map_dma_and_lock` → `hmm_range_fault`, which walks the
//! process page tables and faults like the CPU would), and an
//! `mmu_interval_notifier` clears entries before the kernel write-protects,
//! unmaps, migrates or COWs a page. A device access through a cleared entry
//! faults again.
//!
//! Every remote access carries an rkey; the NIC checks key, bounds and the
//! access rights and, on any mismatch, completes with a remote access error
//! (`IBV_WC_REM_ACCESS_ERR`, here EACCES) without touching memory.

use crate::errno::Errno;
use crate::ids::*;
use crate::trace::Tracer;
use crate::world::{Binding, Cx, World};

/// The rkey of the n-th registration of a run (deterministic, so a
/// scenario can forge a wrong one with `key=`).
pub fn rkey_of(ordinal: u16) -> u16 {
    0x1000 + ordinal
}

/// One entry of an ODP MR's device page table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OdpEntry {
    pub pfn: Pfn,
    pub gen: u16,
    pub writable: bool,
}

/// An on-demand-paging memory region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OdpMr {
    pub proc: ProcId,
    pub start: u16,
    pub write: bool,
    pub live: bool,
    pub entries: Vec<Option<OdpEntry>>,
}

/// Where a device access lands: a page of a pin set, or of an ODP MR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Pinned(PinSetId, usize),
    Odp(u8, usize),
}

impl World {
    /// The NIC's checks on a remote access to MR `obj`, page `page`.
    pub(crate) fn mr_access(
        &self,
        obj: NameId,
        page: u8,
        write: bool,
        key: Option<u16>,
    ) -> Result<Target, Option<Errno>> {
        let (target, rkey, live, writable, pages) = match self.resolve(obj)? {
            Binding::Mr { set, rkey, .. } => {
                let s = &self.pinsets[set.idx()];
                (Target::Pinned(set, usize::from(page)), rkey, s.live, s.write, s.pages.len())
            }
            Binding::OdpMr { id, rkey } => {
                let m = &self.odp[usize::from(id)];
                (Target::Odp(id, usize::from(page)), rkey, m.live, m.write, m.entries.len())
            }
            _ => return Err(Some(Errno::EINVAL)),
        };
        let key_ok = key.is_none_or(|k| k == rkey);
        if !live || !key_ok || usize::from(page) >= pages || (write && !writable) {
            return Err(Some(Errno::EACCES));
        }
        Ok(target)
    }

    /// `ib_umem_odp_get` + `mmu_interval_notifier_insert`: one step, no pins.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn op_reg_mr_odp(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        bind: NameId,
        map: NameId,
        first: u8,
        pages: u8,
        write: bool,
    ) -> Option<&'static str> {
        let start = match self.resolve(map) {
            Err(None) => return None,
            Ok(Binding::Map { start, pages: mp }) if u16::from(first) + u16::from(pages) <= u16::from(mp) => {
                start
            }
            _ => {
                self.fail(t, Errno::EFAULT, Some(bind));
                return Some("ib_umem_odp_get: bad range (EFAULT)");
            }
        };
        let Some(proc) = cx.prog.thread(t).proc else {
            self.fail(t, Errno::EFAULT, Some(bind));
            return Some("ib_umem_odp_get: no mm");
        };
        self.odp.push(OdpMr {
            proc,
            start: start + u16::from(first),
            write,
            live: true,
            entries: vec![None; usize::from(pages)],
        });
        let id = (self.odp.len() - 1) as u8;
        self.mr_count += 1;
        self.names[bind.idx()] = Binding::OdpMr { id, rkey: rkey_of(self.mr_count) };
        self.finish(t);
        Some("ib_umem_odp_get + mmu_interval_notifier_insert (no pages pinned)")
    }

    /// `n.dereg MR` of an ODP MR: `ib_umem_odp_release` unmaps every DMA
    /// page (`ib_umem_odp_unmap_dma_pages`, dirtying those the NIC could
    /// write), then `mmu_interval_notifier_remove`; nothing to unpin.
    pub(crate) fn odp_dereg(&mut self, id: u8) -> &'static str {
        let m = &mut self.odp[usize::from(id)];
        m.live = false;
        let written: Vec<OdpEntry> =
            m.entries.iter_mut().filter_map(|e| e.take()).filter(|e| e.writable).collect();
        for e in written {
            if self.mem.frames[e.pfn.idx()].folio.is_some() && self.mem.gen(e.pfn) == e.gen {
                self.gup_set_page_dirty(self.mem.head(e.pfn));
            }
        }
        "ib_umem_odp_release → ib_umem_odp_unmap_dma_pages (set_page_dirty) + mmu_interval_notifier_remove"
    }

    /// The mmu_interval_notifier `invalidate` callback: before the core mm
    /// changes a PTE mapping (a page of) this folio, every ODP MR drops its
    /// device mapping of it (`mlx5_ib_invalidate_range`).
    pub(crate) fn odp_invalidate(&mut self, pfn: Pfn) {
        if self.odp.is_empty() {
            return;
        }
        let head = self.mem.head(pfn);
        let mem = &self.mem;
        let mut wrote = false;
        for m in self.odp.iter_mut().filter(|m| m.live) {
            for e in m.entries.iter_mut() {
                if let Some(x) = e.filter(|x| mem.head(x.pfn) == head) {
                    wrote |= x.writable && mem.gen(x.pfn) == x.gen;
                    *e = None;
                }
            }
        }
        // ib_umem_odp_unmap_dma_pages: set_page_dirty(compound_head) for an
        // entry the NIC could write (ODP_WRITE_ALLOWED_BIT): its writes went
        // behind the process's page tables and left no dirty PTE behind.
        if wrote && self.mem.frames[head.idx()].folio.is_some() {
            self.gup_set_page_dirty(head);
        }
    }

    /// The device page fault of an ODP MR (`hmm_range_fault` under
    /// `mmu_interval_read_begin`): fault the page in through the process's
    /// page tables, as a CPU access would, then map it in the NIC.
    pub(crate) fn odp_fault<T: Tracer>(
        &mut self,
        cx: &Cx,
        id: u8,
        i: usize,
        write: bool,
        tr: &mut T,
    ) -> Result<Option<&'static str>, Errno> {
        let m = &self.odp[usize::from(id)];
        let (p, vpn) = (m.proc, m.start + i as u16);
        match self.fault_in(cx, p, vpn, write, false, tr) {
            crate::mm::fault::Access::Blocked => Ok(None),
            crate::mm::fault::Access::Faulted(l) => Ok(Some(l)),
            crate::mm::fault::Access::Err(e) => Err(e),
            crate::mm::fault::Access::Ready(pfn) => {
                let gen = self.mem.gen(pfn);
                self.odp[usize::from(id)].entries[i] = Some(OdpEntry { pfn, gen, writable: write });
                tr.note(|| {
                    format!("NIC maps vpn {vpn} → pfn {}{}", pfn.0, if write { " writable" } else { "" })
                });
                Ok(Some("ib_umem_odp_map_dma_and_lock → hmm_range_fault (device page fault)"))
            }
        }
    }
}
