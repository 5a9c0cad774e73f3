//! `pinlab run`, `pinlab trace` and `pinlab designs`: loading scenarios,
//! exploring them, and printing herd-like reports, stories and JSON.

use crate::{EXIT_BAD_INPUT, EXIT_FAIL, EXIT_INCOMPLETE, EXIT_PASS};
use indicatif::{ProgressBar, ProgressStyle};
use pinlab_explore::{explore, replay, Config, PinTestCounts, Report, Schedule, Story, Verdict};
use pinlab_litmus::{load, Source};
use pinlab_model::cond::Cond;
use pinlab_model::design::{Design, PROFILES};
use pinlab_model::program::{CondKind, Program};
use pinlab_model::{Cx, World};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// The largest scenario file read (1 MiB): the suite's largest is 2 KiB,
/// and reading `/dev/zero` must fail at once, not fill the memory.
pub const MAX_SOURCE_BYTES: u64 = 1 << 20;

/// A scenario's display name and text: a file, or standard input for `-`.
/// Refuses more than [`MAX_SOURCE_BYTES`] and text that is not UTF-8.
pub fn read_source(path: &Path) -> Result<(String, String), String> {
    use std::io::Read;
    let stdin = path == Path::new("-");
    let name = if stdin { "<stdin>".to_string() } else { path.display().to_string() };
    let mut bytes = Vec::new();
    let read = if stdin {
        std::io::stdin().lock().take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("cannot read {name}: {e}"))?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(format!("{name}: larger than {} KiB; a scenario is a few lines", MAX_SOURCE_BYTES >> 10));
    }
    let text = String::from_utf8(bytes).map_err(|e| format!("{name}: not UTF-8 text ({e})"))?;
    Ok((name, text))
}

/// Read and compile a scenario; on failure print the diagnostics (fancy on a
/// terminal, plain `file:line:col: error: ...` otherwise) and return the exit code.
pub fn load_path(path: &Path, plain: bool) -> Result<Program, u8> {
    let (name, text) = read_source(path).map_err(|e| {
        eprintln!("pinlab: error: {e}");
        EXIT_BAD_INPUT
    })?;
    load_text(&name, &text, plain)
}

/// Read and compile a scenario for `--json` output: on failure, the
/// diagnostics as a JSON object (`file`, `error`, `diagnostics`), printed
/// by the caller with the results.
pub fn load_path_json(path: &Path) -> Result<Program, serde_json::Value> {
    let (name, text) = read_source(path).map_err(|e| {
        serde_json::json!({ "file": path.display().to_string(), "error": "bad input", "diagnostics": [
            { "file": path.display().to_string(), "severity": "error", "message": e }
        ]})
    })?;
    load(&Source::new(name.as_str(), text.as_str()))
        .map_err(|d| serde_json::json!({ "file": name, "error": "bad input", "diagnostics": d.to_json() }))
}

pub fn load_text(name: &str, text: &str, plain: bool) -> Result<Program, u8> {
    load(&Source::new(name, text)).map_err(|d| {
        if plain {
            eprint!("{}", d.to_plain());
        } else {
            eprintln!("{:?}", miette::Report::new(d));
        }
        EXIT_BAD_INPUT
    })
}

/// Bounds and options of one exploration.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    pub max_states: Option<u64>,
    pub crash_points: bool,
    pub max_depth: Option<u32>,
    pub time: Option<std::time::Duration>,
    /// Worker threads for one exploration.
    pub jobs: usize,
    pub bitstate_log2: Option<u8>,
    pub shard: Option<pinlab_explore::Shard>,
    pub reduction: bool,
    /// Sleep sets in the depth-first search (`--sleep-sets`).
    pub sleep_sets: bool,
    pub until: pinlab_explore::Until,
    pub sim_runs: u32,
    pub max_memory: Option<u64>,
    pub strategy: pinlab_explore::Strategy,
}

/// One scenario explored under one design.
#[derive(Clone)]
pub struct Outcome {
    pub report: Report,
    pub init: World,
}

