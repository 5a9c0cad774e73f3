//! Exhaustive breadth-first search over all interleavings.
//!
//! Each state's successors are the worlds reached by one step of each thread
//! that can move. The visited set holds 64-bit fingerprints, never worlds; a
//! node keeps only its parent and the thread that led to it (5 bytes), so a
//! witness is rebuilt by walking parents and replaying.
//!
//! The search goes level by level. A level's states are expanded in chunks,
//! in parallel when `Config::jobs > 1` (cloning, stepping and fingerprinting
//! are the expensive part), and the successors are then merged into the
//! visited set sequentially, in frontier order. Node numbers therefore do
//! not depend on the number of workers, and neither does anything else in
//! the report.
//!
//! Node numbers follow discovery order, which is (depth, schedule)
//! lexicographic order with the crash pseudo-step sorting last. Keeping the
//! smallest node number that satisfies a condition therefore yields the
//! canonical witness: the shortest schedule, and among those the
//! lexicographically least. Shards (`Config::shard`) pick the same witness,
//! which is what lets `merge` reproduce a single run's answers.
//!
//! A final state is one where every thread (and `finally`) has finished, or
//! where nothing can move although some thread has not finished: then the
//! `deadlock` oracle fires and the state is final.
//!
//! **When to stop** (`Config::until`): by default a search stops as soon as
//! every condition is decided (see [`crate::decide`]: a fired oracle decides
//! its `forbid` at once), or at the first violation (`Until::Verdict`), or
//! only when the space is exhausted (`Until::Exhausted`, for the counters).
//! Breadth-first order keeps every witness the shortest there is.
//!
//! **Memory** is a budget (`Config::max_memory`, see [`crate::budget`]):
//! reaching it stops the search cleanly, with verdicts undecided. The
//! depth-first strategy ([`crate::dfs`], SPIN's) holds only the current path
//! and its siblings instead of a whole breadth-first level, so with
//! `--bitstate` its memory is the bit table.
//!
//! **The visited set** holds 64-bit fingerprints (hash compaction, as SPIN's
//! `-DHC` and TLC): 9 bytes per bucket, at most 7/8 full. Two distinct
//! states share a fingerprint with probability about n²/2⁶⁵ over n states
//! (3·10⁻⁴ at 10⁸ states); the report gives the bound for its n.

use crate::budget::Budget;
use crate::decide::{hit, settled_hit, Method, PreSim};
use crate::fingerprint::{Fingerprinter, ThreadHashes};
use crate::schedule::{Schedule, CRASH};
use pinlab_model::footprint::{Aliases, Footprint};
use pinlab_model::ids::ThreadId;
use pinlab_model::oracle::Oracle;
use pinlab_model::program::CondKind;
use pinlab_model::trace::NoTrace;
use pinlab_model::{Cx, Step, World};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Default)]
pub struct Config<'a> {
    /// Stop after this many distinct states (the report says "incomplete").
    pub max_states: Option<u64>,
    /// Do not explore schedules longer than this many steps ("incomplete"
    /// if some state at this depth could still move).
    pub max_depth: Option<u32>,
    /// Stop after this much wall time ("incomplete").
    pub time_limit: Option<Duration>,
    /// Worker threads for expansion; 0 or 1 explores on the calling thread.
    /// The report is the same for every value.
    pub jobs: usize,
    /// SPIN-style supertrace: keep visited states as bits in a table of
    /// 2^N bits (two bit positions per state) instead of exact
    /// fingerprints. Uses far less memory but two states may share bits, so
    /// some states may be skipped: the search is then never complete.
    pub bitstate_log2: Option<u8>,
    /// Explore only part `I` of `N` (0-based) of the state space below the
    /// split depth; `merge` combines the parts.
    pub shard: Option<Shard>,
    /// Partial-order reduction: where one thread's current operation is
    /// independent of everything the others can still do, take only its
    /// step (a persistent set of one). Verdicts are those of the full search;
    /// state counts, witnesses and the path-dependent counters (pin tests,
    /// longest wait) may differ. Off with crash points, which need every
    /// intermediate state.
    pub reduction: bool,
    /// Sleep sets (depth-first search with exact fingerprints only): a
    /// step already taken from an ancestor, and independent of everything
    /// taken since, is not taken again (see `crate::dfs`). Every state is
    /// still visited, so verdicts and state counts are those of the search
    /// without; only transitions (and the per-transition counters: pin
    /// tests, longest wait) drop.
    pub sleep_sets: bool,
    /// Set from outside (Ctrl-C) to stop early with partial results.
    pub stop: Option<&'a AtomicBool>,
    /// Also explore a power loss (then mount and scrub) at every state:
    /// each is a final state where only `forbid` conditions are evaluated.
    pub crash_points: bool,
    /// Called with the number of states so far, every `PROGRESS_EVERY` expansions.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// When the search may stop before the space is exhausted.
    pub until: Until,
    /// Seeded random runs before the search (0: none); a condition they hit
    /// is decided (`Method::Simulation`). Count-based, so deterministic.
    pub presim_runs: u32,
    /// Stop when the process's resident memory reaches this many bytes.
    pub max_memory: Option<u64>,
    pub strategy: Strategy,
}

