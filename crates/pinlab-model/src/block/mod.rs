//! Block devices.

pub mod disk;
