//! Deadlock detection: nothing can move while a thread is unfinished.

use pinlab_explore::{explore, replay, Config, Verdict};
use pinlab_litmus::{load, Source};
use pinlab_model::design::profile;
use pinlab_model::oracle::Oracle;
use pinlab_model::{Cx, World};

/// Each thread waits for a name the other binds only after its own wait: a
/// circular wait the explorer must report as `deadlock`, with a trace.
const CYCLE: &str = "litmus cycle
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=1
  process p
}
thread a on p {
  unpin pg
  m = mmap f pages=0..1 shared write
}
thread b on p {
  pg = pin m pages=0..1 write
}
";

/// The compiler refuses the scenario, naming the cycle.
#[test]
fn a_static_circular_wait_is_a_compile_error() {
    let e = load(&Source::new("cycle.litmus", CYCLE)).expect_err("a cycle does not compile").to_plain();
    assert!(e.contains("these statements wait for each other"), "{e}");
    assert!(e.contains("`a` (line 9) waits for `pg`") && e.contains("`b` (line 13) waits for `m`"), "{e}");
}

/// The explorer still reports such a program as a deadlock with a trace:
/// built here by swapping two statements of a program that compiles.
#[test]
fn circular_wait_is_a_deadlock_with_a_witness() {
    let fixed = CYCLE.replace(
        "  unpin pg\n  m = mmap f pages=0..1 shared write\n",
        "  m = mmap f pages=0..1 shared write\n  unpin pg\n",
    );
    let mut prog = load(&Source::new("cycle.litmus", fixed.as_str())).expect("compiles");
    prog.threads[0].ops.swap(0, 1);
    prog.threads[0].src.swap(0, 1);
    let d = profile("bounce").unwrap().design();
    let cx = Cx { prog: &prog, design: &d };
    let init = World::new(&prog).unwrap();
    let r = explore(&cx, &init, &Config::default());
    assert_eq!(r.verdict(), Verdict::Fail);
    assert_eq!(r.fired.iter().map(|f| f.0).collect::<Vec<_>>(), [Oracle::Deadlock]);
    assert_eq!(r.states, 1, "nobody can take a single step");
    let i =
        prog.conds.iter().position(|c| c.text == "deadlock" && c.implicit).expect("implicit forbid deadlock");
    let w = r.conds[i].witness.clone().expect("a witness");
    let (story, end) = replay(&cx, &init, &w).unwrap();
    assert!(story.end.starts_with("DEADLOCK"), "{}", story.end);
    assert!(
        story.end.contains("a at `unpin pg`") && story.end.contains("b at `pg = pin m pages=0..1 write`"),
        "{}",
        story.end
    );
    assert!(end.fired().has(Oracle::Deadlock));
}

#[test]
fn without_the_cycle_there_is_no_deadlock() {
    let fixed = CYCLE.replace(
        "  unpin pg\n  m = mmap f pages=0..1 shared write\n",
        "  m = mmap f pages=0..1 shared write\n  unpin pg\n",
    );
    let prog = load(&Source::new("nocycle.litmus", fixed.as_str())).expect("compiles");
    let d = profile("bounce").unwrap().design();
    let r = explore(&Cx { prog: &prog, design: &d }, &World::new(&prog).unwrap(), &Config::default());
    assert_eq!(r.verdict(), Verdict::Pass, "{:?}", r.fired);
}
