//! Named bounds of the model. Exceeding one is a reported outcome (a compile
//! error for the scenario, or an `ENOMEM`-style failure of the step), never a
//! hang or a panic.

/// 512-byte sectors per 4 KiB page and per file-system block.
pub const SECTORS_PER_PAGE: usize = 8;
/// Bytes in a sector; contents are materialised only to compute checksums.
pub const SECTOR_BYTES: usize = 512;
/// Bytes in a page.
pub const PAGE_BYTES: usize = SECTORS_PER_PAGE * SECTOR_BYTES;
/// Physical frames of the machine. Page cache, bounce buffers and anon pages
/// all come from here; running out fails the allocating step with `ENOMEM`.
pub const FRAMES_MAX: usize = 32;
/// Threads in a scenario (the `finally` block runs as one more).
pub const THREADS_MAX: usize = 8;
/// Pages per file and per mapping.
pub const FILE_PAGES_MAX: usize = 64;
/// Sectors per disk (csumfs keeps its block bitmap in one `u64`).
pub const DISK_SECTORS_MAX: usize = 512;
/// Operations per thread.
pub const OPS_PER_THREAD_MAX: usize = 64;
