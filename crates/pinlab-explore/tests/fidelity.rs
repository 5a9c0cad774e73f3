//! Era-specific kernel behaviour the suite's scenarios do not pin down on
//! their own, each checked under the design that has it and with the knob
//! turned the other way.

use pinlab_explore::{explore, Config, Verdict};
use pinlab_litmus::{load, Source};
use pinlab_model::design::profile;
use pinlab_model::{Cx, World};

fn verdict(text: &str, design: &str, knobs: &[&str]) -> Verdict {
    let prog = load(&Source::new("inline.litmus", text)).unwrap_or_else(|d| panic!("{}", d.to_plain()));
    let mut d = profile(design).unwrap().design();
    for k in knobs {
        d.set(k).unwrap();
    }
    let r = explore(&Cx { prog: &prog, design: &d }, &World::new(&prog).unwrap(), &Config::default());
    assert!(r.complete, "{design} {knobs:?}");
    r.verdict()
}

/// The text of `litmus/open/NAME.litmus`.
fn read(name: &str) -> String {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../litmus/open/{name}.litmus"));
    std::fs::read_to_string(path).unwrap()
}

/// The kernel-function labels of the witness the search keeps for `oracle`.
fn witness_labels(text: &str, design: &str, knobs: &[&str], oracle: &str) -> Vec<&'static str> {
    let prog = load(&Source::new("x.litmus", text)).unwrap();
    let mut d = profile(design).unwrap().design();
    for k in knobs {
        d.set(k).unwrap();
    }
    let cx = Cx { prog: &prog, design: &d };
    let init = World::new(&prog).unwrap();
    let r = explore(&cx, &init, &Config::default());
    let (_, w) = r.fired.iter().find(|(o, _)| o.name() == oracle).unwrap_or_else(|| panic!("{oracle} fired"));
    let (story, _) = pinlab_explore::replay(&cx, &init, w).unwrap();
    story.steps.iter().map(|s| s.kernel).collect()
}

/// `ib_umem_get` up to 6.1 pins a read-only MR with FOLL_WRITE|FOLL_FORCE:
/// on a private read-only file mapping that breaks COW at registration, so
/// the MR holds a private copy and a later write(2) to the file never
/// reaches the NIC. Without the forced write the MR pins the page-cache
/// page itself and the NIC sends the new data.
#[test]
fn a_read_only_mr_breaks_cow_at_registration_before_6_2() {
    let text = "litmus ro-mr-private-file
setup {
  disk d0 sectors=64 cache=volatile
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=1 fill=0xAA
  process p
  nic n
}
thread app on p {
  m = mmap f pages=0..1 private
  mr = n.reg_mr m pages=0..1
  write f[0] = 0x33
  r = n.read mr[0]
}
always app.r == 0xAA
always app.err == 0
";
    assert_eq!(verdict(text, "linux-4.19", &[]), Verdict::Pass, "the MR keeps the COW copy");
    // 6.2+: no FOLL_WRITE for a read-only MR, but gup_must_unshare copies
    // the page-cache page of a COW mapping for a R/O long-term pin.
    assert_eq!(verdict(text, "linux-6.x", &[]), Verdict::Pass, "unshared at registration");
    assert_eq!(verdict(text, "linux-6.x", &["longterm_unshare_cow=false"]), Verdict::Fail);
    assert_eq!(
        verdict(text, "linux-4.19", &["umem_force_write=false"]),
        Verdict::Fail,
        "the MR sees the write"
    );
}

/// The same forced write on a read-only *shared* mapping is refused
/// (`check_vma_flags`: FOLL_FORCE never writes a shared mapping).
#[test]
fn a_read_only_mr_on_a_read_only_shared_mapping_fails_before_6_2() {
    let text = "litmus ro-mr-shared-file
setup {
  disk d0 sectors=64 cache=volatile
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=1 fill=0xAA
  process p
  nic n
}
thread app on p {
  m = mmap f pages=0..1 shared
  mr = n.reg_mr m pages=0..1
}
always app.err == EFAULT
";
    assert_eq!(verdict(text, "linux-4.19", &[]), Verdict::Pass);
    assert_eq!(verdict(text, "wait", &[]), Verdict::Pass);
    assert_eq!(verdict(text, "linux-6.x", &[]), Verdict::Fail, "6.2+ pins read-only without FOLL_WRITE");
    assert_eq!(verdict(text, "linux-4.19", &["umem_force_write=false"]), Verdict::Fail);
}

