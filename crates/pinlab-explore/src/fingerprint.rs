//! 128-bit state fingerprints. The visited set stores their low 64 bits
//! (hash compaction; the omission bound is in `search`), bit-state hashing
//! both halves as two independent positions.
//!
//! `derive(Hash)` feeds a hasher many tiny writes (one per field); a
//! streaming 128-bit hash pays its per-call overhead on each. So the world is
//! first serialised through `Hash` into a reused byte buffer, then hashed in
//! one `xxh3_128` call.

use pinlab_model::World;
use std::hash::{Hash, Hasher};

/// Collects the bytes `Hash` writes. A worker's hashing scratch: the byte
/// buffer, and the crash points it has already worked out.
#[derive(Default)]
pub struct Fingerprinter {
    buf: Vec<u8>,
    crashes: rustc_hash::FxHashMap<u128, crate::search::Crash>,
}

/// Marks a crash-point key, so it never equals a state's fingerprint.
const CRASH_KEY: u8 = 0xC7;

/// Crash points remembered per worker before the memo starts over (about
/// 3 MiB): distinct durable states are few, so it rarely fills.
const CRASHES_MAX: usize = 1 << 15;

impl Hasher for Fingerprinter {
    fn write(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    // `derive(Hash)` writes one small integer per field. The default
    // methods route each through `write(&[u8])`, a `memmove` call per byte;
    // pushing fixed-size arrays lets the compiler inline the copy.
    fn write_u8(&mut self, i: u8) {
        self.buf.push(i);
    }

    fn write_u16(&mut self, i: u16) {
        self.buf.extend_from_slice(&i.to_le_bytes());
    }

    fn write_u32(&mut self, i: u32) {
        self.buf.extend_from_slice(&i.to_le_bytes());
    }

    fn write_u64(&mut self, i: u64) {
        self.buf.extend_from_slice(&i.to_le_bytes());
    }

    fn write_usize(&mut self, i: usize) {
        // Lengths and enum discriminants: a state never holds 2^32 of anything.
        self.buf.extend_from_slice(&(i as u32).to_le_bytes());
    }

    fn finish(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&self.buf)
    }
}

impl Fingerprinter {
    pub fn fingerprint(&mut self, w: &World) -> u128 {
        self.buf.clear();
        w.hash(self);
        xxhash_rust::xxh3::xxh3_128(&self.buf)
    }

    /// A power loss at `w` (then mount and scrub), and what it shows.
    ///
    /// The crashed state's identity is `World::hash_after_power_loss`, of
    /// which the outcome is a function: crash points that agree on it are
    /// one state, worked out once per worker. Builds with debug assertions
    /// (the tests) work every one out again and check the memo.
    pub(crate) fn crash(&mut self, cx: &pinlab_model::Cx, mut w: Box<World>) -> crate::search::Crash {
        self.buf.clear();
        self.buf.push(CRASH_KEY);
        w.hash_after_power_loss(self);
        let key = xxhash_rust::xxh3::xxh3_128(&self.buf);
        let known = self.crashes.get(&key).cloned();
        if let (Some(c), false) = (&known, cfg!(debug_assertions)) {
            return c.clone();
        }
        let before = w.fired();
        w.crash_and_recover(&mut pinlab_model::trace::NoTrace);
        let c = crate::search::Crash {
            fp: key,
            new_fired: w.fired().new_since(before).collect(),
            forbid_sat: cx
                .prog
                .conds
                .iter()
                .map(|cd| cd.kind == pinlab_model::program::CondKind::Forbid && cd.cond.eval(&w))
                .collect(),
        };
        match known {
            Some(k) => assert_eq!(k, c, "a crash point's outcome depends on more than hash_after_power_loss"),
            None => {
                if self.crashes.len() >= CRASHES_MAX {
                    self.crashes.clear();
                }
                self.crashes.insert(key, c.clone());
            }
        }
        c
    }
}

/// One-off fingerprint (allocates a buffer; the explorer reuses one).
pub fn fingerprint(w: &World) -> u128 {
    Fingerprinter::default().fingerprint(w)
}
