//! GUP: `get_user_pages` (FOLL_GET) and `pin_user_pages` (FOLL_PIN), and
//! their release paths.
//!
//! Each page is acquired in its own step (`__get_user_pages` loops page by
//! page, faulting in with `handle_mm_fault` when `follow_page_mask` fails),
//! so a pin of a range can interleave with writeback page by page.
//!
//! How a pin is counted depends on the design (`PinTracking`): nothing but a
//! reference (4.19), a reference plus `GUP_PIN_COUNTING_BIAS` (5.7+), or an
//! exact count. The ghost record counts every FOLL_PIN exactly regardless;
//! the modelled kernel never reads it.
//!
//! io_uring buffer registration (`io_sqe_buffer_register`) pins page by page
//! like any GUP, then coalesces large folios (`io_check_coalesce_buffer`,
//! `io_coalesce_buffer`): it keeps one pin per folio and releases the rest
//! with `unpin_user_folio(folio, nr - 1)`. The pin set keeps every page (so
//! `/proc/vmstat`-style counts still see them acquired) and marks the
//! released ones `coalesced`; fixed-buffer I/O reaches them through their
//! folio's entry (`io_import_fixed` with `imu->folio_shift`), and
//! `io_release_ubuf` drops one pin per folio.

use crate::design::{DirtyUnpin, PinTracking};
use crate::errno::Errno;
use crate::ids::*;
use crate::mm::fault::Access;
use crate::mm::frame::{FolioFlags, Memory, Owner};
use crate::program::Foll;
use crate::trace::Tracer;
use crate::world::{Binding, Cx, OpState, World};

/// `GUP_PIN_COUNTING_BIAS` (include/linux/mm.h).
pub const GUP_PIN_COUNTING_BIAS: u32 = 1 << 10;

/// Outcome of one GUP step.
pub(crate) enum GupStep {
    Blocked,
    /// A fault (or unshare, or migration) ran; the page is not grabbed yet.
    Progress(&'static str),
    /// The call fails; what it had grabbed is already released.
    Failed(Errno, &'static str),
    /// The page is in the (possibly new) pin set.
    Grabbed(PinSetId),
}

/// One page held by a pin set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PinnedPage {
    pub pfn: Pfn,
    /// Frame generation when the page was taken: a device that finds another
    /// generation is touching freed memory.
    pub gen: u16,
    /// Still held (not yet released by unpin/put).
    pub held: bool,
    /// Its pin was dropped at registration by `io_coalesce_buffer`
    /// (`unpin_user_folio(folio, nr - 1)`): the nearest earlier entry that
    /// is not coalesced holds the one pin of its folio, and the page is
    /// reached through that entry. Never set together with `held`.
    pub coalesced: bool,
}

/// The pages one GUP call returned (the `pages[]` array a driver keeps).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PinSet {
    pub foll: Foll,
    /// The access the holder asked for: an MR's `IB_ACCESS_*_WRITE` (the
    /// NIC enforces it; release dirties only a writable MR's pages), a pin's
    /// FOLL_WRITE.
    pub write: bool,
    /// FOLL_WRITE in the GUP flags, which `write_pincount` counts (`write`
    /// and this differ for a read-only MR that `ib_umem_get` pinned with
    /// FOLL_WRITE|FOLL_FORCE, see `Design::umem_force_write`).
    pub foll_write: bool,
    pub longterm: bool,
    pub pages: Vec<PinnedPage>,
    /// Devices may use it: false once release began (for an MR: once the
    /// NIC has invalidated it in `ib_dereg_mr`).
    pub live: bool,
    /// Released by a layout-lease break (`layout_lease`): the holder's own
    /// `dereg` later finds nothing to do.
    pub revoked: bool,
}

impl World {
    /// The design's pin test (`folio_maybe_dma_pinned` or its stand-in),
    /// checked against the ghost count every time it is consulted: a wrong
    /// answer fires `pin_false_positive` / `pin_false_negative` and is
    /// counted in the step's stats. `own_refs` are references the caller
    /// itself holds (an isolation reference), which the heuristic discounts.
    pub(crate) fn maybe_pinned(&mut self, cx: &Cx, pfn: Pfn, own_refs: u32) -> bool {
        let guess = self.pin_guess(cx, pfn, own_refs);
        let truth = self.ghost.pins[self.mem.head(pfn).idx()] > 0;
        self.stats.pin_tests += 1;
        if guess && !truth {
            self.stats.false_positives += 1;
            self.fire(crate::oracle::Oracle::PinFalsePositive);
        } else if truth && !guess {
            self.stats.false_negatives += 1;
            self.fire(crate::oracle::Oracle::PinFalseNegative);
        }
        guess
    }

