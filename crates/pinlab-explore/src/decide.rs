//! Deciding conditions as early as the evidence allows.
//!
//! A condition is *hit* by an execution when that execution settles it
//! against its default reading: a `forbid` or `exists` whose condition
//! holds at the end, an `always` whose condition does not. One hit decides
//! the condition for good (a violated `forbid`/`always`, a witnessed
//! `exists`); only the absence of hits needs the whole space.
//!
//! Hits are seen in three ways, cheapest first:
//! - **a final state** of the search (what every search always did);
//! - **a settled state**: one whose fired oracles already fix the
//!   condition's value in every continuation ([`Cond::settled`]): oracle
//!   bits are only ever set, so `forbid checksum_error` is violated the
//!   moment the oracle fires, complete search or not;
//! - **a seeded simulation** run before the search (`Config::presim_runs`):
//!   random executions without injected faults (crash points only where
//!   the search has them), i.e. schedules the search itself would explore.
//!   It decides failures in milliseconds where the state space is too big
//!   to finish. Its witnesses are shrunk with [`crate::minimise`] only when
//!   they end up in the report.
//!
//! A witness that reaches a settled state stops there (its story ends at
//! the step that decided, like an oracle's); any deterministic completion
//! of it hits the condition too, by monotonicity. Other witnesses are whole
//! executions. Breadth-first witnesses stay canonical (shortest, then
//! least), which is what lets `merge` reproduce a single run.
//!
//! [`Cond::settled`]: pinlab_model::cond::Cond::settled

use crate::minimise::minimise;
use crate::schedule::{Move, Schedule};
use crate::sim::{run_one, run_seed, FaultKinds, Outcome};
use pinlab_model::oracle::Oracle;
use pinlab_model::program::CondKind;
use pinlab_model::trace::NoTrace;
use pinlab_model::{Cx, World};

/// Which method decided a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The exhaustive search: a witness it found, or the whole space.
    Search,
    /// The seeded simulation before the search found the witness.
    Simulation,
}

impl Method {
    pub fn word(self) -> &'static str {
        match self {
            Method::Search => "search",
            Method::Simulation => "simulation",
        }
    }
}

/// Whether a condition with value `value` at the end of an execution is
/// hit by it.
pub(crate) fn hit(kind: CondKind, value: bool) -> bool {
    match kind {
        CondKind::Forbid | CondKind::Exists => value,
        CondKind::Always => !value,
    }
}

/// Whether every execution through `w` hits condition `i`.
pub(crate) fn settled_hit(cx: &Cx, w: &World, i: usize) -> bool {
    let c = &cx.prog.conds[i];
    c.cond.settled(w).is_some_and(|v| hit(c.kind, v))
}

/// Whether a judged execution hits condition `i` (`None` evaluations, after
/// a cut or a crash, hit nothing).
pub(crate) fn outcome_hits(cx: &Cx, o: &Outcome, i: usize) -> bool {
    o.evals[i].is_some_and(|v| hit(cx.prog.conds[i].kind, v))
}

/// Steps a judged or simulated execution may take (as `pinlab sim`).
pub const MAX_STEPS: u32 = 10_000;

/// Replay `sched` (valid by construction) until `stop` holds of the world;
/// the number of moves taken then (`None` if it never holds or a move does
/// not replay) and the world.
fn replay_until(
    cx: &Cx,
    init: &World,
    sched: &Schedule,
    stop: impl Fn(&World) -> bool,
) -> (Option<usize>, World) {
    let mut w = init.clone();
    if stop(&w) {
        return (Some(0), w);
    }
    for (k, m) in sched.moves().enumerate() {
        match m {
            Move::Thread(t) => {
                w.step(cx, t, &mut NoTrace);
            }
            Move::Fault(f) => {
                if w.inject(cx, f, &mut NoTrace).is_err() {
                    return (None, w);
                }
            }
            Move::Crash => w.crash_and_recover(&mut NoTrace),
        }
        if stop(&w) {
            return (Some(k + 1), w);
        }
    }
    (None, w)
}

/// The witness of condition `i` to report from a shrunk schedule: its
/// prefix when that already settles the condition, else the whole
/// (completed) execution.
pub(crate) fn witness_from(cx: &Cx, init: &World, m: crate::minimise::Minimised, i: usize) -> Schedule {
    let n = m.schedule.len();
    match replay_until(cx, init, &m.schedule, |w| settled_hit(cx, w, i)) {
        (Some(k), _) if k <= n => m.schedule,
        _ => m.completed,
    }
}

/// The shortest prefix of `sched` after which oracle `o` has fired.
pub(crate) fn firing_prefix(cx: &Cx, init: &World, sched: &Schedule, o: Oracle) -> Option<Schedule> {
    let (k, _) = replay_until(cx, init, sched, |w| w.fired().has(o));
    k.map(|k| sched.moves().take(k).collect())
}

/// What the simulation before the search saw: per condition, the first run
/// that hit it; per oracle, the first run where it fired. Unshrunk.
#[derive(Default)]
pub(crate) struct PreSim {
    pub hits: Vec<Option<Schedule>>,
    pub fired: Vec<(Oracle, Schedule)>,
    pub runs: u64,
}

impl PreSim {
    /// `runs` seeded random executions (seed 0: the same every time).
    pub fn run(cx: &Cx, init: &World, runs: u32, crash_points: bool) -> PreSim {
        let faults = FaultKinds { crash: crash_points, delay: true, ..FaultKinds::NONE };
        let n = cx.prog.conds.len();
        let mut p = PreSim { hits: vec![None; n], fired: Vec::new(), runs: 0 };
        for run in 0..u64::from(runs) {
            let r = run_one(cx, init, run_seed(0, run), MAX_STEPS, faults);
            p.runs += 1;
            for i in 0..n {
                if p.hits[i].is_none() && outcome_hits(cx, &r.outcome, i) {
                    p.hits[i] = Some(r.schedule.clone());
                }
            }
            for &o in &r.outcome.fired {
                if !p.fired.iter().any(|(f, _)| *f == o) {
                    p.fired.push((o, r.schedule.clone()));
                }
            }
            if p.hits.iter().all(Option::is_some) {
                break;
            }
        }
        p
    }

    /// The shrunk witness of condition `i`: 1-minimal, completed.
    pub fn witness(&self, cx: &Cx, init: &World, i: usize) -> Option<Schedule> {
        let s = self.hits[i].as_ref()?;
        let fails = |o: &Outcome| outcome_hits(cx, o, i);
        Some(
            minimise(cx, init, s, MAX_STEPS, &fails)
                .map_or_else(|| s.clone(), |m| witness_from(cx, init, m, i)),
        )
    }

    /// A shrunk schedule to the step where oracle `o` first fires.
    pub fn fired_schedule(&self, cx: &Cx, init: &World, o: Oracle) -> Option<Schedule> {
        let s = &self.fired.iter().find(|(f, _)| *f == o)?.1;
        let fails = |out: &Outcome| out.fired.contains(&o);
        let full = minimise(cx, init, s, MAX_STEPS, &fails).map_or_else(|| s.clone(), |m| m.completed);
        firing_prefix(cx, init, &full, o).or(Some(full))
    }
}
