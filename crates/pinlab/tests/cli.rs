//! The command line as scripts see it: exit codes, JSON fields, determinism.

use pinlab_model::design::PROFILES;
use std::process::{Command, Output};

const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../litmus/seed/rdma-writeback.litmus");
/// A small scenario with the seed's verdicts (fails under 4.19, passes under bounce).
const SMALL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../litmus/dev/dma-short-term-pin.litmus");

fn pinlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinlab")).args(args).output().expect("pinlab runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

/// Blank the measurements (wall time, resident memory): everything else
/// in a report is deterministic.
fn mask_elapsed(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for key in ["elapsed_ms", "peak_memory_bytes"] {
                if m.contains_key(key) {
                    m.insert(key.into(), 0.into());
                }
            }
            m.values_mut().for_each(mask_elapsed);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(mask_elapsed),
        _ => {}
    }
}

#[test]
fn seed_fails_under_4_19_and_passes_under_bounce_with_json_contract() {
    let o = pinlab(&["run", SEED, "--design", "linux-4.19", "--json"]);
    assert_eq!(o.status.code(), Some(1), "a failing expectation exits 1");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let r = &v[0];
    assert_eq!(r["test"], "seed-rdma-writeback");
    assert_eq!(r["design"], "linux-4.19");
    assert_eq!(r["verdict"], "fail");
    for field in ["states", "transitions", "elapsed_ms"] {
        assert!(r[field].is_number(), "{field} missing");
    }
    let failed: Vec<&str> = r["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["holds"] == false)
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["checksum_error", "lost_write"]);
    let trace = r["trace"]["steps"].as_array().expect("a failing run carries its trace");
    assert!(trace.iter().any(|s| s["fired"].as_array().unwrap().iter().any(|f| f == "checksum_error")));
    assert!(
        trace.iter().all(|s| !s["kernel"].as_str().unwrap().is_empty()),
        "every step names a kernel function"
    );

    let o = pinlab(&["run", SEED, "--design", "bounce", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["verdict"], "pass");
    assert!(v[0].get("trace").is_none());
}

#[test]
fn same_command_twice_gives_identical_output() {
    // One worker and two: the same bytes (the parallel search merges in
    // frontier order).
    let a = pinlab(&["run", SEED, "--design", "all", "-j", "1"]);
    let b = pinlab(&["run", SEED, "--design", "all", "-j", "2"]);
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout, "text output must be byte-identical");
    let t1 = pinlab(&["trace", SMALL, "--design", "linux-4.19"]);
    let t2 = pinlab(&["trace", SMALL, "--design", "linux-4.19"]);
    assert_eq!(t1.stdout, t2.stdout);
    let mut j1: serde_json::Value =
        serde_json::from_slice(&pinlab(&["run", SMALL, "--json"]).stdout).unwrap();
    let mut j2: serde_json::Value =
        serde_json::from_slice(&pinlab(&["run", SMALL, "--json"]).stdout).unwrap();
    mask_elapsed(&mut j1);
    mask_elapsed(&mut j2);
    assert_eq!(j1, j2);
}

