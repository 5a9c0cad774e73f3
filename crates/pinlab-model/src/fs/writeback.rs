//! Writeback of dirty page-cache folios (`write_cache_pages` /
//! `writeback_iter` driving csumfs's `writepages`), one interleavable step
//! per point where the kernel can be preempted or the device can act:
//!
//! 1. `folio_lock` the next dirty folio (with WB_SYNC_ALL, also
//!    `folio_wait_writeback` if it is already under writeback);
//! 2. `folio_clear_dirty_for_io` → `folio_mkclean`: write-protect and clean
//!    every PTE, then test-and-clear PG_dirty;
//! 3. `folio_start_writeback` + `folio_unlock` (csumfs allocates a fresh
//!    block; the `bounce` design snapshots a write-pinned folio here);
//! 4. checksum the page (CRC32C);
//! 5. the device reads the page one sector at a time (8 steps);
//! 6. `blkdev_issue_flush`, then csumfs's pointer+crc sector write;
//! 7. `folio_end_writeback`.
//!
//! Simplification: the bio is submitted and completed by the writeback
//! thread itself, so "the device reads the page later" is the flusher's own
//! steps 5–7, still interleavable with every other thread.

use crate::block::disk::DiskSector;
use crate::data::{page_crc, pi_tag, pi_tags};
use crate::design::{PinTracking, PinnedWriteback};
use crate::errno::Errno;
use crate::ids::*;
use crate::limits::SECTORS_PER_PAGE;
use crate::mm::frame::{FolioFlags, Owner};
use crate::program::FsType;
use crate::trace::Tracer;
use crate::world::{Cx, OpState, World};

/// Who holds a folio under a layout lease.
pub(crate) enum Lease {
    None,
    Stubborn,
    /// A holder still inside `ib_reg_mr` has pinned it: the lease was
    /// taken before the registration began, and the holder's break handler
    /// can run only once the syscall returns. The breaker waits.
    Registering,
    Cooperative(Vec<PinSetId>),
}

/// `WbStage::Copy::crc` before the first sector is copied, for a file
/// system without checksums: the page is fingerprinted at that moment.
const SNAPSHOT_AT_FIRST_SECTOR: u32 = u32::MAX;

/// Where a writeback pass is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WbState {
    /// WB_SYNC_ALL (fsync, sync) rather than WB_SYNC_NONE (the flusher).
    pub sync_all: bool,
    /// Current file and the last file of the pass (`sync` covers them all).
    pub file: FileId,
    pub last_file: FileId,
    /// Current page index in `file`.
    pub page: u8,
    pub stage: WbStage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WbStage {
    Lock,
    WaitWriteback,
    Clean,
    /// `wait` design: PTEs cleaned, folio still locked, waiting for pins.
    WaitPins,
    /// `layout_lease`: a stubborn holder keeps its MR on the folio; the
    /// folio is unlocked and still dirty, and writeback waits here.
    WaitLease,
    /// `skip-or-bounce` with `pin_test_after_mkclean = false`, WB_SYNC_NONE:
    /// the pin test as its own step before `Clean`, while the PTEs are
    /// still writable.
    PinTest,
    Start,
    /// `src` is the folio itself, or its bounce copy.
    Csum {
        src: Pfn,
        block: u16,
    },
    Copy {
        src: Pfn,
        block: u16,
        crc: u32,
        /// Through every sector of the first mirror, then (md RAID1) of
        /// the second.
        sector: u8,
        /// T10-PI guard tags of the bio (`data::pi_tags`), 0 without PI.
        pi: u64,
    },
    Flush {
        src: Pfn,
        block: u16,
        crc: u32,
    },
    Commit {
        src: Pfn,
        block: u16,
        crc: u32,
    },
    End {
        src: Pfn,
    },
}

impl WbState {
    pub fn new(sync_all: bool, file: FileId, last_file: FileId) -> WbState {
        WbState { sync_all, file, last_file, page: 0, stage: WbStage::Lock }
    }
}

