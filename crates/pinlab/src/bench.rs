//! `pinlab bench`: explorer throughput on every scenario of the suite under
//! every design, with and without partial-order reduction, plus random
//! simulation speed. JSON for tracking speed across commits (never used in
//! tests as an assertion), or a short text summary.
//!
//! Every cell is explored exhaustively on one thread so states per second
//! are per core: depth-first (the default strategy) with and without
//! reduction, and breadth-first for comparison. The suite is then run once
//! more the way `compare` runs it (all cores, deciding early) for the wall
//! time users wait.

use crate::report::{check, Limits};
use crate::suite::{explore_cells, load_suite_pub};
use crate::{EXIT_BAD_INPUT, EXIT_PASS};
use pinlab_explore::sim::{simulate, SimConfig};
use pinlab_explore::{Strategy, Until};
use pinlab_model::design::Design;
use pinlab_model::{Cx, World};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

#[derive(Serialize)]
struct Row {
    scenario: String,
    design: String,
    verdict: &'static str,
    /// With reduction (the default).
    states: u64,
    transitions: u64,
    /// Wall time to the verdict, one thread.
    ms: f64,
    states_per_s: f64,
    transitions_per_s: f64,
    /// Visited set plus parent links, per stored state.
    bytes_per_state: f64,
    /// Without reduction.
    states_full: u64,
    ms_full: f64,
    states_per_s_full: f64,
    /// `states_full / states`.
    reduction: f64,
    /// Breadth-first, with reduction (the same states).
    ms_bfs: f64,
    /// Depth-first with reduction and sleep sets (the same states).
    transitions_sleep: u64,
    ms_sleep: f64,
}

#[derive(Serialize)]
struct Sim {
    scenario: String,
    design: String,
    runs: u64,
    steps: u64,
    ms: f64,
    steps_per_s: f64,
}

#[derive(Serialize)]
struct Bench {
    cells: usize,
    /// Sums over cells, one thread each.
    total_states: u64,
    total_ms: f64,
    states_per_s: f64,
    total_states_full: u64,
    total_ms_full: f64,
    states_per_s_full: f64,
    /// Breadth-first, with reduction, over all cells.
    total_ms_bfs: f64,
    states_per_s_bfs: f64,
    /// Depth-first with reduction and sleep sets, over all cells: the same
    /// states, fewer transitions.
    total_transitions: u64,
    total_transitions_sleep: u64,
    total_ms_sleep: f64,
    states_per_s_sleep: f64,
    /// Over all cells: stored bytes / stored states.
    bytes_per_state: f64,
    /// The largest per-cell reduction and the scenario it was seen on.
    best_reduction: f64,
    best_reduction_cell: String,
    /// The whole suite as `compare` runs it: every core, reduction on.
    suite_wall_ms: f64,
    workers: usize,
    sim: Sim,
    rows: Vec<Row>,
}

/// `--out FILE`: write the JSON there too.
pub fn write_out(out: Option<&Path>, text: &str) -> Result<(), u8> {
    if let Some(p) = out {
        std::fs::write(p, text).map_err(|e| {
            eprintln!("pinlab: error: cannot write {}: {e}", p.display());
            EXIT_BAD_INPUT
        })?;
    }
    Ok(())
}

pub fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

/// Options of `pinlab bench`.
pub struct BenchOpts {
    pub json: bool,
    pub workers: usize,
    /// Measure the scaling family instead of the suite.
    pub scale: bool,
    /// Memory budget of each `--scale` search.
    pub max_memory: Option<u64>,
    /// Time limit of each `--scale` search.
    pub time: Option<std::time::Duration>,
}