/// When a search may stop before the space is exhausted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Until {
    /// Explore everything (the counters then cover the whole space).
    #[default]
    Exhausted,
    /// Stop once every condition is decided.
    Decided,
    /// Stop once the verdict is known: at the first violation, or when
    /// every condition is decided.
    Verdict,
}

/// The order states are visited in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Level by level: shortest witnesses, parallel, shardable; holds a
    /// whole level of worlds.
    #[default]
    Bfs,
    /// Depth first, SPIN's: holds only the current path; witnesses are
    /// shrunk afterwards (1-minimal, not shortest).
    Dfs,
}

/// How many frontier states are expanded between merges, progress calls
/// and polls of the stop flag and the clock (per worker).
pub const CHUNK: usize = 1 << 11;

/// How many inserts ahead the breadth-first merge prefetches a visited-set
/// slot: enough to cover a cache miss with the work of the inserts between.
const PREFETCH_AHEAD: usize = 8;

/// Part `index` of `count` (0-based) of a sharded run. Every shard runs the
/// same breadth-first search until a level holds at least
/// `SPLIT_WIDTH × count` states; that level's states are dealt out
/// round-robin, and each shard explores below only its own. Every state is
/// reachable from some state of the split level (or lies above it), so the
/// shards' final states together are all final states. A space that never
/// gets that wide is explored whole by every shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// States per shard at the split level (enough to even out the parts).
pub const SPLIT_WIDTH: usize = 16;

impl std::str::FromStr for Shard {
    type Err = String;

