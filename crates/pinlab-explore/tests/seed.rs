//! The seed race end to end: parse, compile, explore under each design, and
//! check the verdicts the 2018 thread predicts.

use pinlab_explore::{explore, Config, Report, Verdict};
use pinlab_litmus::{load, Source};
use pinlab_model::design::profile;
use pinlab_model::oracle::Oracle;
use pinlab_model::{Cx, Program, World};

fn seed() -> Program {
    let text = include_str!("../../../litmus/seed/rdma-writeback.litmus");
    load(&Source::new("litmus/seed/rdma-writeback.litmus", text)).expect("seed compiles")
}

fn run(prog: &Program, design: &str) -> Report {
    let d = profile(design).unwrap().design();
    let cx = Cx { prog, design: &d };
    explore(&cx, &World::new(prog).unwrap(), &Config::default())
}

/// (condition text, holds) in report order.
fn holds(prog: &Program, r: &Report) -> Vec<(String, bool)> {
    prog.conds.iter().zip(&r.conds).map(|(c, r)| (c.text.clone(), r.holds)).collect()
}

#[test]
fn linux_4_19_breaks_checksums_and_loses_writes() {
    let prog = seed();
    let r = run(&prog, "linux-4.19");
    assert!(r.complete);
    assert_eq!(r.verdict(), Verdict::Fail);
    let h = holds(&prog, &r);
    assert_eq!(h[0], ("checksum_error".into(), false));
    assert_eq!(h[1], ("lost_write".into(), false));
    assert_eq!(h[2], ("f[0] == 0x22".into(), true), "the device's data can still reach the disk");
    assert!(h[3..].iter().all(|(_, ok)| *ok), "no deadlock, BUG or DMA after free: {h:?}");
    let fired: Vec<Oracle> = r.fired.iter().map(|f| f.0).collect();
    assert_eq!(fired, [Oracle::ChecksumError, Oracle::LostWrite]);
}

#[test]
fn bounce_passes_every_condition() {
    let prog = seed();
    let r = run(&prog, "bounce");
    assert!(r.complete);
    assert_eq!(r.verdict(), Verdict::Pass, "{:?}", holds(&prog, &r));
    assert!(r.fired.is_empty());
    assert!(r.states > 1000, "the race has many interleavings, got {}", r.states);
}

#[test]
fn linux_6_x_refuses_the_long_term_write_pin() {
    let prog = seed();
    let r = run(&prog, "linux-6.x");
    let h = holds(&prog, &r);
    // Safe, but only because the NIC never gets the page: reg_mr fails with
    // EFAULT, so the device's data can never reach the file.
    assert!(h[0].1, "checksum_error must hold");
    assert!(h[1].1, "lost_write must hold");
    assert_eq!(h[2], ("f[0] == 0x22".into(), false));
    assert_eq!(r.verdict(), Verdict::Fail);
}

#[test]
fn exploration_is_deterministic() {
    let prog = seed();
    let (a, b) = (run(&prog, "linux-4.19"), run(&prog, "linux-4.19"));
    assert_eq!((a.states, a.transitions, a.finals), (b.states, b.transitions, b.finals));
    assert_eq!(a.conds, b.conds);
    assert_eq!(a.fired, b.fired);
}
