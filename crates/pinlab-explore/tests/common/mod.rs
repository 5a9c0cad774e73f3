//! What the suite-wide explorer tests share: the scenarios of `litmus/`
//! (the scaling family aside), the designs, one exploration, and the check
//! that a witness replays and decides its condition.
#![allow(dead_code)] // each test file uses its own part

use pinlab_explore::{explore, judge, Config, Report, Schedule};
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

/// The repository's `litmus/`.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../litmus")
}

pub fn load_file(f: &Path) -> Program {
    let name = f.display().to_string();
    let text = std::fs::read_to_string(f).unwrap();
    load(&Source::new(&name, text.as_str())).unwrap_or_else(|d| panic!("{name}: {}", d.to_plain()))
}

/// The suite as `compare` runs it, named by path under `litmus/`: every
/// scenario but the scaling family (`scale/`, for `bench --scale`).
pub fn suite() -> Vec<(String, Program)> {
    let root = root();
    let mut files = Vec::new();
    litmus_files(&root, &mut files);
    files.retain(|f| !f.strip_prefix(&root).unwrap().starts_with("scale"));
    assert!(files.len() >= 40, "the suite is there");
    files.iter().map(|f| (f.strip_prefix(&root).unwrap().display().to_string(), load_file(f))).collect()
}

pub fn designs() -> Vec<Design> {
    PROFILES.iter().map(|p| p.design()).collect()
}

/// The designs that behave differently on `prog` and can run it: of
/// profiles that differ only in knobs `prog` never consults
/// (`Design::behaviour_on`), the first; none whose cell is n/a.
/// They would explore it step for step alike, so a test comparing search
/// modes learns nothing from the others.
pub fn designs_for(prog: &Program) -> Vec<Design> {
    let mut seen: Vec<Design> = Vec::new();
    let mut out = Vec::new();
    // A design whose kernel lacks what `prog` needs explores nothing (n/a).
    for d in designs().into_iter().filter(|d| d.unavailable(prog).is_none()) {
        let b = d.behaviour_on(prog);
        if !seen.contains(&b) {
            seen.push(b);
            out.push(d);
        }
    }
    out
}

pub fn run(prog: &Program, d: &Design, cfg: &Config) -> Report {
    explore(&Cx { prog, design: d }, &World::new(prog).unwrap(), cfg)
}

/// A witness of condition `i` replays and it, or its deterministic
/// completion (a witness may stop at the state that settled its condition),
/// ends where the condition is satisfied (`forbid`, `exists`) or violated
/// (`always`).
pub fn check_witness(what: &str, prog: &Program, d: &Design, i: usize, w: &Schedule) {
    let cx = Cx { prog, design: d };
    let (o, _) = judge(&cx, &World::new(prog).unwrap(), w, 10_000)
        .unwrap_or_else(|e| panic!("{what} under {}: witness {w} does not replay: {e}", d.name));
    let want = prog.conds[i].kind != CondKind::Always;
    assert_eq!(
        o.evals[i],
        Some(want),
        "{what} under {}: witness {w} does not decide `{}`",
        d.name,
        prog.conds[i].text
    );
}

/// Seeded random walks (splitmix64 choices, deterministic): `walks` runs of
/// at most `steps` steps from the initial world, calling `at` on every
/// state reached with the threads whose next step runs there. A walk ends
/// when nothing can run.
pub fn random_walks(
    prog: &Program,
    d: &Design,
    seed: u64,
    walks: u32,
    steps: u32,
    mut at: impl FnMut(&World, &[pinlab_model::ids::ThreadId]),
) {
    use pinlab_model::ids::ThreadId;
    use pinlab_model::trace::NoTrace;
    use pinlab_model::world::Step;
    let cx = Cx { prog, design: d };
    let mut x = seed;
    let mut next = || {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for _ in 0..walks {
        let mut w = World::new(prog).unwrap();
        for _ in 0..steps {
            let runnable: Vec<ThreadId> = (0..prog.thread_count())
                .map(|t| ThreadId(t as u8))
                .filter(|&t| {
                    w.may_run(&cx, t) && matches!(w.clone().step(&cx, t, &mut NoTrace), Step::Ran(_))
                })
                .collect();
            at(&w, &runnable);
            if runnable.is_empty() {
                break;
            }
            let t = runnable[(next() % runnable.len() as u64) as usize];
            w.step(&cx, t, &mut NoTrace);
        }
    }
}