    /// `I/N`, e.g. `0/4`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}`: expected I/N, e.g. 0/4"))?;
        let index: u32 = i.trim().parse().map_err(|_| format!("`{i}`: not a shard number"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("`{n}`: not a shard count"))?;
        if count == 0 || index >= count {
            return Err(format!("`{s}`: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }
}

/// The verdict on one condition.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CondResult {
    pub holds: bool,
    /// `holds` is final. Not so when the search stopped early and the
    /// answer could still change (no violation found *yet*, no witness *yet*).
    pub decided: bool,
    /// For a violated `forbid`: an execution satisfying the condition; for a
    /// violated `always`: one not satisfying it; for a holding `exists`: one
    /// satisfying it. Shortest possible when found by breadth-first search.
    pub witness: Option<Schedule>,
    /// What decided it (`None` while undecided).
    #[serde(default)]
    pub by: Option<Method>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub states: u64,
    pub transitions: u64,
    /// Final states (all threads done, or deadlocked).
    pub finals: u64,
    /// False when a limit or a stop request cut the search short: then
    /// `holds` of `forbid`/`always` means "no violation found so far".
    pub complete: bool,
    pub conds: Vec<CondResult>,
    /// Oracles that fired in some execution, with a schedule to the step
    /// where each first fired (the shortest breadth-first, a 1-minimal one
    /// depth-first or from the simulation).
    pub fired: Vec<(Oracle, Schedule)>,
    /// How often, over all transitions explored, the design consulted its
    /// pin test, and how often the answer disagreed with the ghost count.
    pub pin_tests: PinTestCounts,
    /// The longest a thread stayed blocked, in steps of other threads,
    /// along the explored paths (each state is counted on the first path
    /// that reached it, so this is a lower bound over all executions).
    pub longest_wait_steps: u32,
    /// Bytes copied to bounce buffers in one execution, the most seen
    /// (along the explored paths, as above).
    pub bounce_bytes_max: u64,
    /// Length of the longest schedule explored.
    pub depth: u32,
    /// Bytes the visited set (and, breadth-first, the parent links) occupy
    /// at the end.
    pub visited_bytes: u64,
    /// Why the search is incomplete, when it is.
    pub stopped_by: Option<StopReason>,
    pub elapsed_ms: f64,
    /// The most resident memory seen while searching (bytes; 0 if unknown).
    #[serde(default)]
    pub peak_memory_bytes: u64,
    /// Runs of the simulation before the search.
    #[serde(default)]
    pub presim_runs: u64,
    /// Threads (bit per thread) that end some explored execution with
    /// `thread.err` set: a failure the report warns about when no
    /// condition reads that thread's `err`.
    #[serde(default)]
    pub failed_threads: u16,
    /// The scenario uses a feature the design's kernel did not have
    /// (`Design::unavailable`): nothing was explored, and the verdict is
    /// n/a for this reason.
    #[serde(default)]
    pub not_applicable: Option<String>,
}

/// What cut a search short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    MaxStates,
    MaxDepth,
    Time,
    Interrupted,
    /// Bit-state hashing may have merged distinct states.
    Bitstate,
    /// A shard sees only part of the space.
    Shard,
    /// Every condition (or, with `Until::Verdict`, the verdict) was decided
    /// before the space was exhausted; the counters cover the part explored.
    Decided,
    /// The memory budget (`--max-memory`) was reached.
    Memory,
}

impl StopReason {
    /// A few words, for a matrix cell.
    pub fn describe_short(self) -> &'static str {
        match self {
            StopReason::MaxStates => "max-states",
            StopReason::MaxDepth => "max-depth",
            StopReason::Time => "time limit",
            StopReason::Interrupted => "interrupted",
            StopReason::Bitstate => "bit-state",
            StopReason::Shard => "one shard",
            StopReason::Decided => "decided",
            StopReason::Memory => "memory budget",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            StopReason::MaxStates => "--max-states reached",
            StopReason::MaxDepth => "--max-depth reached",
            StopReason::Time => "--time limit reached",
            StopReason::Interrupted => "interrupted",
            StopReason::Bitstate => "bit-state hashing (states may have been skipped)",
            StopReason::Shard => "one shard of a split run (merge the shards)",
            StopReason::Decided => {
                "stopped once every condition was decided (--exhaustive explores the rest)"
            }
            StopReason::Memory => "--max-memory reached (try --strategy dfs, --bitstate, or `pinlab sim`)",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PinTestCounts {
    pub consulted: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

/// The scenario's verdict under one design.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every condition holds, over the whole state space.
    Pass,
    /// Some condition is decided false (a witness, or a complete search).
    Fail,
    /// The search stopped early and no condition is decided false.
    Unknown,
    /// The scenario needs a feature the design's kernel did not have.
    NotApplicable,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
            Verdict::NotApplicable => "n/a",
        }
    }
}

impl Report {
    /// The report of a cell that was not explored: complete (nothing is
    /// left to find), no condition decided either way.
    pub fn not_applicable(cx: &Cx, why: String) -> Report {
        Report {
            states: 0,
            transitions: 0,
            finals: 0,
            complete: true,
            conds: cx
                .prog
                .conds
                .iter()
                .map(|_| CondResult { holds: true, decided: false, witness: None, by: None })
                .collect(),
            fired: Vec::new(),
            pin_tests: PinTestCounts::default(),
            longest_wait_steps: 0,
            bounce_bytes_max: 0,
            depth: 0,
            visited_bytes: 0,
            stopped_by: None,
            elapsed_ms: 0.0,
            peak_memory_bytes: 0,
            presim_runs: 0,
            failed_threads: 0,
            not_applicable: Some(why),
        }
    }

    /// One rule everywhere: fail if some condition is decided false, pass if
    /// every condition is decided true, unknown otherwise.
    pub fn verdict(&self) -> Verdict {
        if self.not_applicable.is_some() {
            Verdict::NotApplicable
        } else if self.conds.iter().any(|c| !c.holds && c.decided) {
            Verdict::Fail
        } else if self.conds.iter().all(|c| c.holds && c.decided) {
            Verdict::Pass
        } else {
            Verdict::Unknown
        }
    }

    /// An upper bound on the probability that hash compaction merged two
    /// distinct states (n²/2⁶⁵ over the n states stored). Bit-state runs
    /// are never reported complete, so the bound does not apply to them.
    pub fn omission_bound(&self) -> f64 {
        let n = self.states as f64;
        n * n / 2f64.powi(65)
    }
}

/// What a path to a state carries beyond the state itself (not part of
/// the fingerprint: the first path to reach a state wins).
#[derive(Clone, Copy)]
pub(crate) struct PathStats {
    /// Steps each thread has been blocked for, consecutively.
    pub waits: [u16; MAX_THREADS],
    pub bounce_bytes: u64,
}

impl PathStats {
    /// The path extended by a step of `t` reaching `next`, where the
    /// threads in `blocked` tried and could not move.
    pub(crate) fn after(&self, t: ThreadId, blocked: &[bool; MAX_THREADS], next: &World) -> PathStats {
        PathStats {
            waits: std::array::from_fn(|u| {
                if blocked[u] && u != t.idx() {
                    self.waits[u].saturating_add(1)
                } else {
                    0
                }
            }),
            bounce_bytes: self.bounce_bytes + u64::from(next.stats.bounce_bytes),
        }
    }

    pub(crate) fn longest_wait(&self) -> u32 {
        self.waits.iter().copied().max().unwrap_or(0).into()
    }
}

/// Scenario threads plus the `finally` pseudo-thread.
pub(crate) const MAX_THREADS: usize = pinlab_model::limits::THREADS_MAX + 1;

/// A state waiting to be expanded.
struct Item {
    /// Boxed: levels hold hundreds of thousands of these, and moving a
    /// pointer instead of the whole world when the vectors grow halved the
    /// time spent in `memmove` and page faults.
    w: Box<World>,
    th: ThreadHashes,
    node: u32,
    path: PathStats,
}

/// One successor: the thread that moved, the world after, its fingerprint.
pub(crate) struct Succ {
    pub t: ThreadId,
    pub w: Box<World>,
    pub fp: u128,
    pub th: ThreadHashes,
}

/// What expanding a state found (computed in parallel, merged in order).
pub(crate) enum Outcome {
    Moved {
        succs: Vec<Succ>,
        /// Threads whose step was tried and blocked.
        blocked: [bool; MAX_THREADS],
        crash: Option<Crash>,
        /// Oracles set in the expanded state itself.
        fired_before: pinlab_model::oracle::Fired,
    },
    /// Nothing could move: the state is final.
    Final {
        /// Set when some thread had not finished (deadlock or starvation).
        stuck: Option<Oracle>,
        /// Per condition: does the final world satisfy it.
        sat: Vec<bool>,
        /// Threads that end with `thread.err` set (bit per thread).
        failed: u16,
    },
}

/// The power-loss successor of `--crash-points`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Crash {
    pub fp: u128,
    pub new_fired: Vec<Oracle>,
    /// Per condition: a `forbid` whose condition holds after the crash.
    /// Shared: a remembered crash point is handed out without copying.
    pub forbid_sat: std::sync::Arc<[bool]>,
}

/// Expand one state: step every thread that may run. The last candidate
/// steps the state itself instead of a clone (a blocked step leaves the
/// world untouched, so the state is still there if nothing moves).
///
/// Threads in `asleep` (a bit per thread) are not stepped: the sleep set of
/// the depth-first search (`crate::dfs`). They may run, so a state where
/// only they could is not final: it is returned as `Moved` with no
/// successors.
#[allow(clippy::too_many_arguments)]
pub(crate) fn expand(
    cx: &Cx,
    w: Box<World>,
    th: &ThreadHashes,
    crash_points: bool,
    por: Option<&Aliases>,
    fp: &mut Fingerprinter,
    asleep: u16,
) -> Outcome {
    let n = cx.prog.thread_count();
    if let Some(al) = por {
        if let Some(t) = persistent_singleton(cx, &w, al) {
            if asleep & 1 << t.0 != 0 {
                // The persistent set is asleep: nothing here is new.
                return Outcome::Moved {
                    succs: Vec::new(),
                    blocked: [false; MAX_THREADS],
                    crash: None,
                    fired_before: w.fired(),
                };
            }
            let fired_before = w.fired();
            let mut next = w;
            next.stats = Default::default();
            match next.step(cx, t, &mut NoTrace) {
                Step::Ran(_) => {
                    let (f, th) = fp.fingerprint_after(&next, th, t);
                    let succs = vec![Succ { t, w: next, fp: f, th }];
                    return Outcome::Moved {
                        succs,
                        blocked: [false; MAX_THREADS],
                        crash: None,
                        fired_before,
                    };
                }
                // Not enabled after all: expand in full (the step left the
                // world untouched).
                _ => return expand(cx, next, th, crash_points, None, fp, asleep),
            }
        }
    }
    let mut cands = [ThreadId(0); MAX_THREADS];
    let mut k = 0;
    let mut sleeping = false;
    for t in 0..n {
        let tid = ThreadId(t as u8);
        if w.may_run(cx, tid) {
            if asleep & 1 << t != 0 {
                sleeping = true;
                continue;
            }
            cands[k] = tid;
            k += 1;
        }
    }
    let fired_before = w.fired();
    let mut succs = Vec::with_capacity(k);
    let mut blocked = [false; MAX_THREADS];
    let mut own: Option<Box<World>> = Some(w);
    for (i, &tid) in cands[..k].iter().enumerate() {
        let base = own.as_ref().expect("the state is kept until its last candidate runs");
        let in_place = i + 1 == k && !crash_points;
        let mut next = if in_place { own.take().expect("kept") } else { Box::new(World::clone(base)) };
        next.stats = Default::default();
        match next.step(cx, tid, &mut NoTrace) {
            Step::Ran(_) => {
                let (f, th) = fp.fingerprint_after(&next, th, tid);
                succs.push(Succ { t: tid, w: next, fp: f, th });
            }
            Step::Blocked => {
                blocked[tid.idx()] = true;
                if in_place {
                    own = Some(next);
                }
            }
            Step::Finished => {
                if in_place {
                    own = Some(next);
                }
            }
        }
    }
    if !succs.is_empty() || sleeping {
        let crash = if crash_points {
            let c = own.expect("kept when crash points are on");
            debug_assert_eq!(c.fired(), fired_before, "a blocked step fired nothing");
            Some(fp.crash(cx, c))
        } else {
            None
        };
        return Outcome::Moved { succs, blocked, crash, fired_before };
    }
    let mut w = own.expect("nothing moved, so the state was not consumed");
    let stuck = if w.all_done(cx) {
        None
    } else {
        let o = w.stuck_oracle(cx);
        w.fired.set(o);
        Some(o)
    };
    let failed = (0..n).filter(|&t| w.err(ThreadId(t as u8)).is_some()).fold(0u16, |m, t| m | 1 << t);
    Outcome::Final { stuck, sat: cx.prog.conds.iter().map(|c| c.cond.eval(&w)).collect(), failed }
}

/// A thread whose current operation conflicts with nothing any other
/// thread can still do (see `pinlab_model::footprint`): its step alone is a
/// persistent set. The lowest such thread, so the choice is deterministic.
fn persistent_singleton(cx: &Cx, w: &World, al: &Aliases) -> Option<ThreadId> {
    let n = cx.prog.thread_count();
    let mut futures = [Footprint::default(); MAX_THREADS];
    let mut live = 0;
    for (u, f) in futures.iter_mut().enumerate().take(n) {
        let tid = ThreadId(u as u8);
        if !w.thread_done(cx, tid) {
            *f = w.future_footprint(cx, al, tid);
            live += 1;
        }
    }
    if live < 2 {
        // One thread left: nothing to reduce.
        return None;
    }
    (0..n).map(|t| ThreadId(t as u8)).find(|&t| {
        w.may_run(cx, t)
            && w.current_footprint(cx, al, t)
                .is_some_and(|mine| (0..n).all(|u| u == t.idx() || !mine.conflicts(futures[u])))
    })
}

/// The visited set: 64-bit fingerprints (hash compaction), or supertrace bits.
pub(crate) enum Visited {
    Exact(crate::table::FingerprintTable),
    Bits { bits: Vec<u64>, mask: u64 },
}

impl Visited {
    pub(crate) fn new(bitstate_log2: Option<u8>) -> Visited {
        match bitstate_log2 {
            None => Visited::Exact(crate::table::FingerprintTable::new()),
            Some(b) => {
                // 2^36 bits is 8 GiB: enough for any space this model has.
                let b = b.clamp(10, 36);
                Visited::Bits { bits: vec![0; 1usize << (b - 6)], mask: (1u64 << b) - 1 }
            }
        }
    }

