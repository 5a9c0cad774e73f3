//! pinlab-explore: schedulers over the model.
//!
//! [`search::explore`] visits every state reachable by interleaving the
//! scenario's threads (breadth-first, so every witness it returns is a
//! shortest one), checks the scenario's conditions at every final state and
//! reports per condition whether it holds, with a witness schedule.
//! [`story::replay`] re-runs a schedule and tells it as a story: one line per
//! step, naming the kernel function modelled and what changed.
#![forbid(unsafe_code)]

pub mod fingerprint;
pub mod schedule;
pub mod search;
pub mod story;

pub use schedule::Schedule;
pub use search::{explore, CondResult, Config, PinTestCounts, Report, Verdict};
pub use story::{replay, Story, StoryStep};
