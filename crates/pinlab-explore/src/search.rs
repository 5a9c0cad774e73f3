//! Exhaustive breadth-first search over all interleavings.
//!
//! Each state's successors are the worlds reached by one step of each thread
//! that can move. The visited set maps fingerprints to a node index; a node
//! keeps only its parent and the thread that led to it, so a witness is
//! rebuilt by walking parents and replaying. Breadth-first order makes every
//! witness a shortest schedule reaching its final state.
//!
//! A final state is one where every thread (and `finally`) has finished, or
//! where nothing can move although some thread has not finished: then the
//! `deadlock` oracle fires and the state is final.

use crate::fingerprint::Fingerprinter;
use crate::schedule::{Schedule, CRASH};
use pinlab_model::ids::ThreadId;
use pinlab_model::oracle::Oracle;
use pinlab_model::program::CondKind;
use pinlab_model::trace::NoTrace;
use pinlab_model::{Cx, Step, World};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Clone, Copy, Default)]
pub struct Config<'a> {
    /// Stop after this many distinct states (the report says "incomplete").
    pub max_states: Option<u64>,
    /// Set from outside (Ctrl-C) to stop early with partial results.
    pub stop: Option<&'a AtomicBool>,
    /// Also explore a power loss (then mount and scrub) at every state:
    /// each is a final state where only `forbid` conditions are evaluated.
    pub crash_points: bool,
    /// Called with the number of states so far, every `PROGRESS_EVERY` expansions.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// How often `Config::progress` is called and the stop flag polled.
pub const PROGRESS_EVERY: usize = 1 << 14;

/// The verdict on one condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondResult {
    pub holds: bool,
    /// `holds` is final. Not so when the search stopped early and the
    /// answer could still change (no violation found *yet*, no witness *yet*).
    pub decided: bool,
    /// For a violated `forbid`: an execution satisfying the condition; for a
    /// violated `always`: one not satisfying it; for a holding `exists`: one
    /// satisfying it. Shortest possible.
    pub witness: Option<Schedule>,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub states: u64,
    pub transitions: u64,
    /// Final states (all threads done, or deadlocked).
    pub finals: u64,
    /// False when a limit or a stop request cut the search short: then
    /// `holds` of `forbid`/`always` means "no violation found so far".
    pub complete: bool,
    pub conds: Vec<CondResult>,
    /// Oracles that fired in some execution, with a shortest schedule to the
    /// step where each first fired.
    pub fired: Vec<(Oracle, Schedule)>,
    /// How often, over all transitions explored, the design consulted its
    /// pin test, and how often the answer disagreed with the ghost count.
    pub pin_tests: PinTestCounts,
    /// The longest a thread stayed blocked, in steps of other threads,
    /// along the explored paths (breadth-first: each state is reached by a
    /// shortest path, so this is a lower bound over all executions).
    pub longest_wait_steps: u32,
    /// Bytes copied to bounce buffers in one execution, the most seen
    /// (along the explored paths, as above).
    pub bounce_bytes_max: u64,
    pub elapsed_ms: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
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
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
        }
    }
}

impl Report {
    pub fn verdict(&self) -> Verdict {
        if self.conds.iter().any(|c| !c.holds && c.decided) {
            Verdict::Fail
        } else if self.complete && self.conds.iter().all(|c| c.holds) {
            Verdict::Pass
        } else {
            Verdict::Unknown
        }
    }
}

/// What a path to a state carries beyond the state itself (not part of
/// the fingerprint: the first path to reach a state wins).
struct PathStats {
    /// Steps each thread has been blocked for, consecutively.
    waits: [u16; MAX_THREADS],
    bounce_bytes: u64,
}

/// Scenario threads plus the `finally` pseudo-thread.
const MAX_THREADS: usize = pinlab_model::limits::THREADS_MAX + 1;

struct Node {
    parent: u32,
    thread: ThreadId,
}

fn schedule_of(nodes: &[Node], mut i: u32) -> Schedule {
    let mut out = Vec::new();
    while i != 0 {
        out.push(nodes[i as usize].thread);
        i = nodes[i as usize].parent;
    }
    out.reverse();
    Schedule(out)
}