    /// Insert; false if (as far as the set can tell) it was already there.
    pub(crate) fn insert(&mut self, fp: u128) -> bool {
        match self {
            // The low half of a 128-bit xxh3: as good as any 64-bit hash.
            Visited::Exact(s) => s.insert(fp as u64),
            Visited::Bits { bits, mask } => {
                // Two independent positions, as SPIN's -DBITSTATE with -k2.
                let mut new = false;
                for h in [fp as u64, (fp >> 64) as u64] {
                    let i = h & *mask;
                    let (word, bit) = ((i >> 6) as usize, 1u64 << (i & 63));
                    new |= bits[word] & bit == 0;
                    bits[word] |= bit;
                }
                new
            }
        }
    }

    /// See `FingerprintTable::prefetch`.
    pub(crate) fn prefetch(&self, fp: u128) {
        match self {
            Visited::Exact(s) => s.prefetch(fp as u64),
            Visited::Bits { bits, mask } => {
                prefetch_index::prefetch_index(bits, ((fp as u64 & mask) >> 6) as usize)
            }
        }
    }

    pub(crate) fn bytes(&self) -> u64 {
        match self {
            Visited::Exact(t) => t.bytes(),
            Visited::Bits { bits, .. } => bits.len() as u64 * 8,
        }
    }
}

/// Parent links, one per node, for rebuilding schedules.
#[derive(Default)]
struct Nodes {
    parent: Vec<u32>,
    thread: Vec<ThreadId>,
}

impl Nodes {
    fn push(&mut self, parent: u32, t: ThreadId) -> u32 {
        self.parent.push(parent);
        self.thread.push(t);
        (self.parent.len() - 1) as u32
    }

