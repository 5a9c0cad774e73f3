//! Shrinking a failing schedule.
//!
//! A schedule from the simulator is long and full of steps that do not
//! matter. [`minimise`] removes and reorders steps while the execution still
//! fails, in the style of delta debugging (Zeller's *ddmin*):
//!
//! 1. remove chunks: halves, quarters, ... down to single steps, keeping a
//!    removal whenever the shorter schedule is valid and still fails;
//! 2. reorder: move a step back to just after the previous step of the same
//!    thread (or the same pseudo-step kind), so each thread's steps run
//!    together and the story has fewer context switches; kept when the
//!    result is valid and still fails;
//! 3. repeat until neither changes anything.
//!
//! **Judging a candidate.** Removing a step changes what later steps do, and
//! can leave threads unfinished. A candidate is judged by [`crate::sim::judge`]:
//! it must replay validly (every thread step's thread can move; faults name
//! existing disks and frames; nothing after a crash), and if it ends before
//! the execution is final it is *completed deterministically*: the
//! lowest-numbered thread that can move steps next, until none can (so
//! `finally` runs last). The judged execution is the completed one.
//!
//! The result is the shortest *prefix* found: 1-minimal (removing any single
//! step leaves a schedule that is invalid or no longer fails) and never
//! longer than the input. [`Minimised::completed`] is the prefix plus its
//! deterministic completion: the schedule that `--replay` and
//! `trace --schedule` replay step for step.

use crate::schedule::{Move, Schedule};
use crate::sim::{judge, Outcome};
use pinlab_model::{Cx, World};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minimised {
    /// The 1-minimal prefix.
    pub schedule: Schedule,
    /// `schedule` with its deterministic completion.
    pub completed: Schedule,
    /// Candidate schedules judged.
    pub tries: u64,
}

/// Whether `sched` is valid and still fails per `fails`; with the completed
/// schedule.
fn check(
    cx: &Cx,
    init: &World,
    sched: &Schedule,
    max_steps: u32,
    fails: &dyn Fn(&Outcome) -> bool,
    tries: &mut u64,
) -> Option<Schedule> {
    *tries += 1;
    match judge(cx, init, sched, max_steps) {
        Ok((o, full)) if fails(&o) => Some(full),
        _ => None,
    }
}

/// Shrink `sched`, which must fail per `fails` (else `None`). `max_steps`
/// bounds the deterministic completion as in the simulation.
pub fn minimise(
    cx: &Cx,
    init: &World,
    sched: &Schedule,
    max_steps: u32,
    fails: &dyn Fn(&Outcome) -> bool,
) -> Option<Minimised> {
    let mut tries = 0;
    let mut completed = check(cx, init, sched, max_steps, fails, &mut tries)?;
    let mut cur: Vec<Move> = sched.moves().collect();
    // Reordering only moves steps backwards, but bound the rounds anyway;
    // every round, the last included, ends with removal at its fixpoint,
    // so the result is 1-minimal whatever the bound.
    for round in 0..MAX_ROUNDS {
        // 1. Chunk removal, coarse to fine; single steps last, repeated
        // until no single step can go (a removal can make an earlier step
        // removable).
        let mut chunk = (cur.len() / 2).max(1);
        loop {
            let mut removed = false;
            let mut i = 0;
            while i < cur.len() {
                let end = (i + chunk).min(cur.len());
                let cand: Schedule = cur[..i].iter().chain(&cur[end..]).copied().collect();
                if let Some(full) = check(cx, init, &cand, max_steps, fails, &mut tries) {
                    cur.drain(i..end);
                    completed = full;
                    removed = true;
                } else {
                    i += chunk;
                }
            }
            if chunk > 1 {
                chunk /= 2;
            } else if !removed {
                break;
            }
        }
        if round + 1 == MAX_ROUNDS {
            break;
        }
        // 2. Reordering: pull each step back next to the previous step of
        // the same thread, when something else runs in between.
        let mut reordered = false;
        let mut j = 1;
        while j < cur.len() {
            let prev = (0..j).rev().find(|&k| same_track(cur[k], cur[j]));
            if let Some(k) = prev.filter(|&k| k + 1 < j) {
                let mut cand = cur.clone();
                let m = cand.remove(j);
                cand.insert(k + 1, m);
                let s: Schedule = cand.iter().copied().collect();
                if let Some(full) = check(cx, init, &s, max_steps, fails, &mut tries) {
                    cur = cand;
                    completed = full;
                    reordered = true;
                }
            }
            j += 1;
        }
        if !reordered {
            // Removal reached its fixpoint and nothing moved: 1-minimal.
            break;
        }
    }
    Some(Minimised { schedule: cur.into_iter().collect(), completed, tries })
}

/// Rounds of removal + reordering.
const MAX_ROUNDS: usize = 16;

/// Steps of one thread, or pseudo-steps of one kind.
fn same_track(a: Move, b: Move) -> bool {
    match (a, b) {
        (Move::Thread(x), Move::Thread(y)) => x == y,
        (Move::Fault(x), Move::Fault(y)) => x.kind() == y.kind(),
        (Move::Crash, Move::Crash) => true,
        _ => false,
    }
}
