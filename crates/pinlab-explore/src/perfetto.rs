//! A replayed schedule as a Chrome trace-event JSON file, the format the
//! Perfetto UI (and `chrome://tracing`) opens.
//!
//! Layout: one *process* per group and one *thread* (track) per actor —
//! each modelled process groups the scenario threads that run `on` it,
//! "devices" groups the threads that only drive a device (`n.write`, ...),
//! "kernel" the other threads (`flusher`, `finally`), and "faults" one
//! track per pseudo-step kind (`power` for a crash, `blk-fault`, `kswapd`,
//! `kcompactd`). Every scenario thread has its track even if it never ran.
//!
//! Time is the step number: step `k` (1-based) spans `[(k-1)·10, k·10)` µs.
//! Each operation of a thread is one complete (`"ph":"X"`) slice from its
//! first step to its last (other threads' steps in between are the time it
//! was in progress or waiting), named after the statement; inside it, one
//! nested slice per step, named after the kernel function it models, with
//! the step's notes and changes as args. An oracle that fires is an instant
//! (`"ph":"i"`) on the track of the step that fired it; a deadlock or
//! starvation at the end is a global instant.

use crate::schedule::{Move, Schedule};
use crate::story::{fault_track, replay, Story};
use pinlab_model::fault::Fault;
use pinlab_model::ids::ThreadId;
use pinlab_model::program::Op;
use pinlab_model::{Cx, World};
use serde_json::{json, Value};

/// Microseconds per step.
pub const STEP_US: u64 = 10;

const PID_DEVICES: u64 = 2;
const PID_KERNEL: u64 = 3;
const PID_FAULTS: u64 = 4;
/// Processes of the scenario: `PID_PROC_BASE + ProcId`.
const PID_PROC_BASE: u64 = 10;
/// Scenario threads: `TID_THREAD_BASE + ThreadId`.
const TID_THREAD_BASE: u64 = 100;
const TID_FAULT_BASE: u64 = 400;

/// The track (pid, tid) of a schedule entry.
fn track(cx: &Cx, m: Move) -> (u64, u64) {
    match m {
        Move::Thread(t) => thread_track(cx, t),
        Move::Crash => (PID_FAULTS, TID_FAULT_BASE),
        Move::Fault(Fault::FailNextWrite(_)) => (PID_FAULTS, TID_FAULT_BASE + 1),
        Move::Fault(Fault::Reclaim) => (PID_FAULTS, TID_FAULT_BASE + 2),
        Move::Fault(Fault::Migrate(_)) => (PID_FAULTS, TID_FAULT_BASE + 3),
    }
}

fn is_device_thread(cx: &Cx, t: ThreadId) -> bool {
    let tp = cx.prog.thread(t);
    tp.proc.is_none()
        && !tp.ops.is_empty()
        && tp.ops.iter().all(|op| matches!(op, Op::DevWrite { .. } | Op::DevRead { .. }))
}

fn thread_track(cx: &Cx, t: ThreadId) -> (u64, u64) {
    let tp = cx.prog.thread(t);
    let pid = match tp.proc {
        Some(p) => PID_PROC_BASE + p.0 as u64,
        None if is_device_thread(cx, t) => PID_DEVICES,
        None => PID_KERNEL,
    };
    (pid, TID_THREAD_BASE + u64::from(t.0))
}

fn meta(kind: &str, pid: u64, tid: Option<u64>, name: &str) -> Value {
    let mut v = json!({"ph": "M", "name": kind, "pid": pid, "args": {"name": name}});
    if let Some(tid) = tid {
        v["tid"] = json!(tid);
    }
    v
}

fn sort_meta(kind: &str, pid: u64, tid: Option<u64>, index: u64) -> Value {
    let mut v = json!({"ph": "M", "name": kind, "pid": pid, "args": {"sort_index": index}});
    if let Some(tid) = tid {
        v["tid"] = json!(tid);
    }
    v
}

/// Replay `sched` and render it as a trace-event JSON document.
pub fn export(cx: &Cx, init: &World, sched: &Schedule) -> Result<Value, String> {
    let (story, _) = replay(cx, init, sched)?;
    Ok(render(cx, sched, &story))
}

