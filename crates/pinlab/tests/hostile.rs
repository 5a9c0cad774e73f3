//! Hostile input: what a careless or malicious user can feed the CLI must
//! fail fast with a clear message and exit code 2, never hang, never fill
//! the memory, never panic. Big inputs are generated here, not committed.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const SMALL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../litmus/dev/dma-short-term-pin.litmus");

fn pinlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinlab")).args(args).output().expect("pinlab runs")
}

fn pinlab_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pinlab"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pinlab runs");
    // A refused input may close the pipe early: that is fine.
    let _ = c.stdin.take().expect("piped").write_all(input);
    c.wait_with_output().expect("pinlab ends")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pinlab-hostile-{}", std::process::id()));
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn an_endless_or_huge_input_is_refused_without_reading_it_all() {
    // Two MiB of zeros on standard input: refused at the cap.
    let o = pinlab_stdin(&["run", "-"], &vec![0u8; 2 << 20]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("larger than 1024 KiB"), "{}", stderr(&o));
    // Not UTF-8.
    let p = temp("bin.litmus", "");
    std::fs::write(&p, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let o = pinlab(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));
}

#[test]
fn many_errors_print_a_bounded_report_and_a_long_thread_compiles_in_linear_time() {
    let mut text = String::from("litmus many\nsetup {\n  disk d0 sectors=64\n}\n");
    for i in 0..20_000 {
        text += &format!("forbid bogus{i}\n");
    }
    let o = pinlab(&["run", temp("many.litmus", &text).to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("and 19980 more error(s) not shown"), "{}", &err[..err.len().min(2000)]);
    assert!(err.lines().count() < 100, "the report is bounded: {} lines", err.lines().count());
    // Tens of thousands of statements in one thread: one clear error (the
    // per-thread bound), found by a front end that does not rescan the file.
    let mut text = String::from(
        "litmus long\nsetup {\n  disk d0 sectors=64\n  fs fs0 on d0 type=csumfs\n  file f on fs0 pages=1\n  process p\n}\nthread a on p {\n  m = mmap f pages=0..1 shared write\n",
    );
    for _ in 0..40_000 {
        text += "  store m[0] = 0x11\n";
    }
    text += "}\n";
    let o = pinlab(&["run", temp("long.litmus", &text).to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("more than 64 statements in one thread"), "{}", stderr(&o));
}

#[test]
fn absurd_arguments_are_refused_with_the_reason() {
    let o = pinlab(&["run", SMALL, "-j", "100000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("-j 100000: at most"), "{}", stderr(&o));
    let o = pinlab(&["run", SMALL, "-j", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = pinlab(&["run", SMALL, "--design", "Linux-6.x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `linux-6.x`?"), "{}", stderr(&o));
    let o = pinlab(&["run", SMALL, "--max-memory", "12 parsecs"]);
    assert_eq!(o.status.code(), Some(2));
    let o = pinlab(&["run", SMALL, "--shard", "0/2", "--json", "--strategy", "dfs"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("needs --strategy bfs"), "{}", stderr(&o));
    let o = pinlab(&["run", "/nonexistent/x.litmus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read /nonexistent/x.litmus"), "{}", stderr(&o));
}

#[test]
fn json_mode_reports_bad_input_as_json() {
    let o =
        pinlab_stdin(&["run", "-", "--json"], b"litmus x\nsetup {\n  disk d0 sectors=8\n}\nforbid bogus\n");
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    let d = &v[0]["diagnostics"][0];
    assert_eq!(d["file"], "<stdin>");
    assert_eq!(d["line"], 5);
    assert_eq!(d["column"], 8);
    assert_eq!(d["message"], "unknown oracle `bogus`");
    // So is a suite with a bad file, under `compare --format json`.
    let dir = temp("suite/x.litmus", "litmus x\nsetup {\n  disk d0 sectors=8\n}\nforbid bogus\n");
    let o = pinlab(&["compare", dir.parent().unwrap().to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v[0]["diagnostics"][0]["message"], "unknown oracle `bogus`");
    // A trace with nothing to explain is JSON too.
    let o = pinlab(&["trace", SMALL, "--design", "bounce", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["verdict"], "pass");
    assert!(v["trace"].is_null());
}

#[test]
fn a_good_scenario_from_standard_input_runs() {
    let text = std::fs::read(SMALL).unwrap();
    let o = pinlab_stdin(&["run", "-", "--design", "bounce"], &text);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("(<stdin>) under bounce: Ok"));
}

#[test]
fn completions_and_man_page_are_generated() {
    let o = pinlab(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("pinlab"));
    let o = pinlab(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains(".TH pinlab 1"));
}

#[test]
fn a_thread_that_fails_unobserved_is_warned_about() {
    let text = "litmus quiet\nsetup {\n  disk d0 sectors=64\n  fs fs0 on d0 type=csumfs\n  file f on fs0 pages=2\n  process p\n}\nthread a on p {\n  m = mmap f pages=0..2 shared write\n  munmap m\n  store m[0] = 0x11\n}\n";
    let o = pinlab_stdin(&["run", "-", "--design", "bounce"], text.as_bytes());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("warning: thread `a` fails in some execution"), "{out}");
    // Reading the error silences it.
    let watched = format!("{text}always a.err == EFAULT\n");
    let o = pinlab_stdin(&["run", "-", "--design", "bounce"], watched.as_bytes());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("warning:"), "{out}");
    assert_eq!(o.status.code(), Some(0), "{out}");
}