    /// The design's answer to "is this folio pinned?", from the folio alone.
    pub(crate) fn pin_guess(&self, cx: &Cx, pfn: Pfn, own_refs: u32) -> bool {
        let f = *self.folio(pfn);
        match cx.design.pin_tracking {
            PinTracking::None => false,
            PinTracking::Heuristic => {
                // Glisse: whatever references are not explained by mappings,
                // the page cache and private data must be GUP references.
                let cache = u32::from(matches!(f.owner, crate::mm::frame::Owner::File { .. }));
                let private = u32::from(f.flags.has(FolioFlags::PRIVATE));
                f.refcount > u32::from(f.mapcount) + cache + private + own_refs
            }
            PinTracking::Bias if f.order > 0 => f.pincount > 0,
            PinTracking::Bias => f.refcount >= GUP_PIN_COUNTING_BIAS,
            PinTracking::Exact => f.pincount > 0,
        }
    }

    /// A GUP user dirtying a page it wrote behind the page tables
    /// (`set_page_dirty_lock`, `unpin_user_pages_dirty_lock`,
    /// `bio_release_pages`, ODP unmap): `folio_mark_dirty`, through the file
    /// system's `dirty_folio`. ext4's warns if the page has no buffers,
    /// which is how such a page usually looks: reclaim freed them while it
    /// was clean, and no `page_mkwrite` ran since.
    pub(crate) fn gup_set_page_dirty(&mut self, pfn: Pfn) {
        let f = self.folio(pfn);
        if let Owner::File { file, .. } = f.owner {
            let fs = self.files[file.idx()].fs;
            if self.fss[fs.idx()].ty == crate::program::FsType::Ext4like && !f.flags.has(FolioFlags::PRIVATE)
            {
                self.bug(crate::oracle::Bug::DirtyWithoutBuffers);
            }
        }
        self.folio_mark_dirty(pfn);
    }

    /// References a GUP of this kind adds to `_refcount` under the design.
    /// How a GUP of this kind is counted on the folio of `pfn`: references
    /// added to `_refcount`, and whether `_pincount` counts it exactly. A
    /// FOLL_PIN adds the 1024 bias only to a small folio; a large folio has
    /// its own exact count (`hpage_pinned_refcount`, 5.7; `_pincount` of
    /// the folio since 5.19).
    fn pin_counts(&self, tracking: PinTracking, foll: Foll, pfn: Pfn) -> (u32, bool) {
        let large = self.folio(pfn).order > 0;
        match (foll, tracking) {
            (Foll::Get, _) => (1, false),
            (Foll::Pin, PinTracking::Bias) if !large => (GUP_PIN_COUNTING_BIAS, false),
            (Foll::Pin, PinTracking::Bias | PinTracking::Exact) => (1, true),
            (Foll::Pin, PinTracking::None | PinTracking::Heuristic) => (1, false),
        }
    }

