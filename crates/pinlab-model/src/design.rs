//! Designs: the knobs that distinguish the proposals of the 2018 debate, and
//! the named profiles that set them.
//!
//! The modelled kernel consults only these knobs and the counts they imply;
//! it never reads the ghost pin count (that is for the oracles).

use serde::{Deserialize, Serialize};

/// How the kernel counts pins on a folio, and so what its pin test
/// (`folio_maybe_dma_pinned` or its stand-in) can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinTracking {
    /// Before 5.7: a pin is a plain `get_page` reference (FOLL_GET); the
    /// kernel has no pin test at all (it always answers "not pinned").
    None,
    /// Jérôme Glisse's proposal (2018 thread): guess pins from
    /// `refcount − mapcount − expected references` (page cache, fs private
    /// data). Transient references make it see pins that are not there.
    Heuristic,
    /// Linux 5.7+ (`3faa52c03f44 mm/gup: track FOLL_PIN pages`): a FOLL_PIN
    /// adds `GUP_PIN_COUNTING_BIAS` (1024) to `_refcount` of a small folio;
    /// `folio_maybe_dma_pinned` is `refcount >= 1024`.
    Bias,
    /// An exact per-folio count of FOLL_PIN pins, split into write and read
    /// pins (Kara's and Hubbard's proposal; never landed for small folios).
    Exact,
}

/// What writeback does with a folio the design believes is pinned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinnedWriteback {
    /// Write it back like any folio (Linux 4.19 and 6.x).
    Ignore,
    /// Leave it dirty and skip it (`folio_redirty_for_writepage`): the
    /// heuristic proposal's answer.
    Skip,
    /// `page_mkclean` write-protects and cleans the PTEs and then, still
    /// holding the folio lock, waits until no pin remains (the "just wait"
    /// proposal of the 2018 thread).
    Wait,
    /// Snapshot it into a bounce frame at `folio_start_writeback`, checksum and
    /// write the snapshot, and leave the folio dirty so the data a device
    /// writes later is written back later (Kara, LKML 2018).
    Bounce,
    /// Jan Kara's 2023 RFC "Writeback handling of pinned pages": a
    /// WB_SYNC_NONE pass (the flusher) skips a maybe-pinned folio and keeps
    /// it dirty (`folio_clear_dirty_for_io(wbc, folio)` returns false); a
    /// WB_SYNC_ALL pass (fsync, sync) writes it through a bounce page, as
    /// `bounce` does, on file systems with stable writes (iomap
    /// `BIO_NEED_PIN_BOUNCE`). Where the skip's pin test sits is the
    /// `pin_test_after_mkclean` knob (after, as posted).
    SkipOrBounce,
}

/// What a driver's "unpin and mark dirty" does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirtyUnpin {
    /// 2018 drivers: `set_page_dirty_lock` (always takes the folio lock) then `put_page`.
    SetPageDirtyLock,
    /// 5.x+: `unpin_user_pages_dirty_lock`: test PG_dirty first, lock and
    /// `folio_mark_dirty` only a clean folio, then `gup_put_folio`.
    UnpinDirtyLock,
}

/// When a write fault on a private anonymous page may reuse the page rather
/// than copy it (`do_wp_page`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CowReuse {
    /// Up to 5.8 (`reuse_swap_page`): reuse if only one PTE maps it, whatever
    /// other references (GUP!) exist. The root of CVE-2020-29374.
    Mapcount,
    /// 5.9+ (09854ba94c6a) and `PageAnonExclusive` (~5.19): reuse an
    /// exclusive page, or a page nobody else references (refcount 1); copy
    /// otherwise.
    Exclusive,
}