pub fn check(
    prog: &Program,
    design: &Design,
    limits: Limits,
    stop: &AtomicBool,
    show_progress: bool,
) -> Outcome {
    let cx = Cx { prog, design };
    let init = World::new(prog).expect("the compiler checked the machine can be built");
    let bar = if show_progress { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
    let label = format!("{} / {}", prog.name, design.name);
    let progress = |n: u64| bar.set_message(format!("{label}: {n} states"));
    let cfg = Config {
        max_states: limits.max_states,
        max_depth: limits.max_depth,
        time_limit: limits.time,
        jobs: limits.jobs,
        bitstate_log2: limits.bitstate_log2,
        shard: limits.shard,
        reduction: limits.reduction,
        sleep_sets: limits.sleep_sets && limits.reduction,
        crash_points: limits.crash_points || prog.crash_points,
        stop: Some(stop),
        progress: Some(&progress),
        until: limits.until,
        presim_runs: limits.sim_runs,
        max_memory: limits.max_memory,
        strategy: limits.strategy,
    };
    let report = explore(&cx, &init, &cfg);
    bar.finish_and_clear();
    Outcome { report, init }
}

/// Index of the condition a trace explains by default: the first decided
/// violated.
pub fn first_failing(r: &Report) -> Option<usize> {
    r.conds.iter().position(|c| !c.holds && c.decided)
}

/// The schedule that best explains condition `i`: for `forbid ORACLE`, the
/// shortest run to the step where the oracle first fired; otherwise the
/// condition's witness.
pub fn explaining_schedule(prog: &Program, r: &Report, i: usize) -> Option<Schedule> {
    let c = &prog.conds[i];
    if let (CondKind::Forbid, Cond::Oracle(o), false) = (c.kind, &c.cond, r.conds[i].holds) {
        if let Some((_, s)) = r.fired.iter().find(|(f, _)| f == o) {
            return Some(s.clone());
        }
    }
    r.conds[i].witness.clone()
}

#[derive(Serialize)]
pub struct JsonCond {
    pub kind: &'static str,
    pub text: String,
    pub holds: bool,
    /// `holds` is final; false when a limit stopped the search first.
    pub decided: bool,
    /// `search` or `simulation`, when decided.
    pub decided_by: Option<&'static str>,
    pub implicit: bool,
}

/// Version of the `--json` result format: 2 added `decided`, `decided_by`,
/// `peak_memory_bytes` and the stop reasons `decided` and `memory`.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
pub struct JsonResult {
    pub schema_version: u32,
    pub test: String,
    pub file: String,
    pub design: String,
    pub verdict: &'static str,
    pub complete: bool,
    /// Why the search is incomplete (`max-states`, `max-depth`, `time`,
    /// `interrupted`, `bitstate`, `shard`), when it is.
    pub stopped_by: Option<pinlab_explore::StopReason>,
    pub conditions: Vec<JsonCond>,
    pub oracles_fired: Vec<&'static str>,
    pub states: u64,
    pub transitions: u64,
    pub final_states: u64,
    pub pin_tests: PinTestCounts,
    pub longest_wait_steps: u32,
    pub bounce_bytes_max: u64,
    pub elapsed_ms: f64,
    /// The most resident memory seen while searching.
    pub peak_memory_bytes: u64,
    /// Things the author may not have meant (a thread that fails unobserved).
    pub warnings: Vec<String>,
    /// Upper bound on the chance that two distinct states shared a 64-bit
    /// fingerprint, so that a state was skipped (n²/2⁶⁵).
    pub omission_bound: f64,
    /// Verdict `n/a`: the feature of the design's era the scenario needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Story>,
    /// With `run --shard`: what `pinlab merge` needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardPart>,
}

/// One shard's raw result, as `pinlab merge` reads it back.
#[derive(Serialize, serde::Deserialize)]
pub struct ShardPart {
    pub index: u32,
    pub count: u32,
    /// The design with every knob, so `--set` survives the round trip.
    pub design: Design,
    pub report: Report,
}

pub fn kind_word(k: CondKind) -> &'static str {
    match k {
        CondKind::Forbid => "forbid",
        CondKind::Exists => "exists",
        CondKind::Always => "always",
    }
}

