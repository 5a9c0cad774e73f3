//! The explorer's modes agree with the plain search: partial-order
//! reduction, parallel expansion, sharding + merge, and the limits.
//!
//! Every scenario of `litmus/` under every design is explored with and
//! without reduction; verdicts must match and every witness of the reduced
//! search must replay to a final state that decides its condition the same
//! way. Parallel runs must produce the very same report, and sharded runs,
//! merged, the same verdicts and witnesses.

use pinlab_explore::{explore, merge, Config, Report, Schedule, Shard, StopReason, Verdict};
use pinlab_litmus::{load, Source};
use pinlab_model::design::PROFILES;
use pinlab_model::program::CondKind;
use pinlab_model::{Cx, Design, Program, World};
use std::path::{Path, PathBuf};

fn litmus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            litmus_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "litmus") {
            out.push(p);
        }
    }
}

fn suite() -> Vec<(String, Program)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../litmus");
    let mut files = Vec::new();
    litmus_files(&root, &mut files);
    // The scaling family is for `bench --scale`, not for exhaustive tests.
    files.retain(|f| !f.strip_prefix(&root).unwrap().starts_with("scale"));
    assert!(files.len() >= 40, "the suite is there");
    files
        .into_iter()
        .map(|f| {
            let name = f.strip_prefix(&root).unwrap().display().to_string();
            let text = std::fs::read_to_string(&f).unwrap();
            let prog = load(&Source::new(&name, text.as_str()))
                .unwrap_or_else(|d| panic!("{name}: {}", d.to_plain()));
            (name, prog)
        })
        .collect()
}

fn designs() -> Vec<Design> {
    PROFILES.iter().map(|p| p.design()).collect()
}

fn run(prog: &Program, d: &Design, cfg: &Config) -> Report {
    explore(&Cx { prog, design: d }, &World::new(prog).unwrap(), cfg)
}

/// Replay a witness and check it decides condition `i` as reported: it
/// replays, and it or its deterministic completion (a witness may stop at
/// the state that settled its condition) ends in a final state (or a crash)
/// where the condition is satisfied (`forbid`, `exists`) or violated
/// (`always`).
fn check_witness(name: &str, prog: &Program, d: &Design, i: usize, w: &Schedule) {
    let cx = Cx { prog, design: d };
    let (o, _) = pinlab_explore::judge(&cx, &World::new(prog).unwrap(), w, 10_000)
        .unwrap_or_else(|e| panic!("{name} under {}: witness {w} does not replay: {e}", d.name));
    let c = &prog.conds[i];
    let want = c.kind != CondKind::Always;
    assert_eq!(o.evals[i], Some(want), "{name} under {}: witness {w} does not decide `{}`", d.name, c.text);
}

#[test]
fn reduction_keeps_every_verdict_and_its_witnesses_replay() {
    let mut reduced_total = 0u64;
    let mut full_total = 0u64;
    for (name, prog) in suite() {
        if prog.crash_points {
            // Reduction is off with crash points: nothing to compare.
            continue;
        }
        for d in designs() {
            let full = run(&prog, &d, &Config { jobs: 2, ..Config::default() });
            let red = run(&prog, &d, &Config { jobs: 2, reduction: true, ..Config::default() });
            assert!(full.complete && red.complete, "{name} under {}", d.name);
            assert_eq!(red.verdict(), full.verdict(), "{name} under {}", d.name);
            let h = |r: &Report| r.conds.iter().map(|c| c.holds).collect::<Vec<_>>();
            assert_eq!(h(&red), h(&full), "{name} under {}: per-condition verdicts", d.name);
            let fired = |r: &Report| r.fired.iter().map(|f| f.0).collect::<Vec<_>>();
            assert_eq!(fired(&red), fired(&full), "{name} under {}: oracles fired", d.name);
            assert!(red.states <= full.states, "{name} under {}", d.name);
            for (i, c) in red.conds.iter().enumerate() {
                if let Some(w) = &c.witness {
                    check_witness(&name, &prog, &d, i, w);
                }
            }
            reduced_total += red.states;
            full_total += full.states;
        }
    }
    assert!(reduced_total < full_total, "the reduction removes states somewhere");
}

#[test]
fn reduction_shrinks_independent_threads_by_far_more_than_ten() {
    let (name, prog) =
        suite().into_iter().find(|(n, _)| n.ends_with("independent-dma-engines.litmus")).unwrap();
    for d in designs() {
        let full = run(&prog, &d, &Config::default());
        let red = run(&prog, &d, &Config { reduction: true, ..Config::default() });
        assert_eq!(red.verdict(), Verdict::Pass, "{name} under {}", d.name);
        assert_eq!(full.verdict(), Verdict::Pass, "{name} under {}", d.name);
        assert!(
            full.states >= 10 * red.states,
            "{name} under {}: {} vs {} states",
            d.name,
            full.states,
            red.states
        );
    }
}

