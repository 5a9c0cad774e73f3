//! Depth-first search, SPIN's order (`--strategy dfs`).
//!
//! Breadth-first search holds a whole level of worlds, and the levels of an
//! interleaving space grow geometrically: that, not the visited set, is what
//! runs a big search out of memory. Depth-first search holds only the
//! current path and, per state on it, the successors not yet visited: about
//! depth × branching worlds, a few megabytes. With `--bitstate` its memory
//! is then the bit table, as in SPIN.
//!
//! The price: a witness is the first path that hit its condition, not the
//! shortest. Every witness is shrunk afterwards with [`crate::minimise`]
//! (1-minimal, deterministic) and completed into a whole execution. The
//! visited set, the reduction, the early decisions and the limits are
//! those of the breadth-first search ([`crate::search`]); the state space
//! is the same, so verdicts are the same (tested in `tests/decide.rs`).
//! Parallel expansion and shards need levels and are breadth-first only.
//!
//! # Sleep sets
//!
//! With `Config::sleep_sets` (and an exact visited set) the search keeps,
//! per state on the path, a *sleep set* (Godefroid, "Partial-Order Methods
//! for the Verification of Concurrent Systems", 1996, ch. 5): the threads
//! whose next step was already taken from an ancestor and is independent
//! of every step taken since, by the step footprints of
//! `pinlab_model::footprint::step`. Such a step would only reach, in the
//! other order, a state the earlier branch reaches too, so it is not taken.
//! A state's children inherit the sleeping threads whose steps commute
//! with the step taken, plus the siblings explored before it.
//!
//! With a visited set this needs one more rule, or a state first reached
//! with a thread asleep would never take that thread's step, though a later
//! path reaching it with the thread awake relies on it: each state keeps
//! the sleep set it was explored with; reached again with a sleep set that
//! lacks some of those threads, it takes just their steps, and keeps the
//! intersection (Godefroid, fig. 5.3). With that rule every reachable state
//! is visited (the steps are those of the full search, only taken fewer
//! times): state counts, final states, oracles and verdicts are those of
//! the search without sleep sets, which `tests/sleep.rs` checks on every
//! suite scenario and design whose space has at most 200 k states (294 of
//! 301 cells). Step footprints count the ghost version
//! clock as a resource, so the two orders of commuting steps reach equal
//! worlds, not merely equal up to renaming; the same test runs both orders
//! of every independent pair it meets.

use crate::budget::Budget;
use crate::decide::{hit, outcome_hits, settled_hit, MAX_STEPS};
use crate::fingerprint::{Fingerprinter, ThreadHashes};
use crate::minimise::minimise;
use crate::schedule::{Schedule, CRASH};
use crate::search::{expand, Config, Found, Outcome, PathStats, StopReason, Succ, Visited, MAX_THREADS};
use pinlab_model::footprint::step::StepFootprint;
use pinlab_model::footprint::Aliases;
use pinlab_model::ids::ThreadId;
use pinlab_model::oracle::{Fired, Oracle};
use pinlab_model::{Cx, World};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// A state on the current path and the successors still to visit.
struct Frame {
    succs: std::vec::IntoIter<Succ>,
    blocked: [bool; MAX_THREADS],
    fired_before: Fired,
    path: PathStats,
    /// The state's sleep set plus the threads whose steps were taken from
    /// it so far (a bit per thread); always 0 without sleep sets.
    sleep: u16,
    /// Each thread's next-step footprint in this state (sleep sets only).
    fps: [StepFootprint; MAX_THREADS],
}

/// The visited set. With sleep sets, also the sleep set each state was
/// explored with, kept only where it is not empty (most states).
enum Seen {
    Plain(Visited),
    Sleep { all: FxHashSet<u64>, asleep: FxHashMap<u64, u16> },
}

