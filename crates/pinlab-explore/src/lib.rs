//! pinlab-explore: schedulers over the model.
//!
//! [`search::explore`] visits every state reachable by interleaving the
//! scenario's threads (breadth-first, so every witness it returns is a
//! shortest one; or depth-first, see `dfs`), checks the scenario's
//! conditions at every final state and reports per condition whether it
//! holds, with a witness schedule, stopping as soon as [`decide`] allows and
//! inside the memory [`budget`].
//! [`story::replay`] re-runs a schedule and tells it as a story: one line per
//! step, naming the kernel function modelled and what changed.
//! [`sim::simulate`] walks seeded random executions with injected faults;
//! [`minimise::minimise`] shrinks a failing schedule; [`perfetto::export`]
//! writes a replayed schedule as a Chrome/Perfetto trace.
#![forbid(unsafe_code)]

pub mod budget;
pub mod decide;
mod dfs;
pub mod fingerprint;
pub mod merge;
pub mod minimise;
pub mod perfetto;
pub mod schedule;
pub mod search;
pub mod sim;
pub mod story;
mod table;

pub use decide::Method;
pub use merge::{merge, MergeError};
pub use schedule::{Move, Schedule};
pub use search::{
    explore, CondResult, Config, PinTestCounts, Report, Shard, StopReason, Strategy, Until, Verdict,
};
pub use sim::{judge, simulate, FaultKinds, SimConfig, SimReport};
pub use story::{replay, Story, StoryStep};