/// A complete design: one value per knob.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Design {
    pub name: String,
    pub pin_tracking: PinTracking,
    pub pinned_writeback: PinnedWriteback,
    pub dirty_unpin: DirtyUnpin,
    pub cow_reuse: CowReuse,
    /// `folio_needs_cow_for_dma` at fork: an exclusive anon page that may be
    /// pinned is copied for the child instead of shared (~5.9+).
    pub fork_copy_pinned: bool,
    /// `gup_must_unshare`: a FOLL_PIN of an anon page that is not exclusive
    /// first breaks COW (`FAULT_FLAG_UNSHARE`, 5.18), so pins only ever hold
    /// exclusive pages (reliably with `PageAnonExclusive`, 5.19).
    pub unshare_on_pin: bool,
    /// Migration gives up on a maybe-pinned exclusive anon page when it
    /// tries to share it with the migration entry
    /// (`page_try_share_anon_rmap` in `try_to_migrate_one`, 5.19); other
    /// folios fail later, at `folio_ref_freeze`, in every design.
    pub migrate_refuse_pinned: bool,
    /// FOLL_LONGTERM pins first migrate a page out of ZONE_MOVABLE (and
    /// CMA), so long-term pins never block memory offlining or CMA
    /// (`check_and_migrate_movable_pages`; ZONE_MOVABLE since 5.13, CMA
    /// before).
    pub longterm_migrate_out: bool,
    /// Reclaim keeps (activates) a maybe-pinned folio instead of stripping
    /// its private data and trying to free it (Kara 2023, ~6.4).
    pub reclaim_keep_pinned: bool,
    /// A FOLL_PIN|FOLL_WRITE pin waits for writeback already in progress on
    /// the folio (`folio_wait_writeback` in the pin path), so a pin cannot
    /// slip in after writeback decided not to bounce. The bounce design
    /// needs this wherever pages are not stable (pinlab's ext4-torn-dma
    /// scenario finds the hole without it).
    pub pin_waits_writeback: bool,
    /// ext4 writeback of a dirty folio without buffers: BUG (before
    /// cc5095747edf, ~5.18) or warn, clear dirty and skip (after; the data
    /// is silently dropped).
    pub no_buffers_bug: bool,
    /// Every RDMA registration is on-demand paging: the NIC pins nothing and
    /// follows the process page tables through mmu-interval-notifier
    /// invalidations and device page faults.
    pub rdma_odp: bool,
    /// Linux 6.5+ (`writable_file_mapping_allowed` in `check_vma_flags`):
    /// FOLL_LONGTERM|FOLL_WRITE pins of a file mapping that needs dirty
    /// tracking fail with `EFAULT`.
    pub refuse_longterm_file_write_pin: bool,
    /// `ib_umem_get` up to 6.1: `gup_flags = FOLL_WRITE`, plus FOLL_FORCE
    /// when the MR is read-only, whatever access the MR asks for. A
    /// read-only MR then breaks COW at registration on a private mapping
    /// and fails with `EFAULT` on a read-only shared one (`check_vma_flags`).
    /// 6.2 ("RDMA/umem: remove FOLL_FORCE usage") asks FOLL_WRITE only for
    /// a writable MR.
    pub umem_force_write: bool,
    /// 6.2+ ("mm/gup: reliable R/O long-term pinning in COW mappings",
    /// `gup_must_unshare`): a read-only FOLL_LONGTERM pin of a page that is
    /// not anonymous (a private file page, the shared zero page) in a COW
    /// mapping unshares it first, so the pin holds the page the process
    /// will write, not one a later write replaces.
    pub longterm_unshare_cow: bool,
    /// io_uring exists (v5.1, 2019). Without it a scenario with a `uring`
    /// device is n/a: the 2018 kernel had no such thing to race.
    pub io_uring: bool,
    /// IORING_REGISTER_BUFFERS accepts memory backed by a file other than
    /// shmem or hugetlbfs. From 5.1 to 6.4 `io_sqe_buffer_register` refused
    /// it with EOPNOTSUPP (6.5 left the decision to GUP's
    /// `writable_file_mapping_allowed`); a scenario that registers such a
    /// buffer is n/a without it.
    pub uring_file_buffers: bool,
    /// `skip-or-bounce` only: the flusher's pin test runs after
    /// `folio_clear_dirty_for_io` has write-protected the PTEs (so a new
    /// write pin must fault, and the fault waits for the folio), rather
    /// than before it, while the PTEs are still writable and GUP-fast can
    /// pin the page between the test and the write-protect.
    /// `folio_maybe_dma_pinned` is only stable once nothing can take a pin
    /// without the folio: the reason reclaim tests after `try_to_unmap`.
    pub pin_test_after_mkclean: bool,
    /// btrfs 6.14: a direct write to a file with data checksums (csumfs)
    /// falls back to a buffered write (the user page is copied into the
    /// page cache at one instant), then writes that back and waits. Before,
    /// the checksum is computed from the user page when the bio is built
    /// and the device reads the page later, so a buffer changed in between
    /// (by the process, or by a device) gives a checksum error.
    pub dio_csum_fallback: bool,
    /// 7.0 (`IOMAP_DIO_BOUNCE`, c9d114846b38; XFS 3373503df025): direct
    /// I/O on an xfslike file whose mapping needs stable writes (a T10-PI
    /// or stable-writes device) goes through a kernel bounce page: a write
    /// copies the user page when the bio is built, a read copies into the
    /// user page at completion. The device never touches the user page.
    pub dio_bounce_stable: bool,
    /// Revocable layout leases (LSF/MM 2019; the FS-DAX "break layouts"
    /// approach applied to the page cache): a long-term pin of file pages
    /// comes with a layout lease, and before writeback write-protects a
    /// page a NIC MR holds, it breaks the lease. A cooperative holder
    /// deregisters the MR (its pages are released, dirtied); writeback
    /// waits for a stubborn one to `dereg` by itself.
    pub layout_lease: bool,
}