/// ext4's `set_page_dirty` (`ext4_dirty_folio` since 5.18) warns when a
/// GUP user dirties a page whose buffers reclaim freed, in every era; 6.4+
/// keeps pinned folios out of reclaim, so their buffers stay.
#[test]
fn dirtying_a_page_without_buffers_warns_on_ext4() {
    let text = "litmus ext4-dirty-without-buffers
setup {
  disk d0 sectors=64 cache=volatile
  fs fs0 on d0 type=ext4like
  file f on fs0 pages=1 fill=0xAA
  process p
  dma gpu
}
thread app on p {
  m = mmap f pages=0..1 shared write
  pg = pin m pages=0..1 write
  gpu.write pg[0] = 0x22
  unpin pg dirty
}
thread flusher {
  writeback f
}
thread kswapd {
  reclaim
}
exists kernel_bug(dirty_without_buffers)
";
    assert_eq!(
        verdict(text, "linux-4.19", &[]),
        Verdict::Pass,
        "reclaim strips the buffers, the unpin warns"
    );
    assert_eq!(verdict(text, "linux-6.x", &[]), Verdict::Fail, "pinned folios keep their buffers");
    assert_eq!(
        verdict(text, "linux-6.x", &["reclaim_keep_pinned=false"]),
        Verdict::Pass,
        "the WARN is still there"
    );
}

/// The kernel-function labels of a single-threaded scenario's steps.
fn labels(text: &str, design: &str) -> Vec<&'static str> {
    use pinlab_model::ids::ThreadId;
    use pinlab_model::trace::NoTrace;
    use pinlab_model::Step;
    let prog = load(&Source::new("inline.litmus", text)).unwrap_or_else(|d| panic!("{}", d.to_plain()));
    let d = profile(design).unwrap().design();
    let cx = Cx { prog: &prog, design: &d };
    let mut w = World::new(&prog).unwrap();
    let mut out = Vec::new();
    loop {
        match w.step(&cx, ThreadId(0), &mut NoTrace) {
            Step::Ran(l) => out.push(l),
            Step::Finished => return out,
            Step::Blocked => panic!("a single thread blocked after {out:?}"),
        }
    }
}

/// `mprotect` back to PROT_WRITE maps an exclusive anon page writable at
/// once since v5.19 (`can_change_pte_writable`), so the next store takes no
/// fault; in 4.19 only shared dirty PTEs were upgraded and the store takes
/// a write fault that reuses the page.
#[test]
fn mprotect_rw_upgrades_exclusive_anon_ptes_since_5_19() {
    let text = "litmus mprotect-upgrade
setup { process p }
thread app on p {
  m = mmap anon pages=0..2 private write
  store m[0] = 0x11
  mprotect m ro
  mprotect m rw
  store m[0] = 0x22
}
";
    let fault = "do_wp_page → wp_page_reuse";
    let now = labels(text, "linux-6.x");
    assert!(
        now.contains(&"mprotect_fixup → change_protection (VM_WRITE; can_change_pte_writable)"),
        "{now:?}"
    );
    assert!(!now.contains(&fault), "{now:?}");
    assert!(labels(text, "linux-4.19").contains(&fault));
}

/// Range verbs split VMAs: a hole punched by `munmap` faults with EFAULT
/// while its neighbours stay; `mremap` carries the data to the new
/// address; `MADV_DONTNEED` drops an anon page (the next load sees zeroes)
/// but keeps the VMA.
#[test]
fn munmap_mremap_and_dontneed_act_on_page_ranges() {
    let text = "litmus ranges
setup { process p }
thread app on p {
  m = mmap anon pages=0..4 private write
  store m[0] = 0x10
  store m[1] = 0x11
  store m[2] = 0x12
  store m[3] = 0x13
  munmap m pages=1..2
  m2 = mremap m pages=2..4
  madvise m pages=0..1 dontneed
  a = load m[0]
  b = load m2[0]
  c = load m2[1]
  d = load m[2]
}
always app.a == 0x00 and app.b == 0x12 and app.c == 0x13 and app.err == EFAULT
";
    assert_eq!(verdict(text, "linux-6.x", &[]), Verdict::Pass);
    // Before the last load fails, nothing has.
    let ok = text.replace("  d = load m[2]\n", "").replace("app.err == EFAULT", "app.err == 0");
    assert_eq!(verdict(&ok, "linux-6.x", &[]), Verdict::Pass);
}

