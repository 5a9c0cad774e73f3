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