/// Render an already replayed story of `sched`.
pub fn render(cx: &Cx, sched: &Schedule, story: &Story) -> Value {
    let moves: Vec<Move> = sched.moves().collect();
    let mut ev = Vec::new();

    // Tracks: every scenario thread, then the pseudo-step kinds used.
    let mut pids = std::collections::BTreeMap::new();
    for (i, p) in cx.prog.procs.iter().enumerate() {
        pids.insert(PID_PROC_BASE + i as u64, format!("process {}", p.name));
    }
    pids.insert(PID_DEVICES, "devices".to_string());
    pids.insert(PID_KERNEL, "kernel".to_string());
    let used_faults = moves.iter().any(|m| m.is_pseudo());
    if used_faults {
        pids.insert(PID_FAULTS, "faults".to_string());
    }
    let mut used_pids = std::collections::BTreeSet::new();
    for (t, tp) in cx.prog.all_threads().enumerate() {
        let t = ThreadId(t as u8);
        let (pid, tid) = thread_track(cx, t);
        used_pids.insert(pid);
        let name = if Some(t) == cx.prog.finally_id() {
            "finally".to_string()
        } else if pid == PID_DEVICES {
            let devs: Vec<&str> = tp
                .ops
                .iter()
                .filter_map(|op| match op {
                    Op::DevWrite { dev, .. } | Op::DevRead { dev, .. } => {
                        Some(cx.prog.devs[dev.idx()].name.as_str())
                    }
                    _ => None,
                })
                .collect();
            format!("{} (device {})", tp.name, devs.first().copied().unwrap_or("?"))
        } else {
            tp.name.clone()
        };
        ev.push(meta("thread_name", pid, Some(tid), &name));
        ev.push(sort_meta("thread_sort_index", pid, Some(tid), tid));
    }
    let mut fault_tracks: Vec<(u64, &str)> = Vec::new();
    for m in moves.iter().take(story.steps.len()) {
        if m.is_pseudo() {
            let (pid, tid) = track(cx, *m);
            used_pids.insert(pid);
            if !fault_tracks.iter().any(|(t, _)| *t == tid) {
                let name = match m {
                    Move::Fault(f) => fault_track(*f),
                    _ => "power",
                };
                fault_tracks.push((tid, name));
            }
        }
    }
    for (tid, name) in &fault_tracks {
        ev.push(meta("thread_name", PID_FAULTS, Some(*tid), name));
        ev.push(sort_meta("thread_sort_index", PID_FAULTS, Some(*tid), *tid));
    }
    for (pid, name) in &pids {
        if used_pids.contains(pid) {
            ev.push(meta("process_name", *pid, None, name));
            ev.push(sort_meta("process_sort_index", *pid, None, *pid));
        }
    }

    // Slices. Group each track's steps into operations: consecutive steps
    // (in that track's own order) of the same statement.
    let mut i = 0;
    let steps = &story.steps;
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut open: std::collections::HashMap<(u64, u64), usize> = std::collections::HashMap::new();
    while i < steps.len() {
        let m = moves[i];
        let key = track(cx, m);
        let same = !m.is_pseudo()
            && open
                .get(&key)
                .is_some_and(|&g| steps[*groups[g].last().expect("non-empty")].loc == steps[i].loc);
        if same {
            groups[open[&key]].push(i);
        } else {
            open.insert(key, groups.len());
            groups.push(vec![i]);
        }
        i += 1;
    }
    let ts = |k: usize| k as u64 * STEP_US;
    for g in &groups {
        let first = g[0];
        let last = *g.last().expect("non-empty");
        let (pid, tid) = track(cx, moves[first]);
        let st = &steps[first];
        let cat = if moves[first].is_pseudo() { "fault" } else { "op" };
        ev.push(json!({
            "ph": "X", "cat": cat, "name": st.stmt, "pid": pid, "tid": tid,
            "ts": ts(first), "dur": ts(last + 1) - ts(first),
            "args": {
                "loc": st.loc,
                "steps": g.iter().map(|&k| steps[k].step).collect::<Vec<_>>(),
                "kernel": g.iter().map(|&k| steps[k].kernel).collect::<Vec<_>>(),
            }
        }));
        for &k in g {
            let s = &steps[k];
            ev.push(json!({
                "ph": "X", "cat": "step", "name": s.kernel, "pid": pid, "tid": tid,
                "ts": ts(k), "dur": STEP_US,
                "args": {"step": s.step, "statement": s.stmt, "notes": s.notes, "changes": s.changes, "fired": s.fired}
            }));
            for o in &s.fired {
                ev.push(json!({
                    "ph": "i", "s": "t", "cat": "oracle", "name": format!("oracle {o}"),
                    "pid": pid, "tid": tid, "ts": ts(k + 1),
                    "args": {"step": s.step, "oracle": o}
                }));
            }
        }
    }
    if story.end.starts_with("DEADLOCK") || story.end.starts_with("STARVATION") {
        ev.push(json!({
            "ph": "i", "s": "g", "cat": "oracle", "name": story.end, "pid": PID_KERNEL, "tid": 0,
            "ts": ts(steps.len()),
        }));
    }
    json!({
        "traceEvents": ev,
        "displayTimeUnit": "ms",
        "otherData": {
            "scenario": cx.prog.name,
            "design": cx.design.name,
            "schedule": story.schedule,
            "end": story.end,
            "time_unit": format!("1 step = {STEP_US} us"),
        }
    })
}