pub fn json_result(file: &str, prog: &Program, design: &Design, o: &Outcome) -> JsonResult {
    let r = &o.report;
    let trace = first_failing(r).and_then(|i| {
        let s = explaining_schedule(prog, r, i)?;
        replay(&Cx { prog, design }, &o.init, &s).ok().map(|(story, _)| story)
    });
    JsonResult {
        schema_version: SCHEMA_VERSION,
        test: prog.name.clone(),
        file: file.to_string(),
        design: design.name.clone(),
        verdict: r.verdict().word(),
        complete: r.complete,
        stopped_by: r.stopped_by,
        conditions: prog
            .conds
            .iter()
            .zip(&r.conds)
            .map(|(c, res)| JsonCond {
                kind: kind_word(c.kind),
                text: c.text.clone(),
                holds: res.holds,
                decided: res.decided,
                decided_by: res.by.map(|m| m.word()),
                implicit: c.implicit,
            })
            .collect(),
        oracles_fired: r.fired.iter().map(|(o, _)| o.name()).collect(),
        states: r.states,
        transitions: r.transitions,
        final_states: r.finals,
        pin_tests: r.pin_tests,
        longest_wait_steps: r.longest_wait_steps,
        bounce_bytes_max: r.bounce_bytes_max,
        elapsed_ms: (r.elapsed_ms * 1000.0).round() / 1000.0,
        peak_memory_bytes: r.peak_memory_bytes,
        warnings: unobserved_failures(prog, r),
        omission_bound: r.omission_bound(),
        not_applicable: r.not_applicable.clone(),
        trace,
        shard: None,
    }
}

/// Threads that failed (ended an execution with `thread.err` set) while no
/// condition reads their `err`: the scenario may not test what its author
/// thinks (a store outside its mapping faults the thread silently).
pub fn unobserved_failures(prog: &Program, r: &Report) -> Vec<String> {
    prog.warnings.iter().cloned().chain(unobserved_threads(prog, r)).collect()
}

fn unobserved_threads<'a>(prog: &'a Program, r: &'a Report) -> impl Iterator<Item = String> + 'a {
    (0..prog.threads.len())
        .filter(|&t| r.failed_threads & (1 << t) != 0)
        .map(|t| pinlab_model::ids::ThreadId(t as u8))
        .filter(|&t| !prog.conds.iter().any(|c| c.cond.reads_thread(t)))
        .map(|t| {
            let name = &prog.thread(t).name;
            format!("thread `{name}` fails in some execution (`{name}.err` is set) and no condition reads it")
        })
}