/// What reaching a state with a given sleep set asks for.
enum Reached {
    New,
    /// Explored before with no thread asleep that is awake now.
    Covered,
    /// Explored before with these threads asleep that are awake now: take
    /// their steps.
    Awake(u16),
}

impl Seen {
    fn new(cfg: &Config) -> Seen {
        if cfg.sleep_sets && cfg.bitstate_log2.is_none() {
            Seen::Sleep { all: FxHashSet::default(), asleep: FxHashMap::default() }
        } else {
            Seen::Plain(Visited::new(cfg.bitstate_log2))
        }
    }

    /// Start loading `fp`'s slot (see `FingerprintTable::prefetch`).
    fn prefetch(&self, fp: u128) {
        if let Seen::Plain(v) = self {
            v.prefetch(fp);
        }
    }

    fn sleeps(&self) -> bool {
        matches!(self, Seen::Sleep { .. })
    }

    fn reach(&mut self, fp: u128, sleep: u16) -> Reached {
        match self {
            Seen::Plain(v) => {
                if v.insert(fp) {
                    Reached::New
                } else {
                    Reached::Covered
                }
            }
            Seen::Sleep { all, asleep } => {
                let key = fp as u64;
                if all.insert(key) {
                    if sleep != 0 {
                        asleep.insert(key, sleep);
                    }
                    return Reached::New;
                }
                let Some(stored) = asleep.get_mut(&key) else { return Reached::Covered };
                let awake = *stored & !sleep;
                if awake == 0 {
                    return Reached::Covered;
                }
                *stored &= sleep;
                if *stored == 0 {
                    asleep.remove(&key);
                }
                Reached::Awake(awake)
            }
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            Seen::Plain(v) => v.bytes(),
            // hashbrown: one control byte per bucket beside the entry.
            Seen::Sleep { all, asleep } => {
                (all.capacity() as u64 * 8 / 7) * (8 + 1) + (asleep.capacity() as u64 * 8 / 7) * (16 + 1)
            }
        }
    }
}

/// Whether a state's footprints can matter: something sleeps, or two
/// threads may move (the first step taken then sleeps for the second).
fn needs_footprints(cx: &Cx, w: &World, sleep: u16) -> bool {
    sleep != 0 || (0..cx.prog.thread_count()).filter(|&t| w.may_run(cx, ThreadId(t as u8))).nth(1).is_some()
}

/// Each thread's next-step footprint in `w` (only those that may run matter).
fn footprints(cx: &Cx, w: &World) -> [StepFootprint; MAX_THREADS] {
    let mut fps = [StepFootprint::ALL; MAX_THREADS];
    for (t, f) in fps.iter_mut().enumerate().take(cx.prog.thread_count()) {
        if w.may_run(cx, ThreadId(t as u8)) {
            *f = w.step_footprint(cx, ThreadId(t as u8));
        }
    }
    fps
}

/// How many successors are taken between polls of the stop flag, the
/// clock and the memory budget.
const POLL_EVERY: u32 = 1 << 12;

fn note_fired(found: &mut Found<Schedule>, o: Oracle, trail: &[ThreadId]) {
    if !found.fired.iter().any(|(f, _)| *f == o) {
        found.fired.push((o, Schedule(trail.to_vec())));
    }
}

