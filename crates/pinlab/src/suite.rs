//! `pinlab compare`: the verdict matrix, scenarios × designs.
//!
//! Without a directory it runs the suite built into the binary (the
//! repository's `litmus/` at build time), so `cargo run --release -- compare`
//! works from anywhere.

use crate::expected::{Cell, Expected};
use crate::report::{check, json_result, load_path, load_text, JsonResult, Limits, Outcome};
use crate::{Format, EXIT_BAD_INPUT, EXIT_FAIL, EXIT_INCOMPLETE, EXIT_PASS};
use include_dir::{include_dir, Dir};
use pinlab_model::cond::Cond;
use pinlab_model::design::Design;
use pinlab_model::program::{CondKind, Program};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../litmus");

/// Scenario name (path relative to the suite root, without `.litmus`) and program.
/// The suite's programs. With `json`, files that do not compile are
/// reported as a JSON array of `{file, error, diagnostics}` on stdout (as
/// `run --json` does), else as diagnostics on stderr.
fn load_suite(dir: Option<&Path>, json: bool) -> Result<Vec<(String, Program)>, u8> {
    let plain = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut out = Vec::new();
    let mut bad = false;
    let mut bad_json: Vec<serde_json::Value> = Vec::new();
    match dir {
        None => {
            let mut files = Vec::new();
            collect_builtin(&BUILTIN, &mut files);
            // The scaling family is for `bench --scale`: its big members
            // would take minutes each.
            files.retain(|(p, _)| !p.starts_with(SCALE_DIR));
            files.sort_by(|a, b| a.0.cmp(&b.0));
            for (path, text) in files {
                let name = format!("<builtin>/litmus/{path}");
                let loaded = if json {
                    pinlab_litmus::load(&pinlab_litmus::Source::new(name.as_str(), text.as_str())).map_err(|d| {
                        bad_json.push(serde_json::json!({"file": name, "error": "bad input", "diagnostics": d.to_json()}))
                    })
                } else {
                    load_text(&name, &text, plain).map_err(|_| ())
                };
                match loaded {
                    Ok(p) => out.push((path.trim_end_matches(".litmus").to_string(), p)),
                    Err(()) => bad = true,
                }
            }
        }
        Some(d) => {
            let mut files = Vec::new();
            collect_fs(d, &mut files).map_err(|e| {
                eprintln!("pinlab: error: cannot read {}: {e}", d.display());
                EXIT_BAD_INPUT
            })?;
            // As in the built-in suite: `scale/` is for `bench --scale`.
            files.retain(|f| !f.strip_prefix(d).is_ok_and(|r| r.starts_with(SCALE_DIR)));
            files.sort();
            for f in files {
                let rel = f.strip_prefix(d).unwrap_or(&f).display().to_string();
                let loaded = if json {
                    crate::report::load_path_json(&f).map_err(|d| bad_json.push(d))
                } else {
                    load_path(&f, plain).map_err(|_| ())
                };
                match loaded {
                    Ok(p) => out.push((rel.trim_end_matches(".litmus").to_string(), p)),
                    Err(()) => bad = true,
                }
            }
        }
    }
    if bad {
        if json {
            println!("{}", serde_json::to_string_pretty(&bad_json).expect("serialisable"));
        }
        return Err(EXIT_BAD_INPUT);
    }
    if out.is_empty() {
        eprintln!("pinlab: error: no .litmus files found");
        return Err(EXIT_BAD_INPUT);
    }
    Ok(out)
}

/// The scaling family's folder in the suite.
pub const SCALE_DIR: &str = "scale";

/// The scaling family (name, text), from DIR or the built-in `litmus/scale/`,
/// smallest first.
pub fn load_scale(dir: Option<&Path>) -> Result<Vec<(String, String)>, u8> {
    let mut files = Vec::new();
    match dir {
        None => {
            collect_builtin(&BUILTIN, &mut files);
            files.retain(|(p, _)| p.starts_with(SCALE_DIR));
        }
        Some(d) => {
            let mut paths = Vec::new();
            collect_fs(d, &mut paths).map_err(|e| {
                eprintln!("pinlab: error: cannot read {}: {e}", d.display());
                EXIT_BAD_INPUT
            })?;
            for p in paths {
                match std::fs::read_to_string(&p) {
                    Ok(t) => files.push((p.display().to_string(), t)),
                    Err(e) => {
                        eprintln!("pinlab: error: cannot read {}: {e}", p.display());
                        return Err(EXIT_BAD_INPUT);
                    }
                }
            }
        }
    }
    if files.is_empty() {
        eprintln!("pinlab: error: no scaling scenarios found");
        return Err(EXIT_BAD_INPUT);
    }
    files.sort();
    Ok(files.into_iter().map(|(p, t)| (p.trim_end_matches(".litmus").to_string(), t)).collect())
}