/// The herd-like text report of one scenario under one design.
pub fn text_report(file: &str, prog: &Program, design: &Design, o: &Outcome, timings: bool) -> String {
    let r = &o.report;
    let mut s = String::new();
    if let Some(why) = &r.not_applicable {
        return format!("Test {} ({file}) under {}: n/a ({why})\n", prog.name, design.name);
    }
    let verdict = match r.verdict() {
        Verdict::Pass => "Ok",
        Verdict::Fail => "No",
        Verdict::Unknown => "Unknown (incomplete)",
        Verdict::NotApplicable => "n/a",
    };
    s += &format!("Test {} ({file}) under {}: {verdict}\n", prog.name, design.name);
    if let Some(doc) = &prog.doc {
        s += &format!("  \"{doc}\"\n");
    }
    for (i, (c, res)) in prog.conds.iter().zip(&r.conds).enumerate() {
        let cond = format!("{} {}{}", kind_word(c.kind), c.text, if c.implicit { " (implicit)" } else { "" });
        let by =
            if res.by == Some(pinlab_explore::Method::Simulation) { " (found by simulation)" } else { "" };
        let status = match (c.kind, res.holds, res.decided) {
            (CondKind::Exists, true, _) => format!("holds (witnessed){by}"),
            (CondKind::Exists, _, false) => {
                "undecided (no witness found before the search stopped)".to_string()
            }
            (_, _, false) => "undecided (no violation found before the search stopped)".to_string(),
            (_, true, true) => "holds".to_string(),
            (CondKind::Exists, false, true) => "fails: no execution satisfies it".to_string(),
            (_, false, true) => {
                format!("fails{by}: see `pinlab trace {file} {} --cond {}`", design_args(design), i + 1)
            }
        };
        s += &format!("  {cond:<34} {status}\n");
    }
    let fired: Vec<_> = r.fired.iter().map(|(o, _)| o.name()).collect();
    s += &format!("  oracles fired: {}\n", if fired.is_empty() { "none".into() } else { fired.join(", ") });
    for w in unobserved_failures(prog, r) {
        s += &format!("  warning: {w}\n");
    }
    let pt = r.pin_tests;
    if pt.consulted > 0 {
        s += &format!(
            "  pin tests: {} consulted, {} false positive(s), {} false negative(s) (over all transitions)\n",
            pt.consulted, pt.false_positives, pt.false_negatives
        );
    }
    s += &format!(
        "  longest wait {} step(s); bounce copies up to {} byte(s) per execution\n",
        r.longest_wait_steps, r.bounce_bytes_max
    );
    s += &format!("  states {}  transitions {}  final states {}\n", r.states, r.transitions, r.finals);
    match r.stopped_by {
        Some(pinlab_explore::StopReason::Decided) if r.conds.iter().all(|c| c.decided) => {
            s += "  stopped early: every condition was decided; the counters cover the part explored (--exhaustive for all)\n"
        }
        Some(pinlab_explore::StopReason::Decided) => {
            s += "  stopped at the first violation (--first): the verdict is decided, the conditions marked undecided are not\n"
        }
        Some(why) => s += &format!("  INCOMPLETE: {}; undecided conditions are marked so\n", why.describe()),
        None => {}
    }
    if timings {
        let rate = r.states as f64 / (r.elapsed_ms / 1e3).max(1e-9);
        s += &format!("  time {:.1} ms  ({:.0} states/s)\n", r.elapsed_ms, rate);
        s += &format!(
            "  peak memory {:.0} MiB; fingerprint collision bound {:.1e}\n",
            r.peak_memory_bytes as f64 / 1048576.0,
            r.omission_bound()
        );
    }
    s
}

/// The command-line arguments that select `d`: its profile, then each
/// knob changed with `--set` (a design's name is `profile+knob=value+...`).
pub fn design_args(d: &Design) -> String {
    let mut parts = d.name.split('+');
    let mut out = format!("--design {}", parts.next().unwrap_or(&d.name));
    for k in parts {
        out += &format!(" --set {k}");
    }
    out
}

/// The exit code after one more result, the same whatever the order: bad
/// input wins, then a failure, then an undecided result, then a pass.
pub fn fold_exit(code: u8, v: Verdict) -> u8 {
    worse_exit(
        code,
        match v {
            Verdict::Fail => EXIT_FAIL,
            Verdict::Unknown => EXIT_INCOMPLETE,
            // A feature the era lacks is an answer, not a failure.
            Verdict::Pass | Verdict::NotApplicable => EXIT_PASS,
        },
    )
}

