//! `pinlab bench --scale`: how the explorer copes as a scenario grows.
//!
//! The family is `litmus/scale/`: the seed race over N = 1..4 pages (each
//! stored, fsynced and written by DMA) and M = 1..3 NICs. Each size × design
//! is run for its time to a verdict (`pinlab run --first`: simulation first,
//! stop at the first violation; a pass needs the whole space), with and
//! without reduction, **each in a child process**: resident memory never
//! shrinks back within one process, so only a fresh process measures the
//! peak of one search. Every search has a memory budget and a time limit; a
//! search they stop is reported `unknown` with the reason, never as decided.
//!
//! Then the shard overhead on the seed: the whole space explored once, and
//! split into 2, 4 and 8 shards run one after another; the total work (sum
//! of the shards' states over the single run's) and the speed-up the split
//! would give on as many machines (single time over the slowest shard).

use crate::bench::{round, BenchOpts};
use crate::report::{check, Limits};
use crate::{EXIT_BAD_INPUT, EXIT_PASS};
use pinlab_explore::{Shard, Until};
use pinlab_model::design::Design;
use serde::Serialize;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Memory budget of one scale search unless `--max-memory` says.
pub const DEFAULT_BUDGET: u64 = 2 << 30;
/// Time limit of one scale search unless `--time` says.
pub const DEFAULT_TIME_S: u64 = 10;

#[derive(Serialize)]
struct Run {
    verdict: String,
    /// Conditions decided / all.
    decided: String,
    states: u64,
    /// Wall time of the child process (start-up included).
    ms: f64,
    peak_memory_mib: f64,
    stopped_by: Option<String>,
}

#[derive(Serialize)]
struct ScaleRow {
    scenario: String,
    pages: u32,
    devices: u32,
    design: String,
    reduced: Run,
    full: Run,
}

#[derive(Serialize)]
struct ShardRow {
    shards: u32,
    total_states: u64,
    /// Sum of the shards' states over the single run's.
    work: f64,
    /// Single run's time over the slowest shard's.
    speedup: f64,
}

#[derive(Serialize)]
struct ScaleBench {
    budget_mib: u64,
    time_limit_s: u64,
    rows: Vec<ScaleRow>,
    shard_scenario: String,
    shard_design: String,
    single_states: u64,
    single_ms: f64,
    shards: Vec<ShardRow>,
}

/// `seed-pN-dM` → (N, M).
fn size_of(name: &str) -> (u32, u32) {
    let num = |tag: char| {
        name.split('-').find_map(|p| p.strip_prefix(tag).and_then(|n| n.parse().ok())).unwrap_or(0)
    };
    (num('p'), num('d'))
}

fn child(file: &Path, design: &str, reduction: bool, budget: u64, time_s: u64) -> Result<Run, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("run").arg(file).args(["--design", design, "--json", "-j", "1", "--first"]).args([
        "--max-memory",
        &budget.to_string(),
        "--time",
        &format!("{time_s}s"),
    ]);
    if !reduction {
        cmd.arg("--no-reduction");
    }
    let start = Instant::now();
    let out = cmd.output().map_err(|e| format!("cannot run a child search: {e}"))?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!("child search printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr))
    })?;
    let r = &v[0];
    let conds = r["conditions"].as_array().map_or(&[][..], |a| a.as_slice());
    let decided = conds.iter().filter(|c| c["decided"].as_bool() == Some(true)).count();
    Ok(Run {
        verdict: r["verdict"].as_str().unwrap_or("?").to_string(),
        decided: format!("{decided}/{}", conds.len()),
        states: r["states"].as_u64().unwrap_or(0),
        ms: round(ms, 1),
        peak_memory_mib: round(r["peak_memory_bytes"].as_f64().unwrap_or(0.0) / 1048576.0, 1),
        stopped_by: r["stopped_by"].as_str().map(str::to_string),
    })
}

