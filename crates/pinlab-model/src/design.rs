//! Designs: the knobs that distinguish the proposals of the 2018 debate, and
//! the named profiles that set them.
//!
//! The modelled kernel consults only these knobs; it never reads the ghost
//! pin count (that is for the oracles).

use serde::Serialize;

/// How the kernel counts pins on a folio (what `folio_maybe_dma_pinned` can see).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinTracking {
    /// Before 5.7: a pin is a plain `get_page` reference (FOLL_GET); nothing
    /// tells a pin from any other reference.
    None,
    /// Linux 5.7+ (`3faa52c03f44 mm/gup: track FOLL_PIN pages`): a FOLL_PIN adds
    /// `GUP_PIN_COUNTING_BIAS` (1024) to `_refcount` of a small folio;
    /// `folio_maybe_dma_pinned` is `refcount >= 1024`.
    Bias,
    /// An exact per-folio count of FOLL_PIN pins, split into write and
    /// read pins (Kara's and Hubbard's proposal; the design that never landed).
    Exact,
}

/// What writeback does with a folio the design believes is pinned for write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinnedWriteback {
    /// Write it back like any folio (Linux 4.19 and 6.x).
    Ignore,
    /// Snapshot it into a bounce frame at `folio_start_writeback`, checksum and
    /// write the snapshot, and leave the folio dirty so the data a device
    /// writes later is written back later (Kara, LKML 2018).
    Bounce,
}

/// What a driver's "unpin and mark dirty" does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirtyUnpin {
    /// 2018 drivers: `set_page_dirty_lock` (always takes the folio lock) then `put_page`.
    SetPageDirtyLock,
    /// 5.x+: `unpin_user_pages_dirty_lock`: test PG_dirty first, lock and
    /// `folio_mark_dirty` only a clean folio, then `gup_put_folio`.
    UnpinDirtyLock,
}

/// A complete design: one value per knob.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Design {
    pub name: String,
    pub pin_tracking: PinTracking,
    pub pinned_writeback: PinnedWriteback,
    pub dirty_unpin: DirtyUnpin,
    /// Linux 6.5+ (`writable_file_mapping_allowed` in `check_vma_flags`):
    /// FOLL_LONGTERM|FOLL_WRITE pins of a file mapping that needs dirty
    /// tracking fail with `EFAULT`.
    pub refuse_longterm_file_write_pin: bool,
}

/// One named profile: the name users type and why it exists.
pub struct Profile {
    pub name: &'static str,
    pub summary: &'static str,
    pub origin: &'static str,
    build: fn() -> Design,
}

impl Profile {
    pub fn design(&self) -> Design {
        (self.build)()
    }
}

/// The profiles `--design` accepts, in the order `all` runs them.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "linux-4.19",
        summary: "no pin tracking; writeback ignores pins; drivers set_page_dirty_lock + put_page",
        origin: "the kernel the 2018 thread was about (seed mail, 2018-10-03)",
        build: || Design {
            name: "linux-4.19".into(),
            pin_tracking: PinTracking::None,
            pinned_writeback: PinnedWriteback::Ignore,
            dirty_unpin: DirtyUnpin::SetPageDirtyLock,
            refuse_longterm_file_write_pin: false,
        },
    },
    Profile {
        name: "linux-6.x",
        summary: "FOLL_PIN bias 1024; writeback still ignores pins; long-term write pins of file pages refused",
        origin: "pin tracking 3faa52c03f44 (v5.7); writable_file_mapping_allowed (v6.5)",
        build: || Design {
            name: "linux-6.x".into(),
            pin_tracking: PinTracking::Bias,
            pinned_writeback: PinnedWriteback::Ignore,
            dirty_unpin: DirtyUnpin::UnpinDirtyLock,
            refuse_longterm_file_write_pin: true,
        },
    },
    Profile {
        name: "bounce",
        summary: "exact pin counts; writeback of a write-pinned page goes through a bounce buffer and keeps it dirty",
        origin: "Jan Kara's proposal in the 2018 thread; never merged",
        build: || Design {
            name: "bounce".into(),
            pin_tracking: PinTracking::Exact,
            pinned_writeback: PinnedWriteback::Bounce,
            dirty_unpin: DirtyUnpin::UnpinDirtyLock,
            refuse_longterm_file_write_pin: false,
        },
    },
];

/// Look up a profile by name.
pub fn profile(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_are_unique_and_match_their_designs() {
        for (i, p) in PROFILES.iter().enumerate() {
            assert_eq!(p.design().name, p.name);
            assert!(PROFILES[i + 1..].iter().all(|q| q.name != p.name));
        }
        assert!(profile("bounce").is_some());
        assert!(profile("bouncy").is_none());
    }
}