/// `wait CHILD` blocks until the child's `exit`; a child that never exits
/// leaves the parent waiting forever, which the `deadlock` oracle reports.
#[test]
fn wait_blocks_until_the_child_exits() {
    let text = "litmus wait
setup { process p }
thread par on p {
  m = mmap anon pages=0..1 private write
  store m[0] = 0x11
  fork c
  wait c
  r = load m[0]
}
thread kid on c {
  store m[0] = 0x22
  exit
}
always par.r == 0x11
forbid deadlock
";
    assert_eq!(verdict(text, "linux-6.x", &[]), Verdict::Pass);
    assert_eq!(verdict(&text.replace("  exit\n", ""), "linux-6.x", &[]), Verdict::Fail);
}

/// shmem (tmpfs, memfd) needs no dirty tracking: a shared writable mapping
/// maps pages writable at the first fault, and a long-term write pin of it
/// is allowed where one of a disk file is refused
/// (`writable_file_mapping_allowed` → `vma_needs_dirty_tracking`).
#[test]
fn a_long_term_write_pin_of_shmem_is_allowed_and_of_a_disk_file_refused() {
    let text = "litmus memfd-pin
setup {
  fs shm type=tmpfs
  file f on shm pages=1 fill=0x00
  process p
  uring u
}
thread app on p {
  m = mmap f pages=0..1 shared write
  store m[0] = 0x11
  b = u.register m pages=0..1
}
always app.err == 0
";
    assert_eq!(verdict(text, "linux-6.x", &[]), Verdict::Pass);
    let disk = text.replace("  fs shm type=tmpfs\n", "  disk d0 sectors=64\n  fs shm on d0 type=ext4like\n");
    assert_eq!(verdict(&disk, "linux-6.x", &[]), Verdict::Fail, "refused: EFAULT");
    assert_eq!(verdict(&disk.replace("app.err == 0", "app.err == EFAULT"), "linux-6.x", &[]), Verdict::Pass);
    let labels = labels(text, "linux-6.x");
    assert!(labels.contains(&"shmem_fault"), "{labels:?}");
    assert!(!labels.iter().any(|l| l.contains("page_mkwrite")), "{labels:?}");
}

/// tmpfs is memory: writeback never writes it, reclaim (without swap)
/// keeps it, fsync promises nothing durable, and a crash empties it.
#[test]
fn tmpfs_is_never_written_back_kept_by_reclaim_and_lost_in_a_crash() {
    let text = "litmus tmpfs
setup {
  fs shm type=tmpfs
  file f on shm pages=1 fill=0xAA
  process p
}
thread app on p {
  m = mmap f pages=0..1 shared write
  store m[0] = 0x11
  fsync f
  munmap m
  reclaim
  r = read f[0]
}
thread flusher { writeback f }
always app.r == 0x11
forbid lost_write
";
    assert_eq!(verdict(text, "linux-6.x", &[]), Verdict::Pass);
    let labels = labels(text, "linux-6.x");
    assert!(labels.contains(&"vfs_fsync_range → noop_fsync (tmpfs)"), "{labels:?}");
    let crash = format!("{text}finally {{ sync; crash; recover }}\nalways f[0] == 0x00\n");
    assert_eq!(verdict(&crash, "linux-6.x", &[]), Verdict::Pass, "empty after the crash, and no lost_write");
}

