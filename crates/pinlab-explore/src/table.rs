//! The exact visited set: 64-bit state fingerprints in one open-addressing
//! array with linear probing.
//!
//! A general-purpose hash set keeps a control byte per slot in a separate
//! array, so a lookup in a set far bigger than the cache misses twice (the
//! control group, then the slot). Fingerprints are already uniform hashes
//! and are never removed, so a plain array of them suffices: a lookup
//! touches one cache line, or the next one when a probe run crosses it.
//! The table grows by half when it is 4/5 full, so it holds a state in 10
//! to 15 bytes (a table that doubled would swing from 10 to 21: the
//! suite's cells of 197 k states landed at 21). Slots are chosen by
//! multiply-shift (the fingerprint's high bits scaled to the table size),
//! so any size works.
//!
//! 0 marks an empty slot; a fingerprint of 0 is stored as 1. That merges
//! two fingerprints out of 2^64, which adds nothing measurable to the
//! omission bound of hash compaction (`search`).

/// A set of 64-bit fingerprints.
pub(crate) struct FingerprintTable {
    slots: Vec<u64>,
    len: usize,
}

const EMPTY: u64 = 0;
const INITIAL_SLOTS: usize = 1 << 10;

impl FingerprintTable {
    pub(crate) fn new() -> FingerprintTable {
        FingerprintTable { slots: vec![EMPTY; INITIAL_SLOTS], len: 0 }
    }

    /// Insert; false if it was already there.
    pub(crate) fn insert(&mut self, fp: u64) -> bool {
        let fp = if fp == EMPTY { 1 } else { fp };
        if (self.len + 1) * 5 > self.slots.len() * 4 {
            self.grow();
        }
        if place(&mut self.slots, fp) {
            self.len += 1;
            true
        } else {
            false
        }
    }

    fn grow(&mut self) {
        let bigger = vec![EMPTY; self.slots.len() + self.slots.len() / 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        for fp in old.into_iter().filter(|&f| f != EMPTY) {
            place(&mut self.slots, fp);
        }
    }

    /// Start loading the slot where `fp` would go. The table outgrows a
    /// cache early, so an insert is a cache miss; issued while the search
    /// still has other successors to work out, the load overlaps with that
    /// work. Only a hint: the table may grow in between.
    pub(crate) fn prefetch(&self, fp: u64) {
        prefetch_index::prefetch_index(&self.slots, home(fp, self.slots.len()));
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> u64 {
        self.slots.len() as u64 * 8
    }
}

/// The first slot of `fp`'s probe run in a table of `n` slots.
fn home(fp: u64, n: usize) -> usize {
    ((u128::from(fp) * n as u128) >> 64) as usize
}

/// Put `fp` in the first free slot of its probe run; false if it is there.
fn place(slots: &mut [u64], fp: u64) -> bool {
    let n = slots.len();
    let mut i = home(fp, n);
    loop {
        match slots[i] {
            EMPTY => {
                slots[i] = fp;
                return true;
            }
            s if s == fp => return false,
            _ => i = if i + 1 == n { 0 } else { i + 1 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_every_fingerprint_once_across_growth() {
        let mut t = FingerprintTable::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut fps = Vec::new();
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            fps.push(x);
        }
        // Fingerprints that share a slot (close high bits), and the last
        // slot, whose probe run wraps to the first.
        fps.extend([1 << 40, (1 << 40) + 1, (1 << 40) + 2, u64::MAX, u64::MAX - 1, u64::MAX - 2]);
        for &f in &fps {
            assert!(t.insert(f), "{f:#x} is new");
        }
        assert!(t.slots.len() > INITIAL_SLOTS, "it grew");
        for &f in &fps {
            assert!(!t.insert(f), "{f:#x} was inserted before");
        }
        // 0 is stored as 1: after 0, 1 is a duplicate.
        assert!(t.insert(0) && !t.insert(1) && !t.insert(0));
        assert_eq!(t.len, fps.len() + 1);
        assert!(t.len * 5 <= t.slots.len() * 4);
    }
}
