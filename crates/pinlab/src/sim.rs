//! `pinlab sim`: seeded random simulation with faults, failures minimised and
//! printed with the command that replays them; `--replay` replays one run
//! from its seed or its schedule. Also `pinlab trace --perfetto`.

use crate::report::{kind_word, load_path, render_story};
use crate::{EXIT_BAD_INPUT, EXIT_FAIL, EXIT_INCOMPLETE, EXIT_PASS};
use indicatif::{ProgressBar, ProgressStyle};
use pinlab_explore::minimise::{minimise, Minimised};
use pinlab_explore::sim::{judge, run_one, End, Outcome, SimFailure};
use pinlab_explore::{replay, simulate, FaultKinds, Schedule, SimConfig, SimReport};
use pinlab_model::design::Design;
use pinlab_model::program::{CondKind, Program};
use pinlab_model::{Cx, World};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// The options of `pinlab sim`.
pub struct SimOpts {
    pub seed: u64,
    pub runs: u64,
    pub max_steps: u32,
    pub faults: FaultKinds,
    pub json: bool,
    pub replay: Option<String>,
    /// `--set` knobs, repeated in the printed replay commands.
    pub knobs: Vec<String>,
}

/// Default `--max-steps`.
pub const MAX_STEPS: u32 = 10_000;

fn hex(seed: u64) -> String {
    format!("{seed:#018x}")
}

/// `--replay` takes a run seed (`0x` + hex digits, or decimal digits only)
/// or a schedule (anything else: `0.1.e0.2`, `c`, ...).
enum ReplayWhat {
    Seed(u64),
    Schedule(Schedule),
}

fn parse_replay(s: &str) -> Result<ReplayWhat, String> {
    if let Some(h) = s.strip_prefix("0x") {
        return u64::from_str_radix(h, 16).map(ReplayWhat::Seed).map_err(|e| format!("bad seed `{s}`: {e}"));
    }
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().map(ReplayWhat::Seed).map_err(|e| format!("bad seed `{s}`: {e}"));
    }
    s.parse().map(ReplayWhat::Schedule)
}

#[derive(Serialize)]
struct JsonSimCond {
    kind: &'static str,
    text: String,
    /// Runs whose final state the condition was evaluated on.
    judged: u64,
    /// Runs in which it was true.
    seen: u64,
    /// Runs it failed (a `forbid` seen, an `always` not).
    violated: u64,
}

#[derive(Serialize)]
struct JsonFailure {
    run: u64,
    run_seed: String,
    faults: String,
    schedule: String,
    violated: Vec<String>,
    end: End,
}

#[derive(Serialize)]
struct JsonMinimised {
    /// The conditions this failure violates (all kept violated while shrinking).
    conditions: Vec<String>,
    /// Failing runs with the same set of violated conditions.
    runs_like_it: u64,
    run: u64,
    run_seed: String,
    original: String,
    original_len: usize,
    /// The 1-minimal schedule and its deterministic completion.
    minimised: String,
    minimised_len: usize,
    completed: String,
    replay_schedule: String,
    replay_seed: String,
}

#[derive(Serialize)]
struct JsonSim {
    test: String,
    file: String,
    design: String,
    seed: u64,
    faults: String,
    max_steps: u32,
    runs_requested: u64,
    runs: u64,
    complete: bool,
    verdict: &'static str,
    steps: u64,
    finished: u64,
    deadlocked: u64,
    starved: u64,
    crashed: u64,
    cut: u64,
    fault_runs: std::collections::BTreeMap<&'static str, u64>,
    conditions: Vec<JsonSimCond>,
    oracles_fired: std::collections::BTreeMap<&'static str, u64>,
    failing_runs: u64,
    /// One per distinct set of violated conditions, shrunk.
    distinct_failures: Vec<JsonMinimised>,
    /// Every failing run kept (the first 1000), with what replays it.
    failures: Vec<JsonFailure>,
    elapsed_ms: f64,
    steps_per_s: f64,
}

fn cond_text(prog: &Program, i: usize) -> String {
    format!("{} {}", kind_word(prog.conds[i].kind), prog.conds[i].text)
}