/// A hugetlb VMA is never cut (Linux wants huge-page-aligned ranges), and
/// `hugetlb_wp` reuses a folio only one mapping maps, whatever other
/// references exist: a FOLL_GET reference taken in the child after fork
/// sees the parent's later write once the child unmapped (the kernel's own
/// XFAIL in cow.c), where a small page is copied.
#[test]
fn hugetlb_refuses_partial_ranges_and_reuses_by_mapcount() {
    let cut = "litmus hugetlb-cut
setup { process p }
thread app on p {
  m = mmap anon pages=0..4 private write hugetlb
  store m[0] = 0x11
  mprotect m pages=1..2 ro
}
always app.err == EINVAL
";
    assert_eq!(verdict(cut, "linux-6.x", &[]), Verdict::Pass);
    let leak = "litmus hugetlb-vmsplice
setup {
  process p
  dma pipe
}
thread par on p {
  m = mmap anon pages=0..4 private write hugetlb
  store m[0] = 0x11
  fork c
  store m[0] = 0x22
}
thread kid on c {
  g = gup m pages=0..1
  munmap m
}
thread reader { r = pipe.read g[0] }
forbid reader.r == 0x22
";
    assert_eq!(verdict(leak, "linux-6.x", &[]), Verdict::Fail, "hugetlb leaks to the FOLL_GET user");
    let small = leak.replace("pages=0..4 private write hugetlb", "pages=0..1 private write");
    assert_eq!(verdict(&small, "linux-6.x", &[]), Verdict::Pass, "a small page is copied");
}

/// Trace labels speak the profile's era: 4.19 had no FOLL_PIN and no
/// `try_grab_folio`; GUP took a plain reference in `follow_page_pte`.
#[test]
fn gup_labels_name_the_function_of_the_era() {
    let text = "litmus era
setup { process p }
thread app on p {
  m = mmap anon pages=0..1 private write
  store m[0] = 0x11
  pg = pin m pages=0..1 write
}
";
    let old = labels(text, "linux-4.19");
    assert!(old.contains(&"follow_page_pte: get_page"), "{old:?}");
    assert!(!old.iter().any(|l| l.contains("try_grab_folio") || l.contains("FOLL_PIN")), "{old:?}");
    assert!(labels(text, "linux-6.x").contains(&"try_grab_folio (FOLL_PIN)"));
}

/// A scenario that needs what the design's kernel lacked is n/a, with the
/// reason, and nothing is explored; turning the era knob on explores it.
#[test]
fn io_uring_scenarios_are_n_a_before_their_era() {
    let anon = "litmus uring-anon
setup {
  process p
  uring u
}
thread app on p {
  m = mmap anon pages=0..1 private write
  store m[0] = 0x11
  b = u.register m pages=0..1
}
always app.err == 0
";
    assert_eq!(verdict(anon, "linux-4.19", &[]), Verdict::NotApplicable);
    assert_eq!(verdict(anon, "linux-4.19", &["io_uring=true"]), Verdict::Pass);
    assert_eq!(verdict(anon, "linux-6.1", &[]), Verdict::Pass, "anon buffers since 5.1");
    let file = anon
        .replace(
            "  process p\n",
            "  disk d0 sectors=64\n  fs fs0 on d0 type=ext4like\n  file f on fs0 pages=1\n  process p\n",
        )
        .replace("mmap anon pages=0..1 private write", "mmap f pages=0..1 private write");
    assert_eq!(verdict(&file, "linux-6.1", &[]), Verdict::NotApplicable, "EOPNOTSUPP before 6.5");
    assert_eq!(verdict(&file, "linux-6.x", &[]), Verdict::Pass);
    let shm = file.replace("  disk d0 sectors=64\n  fs fs0 on d0 type=ext4like\n", "  fs fs0 type=tmpfs\n");
    assert_eq!(verdict(&shm, "linux-6.1", &[]), Verdict::Pass, "shmem buffers were always allowed");
    let prog = load(&Source::new("x.litmus", anon)).unwrap();
    let d = profile("linux-4.19").unwrap().design();
    let r = explore(&Cx { prog: &prog, design: &d }, &World::new(&prog).unwrap(), &Config::default());
    assert_eq!((r.states, r.not_applicable.as_deref()), (0, Some("no io_uring before Linux 5.1")));
}

