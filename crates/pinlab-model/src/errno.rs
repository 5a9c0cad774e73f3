//! Error numbers a modelled call can fail with (`thread.err` in conditions).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Errno {
    /// Bad address, or a refused pin (`check_vma_flags`).
    EFAULT,
    /// I/O error: a checksum mismatch on read, or a failed write reported by fsync.
    EIO,
    /// No free frame.
    ENOMEM,
    /// No free block.
    ENOSPC,
    /// Remote access error: the MR is gone or lacks the access right.
    EACCES,
    /// An argument the call rejects (a page outside the mapping or the pin).
    EINVAL,
    /// Busy: the folio is isolated by someone else.
    EBUSY,
    /// Try again: migration found extra references (a pin, a transient ref).
    EAGAIN,
    /// Text file busy: a layout lease holder would not let go, so the
    /// layout change (truncate, hole punch) is refused (the `lease` design).
    ETXTBSY,
}

impl Errno {
    pub const ALL: [Errno; 9] = [
        Errno::EFAULT,
        Errno::EIO,
        Errno::ENOMEM,
        Errno::ENOSPC,
        Errno::EACCES,
        Errno::EINVAL,
        Errno::EBUSY,
        Errno::EAGAIN,
        Errno::ETXTBSY,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Errno::EFAULT => "EFAULT",
            Errno::EIO => "EIO",
            Errno::ENOMEM => "ENOMEM",
            Errno::ENOSPC => "ENOSPC",
            Errno::EACCES => "EACCES",
            Errno::EINVAL => "EINVAL",
            Errno::EBUSY => "EBUSY",
            Errno::EAGAIN => "EAGAIN",
            Errno::ETXTBSY => "ETXTBSY",
        }
    }

    /// The Linux errno number (what a syscall returns, negated).
    pub fn code(self) -> u64 {
        match self {
            Errno::EFAULT => 14,
            Errno::EIO => 5,
            Errno::ENOMEM => 12,
            Errno::ENOSPC => 28,
            Errno::EACCES => 13,
            Errno::EINVAL => 22,
            Errno::EBUSY => 16,
            Errno::EAGAIN => 11,
            Errno::ETXTBSY => 26,
        }
    }

    pub fn from_name(s: &str) -> Option<Errno> {
        Errno::ALL.into_iter().find(|e| e.name() == s)
    }
}