/// The more serious of two exit codes (see [`fold_exit`]).
pub fn worse_exit(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        EXIT_BAD_INPUT => 3,
        EXIT_FAIL => 2,
        EXIT_INCOMPLETE => 1,
        _ => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// One line for one design: the verdict and what decided it.
pub fn summary_line(prog: &Program, design: &Design, o: &Outcome) -> String {
    let r = &o.report;
    let violated: Vec<String> = prog
        .conds
        .iter()
        .zip(&r.conds)
        .filter(|(_, c)| c.decided && !c.holds)
        .map(|(c, _)| match (c.kind, &c.cond) {
            (CondKind::Forbid, Cond::Oracle(o)) => o.name().to_string(),
            _ => format!("{} {}", kind_word(c.kind), c.text),
        })
        .collect();
    let open = r.conds.iter().filter(|c| !c.decided).count();
    let what = match r.verdict() {
        Verdict::Pass => "Ok".to_string(),
        Verdict::Fail => format!("No: {}", violated.join(", ")),
        Verdict::Unknown => {
            format!("Unknown: {open} undecided ({})", r.stopped_by.map_or("stopped", |s| s.describe_short()))
        }
        Verdict::NotApplicable => format!("n/a: {}", r.not_applicable.as_deref().unwrap_or("")),
    };
    let more = if r.verdict() == Verdict::Fail && open > 0 {
        format!(" (+{open} undecided)")
    } else {
        String::new()
    };
    format!("  {:<12} {what}{more}", design.name)
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    files: &[std::path::PathBuf],
    designs: &[Design],
    json: bool,
    timings: bool,
    verbose: bool,
    limits: Limits,
    stop: &AtomicBool,
) -> u8 {
    // Several designs: a line each unless asked for the details.
    let summary = designs.len() > 1 && !verbose;
    let mut code = EXIT_PASS;
    let mut results = Vec::new();
    let progress = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut bad: Vec<serde_json::Value> = Vec::new();
    for f in files {
        let loaded = if json {
            load_path_json(f).map_err(|d| bad.push(d))
        } else {
            load_path(f, !std::io::IsTerminal::is_terminal(&std::io::stderr())).map_err(|_| ())
        };
        let Ok(prog) = loaded else {
            code = worse_exit(code, EXIT_BAD_INPUT);
            continue;
        };
        let name = if f.as_os_str() == "-" { "<stdin>".to_string() } else { f.display().to_string() };
        if summary && !json {
            println!("Test {} ({name}):", prog.name);
        }
        for d in designs {
            let o = check(&prog, d, limits, stop, progress);
            code = fold_exit(code, o.report.verdict());
            if json {
                let mut j = json_result(&name, &prog, d, &o);
                if let Some(sh) = limits.shard {
                    j.shard = Some(ShardPart {
                        index: sh.index,
                        count: sh.count,
                        design: d.clone(),
                        report: o.report,
                    });
                }
                results.push(j);
            } else if summary {
                println!("{}", summary_line(&prog, d, &o));
            } else {
                println!("{}", text_report(&name, &prog, d, &o, timings));
            }
        }
        if summary && !json {
            println!("  (details: --design NAME or -v; why: pinlab trace {name} --design NAME)\n");
        }
    }
    if json {
        let mut out = serde_json::to_value(&results).expect("serialisable");
        if let Some(a) = out.as_array_mut() {
            a.extend(bad);
        }
        println!("{}", serde_json::to_string_pretty(&out).expect("serialisable"));
    }
    code
}

/// `--perfetto OUT`: write the replayed execution as Chrome trace-event
/// JSON for the Perfetto UI.
fn write_perfetto(cx: &Cx, sched: &Schedule, story: &Story, out: Option<&Path>) -> Result<(), u8> {
    let Some(out) = out else { return Ok(()) };
    let doc = pinlab_explore::perfetto::render(cx, sched, story);
    if let Err(e) = std::fs::write(out, serde_json::to_string(&doc).expect("serialisable")) {
        eprintln!("pinlab: error: cannot write {}: {e}", out.display());
        return Err(EXIT_BAD_INPUT);
    }
    eprintln!("wrote {} (open it in the Perfetto UI or chrome://tracing)", out.display());
    Ok(())
}

pub fn trace(
    file: &Path,
    design: &Design,
    cond: Option<usize>,
    json: bool,
    limits: Limits,
    stop: &AtomicBool,
    perfetto: Option<&Path>,
) -> u8 {
    let prog = match load_path(file, json || !std::io::IsTerminal::is_terminal(&std::io::stderr())) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let o = check(&prog, design, limits, stop, !json && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let r = &o.report;
    let i = match cond {
        Some(n) if n >= 1 && n <= prog.conds.len() => n - 1,
        Some(n) => {
            eprintln!("pinlab: error: --cond {n}: the scenario has {} condition(s)", prog.conds.len());
            return EXIT_BAD_INPUT;
        }
        None => match first_failing(r) {
            Some(i) => i,
            None => {
                let undecided = r.conds.iter().any(|c| !c.decided);
                let msg = if undecided {
                    "nothing is violated so far, but the search stopped before deciding every condition"
                } else {
                    "every condition holds; nothing to trace"
                };
                if json {
                    let v = serde_json::json!({ "schema_version": SCHEMA_VERSION, "test": prog.name,
                        "design": design.name, "verdict": r.verdict().word(), "message": msg, "trace": null });
                    println!("{}", serde_json::to_string_pretty(&v).expect("serialisable"));
                } else {
                    println!("{}: {msg} under {}", prog.name, design.name);
                }
                return if undecided { EXIT_INCOMPLETE } else { EXIT_PASS };
            }
        },
    };
    let c = &prog.conds[i];
    let what = format!("{} {}", kind_word(c.kind), c.text);
    let res = &r.conds[i];
    let Some(sched) = explaining_schedule(&prog, r, i) else {
        let (state, code) = match (res.decided, res.holds) {
            (false, _) => ("is undecided (the search stopped first)", EXIT_INCOMPLETE),
            (true, true) => ("holds", EXIT_PASS),
            (true, false) => ("fails", EXIT_FAIL),
        };
        if json {
            let v = serde_json::json!({ "schema_version": SCHEMA_VERSION, "test": prog.name,
                "design": design.name, "condition": what, "message": state, "trace": null });
            println!("{}", serde_json::to_string_pretty(&v).expect("serialisable"));
        } else {
            println!("{}: `{what}` {state} under {} and has no witness execution", prog.name, design.name);
        }
        return code;
    };
    let cx = Cx { prog: &prog, design };
    let (story, _) = match replay(&cx, &o.init, &sched) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("pinlab: internal error: witness does not replay: {e}");
            return EXIT_FAIL;
        }
    };
    if let Err(c) = write_perfetto(&cx, &sched, &story, perfetto) {
        return c;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&story).expect("serialisable"));
    } else {
        let verdict = match (c.kind, r.conds[i].holds) {
            (CondKind::Exists, true) => "is witnessed by this execution",
            (CondKind::Forbid, false) => "is violated by this execution",
            (CondKind::Always, false) => "is violated by this execution",
            _ => "is illustrated by this execution",
        };
        println!("{} under {}: `{what}` {verdict} ({} steps)", prog.name, design.name, story.steps.len());
        print!("{}", render_story(&story));
    }
    if r.conds[i].holds {
        EXIT_PASS
    } else {
        EXIT_FAIL
    }
}

