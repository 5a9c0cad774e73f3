//! Replaying a schedule as a story: one line per step, naming the thread,
//! the statement, the kernel function the step models, what changed, and
//! which oracle fired.

use crate::schedule::{Move, Schedule};
use pinlab_model::fault::Fault;
use pinlab_model::ids::ThreadId;
use pinlab_model::mm::frame::Owner;
use pinlab_model::oracle::Oracle;
use pinlab_model::trace::Notes;
use pinlab_model::{Cx, Step, World};
use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoryStep {
    pub step: usize,
    pub thread: String,
    /// The scenario statement the step belongs to.
    pub stmt: String,
    /// `file:line:col` of the statement.
    pub loc: String,
    /// The kernel function (or device action) the step models.
    pub kernel: &'static str,
    /// Details the model reported, then differences in the world.
    pub notes: Vec<String>,
    pub changes: Vec<String>,
    /// Oracles that fired at this step.
    pub fired: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Story {
    pub schedule: String,
    pub steps: Vec<StoryStep>,
    /// How the execution ended: finished, or deadlocked (and who waits).
    pub end: String,
    /// Every register and error set at the end (`app.r = 0x11`,
    /// `app.err = EFAULT`): what the conditions read.
    pub registers: Vec<String>,
}

/// A register's value as conditions compare it.
fn reg_text(v: u64) -> String {
    if v == pinlab_model::mm::fault::MIXED {
        "mixed bytes".to_string()
    } else {
        format!("{v:#04x}")
    }
}

/// `thread.reg = value` and `thread.err = E` for thread `t`, as set in `w`,
/// skipping what equals `than` (if given).
fn registers_of(cx: &Cx, w: &World, t: ThreadId, than: Option<&World>) -> Vec<String> {
    let tp = cx.prog.thread(t);
    let mut out = Vec::new();
    for (r, name) in tp.regs.iter().enumerate() {
        let v = w.threads[t.idx()].regs[r];
        if let Some(x) = v.filter(|_| than.is_none_or(|b| b.threads[t.idx()].regs[r] != v)) {
            out.push(format!("{}.{name} = {}", tp.name, reg_text(x)));
        }
    }
    let e = w.threads[t.idx()].err;
    if let Some(x) = e.filter(|_| than.is_none_or(|b| b.threads[t.idx()].err != e)) {
        out.push(format!("{}.err = {}", tp.name, x.name()));
    }
    out
}

fn all_registers(cx: &Cx, w: &World) -> Vec<String> {
    (0..cx.prog.thread_count()).flat_map(|t| registers_of(cx, w, ThreadId(t as u8), None)).collect()
}

/// Replay `sched` from `init`. Fails if the schedule asks a thread to step
/// when it cannot (the schedule does not belong to this program and design).
pub fn replay(cx: &Cx, init: &World, sched: &Schedule) -> Result<(Story, World), String> {
    let mut w = init.clone();
    let mut steps = Vec::new();
    for (i, m) in sched.moves().enumerate() {
        let t = match m {
            Move::Thread(t) => t,
            Move::Crash => {
                let before = w.clone();
                let mut notes = Notes::default();
                w.crash_and_recover(&mut notes);
                steps.push(StoryStep {
                    step: i + 1,
                    thread: "power".into(),
                    stmt: "(crash point)".into(),
                    loc: String::new(),
                    kernel: "power loss, then mount + scrub",
                    notes: notes.0,
                    changes: Vec::new(),
                    fired: w.fired().new_since(before.fired()).map(Oracle::name).collect(),
                });
                let end = "crashed here; the disk was mounted and scrubbed".to_string();
                let registers = all_registers(cx, &w);
                return Ok((Story { schedule: sched.to_string(), steps, end, registers }, w));
            }
            Move::Fault(f) => {
                let before = w.clone();
                let mut notes = Notes::default();
                let label = w.inject(cx, f, &mut notes).map_err(|e| format!("step {i}: {e}"))?;
                steps.push(StoryStep {
                    step: i + 1,
                    thread: fault_track(f).into(),
                    stmt: fault_stmt(f),
                    loc: String::new(),
                    kernel: label,
                    notes: notes.0,
                    changes: diff(cx, &before, &w),
                    fired: w.fired().new_since(before.fired()).map(Oracle::name).collect(),
                });
                continue;
            }
        };
        if t.idx() >= cx.prog.thread_count() {
            return Err(format!("step {i}: there is no thread {}", t.0));
        }
        let before = w.clone();
        let pc = usize::from(w.threads[t.idx()].pc);
        let mut notes = Notes::default();
        let label = match w.step(cx, t, &mut notes) {
            Step::Ran(l) => l,
            Step::Blocked => return Err(format!("step {i}: thread {} cannot move", cx.prog.thread(t).name)),
            Step::Finished => {
                return Err(format!("step {i}: thread {} has finished", cx.prog.thread(t).name))
            }
        };
        let tp = cx.prog.thread(t);
        // What a load or a device read returned, and errors, as they happen.
        let mut changes = registers_of(cx, &w, t, Some(&before));
        changes.extend(diff(cx, &before, &w));
        steps.push(StoryStep {
            step: i + 1,
            thread: tp.name.clone(),
            stmt: tp.src[pc].text.clone(),
            loc: tp.src[pc].loc.clone(),
            kernel: label,
            notes: notes.0,
            changes,
            fired: w.fired().new_since(before.fired()).map(Oracle::name).collect(),
        });
    }
    let n = cx.prog.thread_count();
    let can_move = (0..n).any(|t| {
        w.clone().step(cx, ThreadId(t as u8), &mut pinlab_model::trace::NoTrace) != Step::Blocked
            && !w.thread_done(cx, ThreadId(t as u8))
    });
    let end = if w.all_done(cx) {
        "all threads finished".to_string()
    } else if !can_move {
        let waiting: Vec<String> = (0..n)
            .map(|t| ThreadId(t as u8))
            .filter(|&t| !w.thread_done(cx, t))
            .map(|t| {
                let tp = cx.prog.thread(t);
                format!(
                    "{} at `{}` for {}",
                    tp.name,
                    tp.src[usize::from(w.threads[t.idx()].pc)].text,
                    w.blocked_on(cx, t)
                )
            })
            .collect();
        let o = w.stuck_oracle(cx);
        w.fired.set(o);
        let what = if o == Oracle::Starvation {
            "STARVATION: waiting for pins nobody will release"
        } else {
            "DEADLOCK: nothing can move"
        };
        format!("{what}; waiting: {}", waiting.join(", "))
    } else {
        "stopped (schedule ends here)".to_string()
    };
    let registers = all_registers(cx, &w);
    Ok((Story { schedule: sched.to_string(), steps, end, registers }, w))
}

/// The story's "thread" column for a fault pseudo-step: the kernel thread
/// that would cause it.
pub fn fault_track(f: Fault) -> &'static str {
    match f {
        Fault::FailNextWrite(_) => "blk-fault",
        Fault::Reclaim => "kswapd",
        Fault::Migrate(_) => "kcompactd",
    }
}

