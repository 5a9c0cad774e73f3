//! Seeded random simulation with swarm-chosen faults.
//!
//! Where [`crate::search::explore`] visits every interleaving, [`simulate`]
//! walks many random ones: useful on scenarios too large to exhaust, and the
//! only way to combine a scenario with faults it does not script (I/O
//! errors, reclaim and migration pressure, power loss at any moment).
//!
//! Each run has its own seed, derived from `(seed, run index)` alone, so a
//! run replays from its seed whatever the other runs did ([`run_one`]).
//! A run first picks which fault kinds it enables (*swarm testing*: each
//! allowed kind is on with probability ½, so some runs are fault-free and
//! some hammer one kind), then steps: before each step it may inject one
//! enabled fault; then it picks a thread uniformly among those that can move
//! (with `delay` on, device threads are picked 8× less often: delayed
//! device completions). A thread whose step is `Blocked` is not picked; when
//! no thread can move the run ends, finished or stuck (`deadlock` /
//! `starvation`, as in the search). A crash ends the run at once.
//!
//! The run's schedule records every choice, faults included (as pseudo-steps,
//! see [`crate::schedule`]), so the schedule alone replays the run byte for
//! byte ([`judge`], [`crate::story::replay`]).
//!
//! The scenario's conditions are evaluated at the end of each run exactly as
//! the search evaluates them at final states: all of them after a finished
//! or stuck run, only `forbid` ones after a crash. A run *fails* when a
//! `forbid` condition holds or an `always` condition does not; `exists`
//! conditions cannot fail a simulation, the report says in how many runs
//! they were seen.

use crate::schedule::{Move, Schedule};
use pinlab_model::fault::Fault;
use pinlab_model::ids::{DiskId, ThreadId};
use pinlab_model::oracle::Oracle;
use pinlab_model::program::{CondKind, Op};
use pinlab_model::trace::NoTrace;
use pinlab_model::{Cx, Step, World};
use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which fault kinds a simulation may enable (each run enables a random
/// subset of these).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct FaultKinds {
    /// Power loss at a random step, then mount + scrub (ends the run).
    pub crash: bool,
    /// The next write to a random disk fails with EIO (off by default).
    pub eio: bool,
    /// A whole reclaim pass.
    pub reclaim: bool,
    /// Compaction migrates a random movable folio.
    pub migrate: bool,
    /// Device threads are scheduled 8× less often.
    pub delay: bool,
}

impl FaultKinds {
    pub const ALL: FaultKinds =
        FaultKinds { crash: true, eio: true, reclaim: true, migrate: true, delay: true };
    /// Everything but `eio`. An I/O error loses data in every design (a
    /// failed page is not left dirty, and `sync(2)` cannot report it), so
    /// `eio` makes `forbid lost_write` fail everywhere; it is for scenarios
    /// whose conditions account for errors, and must be asked for.
    pub const DEFAULT: FaultKinds = FaultKinds { eio: false, ..FaultKinds::ALL };
    pub const NONE: FaultKinds =
        FaultKinds { crash: false, eio: false, reclaim: false, migrate: false, delay: false };
    pub const NAMES: [&'static str; 5] = ["crash", "eio", "reclaim", "migrate", "delay"];

    fn flags(self) -> [bool; 5] {
        [self.crash, self.eio, self.reclaim, self.migrate, self.delay]
    }

    fn from_flags(f: [bool; 5]) -> FaultKinds {
        FaultKinds { crash: f[0], eio: f[1], reclaim: f[2], migrate: f[3], delay: f[4] }
    }

    /// `crash,eio,...` (or `none`).
    pub fn names(self) -> String {
        let on: Vec<&str> =
            Self::NAMES.iter().zip(self.flags()).filter(|(_, b)| *b).map(|(n, _)| *n).collect();
        if on.is_empty() {
            "none".into()
        } else {
            on.join(",")
        }
    }

    /// Parse `crash,eio,...`, `all` or `none`.
    pub fn parse(s: &str) -> Result<FaultKinds, String> {
        match s {
            "all" => return Ok(FaultKinds::ALL),
            "none" | "" => return Ok(FaultKinds::NONE),
            _ => {}
        }
        let mut f = [false; 5];
        for part in s.split(',') {
            let i = Self::NAMES.iter().position(|n| *n == part).ok_or_else(|| {
                format!("unknown fault kind `{part}`; known: {}, all, none", Self::NAMES.join(", "))
            })?;
            f[i] = true;
        }
        Ok(FaultKinds::from_flags(f))
    }
}

#[derive(Clone, Copy)]
pub struct SimConfig<'a> {
    pub seed: u64,
    pub runs: u64,
    /// A run longer than this is cut and not judged.
    pub max_steps: u32,
    /// The fault kinds runs may enable.
    pub faults: FaultKinds,
    /// Keep at most this many failures (seed and schedule) in the report;
    /// all are counted.
    pub keep_failures: usize,
    /// Set from outside (Ctrl-C) to stop after the current run.
    pub stop: Option<&'a AtomicBool>,
    /// Called with the number of runs done after each run.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl Default for SimConfig<'_> {
    fn default() -> Self {
        SimConfig {
            seed: 0,
            runs: 1000,
            max_steps: 10_000,
            faults: FaultKinds::DEFAULT,
            keep_failures: 1000,
            stop: None,
            progress: None,
        }
    }
}

