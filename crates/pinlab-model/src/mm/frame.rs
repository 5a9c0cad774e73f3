//! Physical frames and the folio metadata of each (`struct page` / `struct folio`).
//!
//! A frame is allocated lowest-free-first so that the same history always
//! yields the same PFNs. Freeing bumps the frame's generation: a device that
//! recorded (pfn, generation) when it pinned can tell that the frame it is
//! about to touch is no longer the page it pinned (`dma_after_free`).

use crate::data::PageData;
use crate::ids::{FileId, Pfn};
use crate::limits::FRAMES_MAX;
use serde::Serialize;

/// Folio flags (`PG_*`), packed in one byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FolioFlags(u8);

impl FolioFlags {
    pub const LOCKED: FolioFlags = FolioFlags(1 << 0);
    pub const DIRTY: FolioFlags = FolioFlags(1 << 1);
    pub const WRITEBACK: FolioFlags = FolioFlags(1 << 2);
    pub const UPTODATE: FolioFlags = FolioFlags(1 << 3);
    pub const LRU: FolioFlags = FolioFlags(1 << 4);
    pub const PRIVATE: FolioFlags = FolioFlags(1 << 5);
    /// Not a page flag: the PAGECACHE_TAG_DIRTY mark of the folio's slot in
    /// the mapping's xarray. Set with PG_dirty by `folio_mark_dirty`, cleared
    /// only by `__folio_start_writeback` (if PG_dirty is clear by then), so
    /// a writeback pass finds a folio whose PG_dirty another pass has just
    /// cleared but not yet put under writeback.
    pub const TAG_DIRTY: FolioFlags = FolioFlags(1 << 6);
    /// `PageAnonExclusive`: this anon page is mapped by one process only and
    /// may be written without COW; only exclusive pages may be pinned (6.x).
    pub const ANON_EXCLUSIVE: FolioFlags = FolioFlags(1 << 7);

    const NAMES: [(FolioFlags, &'static str); 8] = [
        (Self::LOCKED, "locked"),
        (Self::DIRTY, "dirty"),
        (Self::WRITEBACK, "writeback"),
        (Self::UPTODATE, "uptodate"),
        (Self::LRU, "lru"),
        (Self::PRIVATE, "private"),
        (Self::TAG_DIRTY, "tag:dirty"),
        (Self::ANON_EXCLUSIVE, "anon-exclusive"),
    ];

    pub fn has(self, f: FolioFlags) -> bool {
        self.0 & f.0 == f.0
    }

    pub fn set(&mut self, f: FolioFlags) {
        self.0 |= f.0;
    }

    pub fn clear(&mut self, f: FolioFlags) {
        self.0 &= !f.0;
    }

    /// `locked|dirty` style, for traces.
    pub fn describe(self) -> String {
        let names: Vec<_> = Self::NAMES.iter().filter(|(f, _)| self.has(*f)).map(|(_, n)| *n).collect();
        if names.is_empty() {
            "-".into()
        } else {
            names.join("|")
        }
    }
}

/// Who a folio belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Owner {
    /// Page `index` of `file`'s page cache.
    File { file: FileId, index: u8 },
    /// Anonymous memory (or a private COW copy of a file page).
    Anon,
    /// The shared zero page: read faults on anon memory map it; it is never
    /// freed and its counts are not kept (`vm_normal_page` returns NULL).
    Zero,
    /// A bounce buffer holding a writeback snapshot (bounce design).
    Bounce,
}

/// Metadata of an allocated frame. Counts are the kernel's view; the exact
/// truth about pins lives in the ghost record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Folio {
    /// `_refcount`: page-cache ref + one per mapping PTE + GUP references
    /// (1 per FOLL_GET, 1 or 1024 per FOLL_PIN depending on the design) +
    /// one for private data that holds a ref + transient references
    /// (LRU isolation, page-cache lookups).
    pub refcount: u32,
    /// `_mapcount` + 1: PTEs mapping the folio.
    pub mapcount: u16,
    /// Exact FOLL_PIN count, kept only by designs with exact tracking.
    pub pincount: u16,
    /// Exact FOLL_PIN|FOLL_WRITE count, kept only by designs with exact tracking.
    pub write_pincount: u16,
    pub flags: FolioFlags,
    pub owner: Owner,
}

impl Folio {
    pub fn new(owner: Owner) -> Folio {
        Folio {
            refcount: 1,
            mapcount: 0,
            pincount: 0,
            write_pincount: 0,
            flags: FolioFlags::default(),
            owner,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Bumped every time the frame is freed.
    pub gen: u16,
    pub data: PageData,
    /// `None` while the frame is free.
    pub folio: Option<Folio>,
}

/// All physical frames. Frames past the end of the vector are free and have
/// never been used; the vector grows on demand so the world stays small.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Memory {
    pub frames: Vec<Frame>,
}

impl Memory {
    /// Allocate the lowest free frame (`alloc_pages`); its contents are
    /// whatever the previous user left (the caller fills it).
    pub fn alloc(&mut self, owner: Owner) -> Option<Pfn> {
        let pfn = match self.frames.iter().position(|f| f.folio.is_none()) {
            Some(i) => i,
            None if self.frames.len() < FRAMES_MAX => {
                self.frames.push(Frame { gen: 0, data: Default::default(), folio: None });
                self.frames.len() - 1
            }
            None => return None,
        };
        self.frames[pfn].folio = Some(Folio::new(owner));
        Some(Pfn(pfn as u8))
    }

    /// Return a frame to the free list (`free_unref_page`).
    pub fn free(&mut self, pfn: Pfn) {
        let f = &mut self.frames[pfn.idx()];
        debug_assert!(f.folio.is_some(), "freeing a free frame");
        f.folio = None;
        f.gen = f.gen.wrapping_add(1);
    }

    pub fn folio(&self, pfn: Pfn) -> &Folio {
        self.frames[pfn.idx()].folio.as_ref().expect("folio of a free frame")
    }

    pub fn folio_mut(&mut self, pfn: Pfn) -> &mut Folio {
        self.frames[pfn.idx()].folio.as_mut().expect("folio of a free frame")
    }

    pub fn gen(&self, pfn: Pfn) -> u16 {
        self.frames[pfn.idx()].gen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_is_lowest_free_first_and_free_bumps_generation() {
        let mut m = Memory::default();
        let a = m.alloc(Owner::Bounce).unwrap();
        let b = m.alloc(Owner::Bounce).unwrap();
        assert_eq!((a, b), (Pfn(0), Pfn(1)));
        m.free(a);
        assert_eq!(m.gen(a), 1);
        assert_eq!(m.alloc(Owner::Bounce), Some(Pfn(0)), "a freed frame is reused first");
        for _ in 2..FRAMES_MAX {
            assert!(m.alloc(Owner::Bounce).is_some());
        }
        assert_eq!(m.alloc(Owner::Bounce), None, "memory is bounded");
    }

    #[test]
    fn flags_set_clear_describe() {
        let mut f = FolioFlags::default();
        assert_eq!(f.describe(), "-");
        f.set(FolioFlags::LOCKED);
        f.set(FolioFlags::DIRTY);
        assert_eq!(f.describe(), "locked|dirty");
        f.clear(FolioFlags::LOCKED);
        assert!(f.has(FolioFlags::DIRTY) && !f.has(FolioFlags::LOCKED));
    }
}