impl World {
    /// `writeback F`: one WB_SYNC_NONE pass over the file's dirty folios.
    pub(crate) fn op_writeback<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        file: FileId,
        tr: &mut T,
    ) -> Option<&'static str> {
        let mut wb = match &self.threads[t.idx()].op {
            OpState::Writeback(wb) => wb.clone(),
            _ => WbState::new(false, file, file),
        };
        let (label, done) = self.wb_step(cx, &mut wb, tr)?;
        if done {
            self.finish(t);
        } else {
            self.threads[t.idx()].op = OpState::Writeback(wb);
        }
        Some(label)
    }

    /// The next dirty cached folio at or after the pass's position
    /// (the PAGECACHE_TAG_DIRTY lookup of `write_cache_pages`).
    pub(crate) fn wb_next_dirty(&self, wb: &WbState) -> Option<(FileId, u8, Pfn)> {
        (wb.file.0..=wb.last_file.0).find_map(|f| {
            let from = if f == wb.file.0 { wb.page } else { 0 };
            let file = &self.files[usize::from(f)];
            (from..file.pages).find_map(|i| {
                let pfn = file.cache[usize::from(i)]?;
                self.folio(pfn).flags.has(FolioFlags::TAG_DIRTY).then_some((FileId(f), i, pfn))
            })
        })
    }

    /// Whether the design bounces the folio: it must believe the folio is
    /// pinned (its pin test, checked against the ghost count), and with
    /// exact tracking, pinned for write.
    fn wb_should_bounce(&mut self, cx: &Cx, wb: &WbState, pfn: Pfn) -> bool {
        if !self.wb_bounces(cx, wb) || !self.maybe_pinned(cx, pfn, 0) {
            return false;
        }
        self.wb_bounce_pinned(cx, pfn)
    }

    /// The rest of `wb_should_bounce` once the pin test said yes: with exact
    /// tracking, only a folio pinned for write is bounced.
    pub(crate) fn wb_bounce_pinned(&self, cx: &Cx, pfn: Pfn) -> bool {
        cx.design.pin_tracking != PinTracking::Exact || self.folio(pfn).write_pincount > 0
    }

    /// The NIC MRs that hold `pfn` with a long-term pin, by how their
    /// holders answer a lease break: any stubborn one makes the breaker wait.
    pub(crate) fn lease_holders(&self, cx: &Cx, pfn: Pfn) -> Lease {
        let head = self.mem.head(pfn);
        let mut sets = Vec::new();
        for b in &self.names {
            let crate::world::Binding::Mr { dev, set, .. } = *b else { continue };
            let s = &self.pinsets[set.idx()];
            if !s.live || !s.longterm || !s.pages.iter().any(|p| p.held && self.mem.head(p.pfn) == head) {
                continue;
            }
            if cx.prog.devs[dev.idx()].lease == crate::program::LeaseHolder::Stubborn {
                return Lease::Stubborn;
            }
            sets.push(set);
        }
        for (i, th) in self.threads.iter().enumerate() {
            let OpState::Gup { set } = th.op else { continue };
            let ops = &cx.prog.thread(ThreadId(i as u8)).ops;
            if !matches!(ops.get(usize::from(th.pc)), Some(crate::program::Op::RegMr { .. })) {
                continue;
            }
            let s = &self.pinsets[set.idx()];
            if s.longterm && s.pages.iter().any(|p| p.held && self.mem.head(p.pfn) == head) {
                return Lease::Registering;
            }
        }
        if sets.is_empty() {
            Lease::None
        } else {
            Lease::Cooperative(sets)
        }
    }

    /// The cooperative holder's lease-break handler, `ib_dereg_mr`: the NIC
    /// invalidates the MR, and every page is released, dirtied first if the
    /// MR was writable. Deviation: the holder answers at once, in the
    /// breaker's step; a real one runs its handler within lease-break-time.
    pub(crate) fn lease_revoke(&mut self, cx: &Cx, set: PinSetId) {
        let s = &mut self.pinsets[set.idx()];
        s.live = false;
        s.revoked = true;
        let write = s.write;
        for i in 0..self.pinsets[set.idx()].pages.len() {
            let pg = self.pinsets[set.idx()].pages[i];
            if !pg.held {
                continue;
            }
            let alive = self.mem.frames[pg.pfn.idx()].folio.is_some() && self.mem.gen(pg.pfn) == pg.gen;
            if write && alive {
                self.gup_set_page_dirty(pg.pfn);
            }
            self.put_pinned_page(cx, set, i);
        }
    }

    /// Whether this pass bounces a folio the design believes pinned: the
    /// `bounce` design always; Kara 2023 on WB_SYNC_ALL, and only where
    /// the file system asks for stable writes (patch 5 sets
    /// `BIO_NEED_PIN_BOUNCE` in `iomap_add_to_ioend` under
    /// `SB_I_STABLE_WRITES`).
    pub(crate) fn wb_bounces(&self, cx: &Cx, wb: &WbState) -> bool {
        match cx.design.pinned_writeback {
            PinnedWriteback::Bounce => true,
            PinnedWriteback::SkipOrBounce => {
                wb.sync_all && cx.prog.fss[self.files[wb.file.idx()].fs.idx()].stable_writes
            }
            _ => false,
        }
    }

    /// The guard tags of a write bio about to read `src` for `disk`, where
    /// the disk has T10-PI (`bio_integrity_prep`), else 0.
    pub(crate) fn bio_pi(&self, cx: &Cx, disk: DiskId, src: Pfn) -> u64 {
        if !cx.prog.disks[disk.idx()].pi {
            return 0;
        }
        pi_tags(&self.mem.frames[src.idx()].data)
    }

    /// A `skip-or-bounce` flusher pass, which tests for pins to skip them.
    fn kara_skips(&self, cx: &Cx, wb: &WbState) -> bool {
        cx.design.pinned_writeback == PinnedWriteback::SkipOrBounce && !wb.sync_all
    }

    /// ... with the test before the PTEs are write-protected.
    fn kara_test_before(&self, cx: &Cx, wb: &WbState) -> bool {
        self.kara_skips(cx, wb) && !cx.design.pin_test_after_mkclean
    }

    pub(crate) fn wb_pfn(&self, wb: &WbState) -> Pfn {
        self.cached(wb.file, wb.page).expect("a folio under writeback left the page cache")
    }

    /// Advance to the next page; the pass is done if no dirty folio remains.
    fn wb_advance(&self, wb: &mut WbState) -> bool {
        wb.page += 1;
        wb.stage = WbStage::Lock;
        self.wb_next_dirty(wb).is_none()
    }

    /// One step of a writeback pass. `None`: blocked, world untouched.
    /// `Some((label, true))`: the pass finished with this step.
    pub(crate) fn wb_step<T: Tracer>(
        &mut self,
        cx: &Cx,
        wb: &mut WbState,
        tr: &mut T,
    ) -> Option<(&'static str, bool)> {
        match wb.stage {
            WbStage::Lock => {
                let Some((file, page, pfn)) = self.wb_next_dirty(wb) else {
                    return Some(("write_cache_pages: no dirty folios", true));
                };
                if self.folio(pfn).flags.has(FolioFlags::LOCKED) {
                    return None;
                }
                self.folio_mut(pfn).flags.set(FolioFlags::LOCKED);
                (wb.file, wb.page) = (file, page);
                tr.note(|| format!("f{}[{page}] (pfn {})", file.0, pfn.0));
                if !self.folio(pfn).flags.has(FolioFlags::WRITEBACK) {
                    wb.stage = if self.kara_test_before(cx, wb) { WbStage::PinTest } else { WbStage::Clean };
                    return Some(("folio_lock", false));
                }
                if wb.sync_all {
                    wb.stage = WbStage::WaitWriteback;
                    return Some(("folio_lock", false));
                }
                self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
                Some((
                    "folio_lock; under writeback, skipped (WB_SYNC_NONE) + folio_unlock",
                    self.wb_advance(wb),
                ))
            }
            WbStage::WaitWriteback => {
                if self.folio(self.wb_pfn(wb)).flags.has(FolioFlags::WRITEBACK) {
                    return None;
                }
                wb.stage = if self.kara_test_before(cx, wb) { WbStage::PinTest } else { WbStage::Clean };
                Some(("folio_wait_writeback", false))
            }
            WbStage::Clean => {
                let pfn = self.wb_pfn(wb);
                if !self.folio(pfn).flags.has(FolioFlags::DIRTY) {
                    // Another pass cleaned it; it has been written or is
                    // being written (`continue_unlock`).
                    self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
                    return Some((
                        "folio_clear_dirty_for_io: already clean, folio_unlock",
                        self.wb_advance(wb),
                    ));
                }
                let fs = self.files[wb.file.idx()].fs;
                if self.fss[fs.idx()].ty == FsType::Ext4like
                    && !self.folio(pfn).flags.has(FolioFlags::PRIVATE)
                {
                    // mpage_prepare_extent_to_map, before the folio is
                    // cleaned for I/O: a dirty folio whose buffers were freed
                    // behind ext4's back (page_buffers() BUG_ON up to ~5.18;
                    // since, warn, folio_clear_dirty and skip: the PTEs are
                    // never write-protected, and the data is dropped).
                    let f = self.folio_mut(pfn);
                    f.flags.clear(FolioFlags::DIRTY);
                    f.flags.clear(FolioFlags::TAG_DIRTY);
                    f.flags.clear(FolioFlags::LOCKED);
                    if cx.design.no_buffers_bug {
                        self.bug(crate::oracle::Bug::PageWithoutBuffers);
                        tr.note(|| {
                            format!("pfn {} is dirty but has no buffers: BUG_ON(!page_has_buffers)", pfn.0)
                        });
                        return Some((
                            "mpage_prepare_extent_to_map: page_buffers() BUG",
                            self.wb_advance(wb),
                        ));
                    }
                    tr.note(|| {
                        format!("pfn {} has no buffers: warn, clear dirty, skip (the data is dropped)", pfn.0)
                    });
                    return Some((
                        "mpage_prepare_extent_to_map: \"page does not have buffers attached\", folio_clear_dirty, skipped",
                        self.wb_advance(wb),
                    ));
                }
                if cx.design.pinned_writeback == PinnedWriteback::Skip && self.maybe_pinned(cx, pfn, 0) {
                    // The heuristic design leaves a (guessed) pinned folio
                    // dirty and mapped writable, and moves on.
                    self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
                    tr.note(|| format!("pfn {} looks pinned: skipped, stays dirty", pfn.0));
                    return Some((
                        "guessed pinned: folio_redirty_for_writepage + folio_unlock",
                        self.wb_advance(wb),
                    ));
                }
                let n = self.folio_mkclean(pfn);
                // Layout lease (as `dax_layout_busy_page` does, after the
                // unmap: no new pin can come without a fault now).
                if cx.design.layout_lease {
                    match self.lease_holders(cx, pfn) {
                        Lease::None => {}
                        Lease::Cooperative(sets) => {
                            for set in sets {
                                self.lease_revoke(cx, set);
                            }
                            tr.note(|| {
                                format!("pfn {}: layout lease broken, the holder deregistered its MR", pfn.0)
                            });
                        }
                        Lease::Stubborn | Lease::Registering => {
                            // Do not wait holding the folio lock (the
                            // holder's dereg needs it): keep PG_dirty,
                            // unlock, and wait for the holder to let go.
                            self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
                            wb.stage = WbStage::WaitLease;
                            tr.note(|| format!("pfn {}: the lease holder does not answer", pfn.0));
                            return Some((
                                "folio_mkclean; break_layout: no answer, folio_unlock and wait for the holder",
                                false,
                            ));
                        }
                    }
                }
                if self.kara_skips(cx, wb)
                    && cx.design.pin_test_after_mkclean
                    && self.maybe_pinned(cx, pfn, 0)
                {
                    // Kara 2023, patch 3: folio_clear_dirty_for_io(wbc, …)
                    // tests after folio_mkclean and returns false before
                    // clearing PG_dirty. A new write pin now needs a write
                    // fault, which waits for the folio lock.
                    self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
                    tr.note(|| {
                        format!("{n} PTE(s) write-protected; pfn {} may be pinned: stays dirty", pfn.0)
                    });
                    return Some((
                        "folio_clear_dirty_for_io → folio_mkclean; folio_maybe_dma_pinned (WB_SYNC_NONE): skip, still dirty + folio_unlock",
                        self.wb_advance(wb),
                    ));
                }
                self.folio_mut(pfn).flags.clear(FolioFlags::DIRTY);
                tr.note(|| format!("{n} dirty PTE(s) cleaned and write-protected; PG_dirty cleared"));
                wb.stage = if cx.design.pinned_writeback == PinnedWriteback::Wait {
                    WbStage::WaitPins
                } else {
                    WbStage::Start
                };
                Some(("folio_clear_dirty_for_io → folio_mkclean", false))
            }
            WbStage::WaitLease => {
                // The folio waited unlocked and not under writeback, so a
                // truncate may have taken it out of the file meanwhile
                // (once the holder let go): nothing left to write here.
                let Some(pfn) = self.cached(wb.file, wb.page) else {
                    return Some(("break_layout: the folio left the page cache; go on", self.wb_advance(wb)));
                };
                if matches!(self.lease_holders(cx, pfn), Lease::Stubborn | Lease::Registering) {
                    return None;
                }
                wb.stage = WbStage::Lock;
                Some(("break_layout: the lease holder let go", false))
            }
            WbStage::PinTest => {
                // The test before the PTEs are write-protected: GUP-fast
                // may pin the page between this step and the next.
                let pfn = self.wb_pfn(wb);
                if !self.maybe_pinned(cx, pfn, 0) {
                    wb.stage = WbStage::Clean;
                    return Some(("folio_maybe_dma_pinned (WB_SYNC_NONE, PTEs still writable): no", false));
                }
                self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
                tr.note(|| format!("pfn {} may be pinned: skipped (WB_SYNC_NONE), stays dirty", pfn.0));
                Some((
                    "folio_maybe_dma_pinned (WB_SYNC_NONE): skip, still dirty + folio_unlock",
                    self.wb_advance(wb),
                ))
            }
            WbStage::WaitPins => {
                if self.folio(self.wb_pfn(wb)).pincount > 0 {
                    return None;
                }
                wb.stage = WbStage::Start;
                Some(("page_mkclean: no pins left, go on (wait design)", false))
            }
            WbStage::Start => {
                let pfn = self.wb_pfn(wb);
                let fs = self.files[wb.file.idx()].fs;
                let rewrites = self.fss[fs.idx()].ty.in_place();
                // ext4like and xfslike rewrite their block in place; csumfs
                // (and a hole) takes a fresh one.
                let in_place =
                    if rewrites { self.csumfs_ptr(wb.file, wb.page, false).map(|p| p.0) } else { None };
                let Some(block) = in_place.or_else(|| self.fss[fs.idx()].alloc_block()) else {
                    return Some(self.wb_redirty(wb, pfn, Errno::ENOSPC, tr));
                };
                let bounce = self.wb_should_bounce(cx, wb, pfn);
                let src = if bounce {
                    let Some(b) = self.alloc(Owner::Bounce) else {
                        if in_place.is_none() {
                            self.fss[fs.idx()].used &= !(1 << block);
                        }
                        return Some(self.wb_redirty(wb, pfn, Errno::ENOMEM, tr));
                    };
                    self.mem.frames[b.idx()].data = self.mem.frames[pfn.idx()].data;
                    self.stats.bounce_bytes += crate::limits::PAGE_BYTES as u32;
                    b
                } else {
                    pfn
                };
                let f = self.folio_mut(pfn);
                f.flags.set(FolioFlags::WRITEBACK);
                f.flags.clear(FolioFlags::LOCKED);
                f.flags.clear(FolioFlags::TAG_DIRTY);
                if bounce {
                    // folio_redirty_for_writepage: the device may still
                    // write the page, so the data must be written again.
                    self.folio_mark_dirty(pfn);
                }
                wb.stage = if rewrites {
                    // No checksum: fingerprint the page when the first
                    // sector is copied, to tell whether the disk got one
                    // snapshot of it.
                    WbStage::Copy {
                        src,
                        block,
                        crc: SNAPSHOT_AT_FIRST_SECTOR,
                        sector: 0,
                        pi: self.bio_pi(cx, self.fss[self.files[wb.file.idx()].fs.idx()].disk, src),
                    }
                } else {
                    WbStage::Csum { src, block }
                };
                tr.note(|| {
                    format!(
                        "block {block}{}",
                        if bounce { format!(", snapshot in bounce pfn {}", src.0) } else { String::new() }
                    )
                });
                Some((
                    if bounce {
                        "bounce: copy write-pinned folio to a bounce frame, keep PG_dirty; folio_start_writeback + folio_unlock"
                    } else {
                        "folio_start_writeback + folio_unlock"
                    },
                    false,
                ))
            }
            WbStage::Csum { src, block } => {
                let crc = page_crc(&self.mem.frames[src.idx()].data);
                tr.note(|| format!("crc32c = {crc:#010x}"));
                wb.stage = WbStage::Copy {
                    src,
                    block,
                    crc,
                    sector: 0,
                    pi: self.bio_pi(cx, self.fss[self.files[wb.file.idx()].fs.idx()].disk, src),
                };
                Some(("csumfs_writepages: crc32c of the folio", false))
            }
            WbStage::Copy { src, block, mut crc, sector, pi } => {
                if crc == SNAPSHOT_AT_FIRST_SECTOR && sector == 0 {
                    crc = page_crc(&self.mem.frames[src.idx()].data);
                }
                // On md RAID1 each mirror reads the folio by its own DMA:
                // `sector` counts through the first mirror's pass, then the
                // second's.
                let disk = self.fss[self.files[wb.file.idx()].fs.idx()].disk;
                let mirrors = self.disks[disk.idx()].mirrors();
                let (leg, in_page) = (sector / SECTORS_PER_PAGE as u8, sector % SECTORS_PER_PAGE as u8);
                let data = self.mem.frames[src.idx()].data[usize::from(in_page)];
                let s = block * SECTORS_PER_PAGE as u16 + u16::from(in_page);
                // The device checks the guard tag as it reads the sector.
                let guard_ok = !cx.prog.disks[disk.idx()].pi || pi_tag(pi, in_page) == data.byte;
                if !guard_ok {
                    self.fire(crate::oracle::Oracle::IntegrityError);
                    tr.note(|| {
                        format!("INTEGRITY ERROR: sector {s} changed after its guard tag was computed ({:#04x} → {:#04x})", pi_tag(pi, in_page), data.byte)
                    });
                }
                if !guard_ok || self.disks[disk.idx()].try_write_leg(leg, s, DiskSector::Data(data)).is_err()
                {
                    // end_page_writeback with an error → mapping_set_error:
                    // fsync will report it once per fd; the page stays clean,
                    // so its data is gone unless someone writes it again.
                    if !self.fss[self.files[wb.file.idx()].fs.idx()].ty.in_place() {
                        let fs = self.files[wb.file.idx()].fs;
                        self.fss[fs.idx()].used &= !(1 << block);
                        self.forget_dead_blocks(fs, 1 << block);
                    }
                    self.files[wb.file.idx()].errseq = self.files[wb.file.idx()].errseq.wrapping_add(1);
                    tr.note(|| format!("sector {s}: I/O error; mapping_set_error"));
                    wb.stage = WbStage::End { src };
                    return Some(if guard_ok {
                        ("submit_bio: I/O error (BLK_STS_IOERR)", false)
                    } else {
                        ("submit_bio: guard tag mismatch (BLK_STS_PROTECTION)", false)
                    });
                }
                tr.note(|| {
                    let on = if mirrors > 1 { format!(" on mirror {leg}") } else { String::new() };
                    format!("sector {s} (block {block}.{in_page}){on} = {:#04x} (v{})", data.byte, data.ver)
                });
                let rewrites = self.fss[self.files[wb.file.idx()].fs.idx()].ty.in_place();
                let in_place =
                    rewrites && self.csumfs_ptr(wb.file, wb.page, false).map(|p| p.0) == Some(block);
                wb.stage = if usize::from(sector) + 1 == SECTORS_PER_PAGE * usize::from(mirrors) {
                    if in_place {
                        self.check_torn(wb.file, wb.page, crc, tr);
                        WbStage::End { src }
                    } else {
                        WbStage::Flush { src, block, crc }
                    }
                } else {
                    WbStage::Copy { src, block, crc, sector: sector + 1, pi }
                };
                Some((
                    match (mirrors, leg) {
                        (1, _) => "submit_bio: device reads one sector of the folio",
                        (_, 0) => "raid1_write_request: mirror 0 reads one sector of the folio",
                        _ => "raid1_write_request: mirror 1 reads one sector of the folio",
                    },
                    false,
                ))
            }
            WbStage::Flush { src, block, crc } => {
                self.csumfs_flush(self.files[wb.file.idx()].fs);
                wb.stage = WbStage::Commit { src, block, crc };
                Some(("blkdev_issue_flush (data durable before the pointer)", false))
            }
            WbStage::Commit { src, block, crc } => {
                self.csumfs_commit(wb.file, wb.page, block, crc, tr);
                wb.stage = WbStage::End { src };
                Some(("csumfs: write block pointer + crc32c (one sector)", false))
            }
            WbStage::End { src } => {
                let pfn = self.wb_pfn(wb);
                self.folio_mut(pfn).flags.clear(FolioFlags::WRITEBACK);
                if src != pfn {
                    self.folio_put(src, 1);
                }
                Some(("folio_end_writeback", self.wb_advance(wb)))
            }
        }
    }

    /// Writing the folio failed before I/O: `folio_redirty_for_writepage`,
    /// unlock, go on with the next folio.
    fn wb_redirty<T: Tracer>(
        &mut self,
        wb: &mut WbState,
        pfn: Pfn,
        e: Errno,
        tr: &mut T,
    ) -> (&'static str, bool) {
        self.folio_mark_dirty(pfn);
        self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
        tr.note(|| format!("{}: page stays dirty", e.name()));
        ("folio_redirty_for_writepage + folio_unlock", self.wb_advance(wb))
    }
}