/// Depth-first search; returns what it found, the number of states, the
/// visited set's bytes and the peak resident memory.
pub(crate) fn explore(
    cx: &Cx,
    init: &World,
    cfg: &Config,
    pre: Vec<bool>,
) -> (Found<Schedule>, u64, u64, u64) {
    let start = Instant::now();
    let mut seen = Seen::new(cfg);
    let mut budget = Budget::new(cfg.max_memory);
    let mut fp = Fingerprinter::default();
    let mut found: Found<Schedule> = Found::new(cx, pre);
    let aliases = (cfg.reduction && !cfg.crash_points)
        .then(|| Aliases::new(cx.prog, cx.design))
        .filter(|al| al.may_reduce(cx.prog));
    let por = aliases.as_ref();
    let mut states = 1u64;
    let mut trail: Vec<ThreadId> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let (init_fp, init_th) = fp.fingerprint_all(init);
    seen.reach(init_fp, 0);
    on_new_fired(cx, &mut found, init, Fired::default(), &trail);
    let zero = PathStats { waits: [0; MAX_THREADS], bounce_bytes: 0 };
    let root = Box::new(init.clone());
    if visit(
        cx,
        cfg,
        por,
        &mut fp,
        &mut seen,
        &mut found,
        &mut states,
        &mut stack,
        &trail,
        root,
        &init_th,
        zero,
        0,
    ) {
        // The initial state is final: nothing to pop.
    }
    let mut polls = 0u32;
    while let Some(top) = stack.last_mut() {
        polls += 1;
        if polls == POLL_EVERY {
            polls = 0;
            if cfg.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                found.stopped_by = Some(StopReason::Interrupted);
                break;
            }
            if cfg.time_limit.is_some_and(|t| start.elapsed() >= t) {
                found.stopped_by = Some(StopReason::Time);
                break;
            }
            if budget.exceeded(seen.bytes()) {
                found.stopped_by = Some(StopReason::Memory);
                break;
            }
            if let Some(p) = cfg.progress {
                p(states);
            }
        }
        let Some(Succ { t, w: next, fp: key, th }) = top.succs.next() else {
            stack.pop();
            // Every frame but the root was entered by a move.
            if !stack.is_empty() {
                trail.pop();
            }
            continue;
        };
        // The child sleeps on what slept here and commutes with `t`'s
        // step, and on the siblings taken before it that do.
        let mut sleep = 0u16;
        let mut z = top.sleep;
        while z != 0 {
            let u = z.trailing_zeros() as usize;
            z &= z - 1;
            if !top.fps[u].conflicts(top.fps[t.idx()]) {
                sleep |= 1 << u;
            }
        }
        if seen.sleeps() {
            top.sleep |= 1 << t.0;
        }
        found.count(&next);
        let reached = seen.reach(key, sleep);
        if matches!(reached, Reached::Covered) {
            continue;
        }
        if cfg.max_depth.is_some_and(|d| trail.len() as u32 >= d) {
            found.stopped_by.get_or_insert(StopReason::MaxDepth);
            continue;
        }
        if let Reached::Awake(awake) = reached {
            // Seen before, but with steps asleep that are awake now: take
            // just those, from this path.
            let path = top.path.after(t, &top.blocked, &next);
            let fps = footprints(cx, &next);
            match expand(cx, next, &th, false, por, &mut fp, !awake) {
                Outcome::Moved { succs, blocked, fired_before, .. } => {
                    trail.push(t);
                    stack.push(Frame { succs: succs.into_iter(), blocked, fired_before, path, sleep, fps });
                }
                Outcome::Final { .. } => unreachable!("a state with a sleeping thread is not final"),
            }
            continue;
        }
        if cfg.max_states.is_some_and(|m| states >= m) {
            found.stopped_by.get_or_insert(StopReason::MaxStates);
            continue;
        }
        states += 1;
        let path = top.path.after(t, &top.blocked, &next);
        let before = top.fired_before;
        found.longest_wait_steps = found.longest_wait_steps.max(path.longest_wait());
        trail.push(t);
        found.depth = found.depth.max(trail.len() as u32);
        if next.fired() != before {
            on_new_fired(cx, &mut found, &next, before, &trail);
        }
        if !visit(
            cx,
            cfg,
            por,
            &mut fp,
            &mut seen,
            &mut found,
            &mut states,
            &mut stack,
            &trail,
            next,
            &th,
            path,
            sleep,
        ) {
            // A final state: no frame was pushed for it.
            trail.pop();
        }
        // Only a new hit can complete the decisions.
        if std::mem::take(&mut found.fresh) && found.done(cx, cfg.until) {
            found.stopped_by = Some(StopReason::Decided);
            break;
        }
    }
    let vb = seen.bytes();
    (found, states, vb, budget.peak)
}

