//! 128-bit state fingerprints. The visited set stores their low 64 bits
//! (hash compaction; the omission bound is in `search`), bit-state hashing
//! both halves as two independent positions.
//!
//! `derive(Hash)` feeds a hasher many tiny writes (one per field); a
//! streaming 128-bit hash pays its per-call overhead on each. So the world is
//! first serialised through `Hash` into a reused byte buffer, then hashed in
//! one `xxh3_128` call.
//!
//! **Incrementally, per thread.** A step of thread `t` changes no other
//! thread's state (registers, op state, `pc`, `err`: only `t`'s own step
//! writes them) except where it says so (`StepStats::other_threads`), and
//! the threads are a third of a world's bytes. So each thread's state is
//! hashed on its own (`xxh3_64`), the hashes travel with the world through
//! the search ([`ThreadHashes`]), and a successor rehashes only the threads
//! its step changed: the fingerprint is `xxh3_128` over
//! the rest of the world followed by the threads' hashes. Two distinct
//! states then also share a fingerprint when two distinct thread states
//! share a 64-bit hash: at most m²/2⁶⁵ over the m thread states hashed, a
//! few thousand in any search, far below the visited set's own bound.
//! Builds with debug assertions (the tests) hash every thread again and
//! check that the ones carried over did not change.

use pinlab_model::ids::ThreadId;
use pinlab_model::World;
use std::hash::{Hash, Hasher};

/// Each thread's sub-hash, indexed by thread (`finally` last).
pub(crate) type ThreadHashes = [u64; crate::search::MAX_THREADS];

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
        self.fingerprint_all(w).0
    }

    /// The fingerprint of `w`, hashing every thread.
    pub(crate) fn fingerprint_all(&mut self, w: &World) -> (u128, ThreadHashes) {
        let mut th = [0; crate::search::MAX_THREADS];
        for (h, ts) in th.iter_mut().zip(&w.threads) {
            *h = self.thread_hash(ts);
        }
        (self.combine(w, &th), th)
    }

    /// The fingerprint of `w`, reached by a step of `moved` from a state
    /// whose threads hashed to `parent`.
    pub(crate) fn fingerprint_after(
        &mut self,
        w: &World,
        parent: &ThreadHashes,
        moved: ThreadId,
    ) -> (u128, ThreadHashes) {
        let mut th = *parent;
        th[moved.idx()] = self.thread_hash(&w.threads[moved.idx()]);
        let mut others = w.stats.other_threads;
        while others != 0 {
            let u = others.trailing_zeros() as usize;
            others &= others - 1;
            th[u] = self.thread_hash(&w.threads[u]);
        }
        if cfg!(debug_assertions) {
            let (_, all) = self.fingerprint_all(w);
            assert_eq!(all, th, "a step of thread {} changed another thread's state", moved.0);
        }
        (self.combine(w, &th), th)
    }

    fn thread_hash(&mut self, ts: &pinlab_model::world::ThreadState) -> u64 {
        self.buf.clear();
        ts.hash(self);
        xxhash_rust::xxh3::xxh3_64(&self.buf)
    }

    /// Everything but the threads, then the threads' hashes. Destructured,
    /// so a field added to `World` does not compile until it is placed here.
    fn combine(&mut self, w: &World, th: &ThreadHashes) -> u128 {
        let World {
            mem,
            procs,
            files,
            fss,
            disks,
            pinsets,
            odp,
            mr_count,
            names,
            threads,
            ghost,
            fired,
            ver_clock,
            zero_pfn,
            stats: _,
        } = w;
        self.buf.clear();
        mem.hash(self);
        procs.hash(self);
        files.hash(self);
        fss.hash(self);
        disks.hash(self);
        pinsets.hash(self);
        odp.hash(self);
        mr_count.hash(self);
        names.hash(self);
        ghost.hash(self);
        fired.hash(self);
        ver_clock.hash(self);
        zero_pfn.hash(self);
        for h in &th[..threads.len()] {
            self.buf.extend_from_slice(&h.to_le_bytes());
        }
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
