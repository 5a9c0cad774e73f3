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
