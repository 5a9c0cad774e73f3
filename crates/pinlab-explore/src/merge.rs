//! Combining the reports of a sharded run (`Config::shard`).
//!
//! Each shard reports, per condition and per oracle, its canonical witness
//! (shortest, then lexicographically least schedule). The whole space's
//! canonical witness is the least of the shards' by the same order, so the
//! merged verdicts and witnesses are exactly those of a single run. Counts
//! (states, transitions, final states, pin tests) are sums: the shards all
//! explore the levels above the split, and a state reachable below the split
//! from two shards' states is counted in both.

use crate::search::{CondResult, Report, StopReason};
use crate::Schedule;
use std::cmp::Ordering;

/// Why shard reports cannot be merged.
#[derive(Debug, PartialEq, Eq)]
pub struct MergeError(pub String);

fn least(a: Option<Schedule>, b: &Option<Schedule>) -> Option<Schedule> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.canonical_cmp(&a) == Ordering::Less { b.clone() } else { a }),
        (a, b) => a.or_else(|| b.clone()),
    }
}

/// Merge the reports of shards `0..count` of one scenario under one design.
/// `kinds[i]` says whether condition `i` is decided by a witness that
/// satisfies it (`forbid`, `exists`) or one that violates it (`always`);
/// only the "holds" reading differs between them.
pub fn merge(
    parts: &[(u32, Report)],
    count: u32,
    kinds: &[pinlab_model::program::CondKind],
) -> Result<Report, MergeError> {
    use pinlab_model::program::CondKind;
    let mut have: Vec<u32> = parts.iter().map(|(i, _)| *i).collect();
    have.sort_unstable();
    have.dedup();
    if have.len() != parts.len() {
        return Err(MergeError("a shard appears twice".into()));
    }
    if let Some(bad) = have.iter().find(|&&i| i >= count) {
        return Err(MergeError(format!("shard {bad} is out of range for {count} shards")));
    }
    if parts.is_empty() {
        return Err(MergeError("no shards to merge".into()));
    }
    if parts.iter().any(|(_, r)| r.conds.len() != kinds.len()) {
        return Err(MergeError("the shards disagree on the number of conditions".into()));
    }
    let missing = have.len() as u32 != count;
    // A shard stopped by a limit leaves its part unexplored; so does a
    // missing shard.
    // A shard that stopped because it had decided every condition found a
    // witness for each: nothing is left open, but the counters are partial.
    let stopped_by = parts
        .iter()
        .filter_map(|(_, r)| r.stopped_by)
        .find(|s| !matches!(s, StopReason::Shard | StopReason::Decided))
        .or(missing.then_some(StopReason::Shard))
        .or(parts.iter().find_map(|(_, r)| r.stopped_by.filter(|s| *s == StopReason::Decided)));
    let complete = stopped_by.is_none();
    let conds = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            // A search witness is canonical and wins over the simulation's
            // (which every shard found alike), as in a single run.
            let by_search = |r: &Report| {
                r.conds[i].witness.clone().filter(|_| r.conds[i].by != Some(crate::Method::Simulation))
            };
            let witness = parts
                .iter()
                .fold(None, |acc, (_, r)| least(acc, &by_search(r)))
                .or_else(|| parts.iter().fold(None, |acc, (_, r)| least(acc, &r.conds[i].witness)));
            let holds = match kind {
                CondKind::Exists => witness.is_some(),
                CondKind::Forbid | CondKind::Always => witness.is_none(),
            };
            let decided = complete || witness.is_some();
            // The method of the shard whose witness won (every shard runs
            // the same simulation first, so they agree on its witnesses).
            let by = match &witness {
                Some(w) => parts
                    .iter()
                    .find(|(_, r)| r.conds[i].witness.as_ref() == Some(w))
                    .and_then(|(_, r)| r.conds[i].by),
                None => decided.then_some(crate::Method::Search),
            };
            CondResult { holds, decided, witness, by }
        })
        .collect();
    let mut fired: Vec<(pinlab_model::oracle::Oracle, Schedule)> = Vec::new();
    for (_, r) in parts {
        for (o, s) in &r.fired {
            match fired.iter_mut().find(|(f, _)| f == o) {
                Some((_, cur)) => {
                    if s.canonical_cmp(cur) == Ordering::Less {
                        *cur = s.clone();
                    }
                }
                None => fired.push((*o, s.clone())),
            }
        }
    }
    fired.sort_by_key(|(o, _)| *o);
    let sum = |f: fn(&Report) -> u64| parts.iter().map(|(_, r)| f(r)).sum::<u64>();
    Ok(Report {
        states: sum(|r| r.states),
        transitions: sum(|r| r.transitions),
        finals: sum(|r| r.finals),
        complete,
        conds,
        fired,
        pin_tests: crate::PinTestCounts {
            consulted: sum(|r| r.pin_tests.consulted),
            false_positives: sum(|r| r.pin_tests.false_positives),
            false_negatives: sum(|r| r.pin_tests.false_negatives),
        },
        longest_wait_steps: parts.iter().map(|(_, r)| r.longest_wait_steps).max().unwrap_or(0),
        bounce_bytes_max: parts.iter().map(|(_, r)| r.bounce_bytes_max).max().unwrap_or(0),
        depth: parts.iter().map(|(_, r)| r.depth).max().unwrap_or(0),
        visited_bytes: parts.iter().map(|(_, r)| r.visited_bytes).max().unwrap_or(0),
        stopped_by,
        elapsed_ms: parts.iter().map(|(_, r)| r.elapsed_ms).sum(),
        peak_memory_bytes: parts.iter().map(|(_, r)| r.peak_memory_bytes).max().unwrap_or(0),
        presim_runs: parts.iter().map(|(_, r)| r.presim_runs).max().unwrap_or(0),
        failed_threads: parts.iter().fold(0, |m, (_, r)| m | r.failed_threads),
        not_applicable: parts.iter().find_map(|(_, r)| r.not_applicable.clone()),
    })
}