/// Kara's 2023 RFC tests for pins after `folio_mkclean`, and that is what
/// makes it sound against GUP-fast: with the test before the PTEs are
/// write-protected, an O_DIRECT read pins the page in between and the
/// folio is written while the device writes it. The witness is short and
/// shows the pin between the test and the clean.
#[test]
fn kara_2023_is_sound_against_gup_fast_only_because_it_tests_after_mkclean() {
    let text = read("pin-test-vs-gup-fast");
    assert_eq!(verdict(&text, "kara-2023", &[]), Verdict::Pass);
    assert_eq!(verdict(&text, "kara-2023", &["pin_test_after_mkclean=false"]), Verdict::Fail);
    let labels = witness_labels(&text, "kara-2023", &["pin_test_after_mkclean=false"], "checksum_error");
    let test = labels.iter().position(|l| l.starts_with("folio_maybe_dma_pinned")).unwrap();
    let pin = labels.iter().position(|l| l.contains("pin_user_pages_fast")).unwrap();
    let clean = labels.iter().position(|l| l.starts_with("folio_clear_dirty_for_io")).unwrap();
    assert!(test < pin && pin < clean, "{labels:?}");
    assert!(labels.len() <= 30, "{} steps", labels.len());
}

/// md RAID1: each mirror reads a direct write's user page by its own DMA,
/// so the minimal witness of a mismatch changes the page between mirror
/// 0's pass and the end of mirror 1's. 7.0's bounce-buffered direct I/O
/// closes it only on devices that ask for stable writes.
#[test]
fn raid1_mirrors_read_the_page_apart_and_7_0_bounces_only_for_stable_devices() {
    let plain = read("dio-write-buffer-changes-raid1");
    let stable = read("dio-write-buffer-changes-raid1-stable");
    assert_eq!(verdict(&plain, "linux-7.0", &[]), Verdict::Fail);
    assert_eq!(verdict(&stable, "linux-7.0", &[]), Verdict::Pass);
    assert_eq!(verdict(&stable, "linux-7.0", &["dio_bounce_stable=false"]), Verdict::Fail);
    let labels = witness_labels(&plain, "linux-7.0", &[], "mirror_mismatch");
    let count = |m: &str| labels.iter().filter(|l| l.contains(m)).count();
    assert_eq!((count("mirror 0 reads"), count("mirror 1 reads")), (8, 8), "{labels:?}");
    let first_m0 = labels.iter().position(|l| l.contains("mirror 0 reads")).unwrap();
    let last_m1 = labels.iter().rposition(|l| l.contains("mirror 1 reads")).unwrap();
    let store = labels.iter().rposition(|l| l.starts_with("store")).unwrap();
    assert!(first_m0 < store && store < last_m1, "the buffer changes between the mirrors' reads: {labels:?}");
    assert!(labels.last().unwrap().starts_with("md check"), "{labels:?}");
}

/// A truncate breaks a layout lease before it changes anything: the
/// cooperative holder deregisters and its NIC's next write fails with
/// EACCES; the stubborn holder keeps the page in the file and the truncate
/// fails with ETXTBSY. Without leases the NIC writes an orphaned page and
/// nothing fails.
#[test]
fn truncate_breaks_a_layout_lease_or_fails_with_etxtbsy() {
    let coop = read("lease-truncate-cooperative") + "always app.err == EACCES\n";
    let stubborn = read("lease-truncate-stubborn") + "always app.err == ETXTBSY and f[0] == 0x22\n";
    assert_eq!(verdict(&coop, "lease", &[]), Verdict::Pass);
    assert_eq!(verdict(&stubborn, "lease", &[]), Verdict::Pass);
    assert_eq!(verdict(&coop, "lease", &["layout_lease=false"]), Verdict::Fail);
    assert_eq!(verdict(&read("lease-truncate-cooperative"), "linux-6.1", &[]), Verdict::Fail);
}

/// The lease is taken before the registration pins anything, so a
/// writeback that meets a page pinned by a registration still inside
/// `ib_reg_mr` must wait for the holder (its break handler runs when the
/// syscall returns). Breaking nothing there let the NIC write the page
/// under writeback: a checksum error the lease design exists to prevent.
#[test]
fn writeback_waits_for_a_lease_holder_still_registering() {
    let text = "litmus lease-break-during-registration
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=2 fill=0xAA
  process p
  nic n lease=cooperative
}
thread app on p {
  m = mmap f pages=0..2 shared write
  store m[0] = 0x11
  mr = n.reg_mr m pages=0..2 write
  n.dereg mr
}
thread nic {
  n.write mr[0] = 0x22
}
thread flusher {
  writeback f
}
forbid checksum_error
";
    assert_eq!(verdict(text, "lease", &[]), Verdict::Pass);
    assert_eq!(verdict(text, "linux-6.1", &[]), Verdict::Fail);
}
