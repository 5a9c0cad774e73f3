//! A schedule: which thread ran at each step. It is a plain value that
//! prints as a short string (`0.0.2.1`) and replays an execution exactly.
//!
//! Besides thread numbers a schedule holds *pseudo-steps*: faults injected
//! between two thread steps, so that a seeded simulation with faults replays
//! byte for byte from its schedule alone (see [`Move`]):
//!
//! | text | pseudo-step |
//! |------|-------------|
//! | `c`  | power loss, then mount + scrub; ends the execution (`--crash-points`) |
//! | `eN` | the next write to disk `N` fails with EIO (`e` alone means disk 0) |
//! | `r`  | one whole reclaim pass (kswapd's `shrink_folio_list` over the LRU) |
//! | `mP` | compaction migrates the folio at pfn `P` (`migrate_pages`) |
//!
//! Pseudo-steps are stored in the same `Vec<ThreadId>` as thread steps, on
//! reserved ids far above `THREADS_MAX` (crash is [`CRASH`], the others
//! below it), so every existing schedule string keeps its meaning.

use pinlab_model::fault::Fault;
use pinlab_model::ids::{DiskId, Pfn, ThreadId};
use std::fmt;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schedule(pub Vec<ThreadId>);

/// The crash pseudo-thread of `--crash-points`.
pub const CRASH: ThreadId = ThreadId(u8::MAX);
/// The reclaim pseudo-step `r`.
pub const RECLAIM: ThreadId = ThreadId(u8::MAX - 1);
/// `eN` is stored as `FAIL_WRITE_BASE + N` (N < 32).
const FAIL_WRITE_BASE: u8 = 192;
/// `mP` is stored as `MIGRATE_BASE + P` (P < 64).
const MIGRATE_BASE: u8 = 128;

/// One entry of a schedule, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Move {
    /// One step of a scenario thread (or of `finally`).
    Thread(ThreadId),
    /// Power loss, then mount and scrub; the execution ends.
    Crash,
    /// An injected fault (see [`Fault`]).
    Fault(Fault),
}

impl Move {
    pub fn decode(t: ThreadId) -> Move {
        match t.0 {
            u8::MAX => Move::Crash,
            x if x == RECLAIM.0 => Move::Fault(Fault::Reclaim),
            x if x >= FAIL_WRITE_BASE => Move::Fault(Fault::FailNextWrite(DiskId(x - FAIL_WRITE_BASE))),
            x if x >= MIGRATE_BASE => Move::Fault(Fault::Migrate(Pfn(x - MIGRATE_BASE))),
            _ => Move::Thread(t),
        }
    }

    /// The id stored in a [`Schedule`]. Disk numbers past 31 and pfns past
    /// 63 cannot be encoded (the model has far fewer).
    pub fn encode(self) -> ThreadId {
        match self {
            Move::Thread(t) => t,
            Move::Crash => CRASH,
            Move::Fault(Fault::Reclaim) => RECLAIM,
            Move::Fault(Fault::FailNextWrite(d)) => {
                assert!(d.0 < 32, "disk number too large for a schedule");
                ThreadId(FAIL_WRITE_BASE + d.0)
            }
            Move::Fault(Fault::Migrate(p)) => {
                assert!(p.0 < 64, "pfn too large for a schedule");
                ThreadId(MIGRATE_BASE + p.0)
            }
        }
    }

    /// A pseudo-step (crash or fault), not a thread step.
    pub fn is_pseudo(self) -> bool {
        !matches!(self, Move::Thread(_))
    }
}

impl fmt::Display for Move {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Move::Thread(t) => write!(f, "{}", t.0),
            Move::Crash => f.write_str("c"),
            Move::Fault(Fault::Reclaim) => f.write_str("r"),
            Move::Fault(Fault::FailNextWrite(d)) => write!(f, "e{}", d.0),
            Move::Fault(Fault::Migrate(p)) => write!(f, "m{}", p.0),
        }
    }
}

impl std::str::FromStr for Move {
    type Err = String;

    fn from_str(p: &str) -> Result<Move, String> {
        let bad = || format!("bad schedule step `{p}`");
        let num = |s: &str, max: u8| s.parse::<u8>().ok().filter(|&n| n < max).ok_or_else(bad);
        match p {
            "c" => Ok(Move::Crash),
            "r" => Ok(Move::Fault(Fault::Reclaim)),
            "e" => Ok(Move::Fault(Fault::FailNextWrite(DiskId(0)))),
            _ if p.starts_with('e') => Ok(Move::Fault(Fault::FailNextWrite(DiskId(num(&p[1..], 32)?)))),
            _ if p.starts_with('m') => Ok(Move::Fault(Fault::Migrate(Pfn(num(&p[1..], 64)?)))),
            _ => p
                .parse::<u8>()
                .ok()
                .filter(|&n| n < MIGRATE_BASE)
                .map(|n| Move::Thread(ThreadId(n)))
                .ok_or_else(|| format!("bad thread number `{p}` in schedule")),
        }
    }
}

impl Schedule {
    /// The entries, decoded.
    pub fn moves(&self) -> impl Iterator<Item = Move> + '_ {
        self.0.iter().map(|&t| Move::decode(t))
    }

    pub fn push(&mut self, m: Move) {
        self.0.push(m.encode());
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Move> for Schedule {
    fn from_iter<I: IntoIterator<Item = Move>>(it: I) -> Schedule {
        Schedule(it.into_iter().map(Move::encode).collect())
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.moves().map(|m| m.to_string()).collect();
        f.write_str(&parts.join("."))
    }
}

impl std::str::FromStr for Schedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Schedule, String> {
        if s.is_empty() {
            return Ok(Schedule::default());
        }
        s.split('.').map(str::parse::<Move>).collect()
    }
}

/// Schedules are stored as their printed form (`0.0.2.c`).
impl serde::Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Schedule, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Schedule {
    /// The order witnesses are chosen in: shorter first, then
    /// lexicographically by thread number (the crash step sorts last).
    pub fn canonical_cmp(&self, other: &Schedule) -> std::cmp::Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().map(|t| t.0).cmp(other.0.iter().map(|t| t.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        let s = Schedule(vec![ThreadId(0), ThreadId(2), ThreadId(1)]);
        assert_eq!(s.to_string(), "0.2.1");
        assert_eq!("0.2.1".parse::<Schedule>(), Ok(s));
        assert_eq!("".parse::<Schedule>(), Ok(Schedule::default()));
        assert!("0.x".parse::<Schedule>().is_err());
        let c = Schedule(vec![ThreadId(1), CRASH]);
        assert_eq!(c.to_string(), "1.c");
        assert_eq!("1.c".parse::<Schedule>(), Ok(c));
    }

    #[test]
    fn pseudo_steps_round_trip() {
        let s: Schedule = "0.e0.1.r.m12.e3.2.c".parse().unwrap();
        assert_eq!(s.to_string(), "0.e0.1.r.m12.e3.2.c");
        let moves: Vec<Move> = s.moves().collect();
        assert_eq!(moves[1], Move::Fault(Fault::FailNextWrite(DiskId(0))));
        assert_eq!(moves[3], Move::Fault(Fault::Reclaim));
        assert_eq!(moves[4], Move::Fault(Fault::Migrate(Pfn(12))));
        assert_eq!(moves[7], Move::Crash);
        assert_eq!("e".parse::<Schedule>().unwrap().to_string(), "e0");
        for bad in ["m64", "e32", "128", "m", "ex", "254"] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad}");
        }
    }
}
