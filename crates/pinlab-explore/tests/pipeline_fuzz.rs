//! Fuzzing the whole pipeline: text → `load` (lex, parse, compile) →
//! `World::new` → `explore`, on mutated real scenarios and on token soup.
//!
//! `pinlab-litmus/tests/parse.rs` already checks that the *parser* survives
//! arbitrary text and single-character edits of the seed. This file goes
//! further down the pipeline: it mutates every scenario under `litmus/` line
//! by line, mostly statement lines (delete, duplicate, swap, splice in lines
//! from the same kind of block of other scenarios, insert or replace words
//! from the language's vocabulary or the scenario's own, change numbers,
//! truncate), so that about one mutant in six still compiles, and explores each one that does under two random
//! design profiles with tiny limits. Nothing may panic; a rejected input must
//! come with a diagnostic naming the file and a `line:col`; a report must be
//! internally consistent, and every witness it gives must replay.
//!
//! The panic-free-ness of a step is checked by the test itself (a panic fails
//! it, and proptest prints the shrunk input). 2000 mutants and 1000 token
//! sequences take about half a second at the test profile's opt-level 1.

use pinlab_explore::{explore, replay, Config, Report, StopReason, Until, Verdict};
use pinlab_litmus::{load, Source};
use pinlab_model::design::PROFILES;
use pinlab_model::{Cx, World};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

const MAX_STATES: u64 = 500;
const MAX_DEPTH: u32 = 40;
/// The full search a limited one is compared with, where it finishes.
const FULL_STATES: u64 = 2_000;
/// The name every fuzzed source carries; diagnostics must mention it.
const NAME: &str = "fuzz.litmus";

/// Every scenario under `litmus/`, sorted by path (so a proptest seed always
/// means the same inputs), each as its lines.
static SCENARIOS: LazyLock<Vec<(String, Vec<String>)>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../litmus");
    let mut paths = Vec::new();
    collect(&root, &mut paths);
    paths.sort();
    assert!(paths.len() >= 10, "expected the scenarios under {}", root.display());
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.display().to_string(), text.lines().map(str::to_string).collect())
        })
        .collect()
});

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "litmus") {
            out.push(p);
        }
    }
}

/// The language's words: structure, verbs, keys, values, flags, oracles,
/// names the scenarios use, numbers (valid and not), punctuation.
const VOCAB: &[&str] = &[
    // structure
    "litmus",
    "doc",
    "setup",
    "thread",
    "finally",
    "forbid",
    "exists",
    "always",
    "on",
    "and",
    "or",
    "not",
    // setup
    "disk",
    "fs",
    "file",
    "process",
    "nic",
    "dma",
    "uring",
    "memory",
    "device",
    "crash_points",
    "all",
    "sectors",
    "cache",
    "volatile",
    "writethrough",
    "fua",
    "type",
    "csumfs",
    "ext4like",
    "pages",
    "fill",
    "frames",
    "burst",
    "thp",
    "movable",
    "stable_writes",
    "mirrors",
    "mirror_mismatch",
    "odp",
    "fail_io",
    // verbs
    "mmap",
    "munmap",
    "store",
    "load",
    "fsync",
    "sync",
    "crash",
    "recover",
    "scrub",
    "writeback",
    "pin",
    "unpin",
    "gup",
    "put",
    "fork",
    "exit",
    "madvise",
    "dontfork",
    "migrate",
    "reclaim",
    "offline",
    "truncate",
    "punch",
    "drop_caches",
    "dio_read",
    "dio_write",
    "lookup",
    "reg_mr",
    "dereg",
    "read",
    "write",
    "register",
    "unregister",
    "read_fixed",
    "write_fixed",
    "n.reg_mr",
    "n.write",
    "n.dereg",
    "d.write",
    "d.read",
    "u.register",
    "pipe.read",
    // arguments
    "anon",
    "shared",
    "private",
    "dirty",
    "longterm",
    "checked",
    "into",
    "from",
    "key",
    "err",
    "ref",
    "noref",
    "yes",
    "no",
    "none",
    // oracles and conditions
    "checksum_error",
    "lost_write",
    "torn",
    "dma_after_free",
    "deadlock",
    "starvation",
    "kernel_bug",
    "pin_false_positive",
    "pin_false_negative",
    "refcount_underflow",
    "pin_underflow",
    "bad_page_free",
    "pin_overflow",
    "page_without_buffers",
    // names
    "d0",
    "fs0",
    "f",
    "g",
    "p",
    "q",
    "m",
    "mr",
    "n",
    "d",
    "u",
    "pg",
    "child",
    "parent",
    "app",
    "flusher",
    "f[0]",
    "f[1]",
    "m[0]",
    "m[1]",
    "mr[0]",
    "pg[0]",
    "app.r",
    "r",
    // numbers
    "0",
    "1",
    "2",
    "3",
    "8",
    "64",
    "0x11",
    "0x22",
    "0xAA",
    "0xff",
    "0x100",
    "512",
    "99999999999999999999",
    "0..1",
    "0..2",
    "1..0",
    "0..0",
    "0..64",
    // punctuation
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "=",
    "==",
    "!=",
    ".",
    "..",
    ";",
    "\n",
    "\"doc\"",
    "\"",
    "#",
    "-",
];

