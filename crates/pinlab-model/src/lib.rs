//! pinlab-model: a deterministic, explorable model of the parts of Linux the
//! 2018 "get_user_pages and RDMA" debate was about — frames and folios, page
//! tables and faults, GUP and pin tracking, the page cache, writeback, a
//! checksumming file system, a block device with a volatile cache, and DMA
//! devices that write memory by physical frame.
//!
//! The whole machine is one value, [`world::World`]; [`world::World::step`]
//! runs one interleavable step of one thread. There is no I/O, no clock, no
//! randomness and no global state here: the explorer chooses everything.
#![forbid(unsafe_code)]

pub mod block;
pub mod cond;
pub mod data;
pub mod design;
pub mod dev;
pub mod errno;
pub mod fs;
pub mod ids;
pub mod limits;
pub mod mm;
pub mod oracle;
pub mod program;
pub mod trace;
pub mod world;

pub use design::Design;
pub use program::Program;
pub use world::{Cx, Step, World};
