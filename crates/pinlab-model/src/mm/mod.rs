//! Memory management: frames and folios, address spaces, faults, rmap, GUP.

pub mod fault;
pub mod frame;
pub mod gup;
pub mod rmap;
pub mod vma;
