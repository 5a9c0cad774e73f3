//! Page migration (`migrate_pages` of one folio).
//!
//! Four steps: `folio_isolate_lru`; `try_to_migrate` replaces every PTE by
//! a migration entry (accesses wait) — with `migrate_refuse_pinned`
//! (`page_try_share_anon_rmap`, ~5.19) it gives up on a maybe-pinned
//! exclusive anon page and restores the PTE; `folio_migrate_mapping`
//! freezes the refcount at the expected value (isolation + page cache +
//! private data) and fails with EAGAIN if anyone else holds a reference, a
//! pin included, else copies the data to a new frame and frees the old one;
//! `remove_migration_ptes` points the PTEs at the new frame.
//!
//! Simplification: `migrate_pages` tries a folio that fails with EAGAIN up
//! to `NR_MAX_MIGRATE_PAGES_RETRY` (10) times; the model tries once. A pin
//! dropped between two attempts would let a later one succeed.

use crate::errno::Errno;
use crate::ids::*;
use crate::mm::frame::{FolioFlags, Owner};
use crate::trace::Tracer;
use crate::world::{Cx, OpState, World};

impl World {
    /// Point migration entries for `from` back at a present page `to`.
    fn remove_migration_ptes(&mut self, from: Pfn, to: Pfn) -> u32 {
        let mut n = 0;
        for p in &mut self.procs {
            for (_, e) in p.ptes.iter_mut().filter(|(_, e)| e.migration && e.pfn == from) {
                e.migration = false;
                e.pfn = to;
                n += 1;
            }
        }
        let f = self.folio_mut(to);
        f.mapcount += n as u16;
        f.refcount += n;
        n
    }

    pub(crate) fn op_migrate<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        map: NameId,
        page: u8,
        tr: &mut T,
    ) -> Option<&'static str> {
        let (old, new, stage) = match self.threads[t.idx()].op {
            OpState::Migrate { old, new, stage } => (old, new, stage),
            _ => {
                let (p, vpn) = match self.user_page(cx, t, map, page) {
                    Ok(x) => x,
                    Err(None) => return None,
                    Err(Some(_)) => {
                        self.fail(t, Errno::EFAULT, None);
                        return Some("migrate: bad address");
                    }
                };
                let pte = self.procs[p.idx()].pte(vpn).copied();
                let Some(pte) = pte.filter(|e| !e.migration && Some(e.pfn) != self.zero_pfn) else {
                    self.fail(t, Errno::EFAULT, None);
                    return Some("migrate: no page mapped there (EFAULT)");
                };
                if self.folio(pte.pfn).order > 0 {
                    self.fail(t, Errno::EBUSY, None);
                    return Some("migrate: large folio migration is not modelled (EBUSY)");
                }
                if !self.folio_isolate_lru(pte.pfn) {
                    self.fail(t, Errno::EBUSY, None);
                    return Some("folio_isolate_lru failed: not on the LRU (EBUSY)");
                }
                self.threads[t.idx()].op = OpState::Migrate { old: pte.pfn, new: None, stage: 1 };
                tr.note(|| format!("pfn {} isolated (+1 reference)", pte.pfn.0));
                return Some("folio_isolate_lru");
            }
        };
        match stage {
            1 => {
                // migrate_folio_unmap (MIGRATE_SYNC): folio_lock, then
                // folio_wait_writeback; the lock is held until the end.
                let fl = self.folio(old).flags;
                if fl.has(FolioFlags::LOCKED) || fl.has(FolioFlags::WRITEBACK) {
                    return None;
                }
                // try_to_migrate_one: an exclusive anon page is shared with
                // the migration entry first (page_try_share_anon_rmap), which
                // fails on a maybe-pinned page: the PTE is restored and the
                // folio stays. Other folios have no pin test here; their pin
                // is an extra reference that folio_ref_freeze trips over.
                let f = *self.folio(old);
                let exclusive = f.owner == Owner::Anon && f.flags.has(FolioFlags::ANON_EXCLUSIVE);
                if cx.design.migrate_refuse_pinned && exclusive && self.maybe_pinned(cx, old, 1) {
                    self.folio_putback_lru(old);
                    self.fail(t, Errno::EAGAIN, None);
                    return Some(
                        "try_to_migrate_one: page_try_share_anon_rmap fails (maybe pinned), PTE restored (EAGAIN)",
                    );
                }
                self.odp_invalidate(old); // MMU_NOTIFY_MIGRATE
                let mut n = 0u32;
                let mut dirty = false;
                for p in &mut self.procs {
                    for (_, e) in p.ptes.iter_mut().filter(|(_, e)| !e.migration && e.pfn == old) {
                        dirty |= e.dirty;
                        e.migration = true;
                        e.writable = false;
                        e.dirty = false;
                        n += 1;
                    }
                }
                if dirty {
                    self.folio_mark_dirty(old);
                }
                self.folio_mut(old).flags.set(FolioFlags::LOCKED);
                let f = self.folio_mut(old);
                f.mapcount -= n as u16;
                self.folio_put(old, n);
                self.threads[t.idx()].op = OpState::Migrate { old, new: None, stage: 2 };
                tr.note(|| format!("{n} PTE(s) replaced by migration entries"));
                Some("folio_lock + try_to_migrate: PTEs → migration entries")
            }
            2 => {
                let f = *self.folio(old);
                let cache = u32::from(matches!(f.owner, Owner::File { .. }));
                let expected = 1 + cache + self.private_refs(cx, old);
                let target = if f.refcount == expected { self.alloc(f.owner) } else { None };
                let Some(to) = target else {
                    let why = if f.refcount == expected {
                        "no free frame".to_string()
                    } else {
                        format!("refcount {} != expected {expected}", f.refcount)
                    };
                    tr.note(|| why);
                    self.remove_migration_ptes(old, old);
                    self.folio_mut(old).flags.clear(FolioFlags::LOCKED);
                    self.folio_putback_lru(old);
                    self.fail(t, Errno::EAGAIN, None);
                    return Some(
                        "folio_migrate_mapping: folio_ref_freeze failed (EAGAIN); remove_migration_ptes",
                    );
                };
                self.mem.frames[to.idx()].data = self.mem.frames[old.idx()].data;
                let nf = self.folio_mut(to);
                nf.refcount = expected;
                nf.flags = f.flags;
                nf.flags.clear(FolioFlags::LRU);
                if let Owner::File { file, index } = f.owner {
                    self.files[file.idx()].cache[usize::from(index)] = Some(to);
                }
                // The old folio's references all moved to the new one; the
                // migration keeps one on it until the migration entries that
                // name it are gone (freeing it now would let the frame be
                // reused while those entries still point at it).
                let of = self.folio_mut(old);
                of.refcount = 1;
                of.flags = FolioFlags::default();
                of.owner = Owner::Anon;
                self.threads[t.idx()].op = OpState::Migrate { old, new: Some(to), stage: 3 };
                tr.note(|| format!("contents moved pfn {} → pfn {}", old.0, to.0));
                Some("folio_migrate_mapping + folio_migrate_copy")
            }
            _ => {
                let to = new.expect("stage 3 has a new folio");
                let n = self.remove_migration_ptes(old, to);
                self.folio_mut(to).flags.clear(FolioFlags::LOCKED);
                self.folio_putback_lru(to);
                self.folio_put(old, 1); // migrate_folio_done: the source is freed
                tr.note(|| format!("{n} PTE(s) now map pfn {}; pfn {} freed", to.0, old.0));
                self.finish(t);
                Some("remove_migration_ptes + folio_unlock + folio_putback_lru; free the source")
            }
        }
    }
}