    fn len(&self) -> u64 {
        self.parent.len() as u64
    }

    fn schedule(&self, mut i: u32) -> Schedule {
        let mut out = Vec::new();
        while i != 0 {
            out.push(self.thread[i as usize]);
            i = self.parent[i as usize];
        }
        out.reverse();
        Schedule(out)
    }
}

/// Keep the smaller node number: the canonical (shortest, then
/// lexicographically least) schedule.
fn keep_min(slot: &mut Option<u32>, id: u32) {
    *slot = Some(slot.map_or(id, |s| s.min(id)));
}

/// Record that oracle `o` fired on the way to node `id` (keeping the
/// smallest node, as `keep_min`).
fn note_fired(fired: &mut Vec<(Oracle, u32)>, o: Oracle, id: u32) {
    match fired.iter_mut().find(|(f, _)| *f == o) {
        Some((_, n)) => *n = (*n).min(id),
        None => fired.push((o, id)),
    }
}

/// What a search found, before witnesses become schedules. `W` names an
/// execution: a node number (breadth-first) or a schedule (depth-first).
pub(crate) struct Found<W> {
    /// Per condition, the execution that hit it (see `crate::decide`).
    pub hit: Vec<Option<W>>,
    /// Conditions the simulation before the search already decided (they
    /// count as decided for stopping; a search hit still replaces their
    /// witness).
    pub pre: Vec<bool>,
    pub fired: Vec<(Oracle, W)>,
    pub transitions: u64,
    pub finals: u64,
    pub pin_tests: PinTestCounts,
    pub longest_wait_steps: u32,
    pub bounce_bytes_max: u64,
    pub depth: u32,
    pub stopped_by: Option<StopReason>,
    /// A hit was recorded since the last look (depth-first search checks
    /// `done` only then).
    pub fresh: bool,
    /// Threads that end some explored execution with `thread.err` set.
    pub failed_threads: u16,
}

impl<W> Found<W> {
    pub(crate) fn new(cx: &Cx, pre: Vec<bool>) -> Found<W> {
        Found {
            hit: (0..cx.prog.conds.len()).map(|_| None).collect(),
            pre,
            fired: Vec::new(),
            transitions: 0,
            finals: 0,
            pin_tests: PinTestCounts::default(),
            longest_wait_steps: 0,
            bounce_bytes_max: 0,
            depth: 0,
            stopped_by: None,
            fresh: false,
            failed_threads: 0,
        }
    }