fn same_report(a: &Report, b: &Report, what: &str) {
    assert_eq!(a.states, b.states, "{what}: states");
    assert_eq!(a.transitions, b.transitions, "{what}: transitions");
    assert_eq!(a.finals, b.finals, "{what}: finals");
    assert_eq!(a.conds, b.conds, "{what}: conditions and witnesses");
    assert_eq!(a.fired, b.fired, "{what}: oracles and their schedules");
    assert_eq!(a.pin_tests, b.pin_tests, "{what}: pin tests");
    assert_eq!(a.longest_wait_steps, b.longest_wait_steps, "{what}: longest wait");
    assert_eq!(a.bounce_bytes_max, b.bounce_bytes_max, "{what}: bounce bytes");
    assert_eq!(a.depth, b.depth, "{what}: depth");
}

/// Mid-sized scenarios, so the parallel and sharded runs have levels wide
/// enough to split.
fn mid_sized() -> Vec<(String, Program)> {
    suite()
        .into_iter()
        .filter(|(n, _)| {
            [
                "dma-short-term-pin",
                "ext4-torn-dma",
                "heuristic-fp-migration",
                "fork-after-register",
                "wait-deadlock",
            ]
            .iter()
            .any(|k| n.contains(k))
        })
        .collect()
}

#[test]
fn one_two_and_three_workers_give_the_same_report() {
    let ms = mid_sized();
    assert_eq!(ms.len(), 5);
    for (name, prog) in ms {
        for d in designs() {
            let one = run(&prog, &d, &Config::default());
            for jobs in [2, 3] {
                let many = run(&prog, &d, &Config { jobs, ..Config::default() });
                same_report(&one, &many, &format!("{name} under {} with {jobs} workers", d.name));
            }
        }
    }
}

#[test]
fn merged_shards_give_the_single_run_verdicts_and_witnesses() {
    let mut split_somewhere = false;
    for (name, prog) in mid_sized() {
        for d in designs() {
            for reduction in [false, true] {
                let base = Config { reduction, ..Config::default() };
                let whole = run(&prog, &d, &base);
                for count in [2u32, 3] {
                    let parts: Vec<(u32, Report)> = (0..count)
                        .map(|index| {
                            (index, run(&prog, &d, &Config { shard: Some(Shard { index, count }), ..base }))
                        })
                        .collect();
                    split_somewhere |= parts.iter().any(|(_, r)| r.stopped_by == Some(StopReason::Shard));
                    let kinds: Vec<_> = prog.conds.iter().map(|c| c.kind).collect();
                    let m = merge(&parts, count, &kinds).unwrap();
                    let what = format!("{name} under {} in {count} shards (reduction {reduction})", d.name);
                    assert!(m.complete, "{what}");
                    assert_eq!(m.verdict(), whole.verdict(), "{what}");
                    assert_eq!(m.conds, whole.conds, "{what}: conditions and witnesses");
                    assert_eq!(m.fired, whole.fired, "{what}: oracles and their schedules");
                    // A missing shard leaves the merge incomplete.
                    let partial = merge(&parts[1..], count, &kinds).unwrap();
                    assert!(!partial.complete || parts[0].1.stopped_by.is_none(), "{what}");
                }
            }
        }
    }
    assert!(split_somewhere, "some scenario was wide enough to split");
}

#[test]
fn limits_stop_cleanly_with_the_reason() {
    let (_, prog) = suite().into_iter().find(|(n, _)| n.contains("seed/rdma-writeback")).unwrap();
    let d = pinlab_model::design::profile("linux-4.19").unwrap().design();
    let r = run(&prog, &d, &Config { max_states: Some(5_000), ..Config::default() });
    assert!(!r.complete);
    assert_eq!(r.stopped_by, Some(StopReason::MaxStates));
    assert!(r.states <= 5_000);
    let r = run(&prog, &d, &Config { max_depth: Some(12), ..Config::default() });
    assert_eq!(r.stopped_by, Some(StopReason::MaxDepth));
    assert!(r.depth <= 12, "depth {}", r.depth);
    let r = run(&prog, &d, &Config { time_limit: Some(std::time::Duration::ZERO), ..Config::default() });
    assert_eq!(r.stopped_by, Some(StopReason::Time));
    let stop = std::sync::atomic::AtomicBool::new(true);
    let r = run(&prog, &d, &Config { stop: Some(&stop), ..Config::default() });
    assert_eq!(r.stopped_by, Some(StopReason::Interrupted));
    assert_eq!(r.verdict(), Verdict::Unknown);
    // Bit-state: a violation found is real, a clean result is never "pass".
    let r = run(&prog, &d, &Config { bitstate_log2: Some(24), ..Config::default() });
    assert_eq!(r.stopped_by, Some(StopReason::Bitstate));
    assert_eq!(r.verdict(), Verdict::Fail, "the seed's checksum error is found with 2^24 bits");
    let bounce = pinlab_model::design::profile("bounce").unwrap().design();
    let r = run(&prog, &bounce, &Config { bitstate_log2: Some(24), ..Config::default() });
    assert_eq!(r.verdict(), Verdict::Unknown, "no violation, but bit-state cannot prove it");
}