/// One named profile: the name users type and why it exists.
pub struct Profile {
    pub name: &'static str,
    /// The kernel the profile stands for (a proposal: the kernel it was
    /// posted against, or the one the model applies it to).
    pub kernel: &'static str,
    pub summary: &'static str,
    pub origin: &'static str,
    build: fn() -> Design,
}

impl Profile {
    pub fn design(&self) -> Design {
        (self.build)()
    }
}

fn linux_4_19() -> Design {
    Design {
        name: "linux-4.19".into(),
        pin_tracking: PinTracking::None,
        pinned_writeback: PinnedWriteback::Ignore,
        dirty_unpin: DirtyUnpin::SetPageDirtyLock,
        cow_reuse: CowReuse::Mapcount,
        fork_copy_pinned: false,
        unshare_on_pin: false,
        migrate_refuse_pinned: false,
        longterm_migrate_out: false,
        reclaim_keep_pinned: false,
        pin_waits_writeback: false,
        no_buffers_bug: true,
        rdma_odp: false,
        refuse_longterm_file_write_pin: false,
        umem_force_write: true,
        longterm_unshare_cow: false,
        io_uring: false,
        uring_file_buffers: false,
        pin_test_after_mkclean: false,
        dio_csum_fallback: false,
        dio_bounce_stable: false,
        layout_lease: false,
    }
}

fn linux_6_x() -> Design {
    Design {
        name: "linux-6.x".into(),
        pin_tracking: PinTracking::Bias,
        pinned_writeback: PinnedWriteback::Ignore,
        dirty_unpin: DirtyUnpin::UnpinDirtyLock,
        cow_reuse: CowReuse::Exclusive,
        fork_copy_pinned: true,
        unshare_on_pin: true,
        migrate_refuse_pinned: true,
        longterm_migrate_out: true,
        reclaim_keep_pinned: true,
        pin_waits_writeback: false,
        no_buffers_bug: false,
        rdma_odp: false,
        refuse_longterm_file_write_pin: true,
        umem_force_write: false,
        longterm_unshare_cow: true,
        io_uring: true,
        uring_file_buffers: true,
        pin_test_after_mkclean: false,
        dio_csum_fallback: false,
        dio_bounce_stable: false,
        layout_lease: false,
    }
}