/// The story's statement column for a fault pseudo-step.
fn fault_stmt(f: Fault) -> String {
    match f {
        Fault::FailNextWrite(d) => format!("(inject: EIO on the next write to disk {})", d.0),
        Fault::Reclaim => "(inject: reclaim pass)".into(),
        Fault::Migrate(p) => format!("(inject: migrate pfn {})", p.0),
    }
}

/// What changed between two worlds, in kernel terms.
fn diff(cx: &Cx, a: &World, b: &World) -> Vec<String> {
    // PageAnonExclusive exists from 5.19: the designs that read it.
    let d = cx.design;
    let ax = d.unshare_on_pin || d.cow_reuse == pinlab_model::design::CowReuse::Exclusive;
    let mut out = Vec::new();
    let n = a.mem.frames.len().max(b.mem.frames.len());
    for i in 0..n {
        let fa = a.mem.frames.get(i).and_then(|f| f.folio);
        let fb = b.mem.frames.get(i).and_then(|f| f.folio);
        match (fa, fb) {
            (Some(x), Some(y)) if x != y => {
                let mut parts = Vec::new();
                let (fx, fy) = (x.flags.describe_in(ax), y.flags.describe_in(ax));
                if fx != fy {
                    parts.push(format!("flags {fx} → {fy}"));
                }
                if x.refcount != y.refcount {
                    parts.push(format!("refcount {} → {}", x.refcount, y.refcount));
                }
                if x.mapcount != y.mapcount {
                    parts.push(format!("mapcount {} → {}", x.mapcount, y.mapcount));
                }
                if x.pincount != y.pincount {
                    parts.push(format!("pincount {} → {}", x.pincount, y.pincount));
                }
                if x.write_pincount != y.write_pincount {
                    parts.push(format!("write pins {} → {}", x.write_pincount, y.write_pincount));
                }
                out.push(format!("pfn {i}: {}", parts.join(", ")));
            }
            (None, Some(y)) => out.push(match y.owner {
                Owner::Tail { head } => format!("pfn {i}: allocated (tail of pfn {})", head.0),
                Owner::File { file, index } => {
                    format!("pfn {i}: allocated (page cache f{}[{index}]), refcount {}", file.0, y.refcount)
                }
                o if y.order > 0 => {
                    format!("pfn {i}: allocated ({o:?}, order {}), refcount {}", y.order, y.refcount)
                }
                o => format!("pfn {i}: allocated ({o:?}), refcount {}", y.refcount),
            }),
            (Some(_), None) => out.push(format!("pfn {i}: freed")),
            _ => {}
        }
    }
    for (p, (pa, pb)) in a.procs.iter().zip(&b.procs).enumerate() {
        for (vpn, pte) in &pb.ptes {
            let old = pa.pte(*vpn);
            if old != Some(pte) {
                let flags = format!(
                    "{}{}",
                    if pte.writable { "writable" } else { "read-only" },
                    if pte.dirty { ", dirty" } else { "" }
                );
                out.push(format!("process {p} PTE {vpn} → pfn {} {flags}", pte.pfn.0));
            }
        }
    }
    for (d, (da, db)) in a.disks.iter().zip(&b.disks).enumerate() {
        if !da.cache().is_empty() && db.cache().is_empty() {
            out.push(format!("disk {d}: cache flushed ({} sector(s) now durable)", da.cache().len()));
        }
        if da.media() != db.media() && db.cache().is_empty() && da.cache().is_empty() {
            let changed = da.media().iter().zip(db.media()).filter(|(x, y)| x != y).count();
            out.push(format!("disk {d}: {changed} sector(s) written"));
        }
    }
    out
}
