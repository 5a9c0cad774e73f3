//! A schedule: which thread ran at each step. It is a plain value that
//! prints as a short string (`0.0.2.1`) and replays an execution exactly.

use pinlab_model::ids::ThreadId;
use std::fmt;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schedule(pub Vec<ThreadId>);

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|t| t.0.to_string()).collect();
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
            .map(|p| {
                p.parse::<u8>().map(ThreadId).map_err(|_| format!("bad thread number `{p}` in schedule"))
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
    }
}
