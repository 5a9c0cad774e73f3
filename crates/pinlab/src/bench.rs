//! `pinlab bench`: explorer throughput on every scenario of the suite under
//! every design, as JSON (for tracking speed across commits; never used in
//! tests as an assertion).

use crate::report::{check, Limits};
use crate::suite::load_suite_pub;
use crate::{EXIT_BAD_INPUT, EXIT_PASS};
use pinlab_model::design::Design;
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::AtomicBool;

#[derive(Serialize)]
struct Row {
    scenario: String,
    design: String,
    verdict: &'static str,
    states: u64,
    transitions: u64,
    /// Wall time to the verdict.
    ms: f64,
    states_per_s: f64,
    transitions_per_s: f64,
}

#[derive(Serialize)]
struct Bench {
    /// Memory the visited set needs per state: a 128-bit fingerprint and a
    /// node index in the hash map (with its control byte, at the map's
    /// maximum load factor 7/8), plus the parent link kept for witnesses.
    bytes_per_visited_state: f64,
    total_states: u64,
    total_ms: f64,
    states_per_s: f64,
    rows: Vec<Row>,
}

pub fn bench(dir: Option<&Path>, designs: &[Design], out: Option<&Path>, stop: &AtomicBool) -> u8 {
    let suite = match load_suite_pub(dir) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut rows = Vec::new();
    for (name, prog) in &suite {
        for d in designs {
            let o = check(prog, d, Limits::default(), stop, false);
            let r = &o.report;
            let secs = (r.elapsed_ms / 1e3).max(1e-9);
            rows.push(Row {
                scenario: name.clone(),
                design: d.name.clone(),
                verdict: r.verdict().word(),
                states: r.states,
                transitions: r.transitions,
                ms: (r.elapsed_ms * 1000.0).round() / 1000.0,
                states_per_s: (r.states as f64 / secs).round(),
                transitions_per_s: (r.transitions as f64 / secs).round(),
            });
        }
    }
    let total_states: u64 = rows.iter().map(|r| r.states).sum();
    let total_ms: f64 = rows.iter().map(|r| r.ms).sum();
    let entry = (16 + 4) as f64 * 8.0 / 7.0 + 1.0;
    let node = std::mem::size_of::<(u32, u8)>() as f64;
    let b = Bench {
        bytes_per_visited_state: ((entry + node) * 10.0).round() / 10.0,
        total_states,
        total_ms: total_ms.round(),
        states_per_s: (total_states as f64 / (total_ms / 1e3).max(1e-9)).round(),
        rows,
    };
    let json = serde_json::to_string_pretty(&b).expect("serialisable");
    match out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, json) {
                eprintln!("pinlab: error: cannot write {}: {e}", p.display());
                return EXIT_BAD_INPUT;
            }
            eprintln!(
                "{} states in {:.0} ms ({:.0} states/s); wrote {}",
                total_states,
                total_ms,
                b.states_per_s,
                p.display()
            );
        }
        None => println!("{json}"),
    }
    EXIT_PASS
}
