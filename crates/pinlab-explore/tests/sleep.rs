//! Sleep sets and the step footprints they rest on.
//!
//! - Every claimed independence is real: on random walks through every
//!   suite scenario under every design, for each pair of threads whose next
//!   steps have non-conflicting footprints, both orders run and reach the
//!   very same world.
//! - Sleep sets drop transitions, never states: the depth-first search with
//!   them visits exactly as many states and final states as without, with
//!   the same oracles and verdicts, alone and beside the persistent-set
//!   reduction.

use pinlab_explore::{Config, Report, Strategy, Until};
use pinlab_model::footprint::step::StepFootprint;
use pinlab_model::ids::ThreadId;
use pinlab_model::trace::NoTrace;
use pinlab_model::world::Step;
use pinlab_model::{Cx, World};

mod common;
use common::{designs_for, random_walks, run, suite};

fn ran(w: &mut World, cx: &Cx, t: ThreadId) -> bool {
    matches!(w.step(cx, t, &mut NoTrace), Step::Ran(_))
}

#[test]
fn independent_steps_commute() {
    let mut checked = 0u64;
    for (name, prog) in suite() {
        for d in designs_for(&prog) {
            let cx = Cx { prog: &prog, design: &d };
            random_walks(&prog, &d, 0x5EED ^ name.len() as u64, 8, 400, |w, runnable| {
                let fps: Vec<StepFootprint> = runnable.iter().map(|&t| w.step_footprint(&cx, t)).collect();
                for (i, &t) in runnable.iter().enumerate() {
                    for (j, &u) in runnable.iter().enumerate().skip(i + 1) {
                        if fps[i].conflicts(fps[j]) {
                            continue;
                        }
                        checked += 1;
                        let (mut tu, mut ut) = (w.clone(), w.clone());
                        let what = format!("{name} under {}: threads {} and {}", d.name, t.0, u.0);
                        assert!(ran(&mut tu, &cx, t) && ran(&mut tu, &cx, u), "{what}: t then u");
                        assert!(ran(&mut ut, &cx, u) && ran(&mut ut, &cx, t), "{what}: u then t");
                        tu.stats = Default::default();
                        ut.stats = Default::default();
                        assert!(tu == ut, "{what}: the two orders reach different worlds\n{tu:?}\n{ut:?}");
                    }
                }
            });
        }
    }
    assert!(checked > 1000, "only {checked} independent pairs met: the footprints claim too little");
}

fn dfs(sleep_sets: bool, reduction: bool) -> Config<'static> {
    Config { strategy: Strategy::Dfs, until: Until::Exhausted, sleep_sets, reduction, ..Config::default() }
}

fn same_space(what: &str, a: &Report, b: &Report) {
    assert!(a.complete && b.complete, "{what}");
    assert_eq!(a.states, b.states, "{what}: states");
    assert_eq!(a.finals, b.finals, "{what}: final states");
    let fired = |r: &Report| r.fired.iter().map(|f| f.0).collect::<Vec<_>>();
    assert_eq!(fired(a), fired(b), "{what}: oracles fired");
    let h = |r: &Report| r.conds.iter().map(|c| c.holds).collect::<Vec<_>>();
    assert_eq!(h(a), h(b), "{what}: verdicts");
}

/// Cells whose whole space is bigger than this are left out: four
/// exhaustive searches of each of them would double the test's time, and
/// the small cells already meet every analysed step.
const CELL_STATES_MAX: u64 = 200_000;

#[test]
fn sleep_sets_visit_every_state() {
    let (mut with, mut without, mut cells, mut skipped) = (0u64, 0u64, 0, 0);
    for (name, prog) in suite() {
        for d in designs_for(&prog) {
            let what = format!("{name} under {}", d.name);
            let plain = run(&prog, &d, &Config { max_states: Some(CELL_STATES_MAX), ..dfs(false, false) });
            if !plain.complete {
                skipped += 1;
                continue;
            }
            cells += 1;
            let sleep = run(&prog, &d, &dfs(true, false));
            same_space(&what, &plain, &sleep);
            assert!(sleep.transitions <= plain.transitions, "{what}: transitions");
            with += sleep.transitions;
            without += plain.transitions;
            // Beside the persistent-set reduction: the states of that
            // reduction, still every one of them.
            let por = run(&prog, &d, &dfs(false, true));
            let both = run(&prog, &d, &dfs(true, true));
            same_space(&format!("{what} (with reduction)"), &por, &both);
        }
    }
    eprintln!("{cells} cells ({skipped} bigger ones left out); transitions: {with} with sleep sets, {without} without");
    assert!(cells >= 200, "only {cells} cells small enough to compare");
    assert!(with < without, "sleep sets drop transitions somewhere");
}
