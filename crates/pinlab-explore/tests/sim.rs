//! Seeded simulation, replay, minimisation and Perfetto export on the seed
//! scenario: deterministic, replayable byte for byte, minimal, well formed.

use pinlab_explore::minimise::minimise;
use pinlab_explore::perfetto;
use pinlab_explore::sim::{judge, run_one, run_seed, End, FaultKinds, SimConfig};
use pinlab_explore::{replay, simulate, Move, Schedule};
use pinlab_litmus::{load, Source};
use pinlab_model::design::{profile, Design};
use pinlab_model::fault::Fault;
use pinlab_model::{Cx, Program, World};
use std::collections::HashMap;

fn scenario(path: &str, text: &str) -> Program {
    load(&Source::new(path, text)).expect("scenario compiles")
}

fn seed() -> Program {
    scenario("litmus/seed/rdma-writeback.litmus", include_str!("../../../litmus/seed/rdma-writeback.litmus"))
}

fn design(name: &str) -> Design {
    profile(name).unwrap().design()
}

fn cfg(seed: u64, runs: u64) -> SimConfig<'static> {
    SimConfig { seed, runs, ..SimConfig::default() }
}

#[test]
fn same_seed_same_report() {
    let prog = seed();
    let d = design("linux-4.19");
    let cx = Cx { prog: &prog, design: &d };
    let init = World::new(&prog).unwrap();
    let a = simulate(&cx, &init, &cfg(7, 300));
    let b = simulate(&cx, &init, &cfg(7, 300));
    assert_eq!(a, b);
    assert_eq!(a.runs, 300);
    assert!(a.failing_runs > 0, "linux-4.19 fails the seed in some of 300 runs: {a:?}");
    let c = simulate(&cx, &init, &cfg(8, 300));
    assert_ne!(a.failures, c.failures, "another seed walks other executions");
    // Every default kind of fault was enabled in about half the runs (swarm).
    assert_eq!(a.fault_runs[1], 0, "eio is off by default");
    for (i, n) in a.fault_runs.iter().enumerate().filter(|(i, _)| *i != 1) {
        assert!((100..200).contains(n), "kind {i}: {:?}", a.fault_runs);
    }
    let all = simulate(&cx, &init, &SimConfig { faults: FaultKinds::ALL, ..cfg(7, 300) });
    assert!(all.fault_runs[1] > 100);
}

#[test]
fn a_failure_replays_from_its_seed_and_from_its_schedule_byte_for_byte() {
    let prog = seed();
    let d = design("linux-4.19");
    let cx = Cx { prog: &prog, design: &d };
    let init = World::new(&prog).unwrap();
    let c = SimConfig { faults: FaultKinds::ALL, ..cfg(1, 200) };
    let r = simulate(&cx, &init, &c);
    assert!(!r.failures.is_empty());
    let mut saw_fault = false;
    for f in r.failures.iter().take(40) {
        assert_eq!(f.run_seed, run_seed(c.seed, f.run));
        // From the seed alone.
        let again = run_one(&cx, &init, f.run_seed, c.max_steps, c.faults);
        assert_eq!(again.schedule, f.schedule);
        assert_eq!(again.outcome.violated(&cx), f.violated);
        // From the printed schedule alone.
        let parsed: Schedule = f.schedule.to_string().parse().unwrap();
        let (o, full) = judge(&cx, &init, &parsed, c.max_steps).unwrap();
        assert_eq!(full, f.schedule, "a simulated schedule is complete");
        assert_eq!(o, again.outcome);
        let (s1, _) = replay(&cx, &init, &f.schedule).unwrap();
        let (s2, _) = replay(&cx, &init, &parsed).unwrap();
        assert_eq!(serde_json::to_string(&s1).unwrap(), serde_json::to_string(&s2).unwrap());
        saw_fault |= f.schedule.moves().any(|m| m.is_pseudo());
    }
    assert!(saw_fault, "some failing run injected a fault");
}

#[test]
fn minimised_schedules_are_valid_failing_and_one_minimal() {
    let prog = seed();
    let d = design("linux-4.19");
    let cx = Cx { prog: &prog, design: &d };
    let init = World::new(&prog).unwrap();
    let c = cfg(3, 200);
    let r = simulate(&cx, &init, &c);
    // With every fault kind (EIO makes lost_write reachable): failures whose
    // schedules hold pseudo-steps.
    let all = simulate(&cx, &init, &SimConfig { faults: FaultKinds::ALL, ..cfg(4, 200) });
    // One failure per violated condition set, and a few with faults.
    let mut firsts: HashMap<Vec<usize>, _> = HashMap::new();
    for f in r.failures.iter().chain(&all.failures) {
        firsts.entry(f.violated.clone()).or_insert(f);
    }
    let with_faults = all.failures.iter().filter(|f| f.schedule.moves().any(|m| m.is_pseudo())).take(5);
    let cases: Vec<_> = firsts.values().copied().chain(with_faults).collect();
    assert!(cases.len() > 2);
    for f in cases {
        let target = f.violated[0];
        let fails = |o: &pinlab_explore::sim::Outcome| o.violated(&cx).contains(&target);
        let m = minimise(&cx, &init, &f.schedule, c.max_steps, &fails).expect("the original fails");
        assert!(m.schedule.len() <= f.schedule.len());
        let (o, full) = judge(&cx, &init, &m.schedule, c.max_steps).expect("valid");
        assert!(fails(&o));
        assert_eq!(full, m.completed);
        // The completed schedule replays step for step and fails the same way.
        let (o2, full2) = judge(&cx, &init, &m.completed, c.max_steps).unwrap();
        assert_eq!((o2, full2), (o, full.clone()));
        assert!(replay(&cx, &init, &m.completed).is_ok());
        // 1-minimal.
        let moves: Vec<Move> = m.schedule.moves().collect();
        for i in 0..moves.len() {
            let shorter: Schedule = moves[..i].iter().chain(&moves[i + 1..]).copied().collect();
            if let Ok((o, _)) = judge(&cx, &init, &shorter, c.max_steps) {
                assert!(!fails(&o), "removing step {i} of {} still fails", m.schedule);
            }
        }
    }
}

