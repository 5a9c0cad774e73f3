//! The memory budget of a search.
//!
//! A search stops cleanly (verdicts undecided, exit code 3, everything
//! decided so far kept) when the process's resident memory reaches its
//! budget, instead of growing until the OOM killer ends it. Resident memory
//! is read from `/proc/self/statm`: it counts everything the search holds
//! (visited set, parent links, frontier or stack, allocator slack), which no
//! estimate from inside the search could. It is the whole process's: when
//! `compare` runs several searches at once they share one budget, and
//! whichever sees it reached stops.
//!
//! Where `/proc` is missing the probe reads 0 and only the search's own
//! accounting of its visited set and links counts.

use std::time::{Duration, Instant};

/// Resident set size of this process in bytes, if the system says.
pub fn resident_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// Physical memory of the machine in bytes, if the system says.
pub fn total_memory_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The default budget: half the machine's memory (4 GiB where unknown).
pub fn default_budget_bytes() -> u64 {
    total_memory_bytes().map_or(4 << 30, |b| b / 2)
}

fn page_size() -> u64 {
    // Every Linux port pinlab runs on uses 4 KiB base pages except some
    // arm64/ppc64 configurations; /proc/self/smaps would say, but reading it
    // costs far more than the error of assuming 4 KiB there (which only
    // makes the budget looser by the page-size ratio).
    4096
}

/// Polls resident memory no more often than every `EVERY`: a read of
/// `/proc/self/statm` costs a few microseconds.
pub(crate) struct Budget {
    limit: Option<u64>,
    last: Instant,
    pub peak: u64,
}

const EVERY: Duration = Duration::from_millis(20);

impl Budget {
    pub fn new(limit: Option<u64>) -> Budget {
        let mut b = Budget { limit, last: Instant::now(), peak: 0 };
        b.sample(0);
        b
    }

    fn sample(&mut self, own: u64) -> u64 {
        let now = resident_bytes().unwrap_or(0).max(own);
        self.peak = self.peak.max(now);
        self.last = Instant::now();
        now
    }

    /// Whether the budget is reached; `own` is what the search knows it
    /// holds (a floor where `/proc` is missing).
    pub fn exceeded(&mut self, own: u64) -> bool {
        if self.last.elapsed() < EVERY {
            return false;
        }
        let now = self.sample(own);
        self.limit.is_some_and(|l| now >= l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_and_grows_with_an_allocation() {
        let Some(before) = resident_bytes() else { return };
        assert!(before > 0);
        // black_box: an optimised build would otherwise never allocate it.
        let v = std::hint::black_box(vec![1u8; 64 << 20]);
        let after = resident_bytes().expect("read once, reads again");
        assert!(after >= before + (32 << 20), "64 MiB touched: {before} -> {after}");
        drop(v);
    }

    #[test]
    fn a_tiny_budget_is_reached_and_none_never() {
        let mut b = Budget::new(Some(1));
        b.last = Instant::now() - EVERY;
        assert!(b.exceeded(0));
        let mut n = Budget::new(None);
        n.last = Instant::now() - EVERY;
        assert!(!n.exceeded(u64::MAX));
    }
}
