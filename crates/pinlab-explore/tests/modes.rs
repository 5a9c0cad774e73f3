//! The explorer's modes agree with the plain search: partial-order
//! reduction, parallel expansion, sharding + merge, and the limits.
//!
//! Every scenario of `litmus/` under every design is explored with and
//! without reduction; verdicts must match and every witness of the reduced
//! search must replay to a final state that decides its condition the same
//! way. Parallel runs must produce the very same report, and sharded runs,
//! merged, the same verdicts and witnesses.

use pinlab_explore::{merge, Config, Report, Shard, StopReason, Verdict};
use pinlab_model::Program;

mod common;
use common::{check_witness, designs_for, run, suite};

#[test]
fn reduction_keeps_every_verdict_and_its_witnesses_replay() {
    let mut reduced_total = 0u64;
    let mut full_total = 0u64;
    for (name, prog) in suite() {
        if prog.crash_points {
            // Reduction is off with crash points: nothing to compare.
            continue;
        }
        for d in designs_for(&prog) {
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
    for d in designs_for(&prog) {
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
        for d in designs_for(&prog) {
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
        for d in designs_for(&prog) {
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
