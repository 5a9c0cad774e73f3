//! Oracles: the properties pinlab checks, and the record of which fired.
//!
//! The model reports an oracle the moment its condition becomes true (see
//! `World::fire`); the set of fired oracles is part of the world, so two
//! executions that reach the same kernel state by different histories (one
//! broke a checksum on the way, one did not) stay distinct states.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Oracle {
    /// A referenced block's stored checksum does not match its data.
    ChecksumError,
    /// fsync/sync returned (or recover found) data older than was promised.
    LostWrite,
    /// A file page on disk mixes sectors of different versions.
    Torn,
    /// A device touched a frame freed or reused since its pin was taken.
    DmaAfterFree,
    /// No step is enabled and some thread has not finished.
    Deadlock,
    /// Stuck, but not in a cycle: a thread waits for pins that no thread
    /// will ever release (a driver that never unpins).
    Starvation,
    /// A modelled BUG_ON/WARN fired.
    KernelBug,
    /// The design's pin test said "pinned" for a folio with no pin.
    PinFalsePositive,
    /// The design's pin test said "not pinned" for a pinned folio.
    PinFalseNegative,
    /// A T10-PI disk rejected a write: a sector changed between the guard
    /// tag's computation (bio built) and the device reading it.
    IntegrityError,
    /// md RAID1's `check` found mirrors that differ (`process_checks`,
    /// `resync_mismatches`): a page changed between the mirrors' reads.
    MirrorMismatch,
}

impl Oracle {
    pub const ALL: [Oracle; 11] = [
        Oracle::ChecksumError,
        Oracle::LostWrite,
        Oracle::Torn,
        Oracle::DmaAfterFree,
        Oracle::Deadlock,
        Oracle::Starvation,
        Oracle::KernelBug,
        Oracle::PinFalsePositive,
        Oracle::PinFalseNegative,
        Oracle::IntegrityError,
        Oracle::MirrorMismatch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Oracle::ChecksumError => "checksum_error",
            Oracle::LostWrite => "lost_write",
            Oracle::Torn => "torn",
            Oracle::DmaAfterFree => "dma_after_free",
            Oracle::Deadlock => "deadlock",
            Oracle::Starvation => "starvation",
            Oracle::KernelBug => "kernel_bug",
            Oracle::PinFalsePositive => "pin_false_positive",
            Oracle::PinFalseNegative => "pin_false_negative",
            Oracle::IntegrityError => "integrity_error",
            Oracle::MirrorMismatch => "mirror_mismatch",
        }
    }

    pub fn from_name(s: &str) -> Option<Oracle> {
        Oracle::ALL.into_iter().find(|o| o.name() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A modelled BUG_ON / WARN, named in `kernel_bug(NAME)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bug {
    /// `page_ref_dec` below zero (`VM_BUG_ON_PAGE(page_ref_count(page) == 0)`).
    RefcountUnderflow,
    /// Unpinning a page that holds no pin (`gup_put_folio` on an unpinned folio).
    PinUnderflow,
    /// Freeing a frame that is still mapped, locked, under writeback or
    /// pinned (`bad_page`; pinned per the ghost count).
    BadPageFree,
    /// `try_grab_folio` would overflow `_refcount` (`WARN_ON_ONCE` → -ENOMEM).
    PinOverflow,
    /// ext4 writeback of a dirty page whose buffers were freed
    /// (`page_buffers()` BUG in `ext4_writepage` before cc5095747edf, ~5.18).
    PageWithoutBuffers,
    /// A GUP user dirties an ext4 page whose buffers were freed:
    /// `WARN_ON_ONCE(!page_has_buffers(page))` in `ext4_set_page_dirty`
    /// (`ext4_dirty_folio` since 5.18). A warning, not a BUG, in every era.
    DirtyWithoutBuffers,
}

impl Bug {
    pub const ALL: [Bug; 6] = [
        Bug::RefcountUnderflow,
        Bug::PinUnderflow,
        Bug::BadPageFree,
        Bug::PinOverflow,
        Bug::PageWithoutBuffers,
        Bug::DirtyWithoutBuffers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Bug::RefcountUnderflow => "refcount_underflow",
            Bug::PinUnderflow => "pin_underflow",
            Bug::BadPageFree => "bad_page_free",
            Bug::PinOverflow => "pin_overflow",
            Bug::PageWithoutBuffers => "page_without_buffers",
            Bug::DirtyWithoutBuffers => "dirty_without_buffers",
        }
    }

    pub fn from_name(s: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == s)
    }
}

/// The oracles (and bugs) that have fired so far in one execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Fired {
    oracles: u16,
    bugs: u16,
}

impl Fired {
    pub fn set(&mut self, o: Oracle) {
        self.oracles |= o.bit();
    }

    pub fn set_bug(&mut self, b: Bug) {
        self.set(Oracle::KernelBug);
        self.bugs |= 1 << (b as u16);
    }

    pub fn has(self, o: Oracle) -> bool {
        self.oracles & o.bit() != 0
    }

    pub fn has_bug(self, b: Bug) -> bool {
        self.bugs & (1 << (b as u16)) != 0
    }

    pub fn is_empty(self) -> bool {
        self.oracles == 0
    }

    /// Oracles in `self` but not in `before`, for "what fired at this step".
    pub fn new_since(self, before: Fired) -> impl Iterator<Item = Oracle> {
        Oracle::ALL.into_iter().filter(move |o| self.has(*o) && !before.has(*o))
    }

    pub fn iter(self) -> impl Iterator<Item = Oracle> {
        Oracle::ALL.into_iter().filter(move |o| self.has(*o))
    }

    pub fn bugs(self) -> impl Iterator<Item = Bug> {
        Bug::ALL.into_iter().filter(move |b| self.has_bug(*b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bits_are_distinct() {
        let mut f = Fired::default();
        for o in Oracle::ALL {
            assert_eq!(Oracle::from_name(o.name()), Some(o));
            assert!(!f.has(o));
            f.set(o);
            assert!(f.has(o));
        }
        assert_eq!(f.iter().count(), Oracle::ALL.len());
        let mut g = Fired::default();
        g.set_bug(Bug::PinUnderflow);
        assert!(g.has(Oracle::KernelBug) && g.has_bug(Bug::PinUnderflow) && !g.has_bug(Bug::BadPageFree));
        assert_eq!(g.new_since(Fired::default()).collect::<Vec<_>>(), vec![Oracle::KernelBug]);
    }
}