/// `pinlab trace FILE --schedule S`: replay one given schedule as a story.
pub fn replay_schedule(
    file: &Path,
    design: &Design,
    schedule: &str,
    json: bool,
    perfetto: Option<&Path>,
) -> u8 {
    let prog = match load_path(file, json || !std::io::IsTerminal::is_terminal(&std::io::stderr())) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let sched: Schedule = match schedule.parse() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pinlab: error: --schedule: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let init = World::new(&prog).expect("the compiler checked the machine can be built");
    let cx = Cx { prog: &prog, design };
    match replay(&cx, &init, &sched) {
        Ok((story, end)) => {
            if let Err(c) = write_perfetto(&cx, &sched, &story, perfetto) {
                return c;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&story).expect("serialisable"));
            } else {
                println!(
                    "{} under {}: replay of the given schedule ({} steps)",
                    prog.name,
                    design.name,
                    story.steps.len()
                );
                print!("{}", render_story(&story));
                let fired: Vec<_> = end.fired().iter().map(|o| o.name()).collect();
                println!(
                    "oracles fired: {}",
                    if fired.is_empty() { "none".into() } else { fired.join(", ") }
                );
            }
            EXIT_PASS
        }
        Err(e) => {
            eprintln!("pinlab: error: the schedule does not replay: {e}");
            EXIT_BAD_INPUT
        }
    }
}

/// A story as text: one line per step, details indented below it.
pub fn render_story(story: &Story) -> String {
    let tw = story.steps.iter().map(|s| s.thread.chars().count()).max().unwrap_or(0);
    let sw = story.steps.iter().map(|s| s.stmt.chars().count()).max().unwrap_or(0);
    let mut s = String::new();
    s += &format!("schedule {}  (thread numbers in declaration order; finally runs last)\n", story.schedule);
    for st in &story.steps {
        let fired = if st.fired.is_empty() {
            String::new()
        } else {
            format!("   <== {}", st.fired.join(", ").to_uppercase())
        };
        s += &format!("{:>4}  {:<tw$}  {:<sw$}  {}{fired}\n", st.step, st.thread, st.stmt, st.kernel);
        for n in st.notes.iter().chain(&st.changes) {
            s += &format!("{:>4}  {:<tw$}  {:<sw$}    · {n}\n", "", "", "");
        }
    }
    let end = if story.end.starts_with("stopped") && story.steps.last().is_some_and(|s| !s.fired.is_empty()) {
        "stopped at the step where the oracle fired"
    } else {
        &story.end
    };
    s += &format!("end: {end}\n");
    if !story.registers.is_empty() {
        s += &format!("registers at the end: {}\n", story.registers.join(", "));
    }
    s
}