/// The `pinlab sim` flags that the seed of a run needs to replay.
fn replay_cmd(file: &str, design: &Design, opts: &SimOpts, what: &str, by_seed: bool) -> String {
    let mut c = format!("pinlab sim {file} --design {}", design.name);
    for k in &opts.knobs {
        c += &format!(" --set {k}");
    }
    if by_seed {
        if opts.faults != FaultKinds::DEFAULT {
            c += &format!(" --faults {}", opts.faults.names());
        }
        if opts.max_steps != MAX_STEPS {
            c += &format!(" --max-steps {}", opts.max_steps);
        }
    }
    c + &format!(" --replay {what}")
}

/// Shrink a failing run's schedule, keeping every condition it violated
/// violated.
fn minimise_failure(cx: &Cx, init: &World, f: &SimFailure, max_steps: u32) -> Option<Minimised> {
    let fails = |o: &Outcome| {
        let v = o.violated(cx);
        f.violated.iter().all(|i| v.contains(i))
    };
    minimise(cx, init, &f.schedule, max_steps, &fails)
}

pub fn sim(file: &Path, designs: &[Design], opts: &SimOpts, stop: &AtomicBool) -> u8 {
    let plain = opts.json || !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let prog = match load_path(file, plain) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let name = file.display().to_string();
    if let Some(r) = &opts.replay {
        let what = match parse_replay(r) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("pinlab: error: --replay: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        let [design] = designs else {
            eprintln!("pinlab: error: --replay needs one design (--design NAME), not `all`");
            return EXIT_BAD_INPUT;
        };
        return replay_one(&prog, design, what, opts);
    }
    let progress = !opts.json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut code = EXIT_PASS;
    let mut out = Vec::new();
    for d in designs {
        let cx = Cx { prog: &prog, design: d };
        let init = World::new(&prog).expect("the compiler checked the machine can be built");
        let bar = if progress { ProgressBar::new(opts.runs) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} runs, {per_sec}, eta {eta}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("{} / {}", prog.name, d.name));
        let tick = |n: u64| {
            if n.is_multiple_of(64) {
                bar.set_position(n);
            }
        };
        let cfg = SimConfig {
            seed: opts.seed,
            runs: opts.runs,
            max_steps: opts.max_steps,
            faults: opts.faults,
            keep_failures: 1000,
            stop: Some(stop),
            progress: Some(&tick),
        };
        let start = Instant::now();
        let r = simulate(&cx, &init, &cfg);
        let elapsed = start.elapsed().as_secs_f64();
        bar.finish_and_clear();
        // The one verdict rule: a failing run decides; a sample without one
        // decides nothing about `forbid`/`always` (and a seen `exists` is
        // the only thing it can decide holding), so that is exit 3.
        let all_decided =
            prog.conds.iter().zip(&r.conds).all(|(c, sc)| c.kind == CondKind::Exists && sc.seen > 0);
        let this = if r.failing_runs > 0 {
            EXIT_FAIL
        } else if r.complete && all_decided {
            EXIT_PASS
        } else {
            EXIT_INCOMPLETE
        };
        code = crate::report::worse_exit(code, this);
        // One failure per distinct set of violated conditions, minimised.
        let mins: Vec<(&SimFailure, u64, Option<Minimised>)> = r
            .distinct
            .iter()
            .map(|(f, n)| (f, *n, minimise_failure(&cx, &init, f, opts.max_steps)))
            .collect();
        if opts.json {
            out.push(json_sim(&name, &prog, d, opts, &r, &mins, elapsed));
        } else {
            print!("{}", text_sim(&name, &prog, d, opts, &r, &mins, elapsed));
        }
    }
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&out).expect("serialisable"));
    }
    code
}