/// How a run (or a judged schedule) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// Every thread, `finally` included, finished.
    Finished,
    /// Nothing could move although some thread had not finished.
    Stuck(Oracle),
    /// A crash pseudo-step ended the run.
    Crashed,
    /// The step limit cut the run; its conditions were not evaluated.
    Cut,
}

/// The end of one execution and the verdict of each condition on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub end: End,
    /// Per condition, its value on the final state; `None` where it was
    /// not evaluated (every condition after a cut, `exists`/`always`
    /// after a crash).
    pub evals: Vec<Option<bool>>,
    /// The oracles that fired during the execution.
    pub fired: Vec<Oracle>,
}

impl Outcome {
    /// Indices of the conditions this execution violates: a `forbid` that
    /// holds, an `always` that does not.
    pub fn violated(&self, cx: &Cx) -> Vec<usize> {
        cx.prog
            .conds
            .iter()
            .zip(&self.evals)
            .enumerate()
            .filter(|(_, (c, v))| match c.kind {
                CondKind::Forbid => **v == Some(true),
                CondKind::Always => **v == Some(false),
                CondKind::Exists => false,
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// Evaluate the conditions on a final world, as the search does.
fn outcome(cx: &Cx, w: &World, end: End) -> Outcome {
    let evals = cx
        .prog
        .conds
        .iter()
        .map(|c| match end {
            End::Cut => None,
            End::Crashed if c.kind != CondKind::Forbid => None,
            _ => Some(c.cond.eval(w)),
        })
        .collect();
    Outcome { end, evals, fired: w.fired().iter().collect() }
}

/// The world has no thread that can move: mark it final (setting the stuck
/// oracle if some thread has not finished) and say how it ended.
fn settle(cx: &Cx, w: &mut World) -> End {
    if w.all_done(cx) {
        End::Finished
    } else {
        let o = w.stuck_oracle(cx);
        w.fired.set(o);
        End::Stuck(o)
    }
}

/// Step `t` in place. `Step::Blocked` leaves the world untouched (the
/// model's contract; checked in debug builds, since a replay never sees the
/// blocked attempts).
fn try_step(cx: &Cx, w: &mut World, t: ThreadId) -> Step {
    #[cfg(debug_assertions)]
    let before = w.clone();
    let r = w.step(cx, t, &mut NoTrace);
    #[cfg(debug_assertions)]
    if r == Step::Blocked {
        debug_assert!(*w == before, "a blocked step of thread {} changed the world", t.0);
    }
    r
}

/// The lowest-numbered thread that can move, stepped; `None` if none can.
fn step_lowest(cx: &Cx, w: &mut World) -> Option<ThreadId> {
    (0..cx.prog.thread_count())
        .map(|t| ThreadId(t as u8))
        .find(|&t| w.may_run(cx, t) && matches!(try_step(cx, w, t), Step::Ran(_)))
}

/// Replay `sched` and judge the execution. The schedule must be valid:
/// each thread step's thread can move, each fault names something the
/// machine has, nothing follows a crash. A schedule that stops before the
/// execution is final is **completed deterministically**: the lowest-numbered
/// thread that can move takes the next step, until none can (so `finally`
/// runs last, after every scenario thread), at most `max_steps` steps in
/// all. Returns the outcome and the completed schedule.
pub fn judge(cx: &Cx, init: &World, sched: &Schedule, max_steps: u32) -> Result<(Outcome, Schedule), String> {
    let mut w = init.clone();
    let mut full = Schedule(Vec::with_capacity(sched.len() + 8));
    let n = sched.len();
    for (i, m) in sched.moves().enumerate() {
        full.push(m);
        match m {
            Move::Thread(t) => {
                if t.idx() >= cx.prog.thread_count() {
                    return Err(format!("step {i}: there is no thread {}", t.0));
                }
                match try_step(cx, &mut w, t) {
                    Step::Ran(_) => {}
                    Step::Blocked => return Err(format!("step {i}: thread {} cannot move", t.0)),
                    Step::Finished => return Err(format!("step {i}: thread {} has finished", t.0)),
                }
            }
            Move::Fault(f) => {
                w.inject(cx, f, &mut NoTrace).map_err(|e| format!("step {i}: {e}"))?;
            }
            Move::Crash => {
                if i + 1 != n {
                    return Err(format!("step {i}: steps follow the crash"));
                }
                w.crash_and_recover(&mut NoTrace);
                return Ok((outcome(cx, &w, End::Crashed), full));
            }
        }
    }
    while full.len() < max_steps as usize {
        match step_lowest(cx, &mut w) {
            Some(t) => full.push(Move::Thread(t)),
            None => {
                let end = settle(cx, &mut w);
                return Ok((outcome(cx, &w, end), full));
            }
        }
    }
    Ok((outcome(cx, &w, End::Cut), full))
}

/// One random run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub run_seed: u64,
    /// The fault kinds this run enabled.
    pub faults: FaultKinds,
    pub schedule: Schedule,
    pub outcome: Outcome,
}

/// The seed of run `run` of a simulation seeded `seed` (SplitMix64 of both).
pub fn run_seed(seed: u64, run: u64) -> u64 {
    splitmix64(seed ^ splitmix64(run.wrapping_add(0x9E37_79B9_7F4A_7C15)))
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number below `n` (`n > 0`), by Lemire's multiply-shift.
fn below(rng: &mut Pcg32, n: u32) -> u32 {
    ((u64::from(rng.next_u32()) * u64::from(n)) >> 32) as u32
}

/// True with probability `1/n`.
fn one_in(rng: &mut Pcg32, n: u32) -> bool {
    below(rng, n) == 0
}

/// Some candidate thread can take a step (tried on a copy).
fn can_move(cx: &Cx, w: &World, cand: &[(ThreadId, u32)]) -> bool {
    cand.iter().any(|&(t, _)| matches!(w.clone().step(cx, t, &mut NoTrace), Step::Ran(_)))
}

/// Threads that only drive a device (`n.write`, `d.read`, ...): the ones a
/// `delay` run schedules less often.
fn device_threads(cx: &Cx) -> Vec<bool> {
    cx.prog
        .all_threads()
        .map(|t| {
            t.proc.is_none()
                && !t.ops.is_empty()
                && t.ops.iter().all(|op| matches!(op, Op::DevWrite { .. } | Op::DevRead { .. }))
        })
        .collect()
}

/// Walk one random execution from the run seed alone. `allowed` are the
/// fault kinds the simulation may enable; the run enables a random subset.
pub fn run_one(cx: &Cx, init: &World, seed: u64, max_steps: u32, allowed: FaultKinds) -> Run {
    let dev = device_threads(cx);
    run_with(cx, init, seed, max_steps, allowed, &dev, &mut Vec::new())
}

fn run_with(
    cx: &Cx,
    init: &World,
    seed: u64,
    max_steps: u32,
    allowed: FaultKinds,
    dev: &[bool],
    cand: &mut Vec<(ThreadId, u32)>,
) -> Run {
    let mut rng = Pcg32::seed_from_u64(seed);
    // Swarm: each allowed kind on with probability 1/2.
    let mut on = allowed.flags();
    for f in &mut on {
        *f &= one_in(&mut rng, 2);
    }
    let faults = FaultKinds::from_flags(on);
    // How often this run injects: one step in 4, 16 or 64 on average.
    let fault_odds = [4, 16, 64][below(&mut rng, 3) as usize];
    let crash_odds = 8 + below(&mut rng, 64);
    let kinds: Vec<&str> = [(faults.eio, "eio"), (faults.reclaim, "reclaim"), (faults.migrate, "migrate")]
        .into_iter()
        .filter(|(b, _)| *b)
        .map(|(_, k)| k)
        .collect();
    let n_disks = init.disks.len() as u32;

    let mut w = init.clone();
    let mut sched = Schedule(Vec::new());
    let n = cx.prog.thread_count();
    let end = loop {
        if sched.len() >= max_steps as usize {
            break End::Cut;
        }
        cand.clear();
        for t in 0..n {
            let t = ThreadId(t as u8);
            if w.may_run(cx, t) {
                cand.push((t, if faults.delay && dev[t.idx()] { 1 } else { 8 }));
            }
        }
        if cand.is_empty() {
            break settle(cx, &mut w);
        }
        // A crash point, where the search has them: at a state where some
        // thread can move.
        if faults.crash && one_in(&mut rng, crash_odds) && can_move(cx, &w, cand) {
            sched.push(Move::Crash);
            w.crash_and_recover(&mut NoTrace);
            break End::Crashed;
        }
        if !kinds.is_empty() && one_in(&mut rng, fault_odds) {
            let fault = match kinds[below(&mut rng, kinds.len() as u32) as usize] {
                "eio" if n_disks > 0 => {
                    let d = DiskId(below(&mut rng, n_disks) as u8);
                    (!w.disks[d.idx()].fail_next_write).then_some(Fault::FailNextWrite(d))
                }
                "reclaim" => Some(Fault::Reclaim),
                "migrate" => {
                    let c = w.migrate_candidates();
                    (!c.is_empty()).then(|| Fault::Migrate(c[below(&mut rng, c.len() as u32) as usize]))
                }
                _ => None,
            };
            if let Some(f) = fault {
                w.inject(cx, f, &mut NoTrace).expect("the simulator injects only faults the machine has");
                sched.push(Move::Fault(f));
                if sched.len() >= max_steps as usize {
                    break End::Cut;
                }
            }
        }
        let mut moved = false;
        while !cand.is_empty() {
            let total: u32 = cand.iter().map(|c| c.1).sum();
            let mut x = below(&mut rng, total);
            let i = cand
                .iter()
                .position(|c| {
                    if x < c.1 {
                        true
                    } else {
                        x -= c.1;
                        false
                    }
                })
                .expect("x < total");
            let t = cand[i].0;
            if let Step::Ran(_) = try_step(cx, &mut w, t) {
                sched.push(Move::Thread(t));
                moved = true;
                break;
            }
            cand.swap_remove(i);
        }
        if !moved {
            break settle(cx, &mut w);
        }
    };
    Run { run_seed: seed, faults, schedule: sched, outcome: outcome(cx, &w, end) }
}

/// Per condition, over all judged runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SimCond {
    /// Runs whose final state the condition was evaluated on.
    pub judged: u64,
    /// Runs where the condition was true.
    pub seen: u64,
    /// Runs the condition failed (a `forbid` seen, an `always` not).
    pub violated: u64,
}

/// A failing run: what replays it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SimFailure {
    pub run: u64,
    pub run_seed: u64,
    pub faults: FaultKinds,
    #[serde(serialize_with = "as_string")]
    pub schedule: Schedule,
    /// Indices of the violated conditions.
    pub violated: Vec<usize>,
    pub end: End,
}

fn as_string<S: serde::Serializer>(s: &Schedule, ser: S) -> Result<S::Ok, S::Error> {
    ser.collect_str(s)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SimReport {
    pub seed: u64,
    pub runs_requested: u64,
    /// Runs done (fewer than requested if stopped).
    pub runs: u64,
    /// Steps taken over all runs, pseudo-steps included.
    pub steps: u64,
    pub finished: u64,
    pub deadlocked: u64,
    pub starved: u64,
    pub crashed: u64,
    /// Runs cut by the step limit (not judged).
    pub cut: u64,
    /// Runs that enabled each fault kind, in [`FaultKinds::NAMES`] order.
    pub fault_runs: [u64; 5],
    pub conds: Vec<SimCond>,
    /// Runs in which each oracle fired.
    pub fired: Vec<(Oracle, u64)>,
    /// Runs that violated some condition.
    pub failing_runs: u64,
    /// The first `keep_failures` of them.
    pub failures: Vec<SimFailure>,
    /// Per distinct set of violated conditions: how many runs, and the
    /// first of them (kept even past `keep_failures`).
    pub distinct: Vec<(SimFailure, u64)>,
    /// False if stopped before `runs_requested`.
    pub complete: bool,
}

/// Run `cfg.runs` seeded random executions.
pub fn simulate(cx: &Cx, init: &World, cfg: &SimConfig) -> SimReport {
    let dev = device_threads(cx);
    let mut cand = Vec::new();
    let mut r = SimReport {
        seed: cfg.seed,
        runs_requested: cfg.runs,
        runs: 0,
        steps: 0,
        finished: 0,
        deadlocked: 0,
        starved: 0,
        crashed: 0,
        cut: 0,
        fault_runs: [0; 5],
        conds: vec![SimCond::default(); cx.prog.conds.len()],
        fired: Vec::new(),
        failing_runs: 0,
        failures: Vec::new(),
        distinct: Vec::new(),
        complete: true,
    };
    let mut fired = [0u64; Oracle::ALL.len()];
    for run in 0..cfg.runs {
        if cfg.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            r.complete = false;
            break;
        }
        let seed = run_seed(cfg.seed, run);
        let one = run_with(cx, init, seed, cfg.max_steps, cfg.faults, &dev, &mut cand);
        r.runs += 1;
        r.steps += one.schedule.len() as u64;
        match one.outcome.end {
            End::Finished => r.finished += 1,
            End::Stuck(Oracle::Starvation) => r.starved += 1,
            End::Stuck(_) => r.deadlocked += 1,
            End::Crashed => r.crashed += 1,
            End::Cut => r.cut += 1,
        }
        for (k, on) in one.faults.flags().into_iter().enumerate() {
            r.fault_runs[k] += u64::from(on);
        }
        for o in &one.outcome.fired {
            fired[*o as usize] += 1;
        }
        for (c, v) in r.conds.iter_mut().zip(&one.outcome.evals) {
            if let Some(v) = v {
                c.judged += 1;
                c.seen += u64::from(*v);
            }
        }
        let violated = one.outcome.violated(cx);
        for &i in &violated {
            r.conds[i].violated += 1;
        }
        if !violated.is_empty() {
            r.failing_runs += 1;
            let f = SimFailure {
                run,
                run_seed: seed,
                faults: one.faults,
                schedule: one.schedule,
                violated,
                end: one.outcome.end,
            };
            match r.distinct.iter_mut().find(|(g, _)| g.violated == f.violated) {
                Some((_, n)) => *n += 1,
                None => r.distinct.push((f.clone(), 1)),
            }
            if r.failures.len() < cfg.keep_failures {
                r.failures.push(f);
            }
        }
        if let Some(p) = cfg.progress {
            p(r.runs);
        }
    }
    r.fired =
        Oracle::ALL.iter().filter(|o| fired[**o as usize] > 0).map(|o| (*o, fired[*o as usize])).collect();
    r
}