impl World {
    /// Migrate one folio at once to a frame outside ZONE_MOVABLE: the
    /// whole of `migrate_pages` in one step, for the paths that the model
    /// does not interleave (long-term-pin migrate-out, memory offlining).
    /// Fails if the folio is locked, under writeback, large, or referenced
    /// by anyone but its mappings, the page cache and its private data.
    pub(crate) fn migrate_out_now(&mut self, cx: &Cx, pfn: Pfn) -> Result<Pfn, Errno> {
        let old = self.mem.head(pfn);
        let f = *self.folio(old);
        if f.order > 0 || f.flags.has(FolioFlags::LOCKED) || f.flags.has(FolioFlags::WRITEBACK) {
            return Err(Errno::EBUSY);
        }
        let cache = u32::from(matches!(f.owner, Owner::File { .. }));
        if f.refcount != u32::from(f.mapcount) + cache + self.private_refs(cx, old) {
            return Err(Errno::EBUSY);
        }
        let to = self.mem.alloc_unmovable(f.owner).ok_or(Errno::ENOMEM)?;
        self.odp_invalidate(old);
        self.sync_ghost_len();
        self.mem.frames[to.idx()].data = self.mem.frames[old.idx()].data;
        *self.folio_mut(to) = f;
        for p in &mut self.procs {
            for (_, e) in p.ptes.iter_mut().filter(|(_, e)| e.pfn == old) {
                e.pfn = to;
            }
        }
        if let Owner::File { file, index } = f.owner {
            self.files[file.idx()].cache[usize::from(index)] = Some(to);
        }
        let o = self.folio_mut(old);
        *o = crate::mm::frame::Folio::new(f.owner);
        self.folio_put(old, 1);
        Ok(to)
    }

    /// `offline`: migrate every folio out of ZONE_MOVABLE, lowest first.
    pub(crate) fn op_offline<T: Tracer>(&mut self, cx: &Cx, t: ThreadId, tr: &mut T) -> &'static str {
        let start = usize::from(self.mem.movable_start);
        let mut moved = 0;
        for i in start..self.mem.frames.len() {
            let pfn = Pfn(i as u8);
            let is_head = self.mem.frames[i].folio.is_some_and(|f| !matches!(f.owner, Owner::Tail { .. }));
            if !is_head {
                continue;
            }
            match self.migrate_out_now(cx, pfn) {
                Ok(to) => {
                    moved += 1;
                    tr.note(|| format!("pfn {i} moved to pfn {}", to.0));
                }
                Err(e) => {
                    tr.note(|| format!("pfn {i} cannot move: {}", e.name()));
                    self.fail(t, e, None);
                    return "offline_pages: a folio in ZONE_MOVABLE cannot be migrated (EBUSY)";
                }
            }
        }
        tr.note(|| format!("{moved} folio(s) migrated"));
        self.finish(t);
        "offline_pages: ZONE_MOVABLE evacuated"
    }
}