fn word() -> impl Strategy<Value = &'static str> {
    prop::sample::select(VOCAB)
}

/// A word to put into a line: one of the vocabulary, one from the scenario
/// being mutated (a name it declares, a number it uses), or a small number.
#[derive(Clone, Debug)]
enum Word {
    Vocab(&'static str),
    Own(usize),
    Number(u16),
}

fn word_choice() -> impl Strategy<Value = Word> {
    prop_oneof![
        2 => word().prop_map(Word::Vocab),
        3 => any::<usize>().prop_map(Word::Own),
        1 => prop_oneof![0u16..4, 0u16..0x200].prop_map(Word::Number),
    ]
}

/// Which line an edit applies to: a statement line (indented, code, as
/// inside `setup`, `thread` and `finally` blocks), so that most mutants
/// keep their blocks balanced and still compile; or, when `raw`, any line.
#[derive(Clone, Copy, Debug)]
struct Line {
    raw: bool,
    i: usize,
}

fn line() -> impl Strategy<Value = Line> {
    (prop::bool::weighted(0.05), any::<usize>()).prop_map(|(raw, i)| Line { raw, i })
}

/// One edit of a scenario's lines. Indices are taken modulo the current
/// number of candidates, so any value fits any scenario.
#[derive(Clone, Debug)]
enum Edit {
    Delete(Line),
    Duplicate(Line),
    Swap(Line, Line),
    /// Insert statement line `line` of scenario `file` after `at`.
    Splice {
        file: usize,
        line: usize,
        at: Line,
    },
    /// Insert a word before word `word` of a line.
    InsertWord {
        at: Line,
        word: usize,
        w: Word,
    },
    /// Replace word `word` of a line.
    ReplaceWord {
        at: Line,
        word: usize,
        w: Word,
    },
    /// Replace the `nth` number of a line (`pages=0..2`, `m[1]`, `0xAA`).
    Renumber {
        at: Line,
        nth: usize,
        n: u16,
    },
    /// Cut the text at this fraction (per mille) of its length.
    Truncate(u16),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ix = any::<usize>;
    prop_oneof![
        3 => line().prop_map(Edit::Delete),
        2 => line().prop_map(Edit::Duplicate),
        2 => (line(), line()).prop_map(|(a, b)| Edit::Swap(a, b)),
        3 => (ix(), ix(), line()).prop_map(|(file, line, at)| Edit::Splice { file, line, at }),
        1 => (line(), ix(), word_choice()).prop_map(|(at, word, w)| Edit::InsertWord { at, word, w }),
        2 => (line(), ix(), word_choice()).prop_map(|(at, word, w)| Edit::ReplaceWord { at, word, w }),
        3 => (line(), ix(), prop_oneof![0u16..4, 0u16..0x120]).prop_map(|(at, nth, n)| Edit::Renumber { at, nth, n }),
        1 => (0u16..1000).prop_map(Edit::Truncate),
    ]
}

/// An indented line with code on it: a statement inside a block.
fn is_stmt(l: &str) -> bool {
    let t = l.trim_start();
    t.len() < l.len() && !t.is_empty() && !t.starts_with('#') && !t.starts_with('}')
}

/// The code of a statement line, without its comment.
fn code(l: &str) -> &str {
    l.split('#').next().unwrap_or(l).trim()
}

/// Byte ranges of the numbers in `code`: digit-led runs of hex digits and
/// `x`, not inside a word (so `d0` and `fs0` are names, not numbers).
fn numbers(code: &str) -> Vec<(usize, usize)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts =
            b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'));
        if starts {
            let j = (i..b.len()).find(|&j| !(b[j].is_ascii_hexdigit() || b[j] == b'x')).unwrap_or(b.len());
            out.push((i, j));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The first word of the unindented line that opens the block of line `k`.
fn block(lines: &[String], k: usize) -> &str {
    lines[..=k]
        .iter()
        .rev()
        .find(|l| !l.starts_with([' ', '\t']) && !l.trim().is_empty())
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("")
}

/// Index of the line `at` designates among `lines`, if there is one.
fn pick(lines: &[String], at: Line) -> Option<usize> {
    let cands: Vec<usize> = (0..lines.len()).filter(|&k| at.raw || is_stmt(&lines[k])).collect();
    (!cands.is_empty()).then(|| cands[at.i % cands.len()])
}

/// Apply `edits` to scenario `file`'s lines; the result is the new text.
fn mutate(file: usize, edits: &[Edit]) -> String {
    let all = &*SCENARIOS;
    let mut lines = all[file % all.len()].1.clone();
    let own: Vec<String> = lines
        .iter()
        .filter(|l| is_stmt(l))
        .flat_map(|l| code(l).split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let mut cut: Option<u16> = None;
    for e in edits {
        match e {
            Edit::Delete(at) => {
                if let Some(k) = pick(&lines, *at) {
                    lines.remove(k);
                }
            }
            Edit::Duplicate(at) => {
                if let Some(k) = pick(&lines, *at) {
                    lines.insert(k, lines[k].clone());
                }
            }
            Edit::Swap(a, b) => {
                if let (Some(a), Some(b)) = (pick(&lines, *a), pick(&lines, *b)) {
                    lines.swap(a, b);
                }
            }
            Edit::Splice { file, line, at } => {
                let Some(k) = pick(&lines, *at) else { continue };
                // A statement of the same kind of block (setup or not).
                let kind = block(&lines, k);
                let other = &all[file % all.len()].1;
                let fits: Vec<&String> = (0..other.len())
                    .filter(|&j| is_stmt(&other[j]) && block(other, j) == kind)
                    .map(|j| &other[j])
                    .collect();
                if !fits.is_empty() {
                    lines.insert(k + 1, fits[line % fits.len()].clone());
                }
            }
            Edit::InsertWord { at, word, w } | Edit::ReplaceWord { at, word, w } => {
                let Some(k) = pick(&lines, *at) else { continue };
                let w = match w {
                    Word::Vocab(v) => v.to_string(),
                    Word::Own(i) if !own.is_empty() => own[i % own.len()].clone(),
                    Word::Own(_) => continue,
                    Word::Number(n) => format!("{n:#x}"),
                };
                let l = &mut lines[k];
                let mut words: Vec<&str> = code(l).split_whitespace().collect();
                let j = word % (words.len() + 1);
                if matches!(e, Edit::InsertWord { .. }) || j == words.len() {
                    words.insert(j, &w);
                } else {
                    words[j] = &w;
                }
                *l = format!("  {}", words.join(" "));
            }
            Edit::Renumber { at, nth, n } => {
                let Some(k) = pick(&lines, *at) else { continue };
                let l = &lines[k];
                let code_end = l.find('#').unwrap_or(l.len());
                let nums = numbers(&l[..code_end]);
                if let Some(&(a, b)) = nums.get(nth % nums.len().max(1)) {
                    let n = if l[a..b].starts_with("0x") { format!("{n:#x}") } else { n.to_string() };
                    lines[k].replace_range(a..b, &n);
                }
            }
            Edit::Truncate(f) => cut = Some(*f),
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    if let Some(f) = cut {
        let mut at = text.len() * usize::from(f) / 1000;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
    text
}

/// Run `text` down the pipeline under designs `designs` (indices into
/// `PROFILES`), checking everything this file promises. Returns how far it
/// got: 0 rejected, 1 compiled, 2 explored.
fn pipeline(text: &str, designs: &[usize]) -> Result<u8, TestCaseError> {
    let source = Source::new(NAME, text);
    let prog = match load(&source) {
        Ok(p) => p,
        Err(d) => {
            prop_assert!(!d.diags.is_empty());
            let plain = d.to_plain();
            for line in plain.lines() {
                prop_assert!(located(line), "diagnostic without `{NAME}:line:col`: {line:?}\ninput:\n{text}");
            }
            // At most MAX_SHOWN, then one "and K more" line.
            let shown = d.diags.len().min(pinlab_litmus::diag::MAX_SHOWN)
                + usize::from(d.diags.len() > pinlab_litmus::diag::MAX_SHOWN);
            prop_assert_eq!(plain.lines().count(), shown, "{}", plain);
            return Ok(0);
        }
    };
    let Ok(init) = World::new(&prog) else { return Ok(1) };
    for &i in designs {
        let profile = &PROFILES[i % PROFILES.len()];
        let design = profile.design();
        let cx = Cx { prog: &prog, design: &design };
        let cfg = Config { max_states: Some(MAX_STATES), max_depth: Some(MAX_DEPTH), ..Default::default() };
        let report = explore(&cx, &init, &cfg);
        consistent(&report, prog.conds.len()).map_err(|e| {
            TestCaseError::fail(format!("design {}: {e}\nreport: {report:#?}\ninput:\n{text}", profile.name))
        })?;
        // Honest verdicts: whatever a limited search, deciding early or not,
        // breadth- or depth-first, calls decided agrees with the full search
        // (where the full search is small enough to finish here).
        let full = explore(&cx, &init, &Config { max_states: Some(FULL_STATES), ..Default::default() });
        if full.complete {
            let variants = [
                cfg,
                Config { until: Until::Decided, presim_runs: 8, ..cfg },
                Config {
                    until: Until::Verdict,
                    strategy: pinlab_explore::Strategy::Dfs,
                    presim_runs: 8,
                    ..cfg
                },
            ];
            for (k, v) in variants.iter().enumerate() {
                let r = if k == 0 { report.clone() } else { explore(&cx, &init, v) };
                consistent(&r, prog.conds.len()).map_err(|e| {
                    TestCaseError::fail(format!("design {} variant {k}: {e}\ninput:\n{text}", profile.name))
                })?;
                for (i, (a, b)) in r.conds.iter().zip(&full.conds).enumerate() {
                    prop_assert!(
                        !a.decided || a.holds == b.holds,
                        "design {} variant {k}: condition {i} decided {} but the full search says {}\ninput:\n{text}",
                        profile.name,
                        a.holds,
                        b.holds
                    );
                }
                prop_assert!(
                    r.verdict() == Verdict::Unknown || r.verdict() == full.verdict(),
                    "design {} variant {k}: verdict {:?}, full search {:?}\ninput:\n{text}",
                    profile.name,
                    r.verdict(),
                    full.verdict()
                );
            }
        }
        for c in &report.conds {
            if let Some(w) = &c.witness {
                if let Err(e) = replay(&cx, &init, w) {
                    return Err(TestCaseError::fail(format!(
                        "design {}: witness {w} does not replay: {e}\ninput:\n{text}",
                        profile.name
                    )));
                }
            }
        }
    }
    Ok(2)
}

/// `fuzz.litmus:L:C: error: ...` with L, C ≥ 1.
fn located(line: &str) -> bool {
    let Some(rest) = line.strip_prefix(NAME).and_then(|r| r.strip_prefix(':')) else { return false };
    let mut parts = rest.splitn(3, ':');
    let num = |s: Option<&str>| s.and_then(|s| s.parse::<usize>().ok()).is_some_and(|n| n >= 1);
    num(parts.next()) && num(parts.next()) && parts.next().is_some_and(|r| r.starts_with(" error: "))
}

fn consistent(r: &Report, n_conds: usize) -> Result<(), String> {
    let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_string()) };
    check(r.states >= 1 || r.not_applicable.is_some(), "no states")?;
    check(r.states <= MAX_STATES, "more states than max_states")?;
    check(r.depth <= MAX_DEPTH, "deeper than max_depth")?;
    check(r.conds.len() == n_conds, "one result per condition")?;
    check(r.complete == r.stopped_by.is_none(), "complete exactly when nothing stopped the search")?;
    check(
        matches!(
            r.stopped_by,
            None | Some(StopReason::MaxStates | StopReason::MaxDepth | StopReason::Decided)
        ),
        "stopped by a limit that was not set",
    )?;
    check(
        r.not_applicable.is_some() || !r.complete || r.conds.iter().all(|c| c.decided),
        "a complete search decides every condition",
    )?;
    check(r.conds.iter().all(|c| c.witness.is_none() || c.decided), "a witness decides its condition")?;
    match r.verdict() {
        Verdict::Fail => {
            check(r.conds.iter().any(|c| !c.holds && c.decided), "fail without a condition decided false")?
        }
        Verdict::Pass => check(
            r.conds.iter().all(|c| c.holds && c.decided),
            "pass without every condition decided holding",
        )?,
        Verdict::Unknown => check(!r.complete, "unknown after a complete search")?,
        Verdict::NotApplicable => check(r.states == 0, "an n/a cell explored states")?,
    }
    check(r.finals <= r.transitions + 1, "more final states than transitions")?;
    Ok(())
}

/// Random token sequences: words of the vocabulary with random separators,
/// sometimes behind a valid header so the parser gets past it.
fn soup() -> impl Strategy<Value = String> {
    let sep = prop::sample::select(vec![" ", " ", " ", "\n", ""]);
    (any::<bool>(), prop::collection::vec((word(), sep), 0..80)).prop_map(|(header, ws)| {
        let mut s = if header { "litmus t\n".to_string() } else { String::new() };
        for (w, sep) in ws {
            s.push_str(w);
            s.push_str(sep);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_scenarios_survive_the_pipeline(
        file in any::<usize>(),
        edits in prop::collection::vec(edit(), 1..4),
        designs in prop::array::uniform2(any::<usize>()),
    ) {
        let text = mutate(file, &edits);
        pipeline(&text, &designs)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn token_sequences_survive_the_pipeline(
        text in soup(),
        designs in prop::array::uniform2(any::<usize>()),
    ) {
        pipeline(&text, &designs)?;
    }
}

/// Every scenario as it is goes down the pipeline, and the mutators reach
/// each stage often enough to be worth running (a guard against a mutator
/// that only ever produces parse errors).
#[test]
fn the_mutators_reach_exploration() {
    for (i, (path, _)) in SCENARIOS.iter().enumerate() {
        assert_eq!(
            pipeline(&mutate(i, &[]), &[i, i + 1]).map_err(|e| format!("{path}: {e}")),
            Ok(2),
            "{path}"
        );
    }
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (any::<usize>(), prop::collection::vec(edit(), 1..4));
    let mut explored = 0;
    // About one mutant in ten compiles; the sample is large enough that the
    // share does not hinge on which scenarios the suite happens to hold.
    for _ in 0..300 {
        let (file, edits) = strategy.new_tree(&mut runner).expect("value").current();
        if pipeline(&mutate(file, &edits), &[0]).expect("pipeline") == 2 {
            explored += 1;
        }
    }
    assert!(explored >= 15, "only {explored} of 300 mutants compiled and explored");
}
