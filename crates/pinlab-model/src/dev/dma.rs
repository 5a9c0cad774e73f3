//! Device transfers through pinned pages, one sector per step.
//!
//! A device writes memory by physical address, behind the page tables: no
//! PTE is consulted or dirtied, no fault is taken, `page_mkwrite` never runs
//! and PG_dirty is not set. That is the heart of the 2018 problem.
//! One sector per step lets a device write interleave with writeback's
//! checksum and its sector-by-sector copy to disk.

use crate::data::{uniform_byte, SectorData};
use crate::errno::Errno;
use crate::ids::*;
use crate::limits::SECTORS_PER_PAGE;
use crate::oracle::Oracle;
use crate::program::DevKind;
use crate::trace::Tracer;
use crate::world::{Binding, Cx, OpState, World};

impl World {
    /// The pinned page a device transfer targets, or why it cannot proceed.
    fn dev_target(
        &self,
        cx: &Cx,
        dev: DevId,
        obj: NameId,
        page: u8,
        write: bool,
    ) -> Result<(PinSetId, usize), Option<Errno>> {
        let set = match cx.prog.devs[dev.idx()].kind {
            DevKind::Nic => self.mr_access(obj, write)?,
            // A DMA engine uses whatever PFNs its driver handed it, live or not:
            // a driver bug then shows up as dma_after_free, not as an error.
            DevKind::Dma => match self.resolve(obj)? {
                Binding::Pin(set) | Binding::Mr { set, .. } => set,
                _ => return Err(Some(Errno::EINVAL)),
            },
        };
        let i = usize::from(page);
        if i >= self.pinsets[set.idx()].pages.len() {
            return Err(Some(Errno::EINVAL));
        }
        Ok((set, i))
    }

    /// Check the frame is still the one pinned (the `dma_after_free` oracle).
    fn dev_check_frame<T: Tracer>(&mut self, set: PinSetId, i: usize, tr: &mut T) -> Pfn {
        let pg = self.pinsets[set.idx()].pages[i];
        if self.mem.frames[pg.pfn.idx()].folio.is_none() || self.mem.gen(pg.pfn) != pg.gen {
            self.fire(Oracle::DmaAfterFree);
            tr.note(|| {
                format!(
                    "pfn {} was freed since the pin (generation {} → {})",
                    pg.pfn.0,
                    pg.gen,
                    self.mem.gen(pg.pfn)
                )
            });
        }
        pg.pfn
    }

    /// `n.write MR[p] = B` / `d.write P[p] = B`: DMA one sector per step.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn op_dev_write<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        dev: DevId,
        obj: NameId,
        page: u8,
        byte: u8,
        tr: &mut T,
    ) -> Option<&'static str> {
        let nic = cx.prog.devs[dev.idx()].kind == DevKind::Nic;
        let (set, i) = match self.dev_target(cx, dev, obj, page, true) {
            Ok(x) => x,
            Err(None) => return None,
            Err(Some(e)) => {
                tr.note(|| format!("completion error {}", e.name()));
                self.fail(t, e, None);
                return Some(if nic {
                    "rdma: remote write rejected by the NIC"
                } else {
                    "dma: transfer rejected"
                });
            }
        };
        let sector = match self.threads[t.idx()].op {
            OpState::Xfer { sector } => sector,
            _ => 0,
        };
        // Each sector lands at its own moment, so each gets its own version:
        // versions order writes in time, which is what `lost_write` compares.
        let ver = self.next_ver();
        let pfn = self.dev_check_frame(set, i, tr);
        self.mem.frames[pfn.idx()].data[usize::from(sector)] = SectorData { byte, ver };
        tr.note(|| format!("pfn {} sector {sector} = {byte:#04x} (v{ver}); no PTE, no PG_dirty", pfn.0));
        if usize::from(sector) + 1 == SECTORS_PER_PAGE {
            self.finish(t);
        } else {
            self.threads[t.idx()].op = OpState::Xfer { sector: sector + 1 };
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
        tr: &mut T,
    ) -> Option<&'static str> {
        let (set, i) = match self.dev_target(cx, dev, obj, page, false) {
            Ok(x) => x,
            Err(None) => return None,
            Err(Some(e)) => {
                self.fail(t, e, None);
                return Some("device read rejected");
            }
        };
        let pfn = self.dev_check_frame(set, i, tr);
        let v = uniform_byte(&self.mem.frames[pfn.idx()].data).map_or(crate::mm::fault::MIXED, u64::from);
        self.threads[t.idx()].regs[reg.idx()] = Some(v);
        self.finish(t);
        Some("dma: read page")
    }
}
