//! Device transfers by physical frame, one sector per step.
//!
//! A device writes memory by physical address, behind the page tables: no
//! PTE is consulted or dirtied, no fault is taken, `page_mkwrite` never runs
//! and PG_dirty is not set. That is the heart of the 2018 problem. One
//! sector per step lets a device write interleave with writeback's checksum
//! and its sector-by-sector copy to disk. An ODP MR is the exception: the
//! NIC maps pages through its own page table, filled by device page faults
//! that do go through the process's page tables (see `dev::rdma`).

use crate::data::{uniform_byte, SectorData};
use crate::dev::rdma::Target;
use crate::errno::Errno;
use crate::ids::*;
use crate::limits::SECTORS_PER_PAGE;
use crate::oracle::Oracle;
use crate::program::DevKind;
use crate::trace::Tracer;
use crate::world::{Binding, Cx, OpState, World};

impl World {
    pub(crate) fn dev_target(
        &self,
        cx: &Cx,
        dev: DevId,
        obj: NameId,
        page: u8,
        write: bool,
        key: Option<u16>,
    ) -> Result<Target, Option<Errno>> {
        match cx.prog.devs[dev.idx()].kind {
            DevKind::Nic => self.mr_access(obj, page, write, key),
            // A DMA engine uses whatever PFNs its driver handed it, live or
            // not: a driver bug shows up as dma_after_free, not as an error.
            DevKind::Dma | DevKind::Uring => {
                let set = match self.resolve(obj)? {
                    Binding::Pin(set) | Binding::Mr { set, .. } => set,
                    _ => return Err(Some(Errno::EINVAL)),
                };
                if usize::from(page) >= self.pinsets[set.idx()].pages.len() {
                    return Err(Some(Errno::EINVAL));
                }
                Ok(Target::Pinned(set, usize::from(page)))
            }
        }
    }

    /// The frame a device access reaches now, checking that it is still the
    /// frame the device was given (the `dma_after_free` oracle). For an ODP
    /// MR without a (suitable) mapping, `Err` asks for a device fault.
    fn dev_frame<T: Tracer>(&mut self, target: Target, write: bool, tr: &mut T) -> Result<Pfn, ()> {
        let (pfn, gen) = match target {
            Target::Pinned(set, i) => {
                // Through the folio's entry for a page io_coalesce_buffer merged.
                let pg = self.bvec_page(set, i);
                (pg.pfn, pg.gen)
            }
            Target::Odp(id, i) => match self.odp[usize::from(id)].entries[i] {
                Some(e) if e.writable || !write => (e.pfn, e.gen),
                _ => return Err(()),
            },
        };
        if self.mem.frames[pfn.idx()].folio.is_none() || self.mem.gen(pfn) != gen {
            self.fire(Oracle::DmaAfterFree);
            tr.note(|| {
                format!(
                    "pfn {} was freed since the device got it (generation {gen} → {})",
                    pfn.0,
                    self.mem.gen(pfn)
                )
            });
        }
        Ok(pfn)
    }

    /// `n.write MR[p] = B` / `d.write P[p] [pages=N] = B`: DMA one sector per
    /// step, across `pages` pages.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn op_dev_write<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        dev: DevId,
        obj: NameId,
        page: u8,
        pages: u8,
        byte: u8,
        key: Option<u16>,
        tr: &mut T,
    ) -> Option<&'static str> {
        let nic = cx.prog.devs[dev.idx()].kind == DevKind::Nic;
        let done = match self.threads[t.idx()].op {
            OpState::Xfer { sector } => sector,
            _ => 0,
        };
        let (pg, sector) = (done / SECTORS_PER_PAGE as u8, done % SECTORS_PER_PAGE as u8);
        let target = match self.dev_target(cx, dev, obj, page + pg, true, key) {
            Ok(x) => x,
            Err(None) => return None,
            Err(Some(e)) => {
                tr.note(|| format!("completion error {}", e.name()));
                self.fail(t, e, None);
                return Some(if nic {
                    "rdma: remote access error, no memory touched"
                } else {
                    "dma: transfer rejected"
                });
            }
        };
        let pfn = match self.dev_frame(target, true, tr) {
            Ok(pfn) => pfn,
            Err(()) => {
                let Target::Odp(id, i) = target else { unreachable!("only ODP MRs fault") };
                return match self.odp_fault(cx, id, i, true, tr) {
                    Ok(label) => label,
                    Err(e) => {
                        self.fail(t, e, None);
                        Some("ODP page fault failed")
                    }
                };
            }
        };
        // Each sector lands at its own moment, so each gets its own version:
        // versions order writes in time, which is what `lost_write` compares.
        let burst = cx.prog.devs[dev.idx()].burst.max(1);
        let n = burst.min(SECTORS_PER_PAGE as u8 - sector);
        for s in sector..sector + n {
            let ver = self.next_ver();
            self.mem.frames[pfn.idx()].data[usize::from(s)] = SectorData { byte, ver };
        }
        tr.note(|| {
            format!("pfn {} sectors {sector}..{} = {byte:#04x}; no PTE, no PG_dirty", pfn.0, sector + n)
        });
        if usize::from(done + n) == SECTORS_PER_PAGE * usize::from(pages) {
            self.finish(t);
        } else {
            self.threads[t.idx()].op = OpState::Xfer { sector: done + n };
        }
        Some(if nic {
            "rdma: NIC DMA-writes one sector by PFN"
        } else {
            "dma: device writes one sector by PFN"
        })
    }

    /// `r = n.read MR[p]` / `r = d.read P[p]`: DMA the page out in one step.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn op_dev_read<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        reg: RegId,
        dev: DevId,
        obj: NameId,
        page: u8,
        key: Option<u16>,
        tr: &mut T,
    ) -> Option<&'static str> {
        let target = match self.dev_target(cx, dev, obj, page, false, key) {
            Ok(x) => x,
            Err(None) => return None,
            Err(Some(e)) => {
                self.fail(t, e, None);
                return Some("device read rejected");
            }
        };
        let pfn = match self.dev_frame(target, false, tr) {
            Ok(pfn) => pfn,
            Err(()) => {
                let Target::Odp(id, i) = target else { unreachable!("only ODP MRs fault") };
                return match self.odp_fault(cx, id, i, false, tr) {
                    Ok(label) => label,
                    Err(e) => {
                        self.fail(t, e, None);
                        Some("ODP page fault failed")
                    }
                };
            }
        };
        let v = uniform_byte(&self.mem.frames[pfn.idx()].data).map_or(crate::mm::fault::MIXED, u64::from);
        self.threads[t.idx()].regs[reg.idx()] = Some(v);
        self.finish(t);
        Some("dma: device reads the page")
    }
}