fn on_new_fired(cx: &Cx, found: &mut Found<Schedule>, w: &World, before: Fired, trail: &[ThreadId]) {
    for o in w.fired().new_since(before) {
        note_fired(found, o, trail);
    }
    for i in 0..found.hit.len() {
        if found.hit[i].is_none() && settled_hit(cx, w, i) {
            found.hit[i] = Some(Schedule(trail.to_vec()));
            found.fresh = true;
        }
    }
}

/// Expand `w`, reached by `trail`: push a frame for its successors (true),
/// or record it as final (false).
#[allow(clippy::too_many_arguments)]
fn visit(
    cx: &Cx,
    cfg: &Config,
    por: Option<&Aliases>,
    fp: &mut Fingerprinter,
    seen: &mut Seen,
    found: &mut Found<Schedule>,
    states: &mut u64,
    stack: &mut Vec<Frame>,
    trail: &[ThreadId],
    w: Box<World>,
    th: &ThreadHashes,
    path: PathStats,
    sleep: u16,
) -> bool {
    let fps = if seen.sleeps() && needs_footprints(cx, &w, sleep) {
        footprints(cx, &w)
    } else {
        [StepFootprint::ALL; MAX_THREADS]
    };
    match expand(cx, w, th, cfg.crash_points, por, fp, sleep) {
        Outcome::Final { stuck, sat, failed } => {
            found.finals += 1;
            found.failed_threads |= failed;
            found.bounce_bytes_max = found.bounce_bytes_max.max(path.bounce_bytes);
            if let Some(o) = stuck {
                note_fired(found, o, trail);
            }
            for (i, v) in sat.into_iter().enumerate() {
                if found.hit[i].is_none() && hit(cx.prog.conds[i].kind, v) {
                    found.hit[i] = Some(Schedule(trail.to_vec()));
                    found.fresh = true;
                }
            }
            false
        }
        Outcome::Moved { succs, blocked, crash, fired_before } => {
            if let Some(c) = crash {
                let new = matches!(seen.reach(c.fp, 0), Reached::New);
                if new && cfg.max_states.is_none_or(|m| *states < m) {
                    *states += 1;
                    found.transitions += 1;
                    found.finals += 1;
                    let mut at: Vec<ThreadId> = trail.to_vec();
                    at.push(CRASH);
                    for o in c.new_fired {
                        note_fired(found, o, &at);
                    }
                    for (i, &v) in c.forbid_sat.iter().enumerate() {
                        if v && found.hit[i].is_none() {
                            found.hit[i] = Some(Schedule(at.clone()));
                            found.fresh = true;
                        }
                    }
                }
            }
            for s in &succs {
                seen.prefetch(s.fp);
            }
            stack.push(Frame { succs: succs.into_iter(), blocked, fired_before, path, sleep, fps });
            true
        }
    }
}

/// Shrink a depth-first witness of condition `i` (1-minimal).
pub(crate) fn shrink(cx: &Cx, init: &World, s: &Schedule, i: usize) -> Schedule {
    let fails = |o: &crate::sim::Outcome| outcome_hits(cx, o, i);
    minimise(cx, init, s, MAX_STEPS, &fails)
        .map_or_else(|| s.clone(), |m| crate::decide::witness_from(cx, init, m, i))
}

/// Shrink a depth-first schedule on which oracle `o` fires, to the step
/// where it first fires.
pub(crate) fn shrink_fired(cx: &Cx, init: &World, s: &Schedule, o: Oracle) -> Schedule {
    let fails = |out: &crate::sim::Outcome| out.fired.contains(&o);
    let full = minimise(cx, init, s, MAX_STEPS, &fails).map_or_else(|| s.clone(), |m| m.completed);
    crate::decide::firing_prefix(cx, init, &full, o).unwrap_or(full)
}