/// The knobs of a design as (name, value) pairs, in declaration order.
fn knobs(d: &Design) -> Vec<(String, String)> {
    let v = serde_json::to_value(d).expect("a design serialises");
    let order = [
        "pin_tracking",
        "pinned_writeback",
        "dirty_unpin",
        "cow_reuse",
        "fork_copy_pinned",
        "unshare_on_pin",
        "migrate_refuse_pinned",
        "longterm_migrate_out",
        "reclaim_keep_pinned",
        "pin_waits_writeback",
        "no_buffers_bug",
        "rdma_odp",
        "refuse_longterm_file_write_pin",
        "umem_force_write",
        "longterm_unshare_cow",
        "io_uring",
        "uring_file_buffers",
        "pin_test_after_mkclean",
        "dio_csum_fallback",
        "dio_bounce_stable",
        "layout_lease",
    ];
    // Every knob is listed (the name aside): a new one must be added here.
    debug_assert_eq!(order.len() + 1, v.as_object().map_or(0, |o| o.len()), "knobs() misses a knob");
    order.iter().map(|k| (k.to_string(), v[k].to_string().trim_matches('"').to_string())).collect()
}

pub fn designs(name: Option<&str>) -> u8 {
    match name {
        None => {
            println!("Design profiles (pinlab designs NAME explains one):\n");
            for p in PROFILES {
                println!("  {:<12} {}", p.name, p.summary);
            }
            println!("\nKnobs (see `pinlab designs NAME` for a profile's values):");
            let names: Vec<String> = knobs(&PROFILES[0].design()).into_iter().map(|(k, _)| k).collect();
            println!("  {}", names.join(", "));
            EXIT_PASS
        }
        Some(n) => match PROFILES.iter().find(|p| p.name == n) {
            Some(p) => {
                println!("{}: {}\n  kernel: {}\n  from: {}\n", p.name, p.summary, p.kernel, p.origin);
                for (k, v) in knobs(&p.design()) {
                    println!("  {k:<32}{v}");
                }
                EXIT_PASS
            }
            None => {
                let names: Vec<_> = PROFILES.iter().map(|p| p.name).collect();
                eprintln!("pinlab: error: unknown design `{n}`; known: {}", names.join(", "));
                EXIT_BAD_INPUT
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_does_not_depend_on_the_order_of_results() {
        use Verdict::*;
        let orders: [&[Verdict]; 4] =
            [&[Fail, Unknown], &[Unknown, Fail], &[Pass, Unknown, Pass], &[Unknown, Pass, Fail, Pass]];
        let want = [EXIT_FAIL, EXIT_FAIL, EXIT_INCOMPLETE, EXIT_FAIL];
        for (vs, w) in orders.iter().zip(want) {
            assert_eq!(vs.iter().fold(EXIT_PASS, |c, v| fold_exit(c, *v)), w, "{vs:?}");
            assert_eq!(vs.iter().rev().fold(EXIT_PASS, |c, v| fold_exit(c, *v)), w, "{vs:?} reversed");
        }
        // Bad input wins over everything, in either order.
        assert_eq!(worse_exit(EXIT_INCOMPLETE, EXIT_BAD_INPUT), EXIT_BAD_INPUT);
        assert_eq!(worse_exit(EXIT_BAD_INPUT, EXIT_FAIL), EXIT_BAD_INPUT);
        assert_eq!(fold_exit(EXIT_BAD_INPUT, Verdict::Pass), EXIT_BAD_INPUT);
    }
}
