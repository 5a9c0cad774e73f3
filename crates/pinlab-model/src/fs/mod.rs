//! File systems: the page cache, csumfs, writeback and fsync.

pub mod csumfs;
pub mod direct_io;
pub mod fsync;
pub mod pagecache;
pub mod rw;
pub mod writeback;