    fn decided(&self, i: usize) -> bool {
        self.pre[i] || self.hit[i].is_some()
    }

    /// The same findings with every witness turned into another form
    /// (breadth-first node numbers into schedules).
    pub(crate) fn map<V>(self, f: impl Fn(W) -> V) -> Found<V> {
        Found {
            hit: self.hit.into_iter().map(|h| h.map(&f)).collect(),
            fired: self.fired.into_iter().map(|(o, w)| (o, f(w))).collect(),
            pre: self.pre,
            transitions: self.transitions,
            finals: self.finals,
            pin_tests: self.pin_tests,
            longest_wait_steps: self.longest_wait_steps,
            bounce_bytes_max: self.bounce_bytes_max,
            depth: self.depth,
            stopped_by: self.stopped_by,
            fresh: false,
            failed_threads: self.failed_threads,
        }
    }

    /// Whether the search may stop now.
    pub(crate) fn done(&self, cx: &Cx, until: Until) -> bool {
        let n = self.hit.len();
        match until {
            Until::Exhausted => false,
            Until::Decided => (0..n).all(|i| self.decided(i)),
            Until::Verdict => {
                (0..n).all(|i| self.decided(i))
                    || (0..n).any(|i| self.decided(i) && cx.prog.conds[i].kind != CondKind::Exists)
            }
        }
    }