pub fn bench(
    dir: Option<&Path>,
    designs: &[Design],
    out: Option<&Path>,
    o: &BenchOpts,
    stop: &AtomicBool,
) -> u8 {
    if o.scale {
        return crate::scale::bench_scale(dir, designs, out, o, stop);
    }
    let (json, workers) = (o.json, o.workers);
    let suite = match load_suite_pub(dir) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let one = Limits { jobs: 1, reduction: true, strategy: Strategy::Dfs, ..Limits::default() };
    let full = Limits { reduction: false, ..one };
    let bfs = Limits { strategy: Strategy::Bfs, ..one };
    let sleep = Limits { sleep_sets: true, ..one };
    let mut rows = Vec::new();
    let mut stored_bytes = 0u64;
    for (name, prog) in &suite {
        for d in designs {
            let r = check(prog, d, one, stop, false).report;
            let f = check(prog, d, full, stop, false).report;
            let b = check(prog, d, bfs, stop, false).report;
            let z = check(prog, d, sleep, stop, false).report;
            stored_bytes += r.visited_bytes;
            let secs = (r.elapsed_ms / 1e3).max(1e-9);
            let secs_full = (f.elapsed_ms / 1e3).max(1e-9);
            rows.push(Row {
                scenario: name.clone(),
                design: d.name.clone(),
                verdict: r.verdict().word(),
                states: r.states,
                transitions: r.transitions,
                ms: round(r.elapsed_ms, 3),
                states_per_s: (r.states as f64 / secs).round(),
                transitions_per_s: (r.transitions as f64 / secs).round(),
                bytes_per_state: round(r.visited_bytes as f64 / r.states.max(1) as f64, 1),
                states_full: f.states,
                ms_full: round(f.elapsed_ms, 3),
                states_per_s_full: (f.states as f64 / secs_full).round(),
                reduction: round(f.states as f64 / r.states.max(1) as f64, 2),
                ms_bfs: round(b.elapsed_ms, 3),
                transitions_sleep: z.transitions,
                ms_sleep: round(z.elapsed_ms, 3),
            });
        }
    }
    // The suite as `compare` runs it.
    let start = Instant::now();
    let as_compare =
        Limits { jobs: workers, until: Until::Decided, sim_runs: crate::DEFAULT_SIM_RUNS, ..one };
    explore_cells(&suite, designs, as_compare, stop, |_, _, _, _| ());
    let suite_wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let sim = sim_bench(&suite, designs);

    let total_states: u64 = rows.iter().map(|r| r.states).sum();
    let total_ms: f64 = rows.iter().map(|r| r.ms).sum();
    let total_states_full: u64 = rows.iter().map(|r| r.states_full).sum();
    let total_ms_full: f64 = rows.iter().map(|r| r.ms_full).sum();
    let total_ms_bfs: f64 = rows.iter().map(|r| r.ms_bfs).sum();
    let total_ms_sleep: f64 = rows.iter().map(|r| r.ms_sleep).sum();
    let best = rows.iter().max_by(|a, b| a.reduction.total_cmp(&b.reduction));
    let b = Bench {
        cells: rows.len(),
        total_states,
        total_ms: round(total_ms, 1),
        states_per_s: (total_states as f64 / (total_ms / 1e3).max(1e-9)).round(),
        total_states_full,
        total_ms_full: round(total_ms_full, 1),
        states_per_s_full: (total_states_full as f64 / (total_ms_full / 1e3).max(1e-9)).round(),
        total_ms_bfs: round(total_ms_bfs, 1),
        states_per_s_bfs: (total_states as f64 / (total_ms_bfs / 1e3).max(1e-9)).round(),
        total_transitions: rows.iter().map(|r| r.transitions).sum(),
        total_transitions_sleep: rows.iter().map(|r| r.transitions_sleep).sum(),
        total_ms_sleep: round(total_ms_sleep, 1),
        states_per_s_sleep: (total_states as f64 / (total_ms_sleep / 1e3).max(1e-9)).round(),
        bytes_per_state: round(stored_bytes as f64 / total_states.max(1) as f64, 1),
        best_reduction: best.map_or(1.0, |r| r.reduction),
        best_reduction_cell: best.map_or(String::new(), |r| format!("{} / {}", r.scenario, r.design)),
        suite_wall_ms: round(suite_wall_ms, 1),
        workers,
        sim,
        rows,
    };
    let text = serde_json::to_string_pretty(&b).expect("serialisable");
    if let Err(c) = write_out(out, &text) {
        return c;
    }
    if json {
        println!("{text}");
    } else {
        println!("{} cells, one thread each:", b.cells);
        println!(
            "  with reduction    {:>10} states  {:>9.1} ms  {:>9.0} states/s",
            b.total_states, b.total_ms, b.states_per_s
        );
        println!(
            "  without reduction {:>10} states  {:>9.1} ms  {:>9.0} states/s",
            b.total_states_full, b.total_ms_full, b.states_per_s_full
        );
        println!(
            "  breadth-first     {:>10} states  {:>9.1} ms  {:>9.0} states/s",
            b.total_states, b.total_ms_bfs, b.states_per_s_bfs
        );
        println!(
            "  with sleep sets   {:>10} states  {:>9.1} ms  {:>9.0} states/s  ({} transitions, {} without)",
            b.total_states,
            b.total_ms_sleep,
            b.states_per_s_sleep,
            b.total_transitions_sleep,
            b.total_transitions
        );
        println!("  stored: {:.1} bytes per state (visited set)", b.bytes_per_state);
        println!("  best reduction: {:.1}x on {}", b.best_reduction, b.best_reduction_cell);
        println!("whole suite as `compare` runs it ({} workers): {:.0} ms", b.workers, b.suite_wall_ms);
        println!(
            "random simulation ({} / {}): {} runs, {} steps, {:.0} steps/s",
            b.sim.scenario, b.sim.design, b.sim.runs, b.sim.steps, b.sim.steps_per_s
        );
        if let Some(p) = out {
            println!("wrote {}", p.display());
        }
    }
    EXIT_PASS
}

/// Simulation speed on the seed scenario (or the suite's first).
fn sim_bench(suite: &[(String, pinlab_model::Program)], designs: &[Design]) -> Sim {
    let (name, prog) = suite.iter().find(|(n, _)| n.contains("seed/")).unwrap_or(&suite[0]);
    let d = &designs[0];
    let cx = Cx { prog, design: d };
    let init = World::new(prog).expect("the compiler checked the machine can be built");
    let cfg = SimConfig { seed: 1, runs: 20_000, ..SimConfig::default() };
    let start = Instant::now();
    let r = simulate(&cx, &init, &cfg);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    Sim {
        scenario: name.clone(),
        design: d.name.clone(),
        runs: r.runs,
        steps: r.steps,
        ms: round(ms, 1),
        steps_per_s: (r.steps as f64 / (ms / 1e3).max(1e-9)).round(),
    }
}
