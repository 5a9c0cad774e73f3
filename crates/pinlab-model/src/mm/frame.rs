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
use std::hash::{Hash, Hasher};

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
        self.describe_in(true)
    }

    /// The same in a kernel that has `PageAnonExclusive` or not (5.19): the
    /// model keeps the flag in every design (it costs nothing where no
    /// knob reads it), but a 4.19 trace must not show what 4.19 lacks.
    pub fn describe_in(self, anon_exclusive_exists: bool) -> String {
        let shown = |f: FolioFlags| anon_exclusive_exists || f.0 != Self::ANON_EXCLUSIVE.0;
        let names: Vec<_> =
            Self::NAMES.iter().filter(|(f, _)| self.has(*f) && shown(*f)).map(|(_, n)| *n).collect();
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
    /// A tail page of a large folio: every count lives in the head.
    Tail { head: Pfn },
}

impl Owner {
    /// Pages of this kind may live in ZONE_MOVABLE (user memory and the page
    /// cache are `GFP_HIGHUSER_MOVABLE`; kernel buffers are not).
    pub fn movable(self) -> bool {
        matches!(self, Owner::Anon | Owner::File { .. })
    }
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
    /// log2 of the pages in the folio: 0 for a small folio; the tails follow
    /// the head in physical order. A large folio keeps an exact `_pincount`
    /// under every design that counts pins (`folio_has_pincount`, 6.3+).
    pub order: u8,
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
            order: 0,
        }
    }

    pub fn nr_pages(&self) -> u8 {
        1 << self.order
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Bumped every time the frame is freed.
    pub gen: u16,
    pub data: PageData,
    /// `None` while the frame is free.
    pub folio: Option<Folio>,
}

/// Frames are most of what a state fingerprint hashes. `derive(Hash)`
/// would make some 30 small writes per frame; this packs the frame into one
/// fixed-layout buffer (an injective encoding: every field at its own
/// offset) and writes it at once.
impl Hash for Frame {
    fn hash<H: Hasher>(&self, h: &mut H) {
        const SECTORS: usize = crate::limits::SECTORS_PER_PAGE;
        let mut b = [0u8; 2 + 3 * SECTORS + 16];
        b[0..2].copy_from_slice(&self.gen.to_le_bytes());
        for (i, s) in self.data.iter().enumerate() {
            b[2 + 3 * i] = s.byte;
            b[3 + 3 * i..5 + 3 * i].copy_from_slice(&s.ver.to_le_bytes());
        }
        let f = &mut b[2 + 3 * SECTORS..];
        if let Some(folio) = &self.folio {
            f[0] = 1;
            f[1..5].copy_from_slice(&folio.refcount.to_le_bytes());
            f[5..7].copy_from_slice(&folio.mapcount.to_le_bytes());
            f[7..9].copy_from_slice(&folio.pincount.to_le_bytes());
            f[9..11].copy_from_slice(&folio.write_pincount.to_le_bytes());
            f[11] = folio.flags.0;
            f[12] = folio.order;
            (f[13], f[14], f[15]) = match folio.owner {
                Owner::File { file, index } => (0, file.0, index),
                Owner::Anon => (1, 0, 0),
                Owner::Zero => (2, 0, 0),
                Owner::Bounce => (3, 0, 0),
                Owner::Tail { head } => (4, head.0, 0),
            };
        }
        h.write(&b);
    }
}

/// All physical frames. Frames past the end of the vector are free and have
/// never been used; the vector grows on demand so the world stays small.
///
/// Frames `movable_start..frames_max` form ZONE_MOVABLE: only movable
/// allocations may use them, and those prefer them (the highest zone is
/// tried first, as the page allocator's zonelist does). With no movable
/// zone, allocation is plain lowest-free-first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Memory {
    pub frames: Vec<Frame>,
    pub frames_max: u8,
    pub movable_start: u8,
}

impl Default for Memory {
    fn default() -> Memory {
        Memory::new(FRAMES_MAX as u8, None)
    }
}

impl Memory {
    pub fn new(frames_max: u8, movable_start: Option<u8>) -> Memory {
        Memory { frames: Vec::new(), frames_max, movable_start: movable_start.unwrap_or(frames_max) }
    }

    pub fn in_movable_zone(&self, pfn: Pfn) -> bool {
        pfn.0 >= self.movable_start
    }

    fn run_free(&self, start: usize, n: usize) -> bool {
        (start..start + n).all(|i| self.frames.get(i).is_none_or(|f| f.folio.is_none()))
    }

    /// Allocate a small folio (`alloc_pages`); its contents are whatever
    /// the previous user left (the caller fills it).
    pub fn alloc(&mut self, owner: Owner) -> Option<Pfn> {
        self.alloc_order(owner, 0)
    }

    /// Allocate a folio of 2^order naturally aligned frames: movable kinds
    /// try ZONE_MOVABLE first, then the rest; others only the rest.
    pub fn alloc_order(&mut self, owner: Owner, order: u8) -> Option<Pfn> {
        self.alloc_in(owner, order, owner.movable())
    }