    /// Count a transition's pin tests.
    pub(crate) fn count(&mut self, w: &World) {
        self.transitions += 1;
        self.pin_tests.consulted += u64::from(w.stats.pin_tests);
        self.pin_tests.false_positives += u64::from(w.stats.false_positives);
        self.pin_tests.false_negatives += u64::from(w.stats.false_negatives);
    }
}

impl Found<u32> {
    /// A new state `id` whose fired oracles changed: note each new oracle
    /// and every condition it settles.
    fn on_new_fired(&mut self, cx: &Cx, w: &World, before: pinlab_model::oracle::Fired, id: u32) {
        for o in w.fired().new_since(before) {
            note_fired(&mut self.fired, o, id);
        }
        // Conditions the simulation decided are still tracked: a search
        // witness, where there is one, is the canonical one and wins.
        for i in 0..self.hit.len() {
            if self.hit[i].is_none() && settled_hit(cx, w, i) {
                keep_min(&mut self.hit[i], id);
            }
        }
    }
}

/// Explore every interleaving of the program under the design (or, per
/// `cfg.until`, enough of them to decide).
pub fn explore(cx: &Cx, init: &World, cfg: &Config) -> Report {
    let start = Instant::now();
    if let Some(why) = cx.design.unavailable(cx.prog) {
        return Report::not_applicable(cx, why);
    }
    let pre = (cfg.presim_runs > 0).then(|| PreSim::run(cx, init, cfg.presim_runs, cfg.crash_points));
    let pre_hit: Vec<bool> = match &pre {
        Some(p) => p.hits.iter().map(Option::is_some).collect(),
        None => vec![false; cx.prog.conds.len()],
    };
    let (found, states, visited_bytes, peak) = if cfg.strategy == Strategy::Dfs {
        crate::dfs::explore(cx, init, cfg, pre_hit)
    } else {
        let (f, nodes, vb, peak) = bfs_on_pool(cx, init, cfg, pre_hit);
        let f = f.map(|n| nodes.schedule(n));
        (f, nodes.len(), vb + nodes.len() * 5, peak)
    };
    report(cx, init, cfg, found, pre.as_ref(), states, visited_bytes, peak, start)
}

/// Turn what a search found into the report: witnesses completed into
/// whole executions, conditions the search left open decided by the
/// simulation where it hit them.
#[allow(clippy::too_many_arguments)]
fn report(
    cx: &Cx,
    init: &World,
    cfg: &Config,
    mut f: Found<Schedule>,
    pre: Option<&PreSim>,
    states: u64,
    visited_bytes: u64,
    peak_memory_bytes: u64,
    start: Instant,
) -> Report {
    if f.stopped_by.is_none() && cfg.bitstate_log2.is_some() {
        f.stopped_by = Some(StopReason::Bitstate);
    }
    let complete = f.stopped_by.is_none();
    let dfs = cfg.strategy == Strategy::Dfs;
    let conds = cx
        .prog
        .conds
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (witness, by) = match (&f.hit[i], pre) {
                (Some(s), _) => {
                    let s = if dfs { crate::dfs::shrink(cx, init, s, i) } else { s.clone() };
                    (Some(s), Some(Method::Search))
                }
                (None, Some(p)) if f.pre[i] => (p.witness(cx, init, i), Some(Method::Simulation)),
                _ => (None, complete.then_some(Method::Search)),
            };
            let holds = match c.kind {
                CondKind::Forbid | CondKind::Always => witness.is_none(),
                CondKind::Exists => witness.is_some(),
            };
            // A witness decides its condition; its absence decides only a
            // complete search.
            let decided = complete || witness.is_some();
            CondResult { holds, decided, witness, by }
        })
        .collect();
    let mut fired: Vec<(Oracle, Schedule)> = f
        .fired
        .iter()
        .map(|(o, s)| (*o, if dfs { crate::dfs::shrink_fired(cx, init, s, *o) } else { s.clone() }))
        .collect();
    if let Some(p) = pre {
        for (o, _) in &p.fired {
            if !fired.iter().any(|(g, _)| g == o) {
                if let Some(s) = p.fired_schedule(cx, init, *o) {
                    fired.push((*o, s));
                }
            }
        }
    }
    fired.sort_by_key(|(o, _)| *o);
    Report {
        states,
        transitions: f.transitions,
        finals: f.finals,
        complete,
        conds,
        fired,
        pin_tests: f.pin_tests,
        longest_wait_steps: f.longest_wait_steps,
        bounce_bytes_max: f.bounce_bytes_max,
        depth: f.depth,
        visited_bytes,
        stopped_by: f.stopped_by,
        elapsed_ms: start.elapsed().as_secs_f64() * 1e3,
        peak_memory_bytes,
        presim_runs: pre.map_or(0, |p| p.runs),
        failed_threads: f.failed_threads,
        not_applicable: None,
    }
}

fn bfs_on_pool(cx: &Cx, init: &World, cfg: &Config, pre: Vec<bool>) -> (Found<u32>, Nodes, u64, u64) {
    if cfg.jobs <= 1 {
        return bfs(cx, init, cfg, false, pre);
    }
    // Already on a rayon pool (e.g. `compare` running cells in parallel):
    // share its workers, so a big scenario left running alone at the end
    // still gets every core.
    if rayon::current_thread_index().is_some() {
        return bfs(cx, init, cfg, true, pre);
    }
    match rayon::ThreadPoolBuilder::new().num_threads(cfg.jobs).build() {
        Ok(p) => p.install(|| bfs(cx, init, cfg, true, pre)),
        Err(_) => bfs(cx, init, cfg, false, pre),
    }
}