/// Explore every interleaving of the program under the design.
pub fn explore(cx: &Cx, init: &World, cfg: &Config) -> Report {
    let start = Instant::now();
    let n_threads = cx.prog.thread_count();
    let mut seen: FxHashMap<u128, u32> = FxHashMap::default();
    let mut nodes = vec![Node { parent: 0, thread: ThreadId(0) }];
    let mut queue = VecDeque::new();
    let mut fp = Fingerprinter::default();
    seen.insert(fp.fingerprint(init), 0);
    queue.push_back((init.clone(), 0u32, PathStats { waits: [0; MAX_THREADS], bounce_bytes: 0 }));
    // Reused for every expansion.
    let mut succs = Vec::new();
    let mut longest_wait_steps = 0u32;
    let mut bounce_bytes_max = 0u64;

    // Per condition: whether some final state satisfied it / violated it,
    // and the first (shallowest) node that did.
    let mut sat: Vec<Option<u32>> = vec![None; cx.prog.conds.len()];
    let mut unsat: Vec<Option<u32>> = vec![None; cx.prog.conds.len()];
    let mut fired: Vec<(Oracle, u32)> = Vec::new();
    let mut transitions = 0u64;
    let mut pin_tests = PinTestCounts::default();
    let mut finals = 0u64;
    let mut complete = true;

    let mut popped = 0usize;
    while let Some((w, node, path)) = queue.pop_front() {
        popped += 1;
        if popped.is_multiple_of(PROGRESS_EVERY) {
            if cfg.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                complete = false;
                break;
            }
            if let Some(p) = cfg.progress {
                p(nodes.len() as u64);
            }
        }
        let mut moved = false;
        // Which threads are blocked here decides how long they have waited
        // in each successor; try every thread first.
        let mut blocked = [false; MAX_THREADS];
        for (t, is_blocked) in blocked.iter_mut().enumerate().take(n_threads) {
            let tid = ThreadId(t as u8);
            if !w.may_run(cx, tid) {
                continue;
            }
            let mut next = w.clone();
            next.stats = Default::default();
            match next.step(cx, tid, &mut NoTrace) {
                Step::Ran(_) => succs.push((tid, next)),
                Step::Blocked => *is_blocked = true,
                Step::Finished => {}
            }
        }
        for (t, next) in succs.drain(..) {
            moved = true;
            transitions += 1;
            pin_tests.consulted += u64::from(next.stats.pin_tests);
            pin_tests.false_positives += u64::from(next.stats.false_positives);
            pin_tests.false_negatives += u64::from(next.stats.false_negatives);
            let key = fp.fingerprint(&next);
            if seen.contains_key(&key) {
                continue;
            }
            if cfg.max_states.is_some_and(|m| nodes.len() as u64 >= m) {
                complete = false;
                continue;
            }
            let id = nodes.len() as u32;
            nodes.push(Node { parent: node, thread: t });
            seen.insert(key, id);
            let waits: [u16; MAX_THREADS] = std::array::from_fn(|u| {
                if blocked[u] && u != t.idx() {
                    path.waits[u].saturating_add(1)
                } else {
                    0
                }
            });
            longest_wait_steps = longest_wait_steps.max(waits.iter().copied().max().unwrap_or(0).into());
            let succ_path =
                PathStats { waits, bounce_bytes: path.bounce_bytes + u64::from(next.stats.bounce_bytes) };
            for o in next.fired().new_since(w.fired()) {
                if !fired.iter().any(|(f, _)| *f == o) {
                    fired.push((o, id));
                }
            }
            queue.push_back((next, id, succ_path));
        }
        if cfg.crash_points && moved {
            let mut c = w.clone();
            c.crash_and_recover(&mut NoTrace);
            let key = fp.fingerprint(&c);
            if !seen.contains_key(&key) && cfg.max_states.is_none_or(|m| (nodes.len() as u64) < m) {
                let id = nodes.len() as u32;
                nodes.push(Node { parent: node, thread: CRASH });
                seen.insert(key, id);
                transitions += 1;
                finals += 1;
                for o in c.fired().new_since(w.fired()) {
                    if !fired.iter().any(|(f, _)| *f == o) {
                        fired.push((o, id));
                    }
                }
                for (i, cd) in cx.prog.conds.iter().enumerate() {
                    if cd.kind == CondKind::Forbid && cd.cond.eval(&c) {
                        sat[i].get_or_insert(id);
                    }
                }
            }
        }
        let final_world = if moved {
            None
        } else if w.all_done(cx) {
            Some(w)
        } else {
            let mut d = w;
            let o = d.stuck_oracle(cx);
            d.fired.set(o);
            if !fired.iter().any(|(f, _)| *f == o) {
                fired.push((o, node));
            }
            Some(d)
        };
        if let Some(fw) = final_world {
            finals += 1;
            bounce_bytes_max = bounce_bytes_max.max(path.bounce_bytes);
            for (i, c) in cx.prog.conds.iter().enumerate() {
                let slot = if c.cond.eval(&fw) { &mut sat[i] } else { &mut unsat[i] };
                slot.get_or_insert(node);
            }
        }
    }

    let conds = cx
        .prog
        .conds
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (holds, witness) = match c.kind {
                CondKind::Forbid => (sat[i].is_none(), sat[i]),
                CondKind::Exists => (sat[i].is_some(), sat[i]),
                CondKind::Always => (unsat[i].is_none(), unsat[i]),
            };
            // A witness decides its condition; its absence decides only a
            // complete search.
            let decided = complete || witness.is_some();
            CondResult { holds, decided, witness: witness.map(|n| schedule_of(&nodes, n)) }
        })
        .collect();
    fired.sort_by_key(|(o, _)| *o);
    Report {
        states: nodes.len() as u64,
        transitions,
        finals,
        complete,
        conds,
        fired: fired.into_iter().map(|(o, n)| (o, schedule_of(&nodes, n))).collect(),
        pin_tests,
        longest_wait_steps,
        bounce_bytes_max,
        elapsed_ms: start.elapsed().as_secs_f64() * 1e3,
    }
}