fn collect_builtin(d: &Dir<'static>, out: &mut Vec<(String, String)>) {
    for f in d.files() {
        if f.path().extension().is_some_and(|e| e == "litmus") {
            out.push((f.path().display().to_string(), f.contents_utf8().unwrap_or("").to_string()));
        }
    }
    for sub in d.dirs() {
        collect_builtin(sub, out);
    }
}

fn collect_fs(d: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(d)? {
        let p = e?.path();
        if p.is_dir() {
            collect_fs(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "litmus") {
            out.push(p);
        }
    }
    Ok(())
}

/// What a cell shows: the conditions decided violated, oracles by name.
fn failures(prog: &Program, r: &JsonResult) -> Vec<String> {
    prog.conds
        .iter()
        .zip(&r.conditions)
        .filter(|(_, c)| c.decided && !c.holds)
        .map(|(c, _)| match (&c.kind, &c.cond) {
            (CondKind::Forbid, Cond::Oracle(o)) => o.name().to_string(),
            _ => format!("{} {}", crate::report::kind_word(c.kind), c.text),
        })
        .collect()
}

/// "What is still open", derived from the matrix: the scenarios whose
/// `forbid`/`always` conditions the newest Linux profile compared (the
/// last `linux-*` column) violates, each with the designs that close it.
/// `exists` conditions are demonstrations, not races, and do not count.
fn still_open<'a>(
    names: &[&str],
    designs: &[Design],
    cell: &dyn Fn(usize, usize) -> &'a JsonResult,
) -> Option<String> {
    let newest = designs.iter().rposition(|d| d.name.starts_with("linux-"))?;
    let races = |r: &JsonResult| r.conditions.iter().any(|c| c.decided && !c.holds && c.kind != "exists");
    let mut open = Vec::new();
    for (s, name) in names.iter().enumerate() {
        if !races(cell(s, newest)) {
            continue;
        }
        let closers: Vec<&str> = (0..designs.len())
            .filter(|&d| !designs[d].name.starts_with("linux-") && cell(s, d).verdict == "pass")
            .map(|d| designs[d].name.as_str())
            .collect();
        let by = if closers.is_empty() {
            "closed by none of these designs".to_string()
        } else {
            format!("closed by {}", closers.join(", "))
        };
        open.push(format!("`{name}` ({by})"));
    }
    let d = &designs[newest].name;
    Some(if open.is_empty() {
        format!("**Still open in `{d}`:** none of these scenarios.")
    } else {
        format!(
            "**Still open in `{d}`** ({} of {} scenarios, derived from the matrix): {}.",
            open.len(),
            names.len(),
            open.join("; ")
        )
    })
}

/// Explore every scenario × design cell (row-major order in the result) on
/// a pool of `limits.jobs` workers, one cell per worker at a time:
/// measured, that beats also splitting each cell's levels (the sequential
/// merge of a level does not shrink). `f` turns a cell's outcome into the
/// result kept.
pub fn explore_cells<T: Send>(
    suite: &[(String, Program)],
    designs: &[Design],
    limits: Limits,
    stop: &AtomicBool,
    f: impl Fn(&str, &Program, &Design, Outcome) -> T + Sync,
) -> Vec<T> {
    // Designs that behave alike on a scenario (they differ only in knobs
    // it never consults: `Design::behaviour_on`) share one exploration.
    let mut cells: Vec<(usize, usize)> = Vec::new();
    let mut same_as: Vec<Vec<usize>> = Vec::new();
    for (s, (_, prog)) in suite.iter().enumerate() {
        let mut seen: Vec<(Design, usize)> = Vec::new();
        for (d, design) in designs.iter().enumerate() {
            let b = design.behaviour_on(prog);
            match seen.iter().position(|(x, _)| *x == b) {
                Some(i) => same_as[seen[i].1].push(d),
                None => {
                    seen.push((b, cells.len()));
                    cells.push((s, d));
                    same_as.push(vec![d]);
                }
            }
        }
    }
    let cell_limits = Limits { jobs: 1, ..limits };
    let run_cell = |j: usize| -> Vec<(usize, T)> {
        let (s, d) = cells[j];
        let (name, prog) = &suite[s];
        let o = check(prog, &designs[d], cell_limits, stop, false);
        same_as[j].iter().map(|&e| (s * designs.len() + e, f(name, prog, &designs[e], o.clone()))).collect()
    };
    match rayon::ThreadPoolBuilder::new().num_threads(limits.jobs.max(1)).build() {
        Ok(pool) => pool.install(|| {
            // Start the likely-biggest cells first so the small ones fill in
            // around them: crash points multiply a space, then more steps.
            let cost = |j: usize| {
                let p = &suite[cells[j].0].1;
                let steps: usize = p.all_threads().map(|t| t.ops.len()).sum();
                (p.crash_points || limits.crash_points, p.threads.len(), steps)
            };
            let mut order: Vec<usize> = (0..cells.len()).collect();
            order.sort_by_key(|&j| std::cmp::Reverse(cost(j)));
            let mut out: Vec<(usize, T)> =
                order.par_iter().with_max_len(1).flat_map_iter(|&j| run_cell(j)).collect();
            out.sort_by_key(|(j, _)| *j);
            out.into_iter().map(|(_, r)| r).collect()
        }),
        Err(_) => {
            let mut out: Vec<(usize, T)> = (0..cells.len()).flat_map(run_cell).collect();
            out.sort_by_key(|(j, _)| *j);
            out.into_iter().map(|(_, r)| r).collect()
        }
    }
}