/// The profiles `--design` accepts, in the order `all` runs them.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "linux-4.19",
        kernel: "Linux 4.19 (October 2018)",
        summary: "no pin tracking; writeback ignores pins; COW reuse by mapcount; drivers set_page_dirty_lock + put_page",
        origin: "the kernel the 2018 thread was about (seed mail, 2018-10-03)",
        build: linux_4_19,
    },
    Profile {
        name: "heuristic",
        kernel: "a 2018 proposal on Linux 4.19, never merged",
        summary: "guess pins from refcount - mapcount - expected refs; writeback skips (keeps dirty) guessed-pinned pages",
        origin: "Jérôme Glisse's proposal in the 2018 thread",
        build: || Design {
            name: "heuristic".into(),
            pin_tracking: PinTracking::Heuristic,
            pinned_writeback: PinnedWriteback::Skip,
            migrate_refuse_pinned: true,
            reclaim_keep_pinned: true,
            ..linux_4_19()
        },
    },
    Profile {
        name: "wait",
        kernel: "a 2018 proposal on Linux 4.19, never merged",
        summary: "exact pin counts; page_mkclean waits, folio locked, until the page has no pins; 2018 drivers",
        origin: "the \"wait for pins to drop\" proposal of the 2018 thread; deadlocks on the folio lock",
        build: || Design {
            name: "wait".into(),
            pin_tracking: PinTracking::Exact,
            pinned_writeback: PinnedWriteback::Wait,
            ..linux_4_19()
        },
    },
    Profile {
        name: "linux-6.1",
        kernel: "Linux 6.1 LTS (December 2022)",
        summary: "6.x pin accounting (FOLL_PIN bias, PageAnonExclusive, fork copies pinned pages), but reclaim strips pinned pages, long-term file write pins are allowed and RDMA MRs are pinned FOLL_WRITE|FOLL_FORCE",
        origin: "the LTS most RDMA and GPU deployments run: before 84209e87c696 and \"RDMA/umem: remove FOLL_FORCE usage\" (v6.2), d824ec2a1546 (v6.4), writable_file_mapping_allowed (v6.5)",
        build: || Design {
            name: "linux-6.1".into(),
            umem_force_write: true,
            longterm_unshare_cow: false,
            reclaim_keep_pinned: false,
            refuse_longterm_file_write_pin: false,
            uring_file_buffers: false,
            ..linux_6_x()
        },
    },
    Profile {
        name: "linux-6.x",
        kernel: "Linux 6.5 and later (writeback of pinned pages unchanged through 6.18)",
        summary: "FOLL_PIN bias 1024; writeback still ignores pins; fork copies and migration refuses maybe-pinned pages; long-term write pins of file pages refused",
        origin: "3faa52c03f44 (v5.7), 09854ba94c6a (v5.9), PageAnonExclusive (~5.19), writable_file_mapping_allowed (v6.5)",
        build: linux_6_x,
    },
    Profile {
        name: "linux-7.0",
        kernel: "Linux 7.0 (2026)",
        summary: "6.x plus the fixes merged since: btrfs direct writes to checksummed files fall back to buffered I/O, XFS bounces direct I/O on stable-write devices; writeback still ignores pins",
        origin: "968f19c5b1b7 \"btrfs: always fallback to buffered write if the inode requires checksum\" (6.14/6.15; 7.0 extends it to RAID profiles, 7c2830f00c3e); IOMAP_DIO_BOUNCE for XFS on stable-write devices (c9d114846b38, 3373503df025)",
        build: || Design {
            name: "linux-7.0".into(),
            dio_csum_fallback: true,
            dio_bounce_stable: true,
            ..linux_6_x()
        },
    },
    Profile {
        name: "kara-2023",
        kernel: "a 2023 RFC on Linux 6.2, never merged (only its reclaim patch, d824ec2a1546, v6.4)",
        summary: "6.x, and writeback skips a maybe-pinned folio (WB_SYNC_NONE, tested after folio_mkclean) or bounces it (WB_SYNC_ALL, stable-write file systems)",
        origin: "Jan Kara, \"[PATCH RFC 0/5] Writeback handling of pinned pages\", linux-mm, 2023-02-09 (20230209121046.25360-1-jack@suse.cz)",
        build: || Design {
            name: "kara-2023".into(),
            pinned_writeback: PinnedWriteback::SkipOrBounce,
            pin_test_after_mkclean: true,
            ..linux_6_x()
        },
    },
    Profile {
        name: "lease",
        kernel: "a 2019 proposal (LSF/MM), never merged for the page cache",
        summary: "6.x, but long-term file pins are allowed under a revocable layout lease: writeback breaks it, a cooperative holder deregisters, a stubborn one makes writeback wait",
        origin: "Ira Weiny's LSF/MM 2019 topic (RDMA and FS-DAX), \"break layouts\" (dax_layout_busy_page); layout leases F_LAYOUT",
        build: || Design {
            name: "lease".into(),
            layout_lease: true,
            refuse_longterm_file_write_pin: false,
            ..linux_6_x()
        },
    },
    Profile {
        name: "odp",
        kernel: "Linux 6.5 and later, with on-demand-paging MRs",
        summary: "6.x, but RDMA memory regions use on-demand paging: no pins, mmu-notifier invalidation, device page faults",
        origin: "ODP (IB_ACCESS_ON_DEMAND, mlx5) and the mmu_interval_notifier API (~5.5); the alternative the 2018 thread pointed at",
        build: || Design { name: "odp".into(), rdma_odp: true, ..linux_6_x() },
    },
    Profile {
        name: "bounce",
        kernel: "a 2018 proposal, never merged, applied to Linux 6.5 and later",
        summary: "6.x plus exact pin counts; writeback of a write-pinned page goes through a bounce buffer and keeps it dirty; long-term file pins allowed",
        origin: "Jan Kara's proposal in the 2018 thread; never merged",
        build: || Design {
            name: "bounce".into(),
            pin_tracking: PinTracking::Exact,
            pinned_writeback: PinnedWriteback::Bounce,
            pin_waits_writeback: true,
            refuse_longterm_file_write_pin: false,
            ..linux_6_x()
        },
    },
];

