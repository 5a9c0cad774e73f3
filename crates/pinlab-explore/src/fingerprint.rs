//! 128-bit state fingerprints. The visited set stores these, never worlds:
//! at 2^-128 per pair a collision among a billion states is not a concern.

use pinlab_model::World;
use std::hash::Hash;
use xxhash_rust::xxh3::Xxh3;

pub fn fingerprint(w: &World) -> u128 {
    let mut h = Xxh3::new();
    w.hash(&mut h);
    h.digest128()
}
