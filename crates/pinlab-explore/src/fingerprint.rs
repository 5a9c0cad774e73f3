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

/// Collects the bytes `Hash` writes.
#[derive(Default)]
pub struct Fingerprinter {
    buf: Vec<u8>,
}

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
}

/// One-off fingerprint (allocates a buffer; the explorer reuses one).
pub fn fingerprint(w: &World) -> u128 {
    Fingerprinter::default().fingerprint(w)
}
