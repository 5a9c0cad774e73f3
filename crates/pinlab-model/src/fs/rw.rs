//! Buffered I/O and size changes: `write`, `read`, `truncate`, hole punch,
//! and the injected I/O fault.

use crate::block::disk::DiskSector;
use crate::data::{page_fill, uniform_byte};
use crate::errno::Errno;
use crate::fs::writeback::Lease;
use crate::ids::*;
use crate::mm::fault::MIXED;
use crate::mm::frame::{FolioFlags, Owner};
use crate::program::PrivateData;
use crate::trace::Tracer;
use crate::world::{Cx, OpState, World};

impl World {
    /// The page-cache folio of a file page, read in (or zero-filled for a
    /// hole) if it is not cached (`filemap_get_folio` / `filemap_read_folio`).
    pub(crate) fn cache_folio(&mut self, file: FileId, page: u8) -> Result<Pfn, Errno> {
        match self.cached(file, page) {
            Some(pfn) => Ok(pfn),
            None => self.read_folio(file, page),
        }
    }

    /// `write F[p] = B` (`generic_perform_write`): `write_begin` locks the
    /// folio and waits for stable writes, then the copy, `folio_mark_dirty`
    /// and `folio_unlock` in `write_end`.
    pub(crate) fn op_write<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        file: FileId,
        page: u8,
        byte: u8,
        tr: &mut T,
    ) -> Option<&'static str> {
        let fsd = &cx.prog.fss[cx.prog.files[file.idx()].fs.idx()];
        if let OpState::Write { pfn } = self.threads[t.idx()].op {
            let ver = self.next_ver();
            self.mem.frames[pfn.idx()].data = page_fill(byte, ver);
            self.folio_mark_dirty(pfn);
            self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
            tr.note(|| format!("pfn {} = {byte:#04x} (v{ver})", pfn.0));
            self.finish(t);
            return Some("copy_page_from_iter_atomic + write_end: folio_mark_dirty + folio_unlock");
        }
        if let Some(pfn) = self.cached(file, page) {
            let f = self.folio(pfn).flags;
            if f.has(FolioFlags::LOCKED) || (fsd.stable_writes && f.has(FolioFlags::WRITEBACK)) {
                return None;
            }
        }
        let pfn = match self.cache_folio(file, page) {
            Ok(p) => p,
            Err(e) => {
                self.fail(t, e, None);
                return Some("write_begin: cannot read the page (EIO)");
            }
        };
        let f = self.folio_mut(pfn);
        f.flags.set(FolioFlags::LOCKED);
        if fsd.private != PrivateData::None && !f.flags.has(FolioFlags::PRIVATE) {
            // block_write_begin → create_empty_buffers
            f.flags.set(FolioFlags::PRIVATE);
            f.refcount += u32::from(fsd.private == PrivateData::Ref);
        }
        let fl = &mut self.files[file.idx()];
        fl.size = fl.size.max(page + 1);
        self.threads[t.idx()].op = OpState::Write { pfn };
        Some("write_begin: folio_lock, folio_wait_stable")
    }

    /// `r = read F[p]` (`filemap_read`): copy from the page cache, reading
    /// the page in first if needed. A page past EOF reads as nothing (0).
    pub(crate) fn op_read(
        &mut self,
        t: ThreadId,
        reg: RegId,
        file: FileId,
        page: u8,
    ) -> Option<&'static str> {
        if page >= self.files[file.idx()].size {
            self.threads[t.idx()].regs[reg.idx()] = Some(0);
            self.finish(t);
            return Some("filemap_read: past EOF");
        }
        if self.cached(file, page).is_some_and(|p| self.folio(p).flags.has(FolioFlags::LOCKED)) {
            return None; // filemap_update_page waits for a locked folio
        }
        match self.cache_folio(file, page) {
            Ok(pfn) => {
                let v = uniform_byte(&self.mem.frames[pfn.idx()].data).map_or(MIXED, u64::from);
                self.threads[t.idx()].regs[reg.idx()] = Some(v);
                self.finish(t);
                Some("filemap_read: copy_folio_to_iter")
            }
            Err(e) => {
                self.fail(t, e, None);
                Some("filemap_read: read error (EIO)")
            }
        }
    }

    /// `truncate F pages=N` / `punch F[p]`: a truncate first sets `i_size`
    /// (`truncate_setsize`; a punch keeps it), then for each page in
    /// `first..end`, `truncate_inode_pages_range` locks the folio and waits
    /// for writeback,
    /// unmaps it everywhere (`unmap_mapping_range`), drops its private data
    /// and removes it from the page cache; then the file system frees the
    /// block. A pinned folio leaves the page cache but its frame lives on
    /// with the pin: a device writing it later writes memory no file owns,
    /// and that data is dropped, never written to a reused block.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn op_truncate<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        file: FileId,
        first: u8,
        end: u8,
        shrink: bool,
        tr: &mut T,
    ) -> Option<&'static str> {
        // `break_layout` (xfs_break_layouts, before i_size changes): under
        // a layout lease, a long-term NIC pin on a page about to go is the
        // lease holder's to give up. A cooperative holder deregisters (in
        // this step: the same deviation as writeback's lease break); a
        // stubborn one keeps its lease and the layout change fails with
        // ETXTBSY (the "exclusive" lease of the 2019 RFC discussion).
        if cx.design.layout_lease && !matches!(self.threads[t.idx()].op, OpState::Truncate { .. }) {
            let mut sets = Vec::new();
            for i in first..end {
                let Some(pfn) = self.cached(file, i) else { continue };
                match self.lease_holders(cx, pfn) {
                    Lease::None => {}
                    Lease::Stubborn => {
                        tr.note(|| {
                            format!("f{}[{i}] (pfn {}): the lease holder does not let go", file.0, pfn.0)
                        });
                        self.fail(t, Errno::ETXTBSY, None);
                        return Some("break_layout: lease not broken (ETXTBSY)");
                    }
                    // break_layout(wait): the holder answers once its
                    // registration returns.
                    Lease::Registering => return None,
                    Lease::Cooperative(s) => sets.extend(s),
                }
            }
            if !sets.is_empty() {
                sets.sort_unstable_by_key(|s| s.0);
                sets.dedup();
                for set in sets {
                    self.lease_revoke(cx, set);
                }
                return Some("break_layout: the lease holder deregistered its MR");
            }
        }
        let from = match self.threads[t.idx()].op {
            OpState::Truncate { next } => next,
            _ if shrink => {
                // truncate_setsize: i_size first, so that from now on a
                // fault past it gets SIGBUS instead of bringing a page back
                // that truncate_pagecache would miss.
                self.files[file.idx()].size = first;
                self.threads[t.idx()].op = OpState::Truncate { next: first };
                return Some("truncate_setsize: i_size_write");
            }
            _ => first,
        };
        if let Some(i) = (from..end).find(|&i| self.cached(file, i).is_some()) {
            let pfn = self.cached(file, i).expect("just found");
            let fl = self.folio(pfn).flags;
            if fl.has(FolioFlags::LOCKED) || fl.has(FolioFlags::WRITEBACK) {
                return None;
            }
            self.try_to_unmap(pfn);
            let private = self.private_refs(cx, pfn);
            let f = self.folio_mut(pfn);
            f.flags.clear(FolioFlags::PRIVATE);
            f.flags.clear(FolioFlags::DIRTY);
            f.flags.clear(FolioFlags::TAG_DIRTY);
            // The folio leaves the mapping: it is no file's page any more.
            f.owner = Owner::Anon;
            self.files[file.idx()].cache[usize::from(i)] = None;
            self.folio_put(pfn, 1 + private);
            tr.note(|| format!("f{}[{i}] (pfn {}) removed from the page cache", file.0, pfn.0));
            self.threads[t.idx()].op = OpState::Truncate { next: i + 1 };
            return Some(
                "truncate_inode_pages_range: folio_lock, unmap_mapping_range, delete_from_page_cache",
            );
        }
        // The fs frees the blocks: the pages become holes.
        for i in first..end {
            self.fs_make_hole(file, i);
        }
        self.finish(t);
        Some(if shrink { "ext4_truncate / csumfs_setattr: blocks freed" } else { "punch_hole: blocks freed" })
    }

    /// Replace a file page's block by a hole (pointer sector zeroed; the
    /// old block is freed after the next flush, as after a pointer switch).
    fn fs_make_hole(&mut self, file: FileId, index: u8) {
        // Nothing promised about this page survives it (ghost bookkeeping).
        self.ghost_supersede(file, index);
        let Some((block, _)) = self.csumfs_ptr(file, index, false) else { return };
        let f = &self.files[file.idx()];
        let fs = f.fs;
        let (disk, sector) = (self.fss[fs.idx()].disk, f.ptr_first + u16::from(index));
        self.disks[disk.idx()].write(sector, DiskSector::Zero);
        let st = &mut self.fss[fs.idx()];
        st.used &= !(1 << block);
        st.pending_free |= 1 << block;
    }

    /// `fail_io D`: arm an injected failure of the next write to the disk.
    pub(crate) fn op_fail_io(&mut self, t: ThreadId, disk: DiskId) -> &'static str {
        self.disks[disk.idx()].fail_next_write = true;
        self.finish(t);
        "fault injection: the next write to the disk fails"
    }

    /// `scrub [D]`: read back every block of disk D, or of every disk. A
    /// csumfs on it verifies each file page's checksum (`btrfs scrub`;
    /// `checksum_error`), and an md RAID1 array compares its mirrors (`echo
    /// check > /sys/block/mdN/md/sync_action`: `process_checks` adds
    /// differing sectors to `mismatch_cnt`, the `mirror_mismatch` oracle).
    /// Nothing is repaired.
    pub(crate) fn op_scrub<T: Tracer>(
        &mut self,
        t: ThreadId,
        disk: Option<DiskId>,
        tr: &mut T,
    ) -> &'static str {
        let disks: Vec<DiskId> = match disk {
            Some(d) => vec![d],
            None => (0..self.disks.len() as u8).map(DiskId).collect(),
        };
        let (mut csums, mut mirrors) = (false, false);
        for d in disks {
            for file in 0..self.files.len() as u8 {
                let file = FileId(file);
                let fs = self.fs_of(file);
                if self.fss[fs.idx()].disk != d || self.fss[fs.idx()].ty != crate::program::FsType::Csumfs {
                    continue;
                }
                csums = true;
                for index in 0..self.files[file.idx()].pages {
                    self.csumfs_verify(file, index, false, tr);
                }
            }
            if self.disks[d.idx()].mirrors() > 1 {
                mirrors = true;
                let bad = self.disks[d.idx()].scrub();
                if !bad.is_empty() {
                    self.fire(crate::oracle::Oracle::MirrorMismatch);
                    tr.note(|| {
                        format!("MIRROR MISMATCH: disk {} sector(s) {bad:?} differ between the mirrors", d.0)
                    });
                }
            }
        }
        self.finish(t);
        match (csums, mirrors) {
            (true, true) => {
                "scrub: verify the crc32c of every block; md check: process_checks compares the mirrors"
            }
            (false, true) => "md check: process_checks compares the mirrors (mismatch_cnt)",
            (true, false) => "scrub: read every block back, verify crc32c",
            (false, false) => "scrub: no checksums to verify, no mirrors to compare",
        }
    }
}
