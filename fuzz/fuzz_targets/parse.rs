//! Arbitrary bytes → (if UTF-8) `load`: lexing, parsing and compiling never
//! panic, and every rejection renders a diagnostic that says where.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pinlab_litmus::{load, Source};

const NAME: &str = "fuzz.litmus";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Err(d) = load(&Source::new(NAME, text)) else { return };
    assert!(!d.diags.is_empty(), "an error without diagnostics");
    let plain = d.to_plain();
    assert!(!plain.is_empty(), "an empty rendering");
    for line in plain.lines() {
        assert!(located(line), "diagnostic without `{NAME}:line:col`: {line:?}");
    }
    // The fancy rendering (what the CLI prints) must not panic either.
    let mut out = String::new();
    miette::GraphicalReportHandler::new().render_report(&mut out, &d).expect("render");
});

/// `fuzz.litmus:L:C: error: ...` with L, C ≥ 1.
fn located(line: &str) -> bool {
    let Some(rest) = line.strip_prefix(NAME).and_then(|r| r.strip_prefix(':')) else { return false };
    let mut parts = rest.splitn(3, ':');
    let num = |s: Option<&str>| s.and_then(|s| s.parse::<usize>().ok()).is_some_and(|n| n >= 1);
    num(parts.next()) && num(parts.next()) && parts.next().is_some_and(|r| r.starts_with(" error: "))
}
