//! A schedule: which thread ran at each step. It is a plain value that
//! prints as a short string (`0.0.2.1`) and replays an execution exactly.
//! `c` (the pseudo-thread [`CRASH`]) is a power loss followed by recovery,
//! which ends the execution.

use pinlab_model::ids::ThreadId;
use std::fmt;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schedule(pub Vec<ThreadId>);

/// The crash pseudo-thread of `--crash-points`.
pub const CRASH: ThreadId = ThreadId(u8::MAX);

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> =
            self.0.iter().map(|t| if *t == CRASH { "c".to_string() } else { t.0.to_string() }).collect();
        f.write_str(&parts.join("."))
    }
}

impl std::str::FromStr for Schedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Schedule, String> {
        if s.is_empty() {
            return Ok(Schedule::default());
        }
        s.split('.')
            .map(|p| match p {
                "c" => Ok(CRASH),
                _ => p
                    .parse::<u8>()
                    .ok()
                    .filter(|&n| n != u8::MAX)
                    .map(ThreadId)
                    .ok_or_else(|| format!("bad thread number `{p}` in schedule")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Schedule)
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
}
