//! Early decisions, depth-first search and the memory budget agree with the
//! plain exhaustive search.
//!
//! For every scenario of the suite (the scaling family aside) under every
//! design: stopping once every condition is decided, stopping at the first
//! violation, deciding by the simulation before the search, and searching
//! depth-first all give the verdicts of the exhaustive breadth-first search,
//! and every witness they report replays and decides its condition. No
//! report, however cut short, calls a forbid whose oracle fired "holds".

use pinlab_explore::budget::resident_bytes;
use pinlab_explore::{Config, Method, Report, StopReason, Strategy, Until, Verdict};
use pinlab_model::cond::Cond;
use pinlab_model::design::PROFILES;
use pinlab_model::program::CondKind;
use pinlab_model::{Design, Program};

mod common;
use common::{check_witness, designs_for, load_file, root, run, suite};

/// Every condition decided, each as in `full`, with witnesses that replay.
fn same_as_full(what: &str, prog: &Program, d: &Design, full: &Report, r: &Report) {
    assert_eq!(r.verdict(), full.verdict(), "{what}: verdict");
    for (i, (a, b)) in r.conds.iter().zip(&full.conds).enumerate() {
        assert!(a.decided, "{what}: `{}` left undecided", prog.conds[i].text);
        assert_eq!(a.holds, b.holds, "{what}: `{}`", prog.conds[i].text);
        if let Some(w) = &a.witness {
            check_witness(what, prog, d, i, w);
        }
    }
}

/// Cells larger than this skip the exhaustive depth-first comparison.
const DFS_ALL_STATES: u64 = 200_000;

#[test]
fn early_decisions_and_depth_first_search_keep_every_verdict() {
    let mut early_states = 0u64;
    let mut full_states = 0u64;
    let mut by_sim = 0usize;
    let mut stopped_early = 0usize;
    let (mut cells, mut dfs_checked) = (0usize, 0usize);
    for (name, prog) in suite() {
        for d in designs_for(&prog) {
            let full = run(&prog, &d, &Config::default());
            assert!(full.complete, "{name} under {}: the plain search finishes", d.name);
            let early =
                run(&prog, &d, &Config { until: Until::Decided, presim_runs: 64, ..Config::default() });
            same_as_full(&format!("{name} under {} (early)", d.name), &prog, &d, &full, &early);
            let dfs = Config { until: Until::Decided, strategy: Strategy::Dfs, ..Config::default() };
            same_as_full(&format!("{name} under {} (dfs)", d.name), &prog, &d, &full, &run(&prog, &d, &dfs));
            // Exhaustive depth-first search visits the states breadth-first
            // does. Checked on the cells up to DFS_ALL_STATES (all but the
            // few largest, which `sleep.rs` and `bench` cover), to keep the
            // suite's time in bounds as designs are added.
            if full.states <= DFS_ALL_STATES {
                let dfs_all = run(&prog, &d, &Config { strategy: Strategy::Dfs, ..Config::default() });
                assert_eq!(
                    dfs_all.states, full.states,
                    "{name} under {}: dfs visits the same states",
                    d.name
                );
                assert_eq!(dfs_all.fired.len(), full.fired.len(), "{name} under {}: fired oracles", d.name);
                dfs_checked += 1;
            }
            // At the first violation, the verdict is known; whatever else
            // is decided agrees with the full search.
            let first =
                run(&prog, &d, &Config { until: Until::Verdict, presim_runs: 64, ..Config::default() });
            assert_eq!(first.verdict(), full.verdict(), "{name} under {} (first): verdict", d.name);
            for (i, (a, b)) in first.conds.iter().zip(&full.conds).enumerate() {
                if a.decided {
                    assert_eq!(a.holds, b.holds, "{name} under {} (first): `{}`", d.name, prog.conds[i].text);
                }
            }
            early_states += first.states;
            full_states += full.states;
            by_sim += first.conds.iter().filter(|c| c.by == Some(Method::Simulation)).count();
            stopped_early += usize::from(first.stopped_by == Some(StopReason::Decided));
            cells += 1;
        }
    }
    assert!(dfs_checked * 10 >= cells * 9, "exhaustive dfs checked on {dfs_checked} of {cells} cells");
    // Where the full search is needed anyway (an implicit forbid holds), a
    // search witness replaces the simulation's; at the first violation the
    // simulation often decides alone.
    assert!(early_states < full_states, "stopping at the first violation saves states");
    assert!(by_sim > 0, "the simulation decides some condition somewhere in the suite");
    assert!(stopped_early > 0, "some cell stops before exhausting its space");
}

/// Under any limit, a forbid whose oracle fired is decided violated, and
/// nothing undecided is called holding or failing by the verdict.
#[test]
fn a_fired_oracle_is_never_beside_a_holding_forbid() {
    for (name, prog) in suite() {
        for d in designs_for(&prog) {
            for (max_states, strategy) in [(20, Strategy::Bfs), (300, Strategy::Bfs), (300, Strategy::Dfs)] {
                let cfg = Config { max_states: Some(max_states), strategy, ..Config::default() };
                let r = run(&prog, &d, &cfg);
                for (c, res) in prog.conds.iter().zip(&r.conds) {
                    if let (CondKind::Forbid, Cond::Oracle(o)) = (c.kind, &c.cond) {
                        if r.fired.iter().any(|(f, _)| f == o) {
                            assert!(
                                !res.holds && res.decided,
                                "{name} under {} ({max_states} states, {strategy:?}): {} fired but `forbid {}` is not violated",
                                d.name,
                                o.name(),
                                c.text
                            );
                        }
                    }
                    assert!(
                        res.decided || r.verdict() != Verdict::Pass,
                        "{name}: pass with an undecided condition"
                    );
                }
            }
        }
    }
}

/// A scenario far too big for its budget stops cleanly, undecided, and
/// reports the reason; the same scenario's failure is still decided by
/// the simulation before the search.
#[test]
fn the_memory_budget_stops_an_exploding_search_cleanly() {
    let prog = load_file(&root().join("scale/seed-p3-d2.litmus"));
    let Some(now) = resident_bytes() else { return };
    let budget = now + (48 << 20);
    let bounce = PROFILES.iter().find(|p| p.name == "bounce").unwrap().design();
    let cfg = Config { max_memory: Some(budget), until: Until::Decided, ..Config::default() };
    let r = run(&prog, &bounce, &cfg);
    assert_eq!(r.stopped_by, Some(StopReason::Memory));
    assert_eq!(r.verdict(), Verdict::Unknown, "nothing is violated under bounce, nothing decided holding");
    assert!(r.conds.iter().filter(|c| !c.holds || !c.decided).count() > 0);
    assert!(r.peak_memory_bytes >= budget, "the budget was reached: {} < {budget}", r.peak_memory_bytes);

    let old = PROFILES.iter().find(|p| p.name == "linux-4.19").unwrap().design();
    let cfg = Config { max_memory: Some(resident_bytes().unwrap() + (48 << 20)), presim_runs: 64, ..cfg };
    let r = run(&prog, &old, &cfg);
    assert_eq!(r.verdict(), Verdict::Fail, "the simulation decides the checksum error");
    let i = prog.conds.iter().position(|c| c.text == "checksum_error").unwrap();
    assert!(r.conds[i].decided && !r.conds[i].holds);
    check_witness("seed-p3-d2 under linux-4.19", &prog, &old, i, r.conds[i].witness.as_ref().unwrap());
}
