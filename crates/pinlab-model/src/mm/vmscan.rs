//! Reclaim: one pass of `shrink_folio_list` over the LRU.
//!
//! Each candidate takes three steps, as in the kernel: `folio_isolate_lru`
//! (a transient reference: the first false-positive source the thread
//! named), then the decisions of `shrink_folio_list` (keep dirty, locked or
//! under-writeback folios; with `reclaim_keep_pinned`, keep maybe-pinned
//! ones; else `try_to_unmap` and `filemap_release_folio`), then
//! `__remove_mapping`, whose `folio_ref_freeze(folio, 2)` fails if anyone
//! else holds a reference, a pin included.
//!
//! Only page-cache folios are reclaimed: the model has no swap, so anon
//! folios stay (as with `vm.swappiness=0` and no swap device).

use crate::ids::*;
use crate::mm::frame::{FolioFlags, Owner};
use crate::program::PrivateData;
use crate::trace::Tracer;
use crate::world::{Cx, OpState, World};

impl World {
    /// Give back the isolation reference (`folio_putback_lru`).
    pub(crate) fn folio_putback_lru(&mut self, pfn: Pfn) {
        self.folio_mut(pfn).flags.set(FolioFlags::LRU);
        self.folio_put(pfn, 1);
    }

    /// `folio_isolate_lru`: take a reference and leave the LRU. `false` if
    /// the folio is not on the LRU (someone else isolated it).
    pub(crate) fn folio_isolate_lru(&mut self, pfn: Pfn) -> bool {
        let f = self.folio_mut(pfn);
        if !f.flags.has(FolioFlags::LRU) {
            return false;
        }
        f.flags.clear(FolioFlags::LRU);
        f.refcount += 1;
        true
    }

    /// The references a file system's private data holds on a folio.
    pub(crate) fn private_refs(&self, cx: &Cx, pfn: Pfn) -> u32 {
        let f = self.folio(pfn);
        match f.owner {
            Owner::File { file, .. } if f.flags.has(FolioFlags::PRIVATE) => {
                let fs = &cx.prog.fss[cx.prog.files[file.idx()].fs.idx()];
                u32::from(fs.private == PrivateData::Ref)
            }
            _ => 0,
        }
    }

    pub(crate) fn op_reclaim<T: Tracer>(&mut self, cx: &Cx, t: ThreadId, tr: &mut T) -> Option<&'static str> {
        let (next, cur, stage) = match self.threads[t.idx()].op {
            OpState::Reclaim { next, cur, stage } => (next, cur, stage),
            _ => (0, None, 0),
        };
        let Some(pfn) = cur else {
            let cand = (usize::from(next)..self.mem.frames.len()).find(|&i| {
                self.mem.frames[i]
                    .folio
                    .is_some_and(|f| f.flags.has(FolioFlags::LRU) && matches!(f.owner, Owner::File { .. }))
            });
            let Some(i) = cand else {
                self.finish(t);
                return Some("shrink_inactive_list: LRU scanned");
            };
            let pfn = Pfn(i as u8);
            self.folio_isolate_lru(pfn);
            self.threads[t.idx()].op = OpState::Reclaim { next: pfn.0 + 1, cur: Some(pfn), stage: 1 };
            tr.note(|| format!("pfn {} isolated (+1 reference)", pfn.0));
            return Some("folio_isolate_lru");
        };
        let done = |w: &mut World| w.threads[t.idx()].op = OpState::Reclaim { next, cur: None, stage: 0 };
        if stage == 1 {
            let f = *self.folio(pfn);
            if f.flags.has(FolioFlags::LOCKED) || f.flags.has(FolioFlags::WRITEBACK) {
                self.folio_putback_lru(pfn);
                done(self);
                return Some("shrink_folio_list: folio_trylock failed or under writeback: keep");
            }
            // folio_trylock succeeded; held to the end.
            self.folio_mut(pfn).flags.set(FolioFlags::LOCKED);
            // try_to_unmap first: a dirty PTE makes the folio dirty, and once
            // nothing maps it no GUP-fast can newly pin it.
            let unmapped = self.try_to_unmap(pfn);
            tr.note(|| format!("{unmapped} PTE(s) unmapped"));
            let keep = if cx.design.reclaim_keep_pinned && self.maybe_pinned(cx, pfn, 1) {
                // "mm: Do not reclaim private data from pinned page" (6.4):
                // the pin test after the unmap, where it is stable.
                Some("shrink_folio_list: try_to_unmap; folio_maybe_dma_pinned → activate_locked")
            } else if self.folio(pfn).flags.has(FolioFlags::DIRTY) {
                // A dirty file folio is left to the flusher.
                Some("shrink_folio_list: try_to_unmap; dirty → activate_locked")
            } else {
                None
            };
            if let Some(label) = keep {
                self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
                self.folio_putback_lru(pfn);
                done(self);
                return Some(label);
            }
            let had_private = self.folio(pfn).flags.has(FolioFlags::PRIVATE);
            if had_private {
                // filemap_release_folio → try_to_free_buffers
                let refs = self.private_refs(cx, pfn);
                self.folio_mut(pfn).flags.clear(FolioFlags::PRIVATE);
                self.folio_put(pfn, refs);
                tr.note(|| "private data released".into());
            }
            self.threads[t.idx()].op = OpState::Reclaim { next, cur: Some(pfn), stage: 2 };
            return Some("folio_trylock + try_to_unmap + filemap_release_folio");
        }
        // __remove_mapping: folio_ref_freeze(folio, 2): the page cache's
        // reference and ours, nobody else's.
        self.folio_mut(pfn).flags.clear(FolioFlags::LOCKED);
        let f = *self.folio(pfn);
        // Still the page cache's folio? A truncate or an O_DIRECT
        // invalidation may have removed it while it was isolated.
        let cached = match f.owner {
            Owner::File { file, index } => self.cached(file, index) == Some(pfn),
            _ => false,
        };
        let label = if cached && f.refcount == 2 && !f.flags.has(FolioFlags::DIRTY) {
            if let Owner::File { file, index } = f.owner {
                self.files[file.idx()].cache[usize::from(index)] = None;
            }
            self.folio_mut(pfn).refcount = 1;
            self.folio_put(pfn, 1);
            tr.note(|| format!("pfn {} freed", pfn.0));
            "__remove_mapping: folio_ref_freeze ok, folio_unlock, folio freed"
        } else {
            tr.note(|| format!("refcount {} != 2: someone holds the folio", f.refcount));
            self.folio_putback_lru(pfn);
            "__remove_mapping: folio_ref_freeze failed, putback"
        };
        done(self);
        Some(label)
    }
}