    /// The first frame of the free run `alloc_in` would take.
    fn pick(&self, order: u8, movable_ok: bool) -> Option<usize> {
        let n = 1usize << order;
        let (max, mov) = (usize::from(self.frames_max), usize::from(self.movable_start));
        let movable = (0..max).step_by(n).filter(|&s| s >= mov && s + n <= max);
        let normal = (0..max).step_by(n).filter(|&s| s + n <= mov.min(max));
        if movable_ok {
            movable.chain(normal).find(|&s| self.run_free(s, n))
        } else {
            normal.into_iter().find(|&s| self.run_free(s, n))
        }
    }

    /// The frame `alloc(owner)` would return now, without taking it.
    pub fn next_alloc(&self, owner: Owner) -> Option<Pfn> {
        self.pick(0, owner.movable()).map(|s| Pfn(s as u8))
    }

    fn alloc_in(&mut self, owner: Owner, order: u8, movable_ok: bool) -> Option<Pfn> {
        let n = 1usize << order;
        let start = self.pick(order, movable_ok)?;
        if self.frames.len() < start + n {
            self.frames.resize(start + n, Frame { gen: 0, data: Default::default(), folio: None });
        }
        let head = Pfn(start as u8);
        self.frames[start].folio = Some(Folio { order, ..Folio::new(owner) });
        for i in start + 1..start + n {
            self.frames[i].folio = Some(Folio { refcount: 0, ..Folio::new(Owner::Tail { head }) });
        }
        Some(head)
    }

    /// Allocate a small folio outside ZONE_MOVABLE (the target of a
    /// long-term-pin migration: `memalloc_pin_save` drops `__GFP_MOVABLE`).
    pub fn alloc_unmovable(&mut self, owner: Owner) -> Option<Pfn> {
        self.alloc_in(owner, 0, false)
    }

    /// Return a folio's frames to the free list (`free_unref_page`); every
    /// frame's generation bumps.
    pub fn free(&mut self, pfn: Pfn) {
        let head = self.head(pfn);
        let n = usize::from(self.folio(head).nr_pages());
        for f in &mut self.frames[head.idx()..head.idx() + n] {
            f.folio = None;
            f.gen = f.gen.wrapping_add(1);
        }
    }

    /// The head frame of the folio `pfn` belongs to (`page_folio`).
    pub fn head(&self, pfn: Pfn) -> Pfn {
        match self.frames[pfn.idx()].folio {
            Some(Folio { owner: Owner::Tail { head }, .. }) => head,
            _ => pfn,
        }
    }

    /// The folio `pfn` belongs to: a tail page resolves to its head.
    pub fn folio(&self, pfn: Pfn) -> &Folio {
        let head = self.head(pfn);
        self.frames[head.idx()].folio.as_ref().expect("folio of a free frame")
    }

    pub fn folio_mut(&mut self, pfn: Pfn) -> &mut Folio {
        let head = self.head(pfn);
        self.frames[head.idx()].folio.as_mut().expect("folio of a free frame")
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
    fn large_folios_are_aligned_and_resolve_to_their_head() {
        let mut m = Memory::default();
        let a = m.alloc(Owner::Anon).unwrap();
        let big = m.alloc_order(Owner::Anon, 2).unwrap();
        assert_eq!((a, big), (Pfn(0), Pfn(4)), "an order-2 folio starts on a multiple of 4");
        assert_eq!(m.head(Pfn(6)), big);
        m.folio_mut(Pfn(7)).refcount += 5;
        assert_eq!(m.folio(big).refcount, 6, "a tail's counts are the head's");
        assert_eq!(m.alloc(Owner::Anon), Some(Pfn(1)), "small folios fill the hole below");
        m.free(Pfn(5));
        assert!((4..8).all(|i| m.frames[i].folio.is_none() && m.frames[i].gen == 1));
    }

    #[test]
    fn movable_allocations_prefer_zone_movable_and_kernel_ones_avoid_it() {
        let mut m = Memory::new(8, Some(4));
        assert_eq!(m.alloc(Owner::Anon), Some(Pfn(4)));
        assert_eq!(m.alloc(Owner::Bounce), Some(Pfn(0)));
        assert!(m.in_movable_zone(Pfn(4)) && !m.in_movable_zone(Pfn(3)));
        for _ in 0..3 {
            m.alloc(Owner::Anon).unwrap();
        }
        assert_eq!(m.alloc(Owner::Anon), Some(Pfn(1)), "a full movable zone falls back to normal");
    }

    #[test]
    fn flags_set_clear_describe() {
        let mut f = FolioFlags::default();
        assert_eq!(f.describe(), "-");
        let mut g = FolioFlags::default();
        g.set(FolioFlags::DIRTY);
        g.set(FolioFlags::ANON_EXCLUSIVE);
        assert_eq!(g.describe(), "dirty|anon-exclusive");
        assert_eq!(g.describe_in(false), "dirty", "no PageAnonExclusive before 5.19");
        f.set(FolioFlags::LOCKED);
        f.set(FolioFlags::DIRTY);
        assert_eq!(f.describe(), "locked|dirty");
        f.clear(FolioFlags::LOCKED);
        assert!(f.has(FolioFlags::DIRTY) && !f.has(FolioFlags::LOCKED));
    }
}