fn json_sim(
    file: &str,
    prog: &Program,
    d: &Design,
    opts: &SimOpts,
    r: &SimReport,
    mins: &[(&SimFailure, u64, Option<Minimised>)],
    elapsed: f64,
) -> JsonSim {
    let verdict = if r.failing_runs > 0 {
        "fail"
    } else if r.complete {
        "no_failure_found"
    } else {
        "unknown"
    };
    JsonSim {
        test: prog.name.clone(),
        file: file.to_string(),
        design: d.name.clone(),
        seed: opts.seed,
        faults: opts.faults.names(),
        max_steps: opts.max_steps,
        runs_requested: r.runs_requested,
        runs: r.runs,
        complete: r.complete,
        verdict,
        steps: r.steps,
        finished: r.finished,
        deadlocked: r.deadlocked,
        starved: r.starved,
        crashed: r.crashed,
        cut: r.cut,
        fault_runs: FaultKinds::NAMES.iter().copied().zip(r.fault_runs).collect(),
        conditions: prog
            .conds
            .iter()
            .zip(&r.conds)
            .map(|(c, s)| JsonSimCond {
                kind: kind_word(c.kind),
                text: c.text.clone(),
                judged: s.judged,
                seen: s.seen,
                violated: s.violated,
            })
            .collect(),
        oracles_fired: r.fired.iter().map(|(o, n)| (o.name(), *n)).collect(),
        failing_runs: r.failing_runs,
        distinct_failures: mins
            .iter()
            .map(|(f, n, m)| {
                let (min, mlen, completed) = match m {
                    Some(m) => (m.schedule.to_string(), m.schedule.len(), m.completed.clone()),
                    None => (f.schedule.to_string(), f.schedule.len(), f.schedule.clone()),
                };
                JsonMinimised {
                    conditions: f.violated.iter().map(|&i| cond_text(prog, i)).collect(),
                    runs_like_it: *n,
                    run: f.run,
                    run_seed: hex(f.run_seed),
                    original: f.schedule.to_string(),
                    original_len: f.schedule.len(),
                    minimised: min,
                    minimised_len: mlen,
                    completed: completed.to_string(),
                    replay_schedule: replay_cmd(file, d, opts, &completed.to_string(), false),
                    replay_seed: replay_cmd(file, d, opts, &hex(f.run_seed), true),
                }
            })
            .collect(),
        failures: r
            .failures
            .iter()
            .map(|f| JsonFailure {
                run: f.run,
                run_seed: hex(f.run_seed),
                faults: f.faults.names(),
                schedule: f.schedule.to_string(),
                violated: f.violated.iter().map(|&i| cond_text(prog, i)).collect(),
                end: f.end,
            })
            .collect(),
        elapsed_ms: (elapsed * 1e6).round() / 1e3,
        steps_per_s: (r.steps as f64 / elapsed.max(1e-9)).round(),
    }
}

fn text_sim(
    file: &str,
    prog: &Program,
    d: &Design,
    opts: &SimOpts,
    r: &SimReport,
    mins: &[(&SimFailure, u64, Option<Minimised>)],
    elapsed: f64,
) -> String {
    let mut s = String::new();
    let verdict = if r.failing_runs > 0 {
        format!("{} failing run(s)", r.failing_runs)
    } else {
        "no failure found (a sample: conditions it did not see fail stay undecided)".to_string()
    };
    s += &format!("Sim {} ({file}) under {}: {verdict}\n", prog.name, d.name);
    s += &format!(
        "  seed {}, {} of {} run(s){}, {} steps: {} finished, {} deadlocked, {} starved, {} crashed, {} cut at {} steps\n",
        opts.seed,
        r.runs,
        r.runs_requested,
        if r.complete { "" } else { " (STOPPED EARLY)" },
        r.steps,
        r.finished,
        r.deadlocked,
        r.starved,
        r.crashed,
        r.cut,
        opts.max_steps
    );
    let kinds: Vec<String> = FaultKinds::NAMES
        .iter()
        .zip(r.fault_runs)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k} in {n}"))
        .collect();
    s += &format!(
        "  faults allowed: {}; enabled: {}\n",
        opts.faults.names(),
        if kinds.is_empty() { "none".into() } else { kinds.join(", ") + " run(s)" }
    );
    for (c, sc) in prog.conds.iter().zip(&r.conds) {
        let cond = format!("{} {}{}", kind_word(c.kind), c.text, if c.implicit { " (implicit)" } else { "" });
        let status = match c.kind {
            CondKind::Exists if sc.seen > 0 => format!("seen in {} of {} run(s)", sc.seen, sc.judged),
            CondKind::Exists => format!("not seen in {} judged run(s)", sc.judged),
            _ if sc.violated > 0 => format!("FAILS in {} of {} run(s)", sc.violated, sc.judged),
            _ => format!("not violated in {} judged run(s) (undecided)", sc.judged),
        };
        s += &format!("  {cond:<34} {status}\n");
    }
    let fired: Vec<String> = r.fired.iter().map(|(o, n)| format!("{} ({n})", o.name())).collect();
    s += &format!("  oracles fired: {}\n", if fired.is_empty() { "none".into() } else { fired.join(", ") });
    for (k, (f, n, m)) in mins.iter().enumerate() {
        let conds: Vec<String> = f.violated.iter().map(|&i| cond_text(prog, i)).collect();
        s += &format!("  failure {} of {}: {} ({n} run(s) like it)\n", k + 1, mins.len(), conds.join(", "));
        s += &format!("    run {}, run seed {}, faults {}\n", f.run, hex(f.run_seed), f.faults.names());
        s += &format!("    schedule  ({} steps) {}\n", f.schedule.len(), f.schedule);
        let completed = match m {
            Some(m) => {
                s += &format!(
                    "    minimised ({} steps, {} with the deterministic completion) {}\n",
                    m.schedule.len(),
                    m.completed.len(),
                    m.schedule
                );
                &m.completed
            }
            None => &f.schedule,
        };
        s += &format!("    replay:  {}\n", replay_cmd(file, d, opts, &completed.to_string(), false));
        s += &format!("    or:      {}\n", replay_cmd(file, d, opts, &hex(f.run_seed), true));
    }
    if r.failing_runs > 0 {
        s += &format!(
            "  (one run shown per distinct set of violated conditions; --json lists the seeds and schedules of the first {} failing runs)\n",
            r.failures.len()
        );
    }
    s += &format!("  time {:.1} ms ({:.0} steps/s)\n\n", elapsed * 1e3, r.steps as f64 / elapsed.max(1e-9));
    s
}