#[test]
fn trace_tells_the_race_naming_kernel_functions() {
    let o = pinlab(&["trace", SEED, "--design", "linux-4.19"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    // The device write lands after writeback cleaned and checksummed the page.
    let pos = |needle: &str| out.find(needle).unwrap_or_else(|| panic!("`{needle}` missing from\n{out}"));
    assert!(pos("folio_mkclean") < pos("crc32c of the folio"));
    assert!(pos("crc32c of the folio") < pos("rdma: NIC DMA-writes"));
    assert!(out.contains("<== CHECKSUM_ERROR"));
}

#[test]
fn bad_input_exits_2_with_file_line_col() {
    let dir = std::env::temp_dir().join(format!("pinlab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.litmus");
    std::fs::write(&f, "litmus bad\nsetup {\n  process p\n}\nthread a on p {\n  stor x\n}\n").unwrap();
    let o = pinlab(&["run", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.litmus:6:3"), "{err}");
    assert!(err.contains("did you mean `store`?"), "{err}");
    let o = pinlab(&["run", SEED, "--design", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    let o = pinlab(&["run", "/nonexistent.litmus"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn max_states_stops_early_and_says_so() {
    let o = pinlab(&["run", SEED, "--design", "bounce", "--max-states", "1000", "--json"]);
    assert_eq!(o.status.code(), Some(3), "incomplete without a failure exits 3");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["complete"], false);
    assert!(v[0]["states"].as_u64().unwrap() <= 1000);
}

#[test]
fn designs_lists_profiles() {
    let o = pinlab(&["designs"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for d in ["linux-4.19", "linux-6.x", "bounce"] {
        assert!(out.contains(d));
    }
    let o = pinlab(&["designs", "bounce"]);
    assert!(stdout(&o).contains("pinned_writeback                bounce"));
}

#[test]
fn compare_reproduces_the_expected_matrix_of_the_builtin_suite() {
    let o = pinlab(&["compare", "--format", "markdown"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.starts_with("| scenario"), "{out}");
    assert!(out.contains("the matrix matches EXPECTED.toml"));
    // The "still open" paragraph is derived from the matrix: the race no
    // merged Linux fix closes is listed, with the designs that close it;
    // a race 7.0 fixed is not.
    let open =
        out.lines().find(|l| l.starts_with("**Still open in `linux-7.0`**")).expect("still-open paragraph");
    assert!(open.contains("`open/short-term-pin-writeback-pi` (closed by "), "{open}");
    assert!(open.contains("kara-2023") && !open.contains("`open/dio-write-buffer-changes`"), "{open}");
    // md RAID1: no design closes a changing direct-write buffer over
    // ordinary disks; over stable-writes disks 7.0's bounce does.
    assert!(open.contains("`open/dio-write-buffer-changes-raid1` (closed by none"), "{open}");
    assert!(!open.contains("raid1-stable"), "{open}");
    let row = out.lines().find(|l| l.contains("seed/rdma-writeback")).expect("seed row");
    let last = row.trim_end_matches('|').trim_end();
    assert!(
        row.contains("✗ checksum_error, lost_write") && last.ends_with('✓'),
        "bounce passes the seed: {row}"
    );
    let rows = out
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| scenario") && !l.starts_with("| -"))
        .count();
    assert!(rows >= 30, "at least 30 scenarios, got {rows}");
}

#[test]
fn compare_flags_a_changed_expectation_and_renders_html() {
    let dir = std::env::temp_dir().join(format!("pinlab-cmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(SMALL, dir.join("seed.litmus")).unwrap();
    let expected = "[seed.\"linux-4.19\"]\nverdict = \"pass\"\nreason = \"wrong on purpose\"\n\n[seed.bounce]\nverdict = \"pass\"\nreason = \"ok\"\n";
    std::fs::write(dir.join("EXPECTED.toml"), expected).unwrap();
    let d = dir.to_str().unwrap();
    let o = pinlab(&["compare", d, "--designs", "linux-4.19,bounce"]);
    assert_eq!(o.status.code(), Some(1), "a differing cell fails the comparison");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("seed × linux-4.19: expected pass (wrong on purpose), got fail"), "{err}");

    let o = pinlab(&["compare", d, "--designs", "linux-4.19,bounce", "--format", "html"]);
    let html = stdout(&o);
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(html.contains("<table id=\"matrix\">") && html.contains("<table id=\"summary\">"));
    // The failing cell links to its trace, and the trace is in the page.
    assert!(html.contains("<a href=\"#t-0-0\">") && html.contains("<section id=\"t-0-0\">"));
    assert!(html.contains("folio_mkclean"));
    assert_eq!(html.matches("<tr>").count(), 1 + 1 + 1 + 2, "header, one row, summary header, two designs");
}

#[test]
fn shards_merge_into_the_single_run_report() {
    let dir = std::env::temp_dir().join(format!("pinlab-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut parts = Vec::new();
    for i in 0..3 {
        let o = pinlab(&[
            "run",
            SMALL,
            "--design",
            "all",
            "--shard",
            &format!("{i}/3"),
            "--json",
            "--exhaustive",
        ]);
        assert!(matches!(o.status.code(), Some(1 | 3)), "a shard alone is incomplete or failing");
        let p = dir.join(format!("part{i}.json"));
        std::fs::write(&p, &o.stdout).unwrap();
        parts.push(p.display().to_string());
    }
    let mut args = vec!["merge", "--json"];
    args.extend(parts.iter().map(|s| s.as_str()));
    let merged = pinlab(&args);
    // Shards split breadth-first levels: the single run to compare with is
    // breadth-first and exhaustive too.
    let whole = pinlab(&["run", SMALL, "--design", "all", "--json", "--strategy", "bfs", "--exhaustive"]);
    assert_eq!(merged.status.code(), whole.status.code());
    let m: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    let w: serde_json::Value = serde_json::from_slice(&whole.stdout).unwrap();
    assert_eq!(m.as_array().unwrap().len(), PROFILES.len(), "one result per design");
    for (a, b) in m.as_array().unwrap().iter().zip(w.as_array().unwrap()) {
        for key in ["design", "verdict", "complete", "conditions", "oracles_fired", "trace"] {
            assert_eq!(a[key], b[key], "{key} of {}", b["design"]);
        }
    }
    // A missing shard: reported, and the merge is incomplete.
    let o = pinlab(&["merge", &parts[0], &parts[1]]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("shards missing"));
    // Not a shard file: exit 2 with the file name.
    let o = pinlab(&["merge", SMALL]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dma-short-term-pin.litmus:1:"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn depth_and_time_limits_exit_3_and_say_why() {
    let o = pinlab(&["run", SEED, "--design", "bounce", "--max-depth", "10"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("INCOMPLETE: --max-depth reached"), "{}", stdout(&o));
    let o = pinlab(&["run", SEED, "--design", "bounce", "--time", "0s", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["stopped_by"], "time");
    assert_eq!(v[0]["verdict"], "unknown");
}

#[test]
fn traces_show_values_read_final_registers_and_what_stuck_threads_wait_for() {
    let fork = concat!(env!("CARGO_MANIFEST_DIR"), "/../../litmus/mm/fork-after-register.litmus");
    let out = stdout(&pinlab(&["trace", fork, "--design", "linux-4.19"]));
    // The device read's value appears at its step and at the end.
    assert!(out.contains("· app.r = 0x11"), "{out}");
    assert!(out.contains("registers at the end: app.r = 0x11"), "{out}");
    let out = stdout(&pinlab(&["trace", SEED, "--design", "wait"]));
    assert!(out.contains("DEADLOCK"), "{out}");
    assert!(out.contains("flusher at `writeback f` for the pins on its locked folio to drop"), "{out}");
    assert!(out.contains("finally at `sync` for every thread to finish"), "{out}");
}

#[test]
fn several_designs_print_a_line_each_and_the_matrix_fits_a_width() {
    let out = stdout(&pinlab(&["run", SMALL]));
    assert!(out.contains("  linux-4.19   No: checksum_error\n"), "{out}");
    assert!(out.contains("  bounce       Ok\n"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("  ")).count(),
        PROFILES.len() + 1,
        "a line per design, one hint: {out}"
    );
    let verbose = stdout(&pinlab(&["run", SMALL, "-v"]));
    assert!(verbose.contains("forbid checksum_error              fails"), "{verbose}");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../litmus");
    let o = pinlab(&["compare", dir, "--width", "100", "--designs", "linux-4.19,wait,bounce"]);
    let table: Vec<String> = stdout(&o).lines().take_while(|l| !l.is_empty()).map(str::to_string).collect();
    assert!(table.len() > 40, "the matrix has a row per scenario");
    assert!(table.iter().all(|l| l.chars().count() <= 100), "every row fits in 100 columns");
    assert!(table.iter().any(|l| l.contains('…')), "long cells are cut");
}

#[test]
fn bench_scale_measures_each_size_in_its_own_process() {
    // linux-6.x refuses the long-term file write pin: every size is decided
    // in milliseconds, so this runs fast and its verdicts are known.
    let o = pinlab(&["bench", "--scale", "--designs", "linux-6.x", "--time", "5s", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 9, "pages 1..4 × NICs 1..3 (NICs ≤ pages)");
    for r in rows {
        assert_eq!(r["reduced"]["verdict"], "fail", "{r}");
        assert!(r["pages"].as_u64().unwrap() >= r["devices"].as_u64().unwrap(), "{r}");
        assert!(r["reduced"]["peak_memory_mib"].as_f64().unwrap() > 0.0, "{r}");
    }
    let shards: Vec<u64> =
        v["shards"].as_array().unwrap().iter().map(|s| s["shards"].as_u64().unwrap()).collect();
    assert_eq!(shards, [2, 4, 8]);
}
