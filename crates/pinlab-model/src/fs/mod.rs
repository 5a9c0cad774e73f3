//! File systems: the page cache, csumfs, writeback and fsync.

pub mod csumfs;
pub mod fsync;
pub mod pagecache;
pub mod writeback;
