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

use crate::budget::Budget;
use crate::decide::{hit, outcome_hits, settled_hit, MAX_STEPS};
use crate::fingerprint::Fingerprinter;
use crate::minimise::minimise;
use crate::schedule::{Schedule, CRASH};
use crate::search::{expand, Config, Found, Outcome, PathStats, StopReason, Succ, Visited, MAX_THREADS};
use pinlab_model::footprint::Aliases;
use pinlab_model::ids::ThreadId;
use pinlab_model::oracle::{Fired, Oracle};
use pinlab_model::{Cx, World};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// A state on the current path and the successors still to visit.
struct Frame {
    succs: std::vec::IntoIter<Succ>,
    blocked: [bool; MAX_THREADS],
    fired_before: Fired,
    path: PathStats,
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
    let mut seen = Visited::new(cfg.bitstate_log2);
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
    seen.insert(fp.fingerprint(init));
    on_new_fired(cx, &mut found, init, Fired::default(), &trail);
    let zero = PathStats { waits: [0; MAX_THREADS], bounce_bytes: 0 };
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
        Box::new(init.clone()),
        zero,
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
        let Some(Succ { t, w: next, fp: key }) = top.succs.next() else {
            stack.pop();
            // Every frame but the root was entered by a move.
            if !stack.is_empty() {
                trail.pop();
            }
            continue;
        };
        found.count(&next);
        if !seen.insert(key) {
            continue;
        }
        if cfg.max_depth.is_some_and(|d| trail.len() as u32 >= d) {
            found.stopped_by.get_or_insert(StopReason::MaxDepth);
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
        if !visit(cx, cfg, por, &mut fp, &mut seen, &mut found, &mut states, &mut stack, &trail, next, path) {
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
    seen: &mut Visited,
    found: &mut Found<Schedule>,
    states: &mut u64,
    stack: &mut Vec<Frame>,
    trail: &[ThreadId],
    w: Box<World>,
    path: PathStats,
) -> bool {
    match expand(cx, w, cfg.crash_points, por, fp) {
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
                if seen.insert(c.fp) && cfg.max_states.is_none_or(|m| *states < m) {
                    *states += 1;
                    found.transitions += 1;
                    found.finals += 1;
                    let mut at: Vec<ThreadId> = trail.to_vec();
                    at.push(CRASH);
                    for o in c.new_fired {
                        note_fired(found, o, &at);
                    }
                    for (i, v) in c.forbid_sat.into_iter().enumerate() {
                        if v && found.hit[i].is_none() {
                            found.hit[i] = Some(Schedule(at.clone()));
                            found.fresh = true;
                        }
                    }
                }
            }
            stack.push(Frame { succs: succs.into_iter(), blocked, fired_before, path });
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
