//! The model's side of a probe: the matching scenario run under `linux-6.x`.
//!
//! A probe's scenario (`probes/*.litmus`) has no conditions of its own. Each
//! possible answer is a labelled condition; the harness appends one `exists`
//! line per answer, explores every interleaving, and the model's answer is
//! the set of labels some execution witnesses. For counts the conditions
//! cannot express (the vmstat probes), [`run_counting`] runs the scenario's
//! single thread deterministically and reads the pin sets.

use pinlab_explore::{explore, Config};
use pinlab_litmus::{load, Source};
use pinlab_model::design::{profile, Design};
use pinlab_model::errno::Errno;
use pinlab_model::ids::ThreadId;
use pinlab_model::program::{Foll, Program};
use pinlab_model::trace::NoTrace;
use pinlab_model::{Cx, Step, World};

/// The design the running kernel is compared with.
pub const DESIGN: &str = "linux-6.x";

pub fn design() -> Design {
    profile(DESIGN).expect("linux-6.x is a built-in profile").design()
}

pub fn compile(name: &str, text: &str) -> Result<Program, String> {
    load(&Source::new(name, text)).map_err(|d| d.to_plain())
}

/// The labelled answers of a registration-style probe: success of the
/// thread `thread` or one of the model's errnos.
pub fn errno_outcomes(thread: &str) -> Vec<(String, String)> {
    let mut v = vec![("ok".to_string(), format!("{thread}.err == 0"))];
    v.extend(Errno::ALL.iter().map(|e| (e.name().to_string(), format!("{thread}.err == {}", e.name()))));
    v
}

/// Explore `text` with one `exists` line per outcome appended; the labels
/// witnessed, in the order given. A forbidden implicit oracle that fired
/// (deadlock, kernel_bug, ...) is reported as a label of its own.
pub fn witnessed(name: &str, text: &str, outcomes: &[(String, String)]) -> Result<Vec<String>, String> {
    let mut full = text.to_string();
    full.push('\n');
    for (_, c) in outcomes {
        full += &format!("exists {c}\n");
    }
    let prog = compile(name, &full)?;
    let design = design();
    let init = World::new(&prog).map_err(|e| e.0)?;
    let cfg = Config { max_states: Some(2_000_000), ..Default::default() };
    let r = explore(&Cx { prog: &prog, design: &design }, &init, &cfg);
    if !r.complete {
        return Err("model exploration incomplete".into());
    }
    let mut seen = Vec::new();
    let mut explicit = 0;
    for (c, res) in prog.conds.iter().zip(&r.conds) {
        if c.implicit {
            if !res.holds {
                seen.push(format!("model fails `forbid {}`", c.text));
            }
        } else {
            if res.holds {
                seen.push(outcomes[explicit].0.clone());
            }
            explicit += 1;
        }
    }
    Ok(seen)
}

/// FOLL_PIN pages acquired and released so far, as `/proc/vmstat` would
/// count them: every page a pin set took (`try_grab_folio` adds `refs`,
/// one per page), and every page released (`gup_put_folio`).
pub fn pin_counts(w: &World) -> (u64, u64) {
    let mut acq = 0;
    let mut rel = 0;
    for s in w.pinsets.iter().filter(|s| s.foll == Foll::Pin) {
        acq += s.pages.len() as u64;
        rel += s.pages.iter().filter(|p| !p.held).count() as u64;
    }
    (acq, rel)
}

/// `(op index, (FOLL_PIN pages acquired, released))` after an operation.
pub type PinSnapshot = (usize, (u64, u64));

/// Run every thread of `prog` to its end, always stepping the lowest
/// thread that can move (one fixed interleaving), and after each operation
/// of thread 0 finishes record `(op index, pin counts)`.
pub fn run_counting(prog: &Program) -> Result<Vec<PinSnapshot>, String> {
    let design = design();
    let cx = Cx { prog, design: &design };
    let mut w = World::new(prog).map_err(|e| e.0)?;
    let mut out = Vec::new();
    let n = prog.thread_count();
    for _ in 0..100_000 {
        let mut moved = false;
        for t in 0..n {
            let t = ThreadId(t as u8);
            let pc = w.threads[t.idx()].pc;
            if let Step::Ran(_) = w.step(&cx, t, &mut NoTrace) {
                if t.idx() == 0 && w.threads[0].pc != pc {
                    out.push((usize::from(pc), pin_counts(&w)));
                }
                moved = true;
                break;
            }
        }
        if !moved {
            return if w.all_done(&cx) { Ok(out) } else { Err("model run stuck".into()) };
        }
    }
    Err("model run did not finish".into())
}