#[test]
fn perfetto_trace_is_well_formed() {
    let prog = seed();
    let d = design("linux-4.19");
    let cx = Cx { prog: &prog, design: &d };
    let init = World::new(&prog).unwrap();
    // A schedule with every pseudo-step kind but a crash, then the crash.
    let (_, sched) = judge(&cx, &init, &"0.0.e0.r.0.m0".parse().unwrap(), 10_000).unwrap();
    let (_, mut full) = judge(&cx, &init, &sched, 10_000).unwrap();
    full.0.truncate(full.len() - 1);
    full.push(Move::Crash);
    for s in [sched, full] {
        let v = perfetto::export(&cx, &init, &s).unwrap();
        let text = serde_json::to_string(&v).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ev = v["traceEvents"].as_array().unwrap();
        let names: Vec<&str> = ev
            .iter()
            .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
            .map(|e| e["args"]["name"].as_str().unwrap())
            .collect();
        for t in prog.all_threads() {
            assert_eq!(names.iter().filter(|n| n.starts_with(t.name.as_str())).count(), 1, "{names:?}");
        }
        assert!(names.contains(&"finally"));
        for k in ["kswapd", "kcompactd", "blk-fault"] {
            assert!(names.contains(&k), "{k}: {names:?}");
        }
        let mut last: HashMap<(u64, u64, String), i64> = HashMap::new();
        let mut slices = 0;
        for e in ev.iter().filter(|e| e["ph"] == "X") {
            slices += 1;
            let dur = e["dur"].as_i64().unwrap();
            let ts = e["ts"].as_i64().unwrap();
            assert!(dur >= 0);
            let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap(), e["cat"].to_string());
            if let Some(prev) = last.insert(key, ts + dur) {
                assert!(ts >= prev, "slices overlap on a track: {e}");
            }
            assert!(!e["name"].as_str().unwrap().is_empty());
        }
        assert!(slices > 10);
    }
    // Oracle hits are instants.
    let r = simulate(&cx, &init, &cfg(1, 100));
    let f = &r.failures[0];
    let v = perfetto::export(&cx, &init, &f.schedule).unwrap();
    assert!(v["traceEvents"].as_array().unwrap().iter().any(|e| e["ph"] == "i" && e["cat"] == "oracle"));
}

#[test]
fn bounce_never_fails_the_seed() {
    let prog = seed();
    let d = design("bounce");
    let cx = Cx { prog: &prog, design: &d };
    let init = World::new(&prog).unwrap();
    let r = simulate(&cx, &init, &cfg(11, 400));
    assert_eq!(r.failing_runs, 0, "{:?}", r.failures.first());
    assert_eq!(r.cut, 0);
    assert!(r.finished > 0 && r.crashed > 0);
    // The device's write is seen in some run (the `exists` condition).
    assert!(r.conds[2].seen > 0);
}

#[test]
fn faults_replay_and_tell_their_story() {
    let prog = seed();
    let d = design("linux-6.x");
    let cx = Cx { prog: &prog, design: &d };
    let init = World::new(&prog).unwrap();
    // The app stores to page 0 (mmap, reg_mr, store), reclaim and migration
    // run, the disk fails the next write, then everything finishes.
    let s: Schedule = "0.0.0.r.m1.e0".parse().unwrap();
    let (story, _) = replay(&cx, &init, &s).unwrap();
    let kinds: Vec<&str> = story.steps[3..].iter().map(|st| st.thread.as_str()).collect();
    assert_eq!(kinds, ["kswapd", "kcompactd", "blk-fault"]);
    assert!(story.steps[3].kernel.contains("shrink_folio_list"));
    let (o, _) = judge(&cx, &init, &s, 10_000).unwrap();
    assert_eq!(o.end, End::Finished);
    // Faults naming things the machine lacks are invalid.
    assert!(judge(&cx, &init, &"e5".parse().unwrap(), 100).is_err());
    assert!(judge(&cx, &init, &"0.c.0".parse().unwrap(), 100).is_err());
    let _ = Fault::Reclaim.kind();
    // Restricting the fault kinds is honoured.
    let none = SimConfig { faults: FaultKinds::NONE, ..cfg(5, 100) };
    let r = simulate(&cx, &init, &none);
    assert_eq!(r.fault_runs, [0; 5]);
    assert_eq!(r.crashed, 0);
}