#[derive(Serialize)]
struct JsonReplayCond {
    kind: &'static str,
    text: String,
    /// The condition's value on the final state; null where not evaluated.
    value: Option<bool>,
    violated: bool,
}

#[derive(Serialize)]
struct JsonReplay {
    test: String,
    design: String,
    schedule: String,
    end: End,
    conditions: Vec<JsonReplayCond>,
    trace: pinlab_explore::Story,
}

/// Replay one run. The output depends on the schedule only, so a run
/// replayed from its seed prints exactly what its schedule prints.
fn replay_one(prog: &Program, design: &Design, what: ReplayWhat, opts: &SimOpts) -> u8 {
    let cx = Cx { prog, design };
    let init = World::new(prog).expect("the compiler checked the machine can be built");
    let sched = match what {
        ReplayWhat::Seed(seed) => {
            let run = run_one(&cx, &init, seed, opts.max_steps, opts.faults);
            eprintln!("run seed {}: faults {}; schedule {}", hex(seed), run.faults.names(), run.schedule);
            run.schedule
        }
        ReplayWhat::Schedule(s) => s,
    };
    let (outcome, full) = match judge(&cx, &init, &sched, opts.max_steps) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("pinlab: error: the schedule does not replay: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if full != sched {
        eprintln!(
            "note: the schedule stops before the end; completed deterministically (lowest-numbered thread that can move)"
        );
    }
    let (story, _) = replay(&cx, &init, &full).expect("a judged schedule replays");
    let violated = outcome.violated(&cx);
    if opts.json {
        let j = JsonReplay {
            test: prog.name.clone(),
            design: design.name.clone(),
            schedule: full.to_string(),
            end: outcome.end,
            conditions: prog
                .conds
                .iter()
                .enumerate()
                .map(|(i, c)| JsonReplayCond {
                    kind: kind_word(c.kind),
                    text: c.text.clone(),
                    value: outcome.evals[i],
                    violated: violated.contains(&i),
                })
                .collect(),
            trace: story,
        };
        println!("{}", serde_json::to_string_pretty(&j).expect("serialisable"));
    } else {
        println!("{} under {}: replay ({} steps)", prog.name, design.name, story.steps.len());
        print!("{}", render_story(&story));
        for i in 0..prog.conds.len() {
            let status = match (outcome.evals[i], violated.contains(&i)) {
                (_, true) => "VIOLATED",
                (None, _) => "not evaluated",
                (Some(true), _) => "true",
                (Some(false), _) => "false",
            };
            println!("  {:<34} {status}", cond_text(prog, i));
        }
    }
    if violated.is_empty() {
        EXIT_PASS
    } else {
        EXIT_FAIL
    }
}
