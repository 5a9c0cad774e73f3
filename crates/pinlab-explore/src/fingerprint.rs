//! 128-bit state fingerprints. The visited set stores these, never worlds:
//! at 2^-128 per pair a collision among a billion states is not a concern.
//!
//! `derive(Hash)` feeds a hasher many tiny writes (one per field); a
//! streaming 128-bit hash pays its per-call overhead on each. So the world is
//! first serialised through `Hash` into a reused byte buffer, then hashed in
//! one `xxh3_128` call.

use pinlab_model::World;
use std::hash::{Hash, Hasher};

/// Collects the bytes `Hash` writes.
#[derive(Default)]
pub struct Fingerprinter {
    buf: Vec<u8>,
}

impl Hasher for Fingerprinter {
    fn write(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
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
}

/// One-off fingerprint (allocates a buffer; the explorer reuses one).
pub fn fingerprint(w: &World) -> u128 {
    Fingerprinter::default().fingerprint(w)
}