impl Design {
    /// Change one knob, `name=value` (`pin_tracking=exact`,
    /// `fork_copy_pinned=false`). The design's name records the change.
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let (k, v) = spec.split_once('=').ok_or_else(|| format!("`{spec}`: expected knob=value"))?;
        let mut json = serde_json::to_value(&*self).expect("a design serialises");
        let slot = json
            .get_mut(k)
            .filter(|_| k != "name")
            .ok_or_else(|| format!("unknown knob `{k}` (see `pinlab designs`)"))?;
        *slot = match (&*slot, v) {
            (serde_json::Value::Bool(_), "true" | "yes") => serde_json::Value::Bool(true),
            (serde_json::Value::Bool(_), "false" | "no") => serde_json::Value::Bool(false),
            (serde_json::Value::Bool(_), _) => return Err(format!("knob `{k}` is true or false")),
            _ => serde_json::Value::String(v.to_string()),
        };
        let name = format!("{}+{spec}", self.name);
        let new: Design = serde_json::from_value(json).map_err(|e| format!("`{spec}`: {e}"))?;
        new.honourable().map_err(|why| format!("`{spec}`: {why}"))?;
        *self = new;
        self.name = name;
        Ok(())
    }

    /// Knob combinations the model cannot honour, with the reason. Every
    /// profile passes; `--set` may not create one.
    pub fn honourable(&self) -> Result<(), String> {
        let tests_pins = matches!(
            self.pinned_writeback,
            PinnedWriteback::Skip
                | PinnedWriteback::Wait
                | PinnedWriteback::Bounce
                | PinnedWriteback::SkipOrBounce
        );
        if tests_pins && self.pin_tracking == PinTracking::None {
            return Err(format!(
                "pinned_writeback={} needs a pin test, and pin_tracking=none has none (it always says \"not pinned\")",
                serde_json::to_value(self.pinned_writeback).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
            ));
        }
        if self.pinned_writeback == PinnedWriteback::Wait && self.pin_tracking != PinTracking::Exact {
            return Err(
                "pinned_writeback=wait waits for the exact pin count to reach 0: it needs pin_tracking=exact"
                    .into(),
            );
        }
        if self.pin_test_after_mkclean && self.pinned_writeback != PinnedWriteback::SkipOrBounce {
            return Err("pin_test_after_mkclean places the skip-or-bounce pin test: it needs pinned_writeback=skip-or-bounce".into());
        }
        if self.uring_file_buffers && !self.io_uring {
            return Err("uring_file_buffers needs io_uring=true".into());
        }
        Ok(())
    }
}

impl Design {
    /// This design with the knobs `prog` can never consult reset, and no
    /// name: two designs with equal `behaviour_on(prog)` explore `prog`
    /// identically, step for step, so one exploration serves both (and a
    /// test comparing search modes need run only one). Conservative: a knob
    /// is reset only where no operation of `prog` reaches the code that
    /// reads it.
    pub fn behaviour_on(&self, prog: &crate::program::Program) -> Design {
        use crate::program::{DevKind, Op};
        let ops = || prog.all_threads().flat_map(|t| t.ops.iter());
        let has_dev = |k: DevKind| prog.devs.iter().any(|d| d.kind == k);
        let dio_write =
            ops().any(|op| matches!(op, Op::DioWrite { .. } | Op::UringFixed { is_write: true, .. }));
        let mut d = self.clone();
        d.name = String::new();
        if !dio_write {
            d.dio_csum_fallback = false;
        }
        let dio =
            ops().any(|op| matches!(op, Op::DioWrite { .. } | Op::DioRead { .. } | Op::UringFixed { .. }));
        if !dio {
            d.dio_bounce_stable = false;
        }
        if d.pinned_writeback != PinnedWriteback::SkipOrBounce {
            d.pin_test_after_mkclean = false;
        }
        if !has_dev(DevKind::Uring) {
            d.io_uring = false;
            d.uring_file_buffers = false;
        }
        if !has_dev(DevKind::Nic) {
            d.rdma_odp = false;
            d.layout_lease = false;
        }
        if !ops().any(|op| matches!(op, Op::RegMr { .. })) {
            d.umem_force_write = false;
        }
        d
    }