    /// `P = pin/gup X pages=A..B`, `B = u.register X pages=A..B`
    /// (`io_sqe_buffer_register` → `io_pin_pages`, then `io_coalesce_buffer`
    /// when `coalesce`) and the pinning half of `reg_mr` (`ib_umem_get` →
    /// `pin_user_pages_fast(FOLL_LONGTERM [|FOLL_WRITE])`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn op_gup<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        bind: NameId,
        dev: Option<DevId>,
        map: NameId,
        first: u8,
        pages: u8,
        foll: Foll,
        write: bool,
        longterm: bool,
        coalesce: bool,
        tr: &mut T,
    ) -> Option<&'static str> {
        let (start, map_pages) = match self.resolve(map) {
            Err(None) => return None,
            Err(Some(e)) => {
                self.fail(t, e, Some(bind));
                return Some("__get_user_pages: mapping unavailable");
            }
            Ok(Binding::Map { start, pages }) => (start, pages),
            Ok(_) => {
                self.fail(t, Errno::EINVAL, Some(bind));
                return Some("__get_user_pages: not a mapping");
            }
        };
        let Some(p) = cx.prog.thread(t).proc else {
            self.fail(t, Errno::EFAULT, Some(bind));
            return Some("__get_user_pages: no mm");
        };
        if u16::from(first) + u16::from(pages) > u16::from(map_pages) {
            self.fail(t, Errno::EFAULT, Some(bind));
            return Some("__get_user_pages: range outside the mapping (EFAULT)");
        }
        let set = match self.threads[t.idx()].op {
            OpState::Gup { set } => Some(set),
            _ => None,
        };
        let set_was_none = set.is_none();
        // ib_umem_get before 6.2: FOLL_WRITE always, FOLL_FORCE for a
        // read-only MR; the MR keeps the access it asked for.
        let (gup_write, force) =
            if dev.is_some() && cx.design.umem_force_write { (true, !write) } else { (write, false) };
        let done = set.map_or(0, |s| self.pinsets[s.idx()].pages.len() as u8);
        let vpn = start + u16::from(first + done);
        if set.is_none() {
            // check_vma_flags → writable_file_mapping_allowed (v6.5+).
            let vma = self.procs[p.idx()].vma(vpn).copied();
            let refused = cx.design.refuse_longterm_file_write_pin
                && foll == Foll::Pin
                && longterm
                && gup_write
                && vma.is_some_and(|v| v.needs_dirty_tracking());
            if refused {
                tr.note(|| "FOLL_LONGTERM|FOLL_WRITE on a dirty-tracked file mapping".into());
                self.fail(t, Errno::EFAULT, Some(bind));
                return Some("check_vma_flags: writable_file_mapping_allowed() == false → EFAULT");
            }
            if force && vma.is_some_and(|v| v.shared && !v.write) {
                tr.note(|| "ib_umem_get: FOLL_WRITE|FOLL_FORCE for a read-only MR".into());
                self.fail(t, Errno::EFAULT, Some(bind));
                return Some("check_vma_flags: FOLL_FORCE cannot write a shared read-only mapping → EFAULT");
            }
        }
        let set = match self.gup_step(cx, p, vpn, foll, gup_write, force, longterm, set, tr) {
            GupStep::Blocked => return None,
            GupStep::Progress(label) => return Some(label),
            GupStep::Failed(e, label) => {
                self.fail(t, e, Some(bind));
                return Some(label);
            }
            GupStep::Grabbed(s) => s,
        };
        if set_was_none {
            self.threads[t.idx()].op = OpState::Gup { set };
            self.pinsets[set.idx()].write = write;
        }
        let mut coalesced = false;
        if self.pinsets[set.idx()].pages.len() == usize::from(pages) {
            coalesced = coalesce && self.io_coalesce_buffer(cx, set, tr);
            self.names[bind.idx()] = match dev {
                Some(dev) => {
                    self.mr_count += 1;
                    Binding::Mr { dev, set, rkey: crate::dev::rdma::rkey_of(self.mr_count) }
                }
                None => Binding::Pin(set),
            };
            self.finish(t);
        }
        Some(match foll {
            _ if coalesced => {
                "try_grab_folio (FOLL_PIN); io_coalesce_buffer → unpin_user_folio(folio, nr - 1)"
            }
            // 4.19 has no FOLL_PIN and no try_grab_folio: every GUP user
            // takes a plain reference in follow_page_pte.
            _ if cx.design.pin_tracking == PinTracking::None => "follow_page_pte: get_page",
            Foll::Get => "try_grab_folio (FOLL_GET)",
            Foll::Pin => "try_grab_folio (FOLL_PIN)",
        })
    }

    /// `io_check_coalesce_buffer` then `io_coalesce_buffer` over a complete
    /// registration pin set: if the pages run contiguously through large
    /// folios of one size (the first run may start mid-folio but must reach
    /// its end, every later folio starts at its first page, the middle ones
    /// are whole, the last may end early), keep the first entry of each
    /// folio and release the other `nr - 1` pins of the folio
    /// (`unpin_user_folio(folio, nr - 1)` → `gup_put_folio`): the folio
    /// stays pinned once. Whether anything was coalesced.
    fn io_coalesce_buffer<T: Tracer>(&mut self, cx: &Cx, set: PinSetId, tr: &mut T) -> bool {
        let pfns: Vec<Pfn> = self.pinsets[set.idx()].pages.iter().map(|p| p.pfn).collect();
        // io_sqe_buffer_register: `nr_pages > 1 && io_check_coalesce_buffer()
        // && data.nr_pages_mid != 1` (the first folio is large).
        if pfns.len() < 2 {
            return false;
        }
        let Some(runs) = io_check_coalesce_buffer(&self.mem, &pfns) else { return false };
        if self.folio(pfns[0]).nr_pages() == 1 {
            return false; // data.nr_pages_mid == 1: small folios only
        }
        let mut j = 0;
        for nr in runs {
            for i in j + 1..j + nr {
                self.put_pinned_page(cx, set, i);
                self.pinsets[set.idx()].pages[i].coalesced = true;
            }
            if nr > 1 {
                let head = self.mem.head(pfns[j]);
                tr.note(|| {
                    format!("folio at pfn {}: {nr} pins → 1 (unpin_user_folio(folio, {}))", head.0, nr - 1)
                });
            }
            j += nr;
        }
        true
    }

    /// The page a registered buffer's entry `i` stands for, as fixed-buffer
    /// I/O reaches it (`io_import_fixed`): an entry whose pin went with
    /// `io_coalesce_buffer` is reached through its folio's entry (the bvec
    /// of the folio, offset by the page index, `imu->folio_shift`), and is
    /// held as long as that entry is. Any other entry is itself.
    pub(crate) fn bvec_page(&self, set: PinSetId, i: usize) -> PinnedPage {
        let pages = &self.pinsets[set.idx()].pages;
        let pg = pages[i];
        if !pg.coalesced {
            return pg;
        }
        let k =
            (0..i).rev().find(|&k| !pages[k].coalesced).expect("a coalesced page follows its folio's entry");
        let folio = pages[k];
        // bvec_set_page(head, off): the folio's page at `folio_page_idx` of
        // the entry, advanced by the pages in between.
        let head = self.mem.head(folio.pfn);
        let offset = folio.pfn.0 - head.0 + (i - k) as u8;
        let pfn = Pfn(head.0 + offset);
        debug_assert_eq!(pfn, pg.pfn, "io_check_coalesce_buffer saw the folio's pages contiguous");
        PinnedPage { pfn, gen: pg.gen, held: folio.held, coalesced: true }
    }

    /// One step of `__get_user_pages` for the page at `vpn`: fault it in,
    /// unshare or migrate it out as the design requires, then grab it into
    /// the pin set (created on the first page).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gup_step<T: Tracer>(
        &mut self,
        cx: &Cx,
        p: ProcId,
        vpn: u16,
        foll: Foll,
        write: bool,
        force: bool,
        longterm: bool,
        set: Option<PinSetId>,
        tr: &mut T,
    ) -> GupStep {
        let pfn = match self.fault_in(cx, p, vpn, write, force, tr) {
            Access::Blocked => return GupStep::Blocked,
            Access::Faulted(l) => return GupStep::Progress(l),
            Access::Err(e) => {
                self.gup_unwind(cx, set);
                return GupStep::Failed(e, "__get_user_pages: fault failed");
            }
            Access::Ready(pfn) => pfn,
        };
        let zero = Some(pfn) == self.zero_pfn;
        // gup_must_unshare → handle_mm_fault(FAULT_FLAG_UNSHARE): a pin may
        // hold only an exclusive anon page (5.18/5.19); and since 6.2 a R/O
        // long-term pin of a page that is not anon (page cache, the zero
        // page) in a COW mapping is copied first too, mapped read-only.
        let unshare = if foll != Foll::Pin {
            None
        } else if !zero
            && cx.design.unshare_on_pin
            && self.folio(pfn).owner == Owner::Anon
            && !self.folio(pfn).flags.has(FolioFlags::ANON_EXCLUSIVE)
        {
            let writable = self.procs[p.idx()].pte(vpn).is_some_and(|e| e.writable);
            Some((writable, "shared", "follow_page: gup_must_unshare → handle_mm_fault(FAULT_FLAG_UNSHARE)"))
        } else if !write
            && longterm
            && cx.design.longterm_unshare_cow
            && self.procs[p.idx()].vma(vpn).is_some_and(|v| !v.shared)
            && (zero || self.folio(pfn).owner != Owner::Anon)
        {
            Some((
                false,
                "not anon",
                "follow_page: gup_must_unshare (R/O FOLL_LONGTERM, COW mapping) → FAULT_FLAG_UNSHARE",
            ))
        } else {
            None
        };
        if let Some(vma) = unshare.and(self.procs[p.idx()].vma(vpn).copied()).filter(|v| v.hugetlb) {
            return match self.hugetlb_wp(p, vma, pfn, true, tr) {
                Ok(label) => GupStep::Progress(label),
                Err(e) => {
                    self.gup_unwind(cx, set);
                    GupStep::Failed(e, "unshare failed (ENOMEM)")
                }
            };
        }
        if let Some((writable, why, label)) = unshare {
            return match self.cow_copy(p, vpn, pfn, Some(pfn), writable) {
                Some(new) => {
                    tr.note(|| format!("pfn {} is {why}: unshared into pfn {}", pfn.0, new.0));
                    GupStep::Progress(label)
                }
                None => {
                    self.gup_unwind(cx, set);
                    GupStep::Failed(Errno::ENOMEM, "unshare failed (ENOMEM)")
                }
            };
        }
        if !zero
            && longterm
            && foll == Foll::Pin
            && cx.design.longterm_migrate_out
            && self.mem.in_movable_zone(pfn)
        {
            // __gup_longterm_locked → check_and_migrate_movable_pages:
            // a long-term pin must not sit in ZONE_MOVABLE.
            return match self.migrate_out_now(cx, pfn) {
                Ok(to) => {
                    tr.note(|| format!("pfn {} is in ZONE_MOVABLE: migrated to pfn {}", pfn.0, to.0));
                    GupStep::Progress("check_and_migrate_movable_pages → migrate_longterm_unpinnable_folios")
                }
                Err(e) => {
                    self.gup_unwind(cx, set);
                    GupStep::Failed(e, "check_and_migrate_movable_pages: migration failed")
                }
            };
        }
        if !zero
            && write
            && foll == Foll::Pin
            && cx.design.pin_waits_writeback
            && self.folio(pfn).flags.has(FolioFlags::WRITEBACK)
        {
            return GupStep::Blocked; // folio_wait_writeback before pinning for write
        }
        // try_grab_folio. The zero page is special: pinning it changes no count.
        let (refs, exact) =
            if zero { (0, false) } else { self.pin_counts(cx.design.pin_tracking, foll, pfn) };
        if !zero {
            if self.folio(pfn).refcount.checked_add(refs).is_none_or(|r| r > i32::MAX as u32) {
                self.bug(crate::oracle::Bug::PinOverflow);
                self.gup_unwind(cx, set);
                return GupStep::Failed(Errno::ENOMEM, "try_grab_folio: refcount would overflow (ENOMEM)");
            }
            let f = self.folio_mut(pfn);
            f.refcount += refs;
            if exact {
                f.pincount += 1;
                f.write_pincount += u16::from(write);
            }
            if foll == Foll::Pin {
                let head = self.mem.head(pfn);
                self.ghost.pins[head.idx()] += 1;
            }
        }
        let gen = self.mem.gen(pfn);
        let set = match set {
            Some(s) => s,
            None => {
                let foll_write = write;
                self.pinsets.push(PinSet {
                    foll,
                    write,
                    foll_write,
                    longterm,
                    pages: Vec::new(),
                    live: true,
                    revoked: false,
                });
                PinSetId((self.pinsets.len() - 1) as u8)
            }
        };
        self.pinsets[set.idx()].pages.push(PinnedPage { pfn, gen, held: true, coalesced: false });
        tr.note(|| format!("pfn {} refcount +{refs}", pfn.0));
        GupStep::Grabbed(set)
    }

    /// Release every page of a pin set (the end of an O_DIRECT I/O).
    pub(crate) fn dio_unpin(&mut self, cx: &Cx, set: PinSetId) {
        for i in 0..self.pinsets[set.idx()].pages.len() {
            self.put_pinned_page(cx, set, i);
        }
    }

    /// A GUP that fails part-way releases what it took (`unpin_user_pages`
    /// on the error path of `__gup_longterm_locked`), in the same step.
    fn gup_unwind(&mut self, cx: &Cx, set: Option<PinSetId>) {
        let Some(set) = set else { return };
        for i in 0..self.pinsets[set.idx()].pages.len() {
            self.put_pinned_page(cx, set, i);
        }
        self.pinsets[set.idx()].live = false;
    }

    /// Release one page of a pin set: `put_page` for FOLL_GET, `gup_put_folio`
    /// for FOLL_PIN (subtract the bias or the exact count).
    pub(crate) fn put_pinned_page(&mut self, cx: &Cx, set: PinSetId, i: usize) {
        let s = &self.pinsets[set.idx()];
        let (foll, write, pg) = (s.foll, s.foll_write, s.pages[i]);
        if pg.coalesced {
            // io_coalesce_buffer already dropped it; the folio's entry
            // carries the one remaining pin (io_release_ubuf).
            return;
        }
        if !pg.held {
            self.bug(crate::oracle::Bug::PinUnderflow);
            return;
        }
        self.pinsets[set.idx()].pages[i].held = false;
        if Some(pg.pfn) == self.zero_pfn {
            return;
        }
        if self.mem.frames[pg.pfn.idx()].folio.is_none() || self.mem.gen(pg.pfn) != pg.gen {
            // The reference we held kept the frame alive; if it is gone, a
            // count was wrong somewhere.
            self.bug(crate::oracle::Bug::RefcountUnderflow);
            return;
        }
        if foll == Foll::Pin {
            let head = self.mem.head(pg.pfn);
            self.ghost.pins[head.idx()] -= 1;
        }
        let (refs, exact) = self.pin_counts(cx.design.pin_tracking, foll, pg.pfn);
        if exact {
            let f = self.folio_mut(pg.pfn);
            f.pincount -= 1;
            f.write_pincount -= u16::from(write);
        }
        self.folio_put(pg.pfn, refs);
    }

    /// Whether stage 0 of unpinning page `page` of `set` waits for the
    /// folio lock now (`set_page_dirty_lock` on a locked folio).
    fn unpin_page_blocks(&self, cx: &Cx, set: PinSetId, page: usize, dirty: bool) -> bool {
        let s = &self.pinsets[set.idx()];
        let pg = s.pages[page];
        let gen_ok = self.mem.frames[pg.pfn.idx()].folio.is_some() && self.mem.gen(pg.pfn) == pg.gen;
        dirty
            && s.write
            && gen_ok
            && cx.design.dirty_unpin == DirtyUnpin::SetPageDirtyLock
            && self.folio(pg.pfn).flags.has(FolioFlags::LOCKED)
    }

    /// `unpin P [dirty]`, `put P`, and `n.dereg MR` (`ib_dereg_mr`: the NIC
    /// invalidates the MR first, then `ib_umem_release` unpins each page,
    /// dirtying it if the MR was writable).
    ///
    /// Per page, a dirtying release is the design's `DirtyUnpin`:
    /// - `SetPageDirtyLock` (2018 drivers): `lock_page`, then
    ///   `set_page_dirty` + `unlock_page`, then `put_page`;
    /// - `UnpinDirtyLock` (`unpin_user_pages_dirty_lock`): `folio_test_dirty`;
    ///   if clean, `folio_lock`, then `folio_mark_dirty` + `folio_unlock`;
    ///   then `gup_put_folio`.
    pub(crate) fn op_unpin<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        pin: NameId,
        dirty: bool,
        mr: bool,
        tr: &mut T,
    ) -> Option<&'static str> {
        let (set, page, stage) = match self.threads[t.idx()].op {
            OpState::Unpin { set, page, stage } => (set, page, stage),
            _ => {
                let set = match self.resolve(pin) {
                    Err(None) => return None,
                    Err(Some(e)) => {
                        self.fail(t, e, None);
                        return Some("unpin: nothing was pinned");
                    }
                    Ok(Binding::Pin(s)) if !mr => s,
                    Ok(Binding::Mr { set, .. }) if mr => set,
                    Ok(_) => {
                        self.fail(t, Errno::EINVAL, None);
                        return Some("unpin: wrong kind of object");
                    }
                };
                if mr && self.pinsets[set.idx()].revoked {
                    self.finish(t);
                    return Some("ib_dereg_mr: the MR was already deregistered by the lease-break handler");
                }
                if !self.pinsets[set.idx()].live {
                    // Releasing twice: the second gup_put_folio would
                    // underflow the count.
                    self.bug(crate::oracle::Bug::PinUnderflow);
                    self.fail(t, Errno::EINVAL, None);
                    return Some("unpin of an already released pin (pin count underflow)");
                }
                // The first page's step runs in this same step: if it must
                // wait for the folio lock, nothing may change yet (a blocked
                // step leaves the world untouched).
                if !mr && self.unpin_page_blocks(cx, set, 0, dirty) {
                    return None;
                }
                self.pinsets[set.idx()].live = false;
                self.threads[t.idx()].op = OpState::Unpin { set, page: 0, stage: 0 };
                if mr {
                    return Some("ib_dereg_mr: NIC invalidates the MR");
                }
                (set, 0, 0)
            }
        };
        let s = &self.pinsets[set.idx()];
        let dirty = dirty && s.write;
        let pg = s.pages[usize::from(page)];
        let foll = s.foll;
        // io_release_ubuf: one unpin_user_folio(folio, 1) per bvec; pages
        // io_coalesce_buffer released are no bvec of their own.
        let next_page = (usize::from(page) + 1..s.pages.len()).find(|&q| !s.pages[q].coalesced);
        let coalesced = s.pages.iter().any(|p| p.coalesced);
        let gen_ok = self.mem.frames[pg.pfn.idx()].folio.is_some() && self.mem.gen(pg.pfn) == pg.gen;
        let next = |w: &mut World, stage: u8| w.threads[t.idx()].op = OpState::Unpin { set, page, stage };
        // Stages: 0 = first step of the page; 1/2 = lock/mark for dirtying;
        // 3 = the final put.
        let label = match (dirty && gen_ok, cx.design.dirty_unpin, stage) {
            (true, DirtyUnpin::SetPageDirtyLock, 0) | (true, DirtyUnpin::UnpinDirtyLock, 1) => {
                if self.folio(pg.pfn).flags.has(FolioFlags::LOCKED) {
                    return None;
                }
                self.folio_mut(pg.pfn).flags.set(FolioFlags::LOCKED);
                next(self, 2);
                if cx.design.dirty_unpin == DirtyUnpin::SetPageDirtyLock {
                    "set_page_dirty_lock: lock_page"
                } else {
                    "unpin_user_pages_dirty_lock: folio_lock"
                }
            }
            (true, DirtyUnpin::UnpinDirtyLock, 0) => {
                let was_dirty = self.folio(pg.pfn).flags.has(FolioFlags::DIRTY);
                next(self, if was_dirty { 3 } else { 1 });
                tr.note(|| {
                    format!(
                        "pfn {} is {}",
                        pg.pfn.0,
                        if was_dirty { "dirty: skip the lock" } else { "clean" }
                    )
                });
                "unpin_user_pages_dirty_lock: folio_test_dirty"
            }
            (true, d, 2) => {
                self.gup_set_page_dirty(pg.pfn);
                self.folio_mut(pg.pfn).flags.clear(FolioFlags::LOCKED);
                next(self, 3);
                tr.note(|| format!("pfn {} dirty again, without page_mkwrite", pg.pfn.0));
                if d == DirtyUnpin::SetPageDirtyLock {
                    "set_page_dirty + unlock_page"
                } else {
                    "folio_mark_dirty + folio_unlock"
                }
            }
            _ => {
                self.put_pinned_page(cx, set, usize::from(page));
                match next_page {
                    None => self.finish(t),
                    Some(q) => self.threads[t.idx()].op = OpState::Unpin { set, page: q as u8, stage: 0 },
                }
                tr.note(|| format!("pfn {} released", pg.pfn.0));
                match (foll, cx.design.dirty_unpin) {
                    _ if coalesced => "io_release_ubuf → unpin_user_folio(folio, 1)",
                    (Foll::Get, _) => "put_page",
                    (Foll::Pin, DirtyUnpin::SetPageDirtyLock) => "put_page (pin as plain reference)",
                    (Foll::Pin, DirtyUnpin::UnpinDirtyLock) => "gup_put_folio (FOLL_PIN)",
                }
            }
        };
        Some(label)
    }
}