/// The suite, for other commands (`bench`).
pub fn load_suite_pub(dir: Option<&Path>) -> Result<Vec<(String, Program)>, u8> {
    load_suite(dir, false)
}

/// `✓`, `✗` and the violated conditions, or `?`, as a matrix cell shows
/// it; undecided conditions beside a violation are counted.
fn cell_text(prog: &Program, r: &JsonResult) -> String {
    let f = failures(prog, r);
    let open = r.conditions.iter().filter(|c| !c.decided).count();
    match r.verdict {
        "pass" => "✓".to_string(),
        "fail" if open == 0 => format!("✗ {}", f.join(", ")),
        "fail" => format!("✗ {} (+{open} undecided)", f.join(", ")),
        "n/a" => format!("n/a: {}", r.not_applicable.as_deref().unwrap_or("")),
        _ => format!("? {}", r.stopped_by.map_or("undecided", |s| s.describe_short())),
    }
}

/// The expectations of the suite being compared, if it has any.
fn load_expected(dir: Option<&Path>) -> Result<Option<Expected>, String> {
    let text = match dir {
        None => BUILTIN.get_file("EXPECTED.toml").and_then(|f| f.contents_utf8()).map(str::to_string),
        Some(d) => std::fs::read_to_string(d.join("EXPECTED.toml")).ok(),
    };
    text.map(|t| crate::expected::parse(&t)).transpose()
}

/// The terminal's width in columns: `$COLUMNS`, else 120.
fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|&c: &usize| c >= 40).unwrap_or(120)
}