pub fn bench_scale(
    dir: Option<&Path>,
    designs: &[Design],
    out: Option<&Path>,
    o: &BenchOpts,
    stop: &AtomicBool,
) -> u8 {
    let family = match crate::suite::load_scale(dir) {
        Ok(f) => f,
        Err(c) => return c,
    };
    let budget = o.max_memory.unwrap_or(DEFAULT_BUDGET);
    let time_s = o.time.map_or(DEFAULT_TIME_S, |t| t.as_secs().max(1));
    let tmp = std::env::temp_dir().join(format!("pinlab-scale-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&tmp) {
        eprintln!("pinlab: error: cannot create {}: {e}", tmp.display());
        return EXIT_BAD_INPUT;
    }
    let mut rows = Vec::new();
    if !o.json {
        println!(
            "{:<14} {:<11} {:>22} {:>22}   (states, ms, MiB; budget {} MiB, {} s per search)",
            "scenario",
            "design",
            "reduced",
            "unreduced",
            budget >> 20,
            time_s
        );
    }
    'all: for (name, text) in &family {
        let short = name.rsplit('/').next().unwrap_or(name).to_string();
        let file = tmp.join(format!("{short}.litmus"));
        if let Err(e) = std::fs::write(&file, text) {
            eprintln!("pinlab: error: cannot write {}: {e}", file.display());
            return EXIT_BAD_INPUT;
        }
        let (pages, devices) = size_of(&short);
        for d in designs {
            if stop.load(Ordering::Relaxed) {
                break 'all;
            }
            let runs =
                (child(&file, &d.name, true, budget, time_s), child(&file, &d.name, false, budget, time_s));
            let (reduced, full) = match runs {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("pinlab: error: {e}");
                    return EXIT_BAD_INPUT;
                }
            };
            if !o.json {
                let cell = |r: &Run| {
                    let v = match &r.stopped_by {
                        Some(s) if r.verdict == "unknown" => format!("? {s}"),
                        _ => r.verdict.clone(),
                    };
                    format!("{v:>7} {:>9} {:>7.0} {:>5.0}", r.states, r.ms, r.peak_memory_mib)
                };
                println!("{short:<14} {:<11} {}  {}", d.name, cell(&reduced), cell(&full));
            }
            rows.push(ScaleRow {
                scenario: short.clone(),
                pages,
                devices,
                design: d.name.clone(),
                reduced,
                full,
            });
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);

    // Shard overhead on the smallest member (the seed race itself).
    let (sname, sprog) = match family.first().map(|(n, t)| (n, crate::report::load_text(n, t, true))) {
        Some((n, Ok(p))) => (n.clone(), p),
        _ => return EXIT_BAD_INPUT,
    };
    let design = designs.iter().find(|d| d.name == "bounce").unwrap_or(&designs[0]);
    let exhaustive = Limits {
        jobs: 1,
        reduction: true,
        until: Until::Exhausted,
        max_memory: Some(budget),
        ..Limits::default()
    };
    let single = check(&sprog, design, exhaustive, stop, false).report;
    let mut shards = Vec::new();
    for n in [2u32, 4, 8] {
        let parts: Vec<_> = (0..n)
            .map(|i| {
                let l = Limits { shard: Some(Shard { index: i, count: n }), ..exhaustive };
                check(&sprog, design, l, stop, false).report
            })
            .collect();
        let total: u64 = parts.iter().map(|r| r.states).sum();
        let slowest = parts.iter().map(|r| r.elapsed_ms).fold(0.0, f64::max);
        shards.push(ShardRow {
            shards: n,
            total_states: total,
            work: round(total as f64 / single.states.max(1) as f64, 2),
            speedup: round(single.elapsed_ms / slowest.max(1e-9), 2),
        });
    }
    let b = ScaleBench {
        budget_mib: budget >> 20,
        time_limit_s: time_s,
        rows,
        shard_scenario: sname,
        shard_design: design.name.clone(),
        single_states: single.states,
        single_ms: round(single.elapsed_ms, 1),
        shards,
    };
    let text = serde_json::to_string_pretty(&b).expect("serialisable");
    if let Err(c) = crate::bench::write_out(out, &text) {
        return c;
    }
    if o.json {
        println!("{text}");
    } else {
        println!(
            "\nshards of {} under {} (single run: {} states, {:.0} ms):",
            b.shard_scenario, b.shard_design, b.single_states, b.single_ms
        );
        for s in &b.shards {
            println!(
                "  {} shards: {} states in all ({:.2}x the work), {:.2}x faster on {} machines",
                s.shards, s.total_states, s.work, s.speedup, s.shards
            );
        }
    }
    EXIT_PASS
}