/// `io_check_coalesce_buffer` (io_uring/rsrc.c): the number of pages in each
/// folio run of `pfns` (the pages `io_pin_pages` returned, in order), or
/// `None` when the buffer cannot be coalesced. Pages must run contiguously
/// inside each folio; every folio after the first starts at its first page
/// and has the first folio's size (`folio_shift`); the first run reaches its
/// folio's end, and every run but the first and last covers its whole folio.
fn io_check_coalesce_buffer(mem: &Memory, pfns: &[Pfn]) -> Option<Vec<usize>> {
    let alive = |pfn: Pfn| mem.frames.get(pfn.idx()).is_some_and(|f| f.folio.is_some());
    let first = *pfns.first()?;
    if !alive(first) {
        return None;
    }
    // data->nr_pages_mid = folio_nr_pages(folio) (folio_shift follows).
    let nr_pages_mid = usize::from(mem.folio(first).nr_pages());
    let folio_page_idx = |pfn: Pfn, head: Pfn| usize::from(pfn.0 - head.0);
    let mut head = mem.head(first);
    let mut runs = Vec::new();
    let mut count = 1;
    for i in 1..pfns.len() {
        if !alive(pfns[i]) {
            return None;
        }
        if mem.head(pfns[i]) == head && u16::from(pfns[i].0) == u16::from(pfns[i - 1].0) + 1 {
            count += 1;
            continue;
        }
        if runs.is_empty() {
            if folio_page_idx(pfns[i - 1], head) != nr_pages_mid - 1 {
                return None;
            }
        } else if count != nr_pages_mid {
            return None;
        }
        runs.push(count);
        head = mem.head(pfns[i]);
        if usize::from(mem.folio(head).nr_pages()) != nr_pages_mid || folio_page_idx(pfns[i], head) != 0 {
            return None;
        }
        count = 1;
    }
    runs.push(count);
    Some(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two order-2 folios at pfns 4..8 and 8..12, and small pages at 0 and 1.
    fn memory() -> Memory {
        let mut m = Memory::default();
        assert_eq!(m.alloc(Owner::Anon), Some(Pfn(0)));
        assert_eq!(m.alloc_order(Owner::Anon, 2), Some(Pfn(4)));
        assert_eq!(m.alloc_order(Owner::Anon, 2), Some(Pfn(8)));
        assert_eq!(m.alloc(Owner::Anon), Some(Pfn(1)));
        m
    }

    fn check(m: &Memory, pfns: &[u8]) -> Option<Vec<usize>> {
        io_check_coalesce_buffer(m, &pfns.iter().map(|&p| Pfn(p)).collect::<Vec<_>>())
    }

    #[test]
    fn io_check_coalesce_buffer_follows_rsrc_c() {
        let m = memory();
        assert_eq!(check(&m, &[4, 5, 6, 7]), Some(vec![4]), "one whole folio");
        assert_eq!(check(&m, &[5, 6]), Some(vec![2]), "a single folio may be covered in part");
        assert_eq!(check(&m, &[6, 7, 8, 9, 10, 11]), Some(vec![2, 4]), "a first run to its folio's end");
        assert_eq!(check(&m, &[4, 5, 6, 7, 8, 9]), Some(vec![4, 2]), "a last run from its folio's start");
        assert_eq!(check(&m, &[5, 6, 8, 9]), None, "the first run must reach its folio's end");
        assert_eq!(check(&m, &[4, 5, 6, 7, 9, 10]), None, "a later folio must start at its first page");
        assert_eq!(check(&m, &[4, 5, 7]), None, "pages must be contiguous in a folio");
        assert_eq!(check(&m, &[4, 5, 6, 7, 0]), None, "every folio has the first one's size");
        assert_eq!(
            check(&m, &[0, 1]),
            Some(vec![1, 1]),
            "small pages pass, and nr_pages_mid == 1 stops coalescing"
        );
    }
}