/// Breadth-first search; returns what it found, its parent links, the
/// visited set's bytes and the peak resident memory.
fn bfs(cx: &Cx, init: &World, cfg: &Config, parallel: bool, pre: Vec<bool>) -> (Found<u32>, Nodes, u64, u64) {
    let start = Instant::now();
    let mut seen = Visited::new(cfg.bitstate_log2);
    let mut budget = Budget::new(cfg.max_memory);
    let mut nodes = Nodes::default();
    let mut fp = Fingerprinter::default();
    let mut found: Found<u32> = Found::new(cx, pre);
    let (init_fp, init_th) = fp.fingerprint_all(init);
    seen.insert(init_fp);
    nodes.push(0, ThreadId(0));
    found.on_new_fired(cx, init, Default::default(), 0);
    let mut frontier = vec![Item {
        w: Box::new(init.clone()),
        th: init_th,
        node: 0,
        path: PathStats { waits: [0; MAX_THREADS], bounce_bytes: 0 },
    }];
    let mut split_done = false;
    let chunk = CHUNK * cfg.jobs.max(1);
    let aliases = (cfg.reduction && !cfg.crash_points)
        .then(|| Aliases::new(cx.prog, cx.design))
        .filter(|al| al.may_reduce(cx.prog));
    let por = aliases.as_ref();

    'levels: while !frontier.is_empty() {
        if found.done(cx, cfg.until) {
            found.stopped_by = Some(StopReason::Decided);
            break;
        }
        let mut next_level: Vec<Item> = Vec::new();
        let at_split =
            !split_done && cfg.shard.is_some_and(|s| frontier.len() >= SPLIT_WIDTH * s.count as usize);
        split_done |= at_split;
        let mut level = std::mem::take(&mut frontier).into_iter().enumerate().peekable();
        while level.peek().is_some() {
            if cfg.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                found.stopped_by = Some(StopReason::Interrupted);
                break 'levels;
            }
            if cfg.time_limit.is_some_and(|t| start.elapsed() >= t) {
                found.stopped_by = Some(StopReason::Time);
                break 'levels;
            }
            if budget.exceeded(seen.bytes() + nodes.len() * 5) {
                found.stopped_by = Some(StopReason::Memory);
                break 'levels;
            }
            let mut batch: Vec<Item> = Vec::with_capacity(chunk);
            for (pos, it) in level.by_ref() {
                if at_split && cfg.shard.is_some_and(|s| pos as u32 % s.count != s.index) {
                    continue;
                }
                batch.push(it);
                if batch.len() == chunk {
                    break;
                }
            }
            let expand_item = |f: &mut Fingerprinter, it: Item| {
                (expand(cx, it.w, &it.th, cfg.crash_points, por, f, 0), it.path, it.node)
            };
            let outcomes: Vec<(Outcome, PathStats, u32)> = if parallel {
                batch.into_par_iter().map_init(Fingerprinter::default, expand_item).collect()
            } else {
                batch.into_iter().map(|it| expand_item(&mut fp, it)).collect()
            };
            // The successors' fingerprints in merge order, to prefetch
            // their slots a few inserts ahead.
            let ahead: Vec<u128> = outcomes
                .iter()
                .flat_map(|(o, ..)| match o {
                    Outcome::Moved { succs, .. } => succs.as_slice(),
                    Outcome::Final { .. } => &[],
                })
                .map(|s| s.fp)
                .collect();
            for &f in ahead.iter().take(PREFETCH_AHEAD) {
                seen.prefetch(f);
            }
            let mut merged = 0;
            for (out, path, node) in outcomes {
                match out {
                    Outcome::Final { stuck, sat, failed } => {
                        found.finals += 1;
                        found.failed_threads |= failed;
                        found.bounce_bytes_max = found.bounce_bytes_max.max(path.bounce_bytes);
                        if let Some(o) = stuck {
                            note_fired(&mut found.fired, o, node);
                        }
                        for (i, v) in sat.into_iter().enumerate() {
                            if hit(cx.prog.conds[i].kind, v) {
                                keep_min(&mut found.hit[i], node);
                            }
                        }
                    }
                    Outcome::Moved { succs, blocked, crash, fired_before } => {
                        for Succ { t, w: next, fp: key, th } in succs {
                            if let Some(&f) = ahead.get(merged + PREFETCH_AHEAD) {
                                seen.prefetch(f);
                            }
                            merged += 1;
                            found.count(&next);
                            if !seen.insert(key) {
                                continue;
                            }
                            // A new state past a limit: the space goes on
                            // beyond what this search will see.
                            if cfg.max_depth.is_some_and(|d| found.depth >= d) {
                                found.stopped_by.get_or_insert(StopReason::MaxDepth);
                                continue;
                            }
                            if cfg.max_states.is_some_and(|m| nodes.len() >= m) {
                                found.stopped_by.get_or_insert(StopReason::MaxStates);
                                continue;
                            }
                            let id = nodes.push(node, t);
                            let path = path.after(t, &blocked, &next);
                            found.longest_wait_steps = found.longest_wait_steps.max(path.longest_wait());
                            if next.fired() != fired_before {
                                found.on_new_fired(cx, &next, fired_before, id);
                            }
                            next_level.push(Item { w: next, th, node: id, path });
                        }
                        if let Some(c) = crash {
                            if !seen.insert(c.fp) {
                            } else if cfg.max_states.is_some_and(|m| nodes.len() >= m) {
                                found.stopped_by.get_or_insert(StopReason::MaxStates);
                            } else {
                                let id = nodes.push(node, CRASH);
                                found.transitions += 1;
                                found.finals += 1;
                                for o in c.new_fired {
                                    note_fired(&mut found.fired, o, id);
                                }
                                for (i, &v) in c.forbid_sat.iter().enumerate() {
                                    if v {
                                        keep_min(&mut found.hit[i], id);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if let Some(p) = cfg.progress {
                p(nodes.len());
            }
            // Node numbers grow in (depth, schedule) order, so the first
            // hit of a condition is its canonical witness: stopping here,
            // mid-level, loses no shorter one.
            if found.done(cx, cfg.until) {
                found.stopped_by = Some(StopReason::Decided);
                break 'levels;
            }
        }
        if !next_level.is_empty() {
            found.depth += 1;
        }
        frontier = next_level;
    }
    if found.stopped_by.is_none() && split_done && cfg.shard.is_some_and(|s| s.count > 1) {
        found.stopped_by = Some(StopReason::Shard);
    }
    let vb = seen.bytes();
    (found, nodes, vb, budget.peak)
}