    /// Why `prog` cannot run on this design's kernel, if it cannot: it uses
    /// a feature the era did not have. Such a cell is n/a, not a verdict.
    pub fn unavailable(&self, prog: &crate::program::Program) -> Option<String> {
        use crate::program::{Backing, DevKind, FsType, Op};
        if !self.io_uring && prog.devs.iter().any(|d| d.kind == DevKind::Uring) {
            return Some("no io_uring before Linux 5.1".into());
        }
        if !self.uring_file_buffers {
            let ops: Vec<&Op> = prog.all_threads().flat_map(|t| t.ops.iter()).collect();
            let file_backed = |name| {
                ops.iter().any(|op| {
                    matches!(**op, Op::Mmap { bind, backing: Backing::File(f), .. }
                        if bind == name && prog.fss[prog.files[f.idx()].fs.idx()].ty != FsType::Tmpfs)
                })
            };
            if ops.iter().any(|op| matches!(**op, Op::Gup { coalesce: true, map, .. } if file_backed(map))) {
                return Some(
                    "io_uring refuses file-backed fixed buffers (EOPNOTSUPP) before Linux 6.5".into(),
                );
            }
        }
        None
    }
}

/// Look up a profile by name.
pub fn profile(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_changes_one_knob_and_rejects_nonsense() {
        let mut d = profile("linux-6.x").unwrap().design();
        d.set("pinned_writeback=bounce").unwrap();
        assert_eq!(d.pinned_writeback, PinnedWriteback::Bounce);
        assert_eq!(d.name, "linux-6.x+pinned_writeback=bounce");
        d.set("fork_copy_pinned=false").unwrap();
        assert!(!d.fork_copy_pinned);
        assert!(d.set("pinned_writeback=sometimes").is_err());
        assert!(d.set("no_such_knob=1").is_err());
        assert!(d.set("fork_copy_pinned=maybe").is_err());
        assert!(d.set("name=x").is_err());
        assert!(d.set("oops").is_err());
    }

    #[test]
    fn profiles_are_honourable_and_set_refuses_combinations_the_model_cannot_honour() {
        for p in PROFILES {
            assert_eq!(p.design().honourable(), Ok(()), "{}", p.name);
        }
        let mut d = profile("linux-4.19").unwrap().design();
        let e = d.set("pinned_writeback=bounce").unwrap_err();
        assert!(e.contains("needs a pin test"), "{e}");
        assert_eq!(d.name, "linux-4.19", "a refused knob leaves the design unchanged");
        let mut k = profile("linux-6.x").unwrap().design();
        assert!(k.set("pin_test_after_mkclean=true").unwrap_err().contains("skip-or-bounce"));
        assert!(k.set("pinned_writeback=wait").unwrap_err().contains("pin_tracking=exact"));
        let mut u = profile("linux-4.19").unwrap().design();
        assert!(u.set("uring_file_buffers=true").unwrap_err().contains("io_uring=true"));
        u.set("io_uring=true").unwrap();
        u.set("uring_file_buffers=true").unwrap();
    }

    #[test]
    fn profile_names_are_unique_and_match_their_designs() {
        for (i, p) in PROFILES.iter().enumerate() {
            assert_eq!(p.design().name, p.name);
            assert!(PROFILES[i + 1..].iter().all(|q| q.name != p.name));
        }
        assert!(profile("bounce").is_some());
        assert!(profile("bouncy").is_none());
    }

    #[test]
    fn bounce_differs_from_6_x_only_in_pins_writeback_and_file_pins() {
        let (b, x) = (profile("bounce").unwrap().design(), profile("linux-6.x").unwrap().design());
        assert_ne!(b.pin_tracking, x.pin_tracking);
        assert_eq!(
            Design {
                name: x.name.clone(),
                pin_tracking: x.pin_tracking,
                pinned_writeback: x.pinned_writeback,
                pin_waits_writeback: false,
                refuse_longterm_file_write_pin: true,
                ..b
            },
            x
        );
    }
}