#[allow(clippy::too_many_arguments)]
pub fn compare(
    dir: Option<&Path>,
    designs: &[Design],
    format: Format,
    timings: bool,
    write_expected: bool,
    width: Option<usize>,
    limits: Limits,
    stop: &AtomicBool,
) -> u8 {
    let start = Instant::now();
    let suite = match load_suite(dir, format == Format::Json) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let results = explore_cells(&suite, designs, limits, stop, |name, prog, design, o| {
        json_result(name, prog, design, &o)
    });
    // Undecided cells (a limit stopped them before anything was violated).
    let complete = results.iter().all(|r| r.verdict != "unknown");
    let cell = |s: usize, d: usize| &results[s * designs.len() + d];
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&results).expect("serialisable")),
        Format::Html => {
            let names: Vec<String> = suite.iter().map(|(n, _)| n.clone()).collect();
            let cells: Vec<Vec<(&JsonResult, String)>> = suite
                .iter()
                .enumerate()
                .map(|(s, (_, prog))| {
                    (0..designs.len()).map(|d| (cell(s, d), cell_text(prog, cell(s, d)))).collect()
                })
                .collect();
            print!("{}", crate::html::page(&names, designs, &cells));
        }
        Format::Text | Format::Markdown => {
            let md = format == Format::Markdown;
            let tty = !md && std::io::IsTerminal::is_terminal(&std::io::stdout());
            let mut rows: Vec<Vec<String>> = Vec::new();
            let mut header = vec!["scenario".to_string()];
            header.extend(designs.iter().map(|d| d.name.clone()));
            for (s, (name, prog)) in suite.iter().enumerate() {
                let mut row = vec![name.clone()];
                for d in 0..designs.len() {
                    row.push(cell_text(prog, cell(s, d)));
                }
                rows.push(row);
            }
            // On a terminal the table fits its width: design columns share
            // what the scenario column leaves, and longer cells are cut
            // with `…` (`--wide` or a pipe: the whole text).
            let limit = if md { None } else { width.or(if tty { Some(terminal_width()) } else { None }) };
            if let Some(total) = limit {
                let first = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0).max(header[0].len());
                let per = (total.saturating_sub(first + 2) / designs.len().max(1)).saturating_sub(2).max(10);
                for r in rows.iter_mut() {
                    for c in r.iter_mut().skip(1) {
                        if c.chars().count() > per {
                            *c = c.chars().take(per - 1).collect::<String>() + "…";
                        }
                    }
                }
                for h in header.iter_mut().skip(1) {
                    if h.chars().count() > per {
                        *h = h.chars().take(per - 1).collect::<String>() + "…";
                    }
                }
            }
            let widths: Vec<usize> = (0..header.len())
                .map(|c| {
                    rows.iter()
                        .map(|r| r[c].chars().count())
                        .chain([header[c].chars().count()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: &[String], colour: bool| -> String {
                let parts: Vec<String> = cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let pad = " ".repeat(widths[i] - c.chars().count());
                        let painted = if colour && i > 0 {
                            if c.starts_with('✓') {
                                format!("\x1b[32m{c}\x1b[0m")
                            } else {
                                format!("\x1b[31m{c}\x1b[0m")
                            }
                        } else {
                            c.clone()
                        };
                        format!("{painted}{pad}")
                    })
                    .collect();
                if md {
                    format!("| {} |", parts.join(" | "))
                } else {
                    parts.join("  ").trim_end().to_string()
                }
            };
            println!("{}", line(&header, false));
            if md {
                let seps: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                println!("| {} |", seps.join(" | "));
            }
            for r in &rows {
                println!("{}", line(r, tty));
            }
            let count = |v: &str| results.iter().filter(|r| r.verdict == v).count();
            let unknown = count("unknown");
            let na = count("n/a");
            println!(
                "\n{} scenario(s) × {} design(s): {} cell(s) pass, {} fail{}{}",
                suite.len(),
                designs.len(),
                count("pass"),
                count("fail"),
                if na > 0 {
                    format!(", {na} n/a (a feature the design's kernel lacks)")
                } else {
                    String::new()
                },
                if unknown > 0 { format!(", {unknown} undecided") } else { String::new() }
            );
            if md {
                let names: Vec<&str> = suite.iter().map(|(n, _)| n.as_str()).collect();
                if let Some(p) = still_open(&names, designs, &|s, d| cell(s, d)) {
                    println!("\n{p}");
                }
            }
            if timings {
                let states: u64 = results.iter().map(|r| r.states).sum();
                println!("{states} states explored in {:.2} s wall time", start.elapsed().as_secs_f64());
            }
        }
    }
    let cells = suite.iter().enumerate().flat_map(|(s, (name, _))| {
        designs.iter().enumerate().map(move |(d, design)| (s, d, name.as_str(), design.name.as_str()))
    });
    if write_expected {
        let old = load_expected(dir).ok().flatten().unwrap_or_default();
        let mut e = Expected::new();
        for (s, d, name, design) in cells {
            let r = cell(s, d);
            let f = failures(&suite[s].1, r);
            let computed = match &r.not_applicable {
                Some(why) => why.clone(),
                None if f.is_empty() => "every condition holds".to_string(),
                None => f.join(", "),
            };
            // Keep a hand-written reason while the verdict stays the same.
            let reason = match old.get(name).and_then(|m| m.get(design)) {
                Some(c) if c.verdict == r.verdict => c.reason.clone(),
                _ => computed,
            };
            e.entry(name.to_string())
                .or_default()
                .insert(design.to_string(), Cell { verdict: r.verdict.into(), reason });
        }
        let path = dir.map_or_else(|| PathBuf::from("litmus"), Path::to_path_buf).join("EXPECTED.toml");
        if let Err(err) = std::fs::write(&path, crate::expected::render(&e)) {
            eprintln!("pinlab: error: cannot write {}: {err}", path.display());
            return EXIT_BAD_INPUT;
        }
        eprintln!("wrote {}", path.display());
        return if complete { EXIT_PASS } else { EXIT_INCOMPLETE };
    }
    let expected = match load_expected(dir) {
        Ok(e) => e,
        Err(err) => {
            eprintln!("pinlab: error: {err}");
            return EXIT_BAD_INPUT;
        }
    };
    if !complete {
        return EXIT_INCOMPLETE;
    }
    let Some(expected) = expected else { return EXIT_PASS };
    let got: Vec<(&str, &str, &str)> = cells.map(|(s, d, n, des)| (n, des, cell(s, d).verdict)).collect();
    let mismatches = crate::expected::diff(&expected, got.into_iter());
    let quiet = matches!(format, Format::Json | Format::Html);
    if mismatches.is_empty() {
        if !quiet {
            println!("the matrix matches EXPECTED.toml");
        }
        EXIT_PASS
    } else {
        eprintln!("{} cell(s) differ from EXPECTED.toml:", mismatches.len());
        for m in &mismatches {
            eprintln!("  {m}");
        }
        EXIT_FAIL
    }
}
