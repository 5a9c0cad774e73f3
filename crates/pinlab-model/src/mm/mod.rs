//! Memory management: frames and folios, address spaces, faults, rmap, GUP,
//! fork and exit, reclaim and migration.

pub mod fault;
pub mod fork;
pub mod frame;
pub mod gup;
pub mod hugetlb;
pub mod migrate;
pub mod mmap;
pub mod rmap;
pub mod vma;
pub mod vmscan;
