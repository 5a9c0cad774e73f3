//! pinlab-model: a deterministic, explorable model of the parts of Linux the
//! 2018 "get_user_pages and RDMA" debate was about — frames and (large)
//! folios, page tables, faults, COW and fork, GUP and every pin-tracking
//! scheme, reclaim and migration, the page cache, writeback, a checksumming
//! and an ext4-like file system, buffered and direct I/O, a block device with
//! a volatile cache, and devices that write memory by physical frame (DMA
//! engines, RDMA NICs with pinned or on-demand memory regions, io_uring).
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
pub mod fault;
pub mod footprint;
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
