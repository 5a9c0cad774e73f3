//! Conditions over a final state (`forbid` / `exists` / `always` lines).

use crate::data::uniform_byte;
use crate::errno::Errno;
use crate::ids::*;
use crate::oracle::{Bug, Oracle};
use crate::world::World;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Cond {
    /// The oracle fired at some point of the execution.
    Oracle(Oracle),
    /// `kernel_bug(NAME)`
    Bug(Bug),
    /// `F[p] == B`: every byte of the page, read after `finally` the way a
    /// `read` would see it (page cache if cached, else disk with checksum
    /// verification; a checksum failure reads as EIO and equals nothing).
    FileEq {
        file: FileId,
        page: u8,
        byte: u8,
    },
    /// `torn(F[p])`: the page as read mixes sectors of different writes.
    /// Writes are told apart by their fill byte (versions order writes in
    /// time but a device write stamps each sector separately), so two
    /// writes of the same byte count as one.
    Torn {
        file: FileId,
        page: u8,
    },
    /// `thread.r == V`: false while the register is unset.
    RegEq {
        thread: ThreadId,
        reg: RegId,
        value: u64,
    },
    /// `thread.err == ENAME` (or `== 0` for "no error").
    ErrEq {
        thread: ThreadId,
        err: Option<Errno>,
    },
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

impl Cond {
    pub fn eval(&self, w: &World) -> bool {
        match self {
            Cond::Oracle(o) => w.fired().has(*o),
            Cond::Bug(b) => w.fired().has_bug(*b),
            Cond::FileEq { file, page, byte } => {
                w.read_file_page(*file, *page).and_then(|p| uniform_byte(&p)) == Some(*byte)
            }
            Cond::Torn { file, page } => {
                w.read_file_page(*file, *page).is_some_and(|p| uniform_byte(&p).is_none())
            }
            Cond::RegEq { thread, reg, value } => w.reg(*thread, *reg) == Some(*value),
            Cond::ErrEq { thread, err } => w.err(*thread) == *err,
            Cond::Not(c) => !c.eval(w),
            Cond::And(a, b) => a.eval(w) && b.eval(w),
            Cond::Or(a, b) => a.eval(w) || b.eval(w),
        }
    }

    /// The value the condition will have in **every** final state reachable
    /// from `w`, when `w` already decides it; `None` when it may still go
    /// either way.
    ///
    /// Only oracle and `kernel_bug` atoms can be decided early: the model
    /// only ever sets fired bits (`Fired` is never cleared, a crash keeps
    /// it), so an atom true now is true in every continuation. Everything
    /// else (file contents, registers, errors, `torn(F[p])`) is read at the
    /// final state and may still change. The rule composes through `not`,
    /// `and` and `or`; `deadlock`/`starvation` are set only on a final
    /// state, where this agrees with `eval`.
    pub fn settled(&self, w: &World) -> Option<bool> {
        match self {
            Cond::Oracle(o) => w.fired().has(*o).then_some(true),
            Cond::Bug(b) => w.fired().has_bug(*b).then_some(true),
            Cond::Not(c) => c.settled(w).map(|v| !v),
            Cond::And(a, b) => match (a.settled(w), b.settled(w)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Cond::Or(a, b) => match (a.settled(w), b.settled(w)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Cond::FileEq { .. } | Cond::Torn { .. } | Cond::RegEq { .. } | Cond::ErrEq { .. } => None,
        }
    }

    /// Whether the condition reads the oracle atom `o` itself (not
    /// `kernel_bug(NAME)` or `torn(F[p])`, which are other atoms).
    pub fn reads_oracle(&self, o: Oracle) -> bool {
        match self {
            Cond::Oracle(x) => *x == o,
            Cond::Not(c) => c.reads_oracle(o),
            Cond::And(a, b) | Cond::Or(a, b) => a.reads_oracle(o) || b.reads_oracle(o),
            _ => false,
        }
    }

    /// Whether the condition reads a register or `err` of thread `t` (where
    /// a failure would show: `[r =] fsync F` puts its errno in `r`).
    pub fn reads_thread(&self, t: ThreadId) -> bool {
        match self {
            Cond::ErrEq { thread, .. } | Cond::RegEq { thread, .. } => *thread == t,
            Cond::Not(c) => c.reads_thread(t),
            Cond::And(a, b) | Cond::Or(a, b) => a.reads_thread(t) || b.reads_thread(t),
            _ => false,
        }
    }

    /// Whether [`Cond::settled`] can ever say anything: the condition reads
    /// some oracle or `kernel_bug` atom.
    pub fn may_settle(&self) -> bool {
        match self {
            Cond::Oracle(_) | Cond::Bug(_) => true,
            Cond::Not(c) => c.may_settle(),
            Cond::And(a, b) | Cond::Or(a, b) => a.may_settle() || b.may_settle(),
            _ => false,
        }
    }

    /// Whether the condition mentions the oracle (used to decide which
    /// implicit `forbid` lines a scenario gets).
    pub fn mentions(&self, o: Oracle) -> bool {
        match self {
            Cond::Oracle(x) => *x == o,
            Cond::Bug(_) => o == Oracle::KernelBug,
            Cond::Torn { .. } => o == Oracle::Torn,
            Cond::Not(c) => c.mentions(o),
            Cond::And(a, b) | Cond::Or(a, b) => a.mentions(o) || b.mentions(o),
            _ => false,
        }
    }
}
