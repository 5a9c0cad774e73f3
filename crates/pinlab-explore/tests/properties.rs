//! Property tests of the model's bookkeeping under random interleavings.
//!
//! A random schedule (a list of thread choices) drives a scenario step by
//! step under every design profile; after every step the test re-derives,
//! from the visible structure of the world (page caches, page tables, pin
//! sets, the fs knobs, what each thread's in-flight operation holds, bounce
//! buffers), what every folio's counts must be, and checks the model's counts
//! against it. Exhaustive exploration of the seed scenario and the replay of
//! its witnesses are checked here too.
//!
//! Small scenarios are also checked in every reachable state (breadth first,
//! so a failure comes with a shortest schedule). A failing case prints the
//! design, the schedule (thread numbers in declaration order, `finally`
//! last, as `Schedule` parses and `replay` replays it) and what disagreed;
//! proptest shrinks the schedule first, so the printed one is short.

use pinlab_explore::{explore, replay, Config, Report, Schedule, Verdict};
use pinlab_litmus::{load, Source};
use pinlab_model::cond::Cond;
use pinlab_model::design::{profile, PinTracking, PinnedWriteback, PROFILES};
use pinlab_model::fs::direct_io::DioStage;
use pinlab_model::fs::fsync::FsyncStage;
use pinlab_model::fs::writeback::{WbStage, WbState};
use pinlab_model::ids::{FileId, Pfn, ThreadId};
use pinlab_model::mm::frame::{FolioFlags, Owner};
use pinlab_model::mm::gup::GUP_PIN_COUNTING_BIAS;
use pinlab_model::mm::vma::ProcState;
use pinlab_model::oracle::{Bug, Oracle};
use pinlab_model::program::{CondKind, Foll, PrivateData};
use pinlab_model::trace::NoTrace;
use pinlab_model::world::OpState;
use pinlab_model::{Cx, Design, Program, Step, World};
use proptest::prelude::*;
use std::sync::LazyLock;

/// Every named design profile (`pinlab designs`), in the order `all` runs them.
static DESIGNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| PROFILES.iter().map(|p| p.name).collect());

const SEED: &str = include_str!("../../../litmus/seed/rdma-writeback.litmus");
/// Two FOLL_PINs and one FOLL_GET of the same page, released by `unpin`
/// (one dirtying) and `put`, while a device writes through one pin, reads
/// through the GUP, and the flusher writes the file back.
const TWO_PINS: &str = "\
litmus two-pins-one-page
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=2 fill=0xAA
  process p
  dma d
}
thread a on p {
  m = mmap f pages=0..2 shared write
  p1 = pin m pages=0..1 write
  d.write p1[0] = 0x33
  unpin p1 dirty
}
thread b on p {
  p2 = pin m pages=0..1
  g = gup m pages=0..2
  r = d.read g[0]
  put g
  unpin p2
}
thread flusher {
  writeback f
}
finally { sync }
";

/// A long-term write pin, a device write through it and a dirtying unpin,
/// racing with two flusher passes.
const PIN_VS_WRITEBACK: &str = "\
litmus pin-unpin-dirty-vs-writeback
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=1 fill=0xAA
  process p
  dma d
}
thread app on p {
  m = mmap f pages=0..1 shared write
  store m[0] = 0x11
  pp = pin m pages=0..1 write longterm
  d.write pp[0] = 0x44
  unpin pp dirty
}
thread flusher {
  writeback f
}
thread flusher2 {
  writeback f
}
finally { sync; crash; recover }
";

/// CPU stores and fsync racing with the flusher; no device at all.
const STORE_FSYNC: &str = "\
litmus store-fsync-vs-writeback
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=2 fill=0xAA
  process p
}
thread app on p {
  m = mmap f pages=0..2 shared write
  store m[0] = 0x11
  store m[1] = 0x12
  fsync f
  store m[0] = 0x13
}
thread reader on p {
  r = load m[1]
  fsync f
}
thread flusher {
  writeback f
}
finally { sync; crash; recover }
";

/// Two processes map the same file page: an MR and a later pin through
/// one mapping, a FOLL_GET with write through the other, a second file
/// pinned read-only, writeback without stable writes, and a crash.
const SHARED_FILE: &str = "\
litmus two-processes-share-a-file
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs stable_writes=no
  file f on fs0 pages=2 fill=0xAA
  file g on fs0 pages=1 fill=0xBB
  process p
  process q
  nic n
  dma d
}
thread a on p {
  m = mmap f pages=0..2 shared write
  mr = n.reg_mr m pages=0..2 write
  store m[1] = 0x11
  n.dereg mr
  x = pin m pages=1..2 write
  d.write x[0] = 0x55
  unpin x dirty
}
thread b on q {
  m2 = mmap f pages=1..2 shared write
  k = gup m2 pages=0..1 write
  store m2[0] = 0x66
  r = load m2[0]
  put k
  mg = mmap g pages=0..1 shared
  kk = pin mg pages=0..1
  r = d.read kk[0]
  unpin kk
}
thread nic0 {
  n.write mr[1] = 0x22
  r = n.read mr[0]
}
thread flusher {
  writeback f
  writeback g
  fsync f
}
finally { sync; crash; recover; sync }
";

/// Anonymous memory across a fork: a read fault maps the zero page and a
/// read pin takes it (a pin that counts nothing); the parent's write pin
/// after the fork breaks COW (or unshares); the child reads, takes a
/// FOLL_GET of both pages (the zero page among them), COW-faults the zero
/// page and the shared page, drops its reference and exits, while the
/// parent stores to the pinned page and releases its pins, one dirtying.
const ANON_FORK: &str = "\
litmus anon-fork-cow-pins
setup {
  process p
  dma d
}
thread par on p {
  m = mmap anon pages=0..2 private write
  r = load m[1]
  zp = pin m pages=1..2
  store m[0] = 0x11
  fork c
  pw = pin m pages=0..1 write
  d.write pw[0] = 0x22
  store m[0] = 0x33
  r = d.read zp[0]
  unpin pw dirty
  unpin zp
}
thread kid on c {
  r = load m[0]
  g = gup m pages=0..2
  store m[1] = 0x44
  store m[0] = 0x55
  r = d.read g[0]
  put g
  exit
}
";

/// A pinned anon range and a pinned file page are unmapped, and the
/// process exits, while the driver still writes through the pins and then
/// releases them (dirtying); the flusher writes the file page back.
const MUNMAP_EXIT: &str = "\
litmus munmap-and-exit-while-pinned
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs private=ref
  file f on fs0 pages=1 fill=0xAA
  process p
  dma d
}
thread app on p {
  m = mmap anon pages=0..2 private write
  fm = mmap f pages=0..1 shared write
  store m[0] = 0x11
  store fm[0] = 0x12
  pp = pin m pages=0..2 write longterm
  fp = pin fm pages=0..1 write
  munmap m
  munmap fm
  exit
}
thread drv {
  d.write pp[1] = 0x22
  d.write fp[0] = 0x23
  r = d.read pp[0]
  unpin pp dirty
  unpin fp dirty
}
thread flusher {
  writeback f
}
";

/// Reclaim (two passes) racing with writeback (two passes), CPU stores, a
/// FOLL_GET and a write pin that the driver holds across both reclaim passes
/// (writing through it first, releasing it dirty last), on a file system
/// whose private data holds a reference or not (`fs` is `type=... private=...`).
fn reclaim_text(fs: &str) -> String {
    format!(
        "\
litmus reclaim-vs-writeback-and-pins
setup {{
  disk d0 sectors=64
  fs fs0 on d0 {fs}
  file f on fs0 pages=2 fill=0xAA
  process p
  dma d
}}
thread app on p {{
  m = mmap f pages=0..2 shared write
  store m[0] = 0x11
  pp = pin m pages=1..2 write
  store m[1] = 0x12
  r = load m[0]
}}
thread reader on p {{
  g = gup m pages=1..2
  r = d.read g[0]
  put g
}}
thread kswapd {{
  d.write pp[0] = 0x22
  reclaim
  reclaim
  unpin pp dirty
}}
thread flusher {{
  writeback f
  writeback f
}}
"
    )
}

/// Migration of a pinned file page (racing with the device write through
/// the pin and its dirtying unpin), of an anon page, of a file page another
/// process stores to, and of the first page again, while the other process
/// loads and stores through its own mapping (waiting on migration entries)
/// and the flusher writes the file back. Private data holds a reference, so
/// the expected count of `folio_migrate_mapping` includes it. One migration
/// at a time: two at once are `TWO_MIGRATIONS`.
const MIGRATE: &str = "\
litmus migrate-vs-dma-and-writeback
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs private=ref
  file f on fs0 pages=2 fill=0xAA
  process p
  process q
  dma d
}
thread app on p {
  m = mmap f pages=0..2 shared write
  a = mmap anon pages=0..1 private write
  store m[0] = 0x11
  store a[0] = 0x21
  pp = pin m pages=0..1 write
  migrate m[0]
  migrate a[0]
  r = load m[1]
  migrate m[1]
  migrate m[0]
  r = load a[0]
}
thread dev {
  d.write pp[0] = 0x22
  unpin pp dirty
}
thread other on q {
  m2 = mmap f pages=0..2 shared write
  r = load m2[0]
  store m2[1] = 0x33
  store m2[0] = 0x34
}
thread flusher {
  writeback f
}
";

/// Transient page-cache references (three lookups) and one reclaim pass
/// racing with CPU stores, an fsync and the flusher. No device: nothing
/// writes a page behind the kernel's back.
const LOOKUP: &str = "\
litmus lookup-vs-writeback
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs private=ref
  file f on fs0 pages=2 fill=0xAA
  process p
}
thread app on p {
  m = mmap f pages=0..2 shared write
  store m[0] = 0x11
  store m[1] = 0x12
  fsync f
  store m[0] = 0x13
}
thread k {
  lookup f[0]
  lookup f[1]
  lookup f[0]
}
thread flusher {
  writeback f
}
thread kswapd {
  reclaim
}
";

/// Large folios and ZONE_MOVABLE: a write-faulted THP (one order-2 folio,
/// PTE-mapped) has two subpages pinned at once, is shared with a
/// fork child (which reads it, COW-faults a subpage, takes a FOLL_GET and
/// exits), written through the pin and by the CPU, and unmapped; a file
/// page is pinned long-term read-only; memory offlining evacuates the
/// movable zone meanwhile, and the flusher writes the file back.
const THP_MOVABLE: &str = "\
litmus thp-and-movable
setup {
  memory frames=16 movable=8..16
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs private=ref
  file f on fs0 pages=1 fill=0xAA
  process p
  dma d
}
thread app on p {
  m = mmap anon pages=0..4 private write thp
  store m[1] = 0x11
  pp = pin m pages=1..3 write
  fork c
  d.write pp[1] = 0x55
  store m[1] = 0x22
  fm = mmap f pages=0..1 shared write
  store fm[0] = 0x33
  lp = pin fm pages=0..1 longterm
  unpin pp dirty
  munmap m
  r = d.read lp[0]
  unpin lp
}
thread kid on c {
  r = load m[2]
  store m[3] = 0x44
  g = gup m pages=0..2
  put g
  exit
}
thread hotplug {
  offline
}
thread flusher {
  writeback f
}
";

/// The storage paths around a pinned page: truncate removes a pinned page
/// from the page cache (the frame lives on with the pin, written by the
/// device and released dirty), a hole is punched over another; an O_DIRECT
/// write from an anon buffer (a short-term pin, a flush of the file, the
/// invalidation of its cached page) and an O_DIRECT read into it; a
/// buffered write and a read past EOF; lookups racing with it all, and the
/// flusher. (No reclaim: truncation under reclaim is `TRUNCATE_RECLAIM`.)
/// Two NICs' MRs on one file page, one holder cooperative and one
/// stubborn, while another thread truncates and punches and the flusher
/// writes back: lease breaks release pins from other threads' steps.
const LEASES: &str = "\
litmus lease-breaks-under-truncate-and-writeback
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=2 fill=0xAA
  process p
  nic a lease=cooperative
  nic b lease=stubborn
}
thread app on p {
  m = mmap f pages=0..2 shared write
  ma = a.reg_mr m pages=0..2 write
  mb = b.reg_mr m pages=1..2 write
  store m[0] = 0x11
  store m[1] = 0x12
  b.dereg mb
  a.dereg ma
}
thread nics {
  a.write ma[0] = 0x21
  b.write mb[0] = 0x22
}
thread k {
  punch f[1]
  truncate f pages=1
}
thread flusher {
  writeback f
}
";

const STORAGE: &str = "\
litmus truncate-dio-vs-reclaim-and-lookup
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs private=ref
  file f on fs0 pages=2 fill=0xAA
  file g on fs0 pages=1 fill=0xBB
  process p
  dma d
}
thread app on p {
  m = mmap f pages=0..2 shared write
  store m[0] = 0x11
  pg = pin m pages=1..2 write
  truncate f pages=1
  d.write pg[0] = 0x22
  unpin pg dirty
}
thread io on p {
  b = mmap anon pages=0..1 private write
  store b[0] = 0x44
  dio_write g[0] from b[0]
  write f[0] = 0x55
  r = read f[1]
  dio_read g[0] into b[0]
}
thread k {
  lookup f[1]
  punch f[0]
  lookup f[0]
}
thread flusher {
  writeback f
  writeback g
}
";

/// Two migrations in two processes at once, each of a fresh anon page:
/// the second page may be allocated in the frame the first migration has
/// just freed while that migration's entries still name it.
const TWO_MIGRATIONS: &str = "\
litmus two-migrations
setup {
  process p
  process q
}
thread a on p {
  m = mmap anon pages=0..1 private write
  store m[0] = 0x11
  migrate m[0]
  r = load m[0]
}
thread b on q {
  n = mmap anon pages=0..1 private write
  store n[0] = 0x22
  migrate n[0]
  r = load n[0]
}
";

/// A fork while the parent's anon page is under migration (its PTE a
/// migration entry): the child must still see the page's data.
const FORK_DURING_MIGRATION: &str = "\
litmus fork-during-migration
setup {
  process p
}
thread par on p {
  m = mmap anon pages=0..1 private write
  store m[0] = 0x11
  fork c
}
thread mig on p {
  migrate m[0]
}
thread kid on c {
  r = load m[0]
}
always kid.r == 0x11
";

/// Truncation while reclaim holds the page isolated, and a page-cache
/// lookup holds a reference.
const TRUNCATE_RECLAIM: &str = "\
litmus truncate-while-reclaim-isolates
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=1 fill=0xAA
}
thread k {
  lookup f[0]
}
thread kswapd {
  reclaim
}
thread t {
  truncate f pages=0
}
";

/// A process exits while another of its threads is in the middle of a
/// multi-step kernel operation on a file page that a second process maps:
/// migration (PTEs turned into migration entries, the folio locked) and a
/// page-cache lookup.
const EXIT_MID_OP: &str = "\
litmus exit-while-a-sibling-is-in-the-kernel
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=1 fill=0xAA
  process p
  process q
}
thread a on p {
  m = mmap f pages=0..1 shared write
  store m[0] = 0x11
  migrate m[0]
}
thread b on p {
  lookup f[0]
  exit
}
thread other on q {
  m2 = mmap f pages=0..1 shared write
  r = load m2[0]
  store m2[0] = 0x22
}
thread flusher {
  writeback f
}
";

/// io_uring fixed buffers on a THP: registering pages 1..4 of an order-2
/// folio pins three pages, then `io_coalesce_buffer` keeps one pin for the
/// folio (`unpin_user_folio(folio, 2)`); READ_FIXED into `b[2]` must still
/// land in `m[3]` (through the folio, `imu->folio_shift`), WRITE_FIXED reads
/// `m[1]`; a fork shares the pinned folio, the flusher runs, and
/// unregistering (`io_release_ubuf`) drops the folio's one pin.
const THP_URING: &str = "\
litmus thp-uring-coalesce
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=2 fill=0xAA
  process p
  uring u
}
thread app on p {
  m = mmap anon pages=0..4 private write thp
  store m[0] = 0x11
  b = u.register m pages=1..4
  u.read_fixed f[0] into b[2]
  r = load m[3]
  fork c
  u.write_fixed f[1] from b[0]
  u.unregister b
  munmap m
}
thread kid on c {
  s = load m[3]
  exit
}
thread flusher {
  writeback f
}
always app.r == 0xAA
";

/// The vmstat/thp probe's shape, registering `pages` of an order-2 THP.
fn thp_register_text(pages: &str) -> String {
    format!(
        "litmus thp-uring-register
setup {{
  process p
  uring u
}}
thread app on p {{
  m = mmap anon pages=0..4 private write thp
  store m[0] = 0x11
  b = u.register m pages={pages}
  u.unregister b
}}
"
    )
}

fn compile(name: &str, text: &str) -> Program {
    match load(&Source::new(name, text)) {
        Ok(p) => p,
        Err(d) => panic!("{name} does not compile:\n{}", d.to_plain()),
    }
}

static SEED_PROG: LazyLock<Program> = LazyLock::new(|| compile("litmus/seed/rdma-writeback.litmus", SEED));
/// The seed on md RAID1, ending with `sync; scrub` instead of a crash.
static SEED_RAID1_PROG: LazyLock<Program> = LazyLock::new(|| {
    let text = SEED
        .replace("disk d0 sectors=64 cache=volatile\n", "disk d0 sectors=64 cache=volatile mirrors=2\n")
        .replace("finally { sync; crash; recover }", "finally { sync; scrub }");
    assert!(text.contains("mirrors=2") && text.contains("scrub"), "the seed changed: {text}");
    compile("seed-raid1.litmus", &text)
});
static TWO_PINS_PROG: LazyLock<Program> = LazyLock::new(|| compile("two-pins.litmus", TWO_PINS));
static PIN_WB_PROG: LazyLock<Program> =
    LazyLock::new(|| compile("pin-vs-writeback.litmus", PIN_VS_WRITEBACK));
static SHARED_FILE_PROG: LazyLock<Program> = LazyLock::new(|| compile("shared-file.litmus", SHARED_FILE));
static STORE_FSYNC_PROG: LazyLock<Program> = LazyLock::new(|| compile("store-fsync.litmus", STORE_FSYNC));
static ANON_FORK_PROG: LazyLock<Program> = LazyLock::new(|| compile("anon-fork.litmus", ANON_FORK));
static MUNMAP_EXIT_PROG: LazyLock<Program> = LazyLock::new(|| compile("munmap-exit.litmus", MUNMAP_EXIT));
static RECLAIM_REF_PROG: LazyLock<Program> =
    LazyLock::new(|| compile("reclaim-ref.litmus", &reclaim_text("type=csumfs private=ref")));
static RECLAIM_NOREF_PROG: LazyLock<Program> =
    LazyLock::new(|| compile("reclaim-noref.litmus", &reclaim_text("type=csumfs private=noref")));
/// ext4like: buffer heads hold a reference; writeback rewrites in place,
/// and a dirty page whose buffers reclaim stripped is its BUG (or warning).
static RECLAIM_EXT4_PROG: LazyLock<Program> =
    LazyLock::new(|| compile("reclaim-ext4like.litmus", &reclaim_text("type=ext4like")));
static MIGRATE_PROG: LazyLock<Program> = LazyLock::new(|| compile("migrate.litmus", MIGRATE));
static LOOKUP_PROG: LazyLock<Program> = LazyLock::new(|| compile("lookup.litmus", LOOKUP));
static THP_MOVABLE_PROG: LazyLock<Program> = LazyLock::new(|| compile("thp-movable.litmus", THP_MOVABLE));
static STORAGE_PROG: LazyLock<Program> = LazyLock::new(|| compile("storage.litmus", STORAGE));
static LEASES_PROG: LazyLock<Program> = LazyLock::new(|| compile("leases.litmus", LEASES));
static TWO_MIGRATIONS_PROG: LazyLock<Program> =
    LazyLock::new(|| compile("two-migrations.litmus", TWO_MIGRATIONS));
static FORK_DURING_MIGRATION_PROG: LazyLock<Program> =
    LazyLock::new(|| compile("fork-during-migration.litmus", FORK_DURING_MIGRATION));
static TRUNCATE_RECLAIM_PROG: LazyLock<Program> =
    LazyLock::new(|| compile("truncate-reclaim.litmus", TRUNCATE_RECLAIM));
static EXIT_MID_OP_PROG: LazyLock<Program> = LazyLock::new(|| compile("exit-mid-op.litmus", EXIT_MID_OP));
static THP_URING_PROG: LazyLock<Program> = LazyLock::new(|| compile("thp-uring.litmus", THP_URING));

fn design(name: &str) -> Design {
    profile(name).unwrap_or_else(|| panic!("no design {name}")).design()
}

/// How one held GUP page is counted on its folio under the design:
/// references added to `_refcount`, and whether `_pincount` counts it.
/// Restated from the design table, not taken from the model: FOLL_GET is
/// one reference; a FOLL_PIN is one reference plus `GUP_PIN_COUNTING_BIAS`
/// on a small folio when pins are counted by bias, one reference and an
/// exact `_pincount` on a large folio (bias) or always (exact), and a plain
/// reference when the design does not count pins.
fn gup_counts(tracking: PinTracking, foll: Foll, large: bool) -> (u32, bool) {
    match (foll, tracking) {
        (Foll::Get, _) => (1, false),
        (Foll::Pin, PinTracking::Bias) if !large => (GUP_PIN_COUNTING_BIAS, false),
        (Foll::Pin, PinTracking::Bias | PinTracking::Exact) => (1, true),
        (Foll::Pin, PinTracking::None | PinTracking::Heuristic) => (1, false),
    }
}

/// The head frame of the folio `pfn` belongs to; a free frame is its own.
fn head_of(w: &World, pfn: Pfn) -> Pfn {
    match w.mem.frames.get(pfn.idx()).and_then(|f| f.folio) {
        Some(f) => match f.owner {
            Owner::Tail { head } => head,
            _ => pfn,
        },
        None => pfn,
    }
}

/// What the visible structure of the world says one folio's counts are,
/// accumulated on its head frame.
#[derive(Clone, Debug, Default)]
struct Derived {
    /// Page-cache slots holding the frame.
    cache: u32,
    /// Present PTEs mapping a page of the folio (migration entries excluded).
    ptes: u32,
    /// Processes among those PTEs.
    procs: Vec<usize>,
    /// Migration entries naming the frame.
    migration: u32,
    /// Held GUP pages of the folio, and the references they hold.
    held: u32,
    gup_refs: u32,
    /// Held FOLL_PIN pages (what the ghost must count), and those the
    /// folio's `_pincount` / write pincount must count under the design.
    pins: u16,
    exact_pins: u16,
    exact_write_pins: u16,
    /// Isolation and lookup references of in-flight operations.
    transient: u32,
    /// In-flight writebacks whose snapshot is this (bounce) frame.
    bounce_users: u32,
}

/// Re-derive every frame's counts from the page caches, page tables, pin
/// sets, thread states and bounce snapshots.
fn derive(cx: &Cx, w: &World) -> Vec<Derived> {
    let mut d = vec![Derived::default(); w.mem.frames.len()];
    let zero = w.zero_pfn;
    let at = |d: &mut Vec<Derived>, pfn: Pfn| -> usize {
        let i = head_of(w, pfn).idx();
        if i >= d.len() {
            d.resize(i + 1, Derived::default());
        }
        i
    };
    for f in &w.files {
        for pfn in f.cache.iter().flatten() {
            let i = at(&mut d, *pfn);
            d[i].cache += 1;
        }
    }
    for (p, pr) in w.procs.iter().enumerate() {
        for (_, e) in &pr.ptes {
            if e.migration {
                let i = at(&mut d, e.pfn);
                d[i].migration += 1;
            } else if Some(e.pfn) != zero {
                let i = at(&mut d, e.pfn);
                d[i].ptes += 1;
                if !d[i].procs.contains(&p) {
                    d[i].procs.push(p);
                }
            }
        }
    }
    for s in &w.pinsets {
        for pg in s.pages.iter().filter(|pg| pg.held && Some(pg.pfn) != zero) {
            let i = at(&mut d, pg.pfn);
            let large = w.mem.frames.get(i).and_then(|f| f.folio).is_some_and(|f| f.order > 0);
            let (refs, exact) = gup_counts(cx.design.pin_tracking, s.foll, large);
            d[i].held += 1;
            d[i].gup_refs += refs;
            if s.foll == Foll::Pin {
                d[i].pins += 1;
                if exact {
                    d[i].exact_pins += 1;
                    d[i].exact_write_pins += u16::from(s.write);
                }
            }
        }
    }
    for ts in &w.threads {
        // Reclaim holds its isolation reference on `cur`; migration on the
        // old folio until `folio_migrate_mapping` moves every reference
        // (the isolation one included) to the new folio, which gives it
        // back in `folio_putback_lru`; a lookup holds its own.
        let transient = match ts.op {
            OpState::Reclaim { cur: Some(pfn), .. } => Some(pfn),
            OpState::Migrate { old, new: None, .. } => Some(old),
            OpState::Migrate { new: Some(new), .. } => Some(new),
            OpState::Lookup { pfn } => Some(pfn),
            _ => None,
        };
        if let Some(pfn) = transient {
            let i = at(&mut d, pfn);
            d[i].transient += 1;
        }
        // After the copy, the migration keeps the source folio (one
        // reference) until its migration entries are gone.
        if let OpState::Migrate { old, new: Some(_), .. } = ts.op {
            let i = at(&mut d, old);
            d[i].transient += 1;
        }
        // Writeback passes, those of fsync and the flush before O_DIRECT.
        let wb = match &ts.op {
            OpState::Writeback(wb) => Some(wb),
            OpState::Fsync(st) => match &st.stage {
                FsyncStage::Writeback(wb) => Some(wb),
                _ => None,
            },
            OpState::Dio(st) => match &st.stage {
                DioStage::Flush(wb) => Some(wb),
                _ => None,
            },
            _ => None,
        };
        if let Some(src) = wb.and_then(|wb| wb_src(w, wb)) {
            let i = at(&mut d, src);
            d[i].bounce_users += 1;
        }
    }
    d
}

/// The bounce snapshot an in-flight writeback holds, if it holds one.
fn wb_src(w: &World, wb: &WbState) -> Option<Pfn> {
    let src = match wb.stage {
        WbStage::Csum { src, .. }
        | WbStage::Copy { src, .. }
        | WbStage::Flush { src, .. }
        | WbStage::Commit { src, .. }
        | WbStage::End { src } => src,
        _ => return None,
    };
    (w.cached(wb.file, wb.page) != Some(src)).then_some(src)
}

/// The old frame of every migration past `try_to_migrate`: the only frames
/// migration entries may name.
fn migrations_in_flight(w: &World) -> Vec<Pfn> {
    w.threads
        .iter()
        .filter_map(|ts| match ts.op {
            OpState::Migrate { old, stage, .. } if stage >= 2 => Some(old),
            _ => None,
        })
        .collect()
}

/// The modelled BUGs that mean a count went wrong. (Others, such as ext4's
/// `page_without_buffers`, are outcomes a design may legitimately reach.)
const COUNT_BUGS: [Bug; 4] = [Bug::RefcountUnderflow, Bug::PinUnderflow, Bug::BadPageFree, Bug::PinOverflow];

/// Every invariant that must hold after every step.
fn check_invariants(cx: &Cx, w: &World) -> Result<(), String> {
    let d = cx.design;
    if !w.ghost_pins_consistent() {
        return Err(format!("ghost pin counts {:?} disagree with the held FOLL_PIN pages", w.ghost.pins));
    }
    if let Some(b) = w.fired().bugs().find(|b| COUNT_BUGS.contains(b)) {
        return Err(format!("kernel_bug({}) fired", b.name()));
    }
    let derived = derive(cx, w);
    if derived.len() > w.mem.frames.len() {
        return Err(format!("something references pfn {} past the end of memory", derived.len() - 1));
    }
    // Pages a pin set still holds are alive and still the pages it took.
    for (s, set) in w.pinsets.iter().enumerate() {
        for (k, pg) in set.pages.iter().enumerate().filter(|(_, pg)| pg.held) {
            let frame = &w.mem.frames[pg.pfn.idx()];
            if frame.folio.is_none() || frame.gen != pg.gen {
                return Err(format!(
                    "pin set {s} ({:?}) page {k} holds pfn {} generation {}, but the frame is {} (generation {})",
                    set.foll,
                    pg.pfn.0,
                    pg.gen,
                    if frame.folio.is_some() { "reused" } else { "free" },
                    frame.gen
                ));
            }
        }
    }
    let in_flight = migrations_in_flight(w);
    for old in &in_flight {
        if in_flight.iter().filter(|o| *o == old).count() > 1 {
            return Err(format!(
                "two migrations in flight both own the migration entries of pfn {}: {:?}",
                old.0,
                w.threads.iter().map(|t| &t.op).collect::<Vec<_>>()
            ));
        }
    }
    check_page_tables(w, &in_flight)?;
    for (i, frame) in w.mem.frames.iter().enumerate() {
        let pfn = Pfn(i as u8);
        let e = &derived[i];
        let ghost = w.ghost.pins.get(i).copied().unwrap_or(0);
        let Some(folio) = frame.folio else {
            let orphan_entries = e.migration > 0 && !in_flight.contains(&pfn);
            if e.cache + e.ptes + e.held + e.transient + e.bounce_users > 0 || ghost != 0 || orphan_entries {
                return Err(format!("free pfn {i} is still referenced: {e:?}, ghost pins {ghost}"));
            }
            continue;
        };
        if let Owner::Tail { head } = folio.owner {
            let h = w.mem.frames.get(head.idx()).and_then(|f| f.folio);
            let inside = h.is_some_and(|h| {
                !matches!(h.owner, Owner::Tail { .. }) && i > head.idx() && i < head.idx() + (1 << h.order)
            });
            if !inside || (folio.refcount, folio.mapcount, folio.pincount, ghost) != (0, 0, 0, 0) {
                return Err(format!(
                    "tail pfn {i} of head {} is inconsistent: {folio:?}, head {h:?}",
                    head.0
                ));
            }
            continue;
        }
        if e.migration > 0 && !in_flight.contains(&pfn) {
            return Err(format!("{} migration entries name pfn {i}, which no migration owns", e.migration));
        }
        if folio.owner == Owner::Zero {
            if w.zero_pfn != Some(pfn) {
                return Err(format!("pfn {i} is a zero page but the zero page is {:?}", w.zero_pfn));
            }
            let counts = (folio.refcount, folio.mapcount, folio.pincount, folio.write_pincount, ghost);
            if counts != (1, 0, 0, 0, 0) || e.cache + e.transient > 0 {
                return Err(format!(
                    "the zero page (pfn {i}) keeps counts: (refcount, mapcount, pincount, write_pincount, \
                     ghost) = {counts:?}, {e:?}"
                ));
            }
            continue;
        }
        if w.zero_pfn == Some(pfn) {
            return Err(format!("zero_pfn is pfn {i}, which holds a {:?} folio", folio.owner));
        }
        if e.cache > 1 {
            return Err(format!("pfn {i} sits in {} page-cache slots", e.cache));
        }
        let slot = match folio.owner {
            Owner::File { file, index } => Some((file, index)),
            _ => None,
        };
        if let Some((file, index)) = slot.filter(|&(file, index)| w.cached(file, index) != Some(pfn)) {
            return Err(format!(
                "pfn {i} is page {index} of file {} but that slot holds {:?}",
                file.0,
                w.cached(file, index)
            ));
        }
        if slot.is_none() && e.cache > 0 {
            return Err(format!("pfn {i} ({:?}) sits in the page cache", folio.owner));
        }
        let bounce = u32::from(folio.owner == Owner::Bounce);
        if bounce != e.bounce_users {
            return Err(format!(
                "pfn {i} ({:?}) is the snapshot of {} in-flight writeback(s)",
                folio.owner, e.bounce_users
            ));
        }
        let private = private_refs(cx, folio.owner, folio.flags)?;
        let expect = e.cache + bounce + e.ptes + e.gup_refs + private + e.transient;
        if folio.refcount != expect {
            return Err(format!(
                "pfn {i} ({:?}, {}): refcount {} but expected {expect} = {} (page cache) + {bounce} (bounce) \
                 + {} (PTEs) + {} (GUP, {} held page(s)) + {private} (private data) + {} (transient)",
                folio.owner,
                folio.flags.describe(),
                folio.refcount,
                e.cache,
                e.ptes,
                e.gup_refs,
                e.held,
                e.transient
            ));
        }
        if u32::from(folio.mapcount) != e.ptes || w.rmap_count(pfn) != e.ptes as usize {
            return Err(format!(
                "pfn {i}: mapcount {}, rmap_count {}, but {} PTE(s) map it",
                folio.mapcount,
                w.rmap_count(pfn),
                e.ptes
            ));
        }
        if ghost != e.pins {
            return Err(format!(
                "pfn {i}: the ghost counts {ghost} pins but {} FOLL_PIN page(s) are held",
                e.pins
            ));
        }
        if (folio.pincount, folio.write_pincount) != (e.exact_pins, e.exact_write_pins)
            || (d.pin_tracking == PinTracking::Exact && folio.pincount != ghost)
        {
            return Err(format!(
                "pfn {i}: (pincount, write_pincount) = ({}, {}) but {} pin(s) ({} for write) are counted \
                 exactly under {:?}; the ghost counts {ghost}",
                folio.pincount, folio.write_pincount, e.exact_pins, e.exact_write_pins, d.pin_tracking
            ));
        }
        if folio.flags.has(FolioFlags::ANON_EXCLUSIVE) && e.procs.len() > 1 {
            return Err(format!("pfn {i} is anon-exclusive but processes {:?} map it", e.procs));
        }
    }
    Ok(())
}

/// References the file system's private data holds on a folio: one when
/// PG_private is set and the file's fs declares `private=ref`. PG_private
/// on a folio of another kind, or of an fs without private data, is wrong.
fn private_refs(cx: &Cx, owner: Owner, flags: FolioFlags) -> Result<u32, String> {
    if !flags.has(FolioFlags::PRIVATE) {
        return Ok(0);
    }
    let Owner::File { file, .. } = owner else {
        return Err(format!("a {owner:?} folio has PG_private"));
    };
    match cx.prog.fss[cx.prog.files[file.idx()].fs.idx()].private {
        PrivateData::Ref => Ok(1),
        PrivateData::NoRef => Ok(0),
        PrivateData::None => Err(format!("file {} has no private data but PG_private is set", file.0)),
    }
}

/// Every PTE lies in a VMA of a live process and maps what that VMA can
/// map: a shared file VMA its file's cached page; a private file VMA that
/// page read-only, or an anon copy; an anon VMA an anon page or, read-only,
/// the zero page. Migration entries name a frame an in-flight migration owns.
fn check_page_tables(w: &World, in_flight: &[Pfn]) -> Result<(), String> {
    for (p, pr) in w.procs.iter().enumerate() {
        if pr.state != ProcState::Alive && !pr.ptes.is_empty() {
            return Err(format!("process {p} is {:?} but has {} PTE(s)", pr.state, pr.ptes.len()));
        }
        for &(vpn, e) in &pr.ptes {
            let where_ = format!("process {p} vpn {vpn} ({e:?})");
            let Some(vma) = pr.vma(vpn) else { return Err(format!("{where_}: no VMA covers it")) };
            if e.writable && !vma.write {
                return Err(format!("{where_}: writable PTE in a read-only VMA"));
            }
            if e.migration {
                if !in_flight.contains(&e.pfn) {
                    return Err(format!("{where_}: a migration entry no migration owns"));
                }
                continue;
            }
            let Some(f) = w.mem.frames.get(e.pfn.idx()).and_then(|f| f.folio) else {
                return Err(format!("{where_}: maps a free frame"));
            };
            let owner = match f.owner {
                Owner::Tail { head } => w.mem.frames[head.idx()].folio.map(|h| h.owner),
                o => Some(o),
            };
            let ok = match vma.file {
                Some(file) => {
                    let cached = w.cached(file, vma.file_index(vpn));
                    if vma.shared {
                        cached == Some(e.pfn)
                    } else {
                        (cached == Some(e.pfn) && !e.writable) || owner == Some(Owner::Anon)
                    }
                }
                None => owner == Some(Owner::Anon) || (owner == Some(Owner::Zero) && !e.writable),
            };
            if !ok {
                return Err(format!("{where_}: maps a {owner:?} folio in {vma:?}"));
            }
        }
    }
    Ok(())
}

/// Run one step: of the threads whose step on a clone of the world runs,
/// in thread order, the one at `choice` modulo their number. `None` when no
/// thread can move.
fn step_from(cx: &Cx, w: &World, choice: usize) -> Option<(ThreadId, World)> {
    let mut runnable: Vec<(ThreadId, World)> = (0..cx.prog.thread_count())
        .filter_map(|t| {
            let t = ThreadId(t as u8);
            if !w.may_run(cx, t) {
                return None;
            }
            let mut next = w.clone();
            matches!(next.step(cx, t, &mut NoTrace), Step::Ran(_)).then_some((t, next))
        })
        .collect();
    if runnable.is_empty() {
        return None;
    }
    let i = choice % runnable.len();
    Some(runnable.swap_remove(i))
}

/// The outcome of one driven execution.
struct Run {
    world: World,
    schedule: Schedule,
}

/// Drive `prog` under `d` by `choices`, then to completion by always
/// choosing the lowest runnable thread, checking the invariants after the
/// initial state and after every step.
fn drive(prog: &Program, d: &Design, choices: &[u8]) -> Result<Run, String> {
    let cx = Cx { prog, design: d };
    let mut w = World::new(prog).map_err(|e| e.0)?;
    let mut sched = Vec::new();
    check_invariants(&cx, &w).map_err(|e| format!("{}: {}: initial state: {e}", prog.name, d.name))?;
    let forced = choices.iter().map(|&c| usize::from(c)).chain(std::iter::repeat(0));
    // Every op is a bounded number of steps, so this bound is never reached
    // by a terminating scenario; it only keeps a model bug from hanging the test.
    for choice in forced.take(choices.len() + 2000) {
        let Some((t, next)) = step_from(&cx, &w, choice) else { break };
        sched.push(t);
        w = next;
        check_invariants(&cx, &w).map_err(|e| {
            format!("{}: {}: after schedule {}: {e}", prog.name, d.name, Schedule(sched.clone()))
        })?;
    }
    if step_from(&cx, &w, 0).is_some() {
        return Err(format!("{}: {}: still running after {} steps", prog.name, d.name, sched.len()));
    }
    Ok(Run { world: w, schedule: Schedule(sched) })
}

fn schedules(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// Breadth first over every state of `prog` under `d` reachable from the
/// initial one, checking the invariants in each, that none is stuck (except
/// under `wait`, which deadlocks by design) and, in every final state, the
/// scenario's written `always` and `forbid` conditions. `Ok(states)`, or the
/// error with a shortest schedule that reaches it. Stops exploring past
/// `max_states`, so callers assert on the count.
fn check_every_state(prog: &Program, d: &Design, max_states: usize) -> Result<usize, String> {
    let cx = Cx { prog, design: d };
    let init = World::new(prog).map_err(|e| e.0)?;
    let fail = |sched: &[ThreadId], e: String| {
        format!("{}: {}: after schedule {}: {e}", prog.name, d.name, Schedule(sched.to_vec()))
    };
    check_invariants(&cx, &init).map_err(|e| fail(&[], e))?;
    let mut seen = std::collections::HashSet::from([init.clone()]);
    let mut queue = std::collections::VecDeque::from([(init, Vec::new())]);
    while let Some((w, sched)) = queue.pop_front() {
        let mut moved = false;
        for t in (0..prog.thread_count()).map(|t| ThreadId(t as u8)) {
            if !w.may_run(&cx, t) {
                continue;
            }
            let mut next = w.clone();
            if !matches!(next.step(&cx, t, &mut NoTrace), Step::Ran(_)) {
                continue;
            }
            moved = true;
            let mut s = sched.clone();
            s.push(t);
            check_invariants(&cx, &next).map_err(|e| fail(&s, e))?;
            if seen.len() < max_states && seen.insert(next.clone()) {
                queue.push_back((next, s));
            }
        }
        if w.all_done(&cx) {
            for c in prog.conds.iter().filter(|c| !c.implicit) {
                let broken = match c.kind {
                    CondKind::Always => !c.cond.eval(&w),
                    CondKind::Forbid => c.cond.eval(&w),
                    CondKind::Exists => false,
                };
                if broken {
                    let kind = if c.kind == CondKind::Always { "always" } else { "forbid" };
                    return Err(fail(&sched, format!("`{kind} {}` does not hold at the end", c.text)));
                }
            }
        }
        if !moved && !w.all_done(&cx) && d.pinned_writeback != PinnedWriteback::Wait {
            let waiting: Vec<&str> = (0..prog.thread_count())
                .filter(|&t| !w.thread_done(&cx, ThreadId(t as u8)))
                .map(|t| prog.thread(ThreadId(t as u8)).name.as_str())
                .collect();
            return Err(fail(&sched, format!("deadlock: {waiting:?} wait forever")));
        }
    }
    Ok(seen.len())
}

/// What a scenario promises beyond the per-step invariants.
#[derive(Clone, Copy, Default)]
struct Promises<'a> {
    /// Designs under which neither `checksum_error` nor `lost_write` fires.
    safe: &'a [&'a str],
    /// Every device access comes before the release of its pin in program
    /// order, so no design may let a device touch a freed frame.
    no_dma_after_free: bool,
    /// The scenario ends with a `sync` before its `scrub`: every page a
    /// device changed behind the mirrors' reads is dirty again and rewritten
    /// to both, so no design may leave md RAID1 mirrors apart.
    mirrors_heal: bool,
}

/// Drive `prog` by `choices` under every design; every execution must
/// finish (none of these scenarios can deadlock, except by `wait`'s
/// design), designs that count pins (bias, exact) never misjudge one, and
/// the scenario's promises hold.
fn check_all_designs(prog: &Program, choices: &[u8], promises: Promises) -> Result<(), TestCaseError> {
    for &name in DESIGNS.iter() {
        let d = design(name);
        let run = drive(prog, &d, choices).map_err(TestCaseError::fail)?;
        let cx = Cx { prog, design: &d };
        // `wait` deadlocks by design: page_mkclean waits for pins with the
        // folio locked, and a dirtying unpin needs that lock.
        prop_assert!(
            run.world.all_done(&cx) || d.pinned_writeback == PinnedWriteback::Wait,
            "{}: {name}: deadlock after {}",
            prog.name,
            run.schedule
        );
        let fired = run.world.fired();
        let mut never = vec![];
        if matches!(d.pin_tracking, PinTracking::Bias | PinTracking::Exact) {
            never.extend([Oracle::PinFalsePositive, Oracle::PinFalseNegative]);
        }
        if promises.safe.contains(&name) {
            never.extend([Oracle::ChecksumError, Oracle::LostWrite]);
        }
        if promises.no_dma_after_free {
            never.push(Oracle::DmaAfterFree);
        }
        if promises.mirrors_heal {
            never.push(Oracle::MirrorMismatch);
        }
        for o in never {
            prop_assert!(!fired.has(o), "{}: {name}: {} fired after {}", prog.name, o.name(), run.schedule);
        }
    }
    Ok(())
}

/// The designs whose pin test no transient reference can fool: all but the
/// refcount heuristic.
static EXACT_PIN_TESTS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    DESIGNS.iter().copied().filter(|&n| design(n).pin_tracking != PinTracking::Heuristic).collect()
});

/// Promises of the scenarios whose devices use a pin only before releasing it.
const NO_DMA_AFTER_FREE: Promises = Promises { safe: &[], no_dma_after_free: true, mirrors_heal: false };

fn cases(n: u32) -> ProptestConfig {
    // No regression files: a failure prints its shrunk schedule, which is
    // what a bug report needs.
    ProptestConfig { cases: n, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(cases(250))]

    /// The seed under every design; `bounce` never breaks a checksum or
    /// loses a write (`linux-4.19` may: that is the point of the seed).
    #[test]
    fn seed_counts_stay_exact(choices in schedules(120)) {
        check_all_designs(&SEED_PROG, &choices, Promises { safe: &["bounce"], ..Promises::default() })?;
    }

    /// The seed on md RAID1: counts stay exact with two mirror passes per
    /// write, bounce still loses nothing, and the final sync heals every
    /// mirror a device write split.
    #[test]
    fn seed_on_raid1_keeps_counts_exact_and_heals_its_mirrors(choices in schedules(160)) {
        let promises = Promises { safe: &["bounce"], mirrors_heal: true, ..Promises::default() };
        check_all_designs(&SEED_RAID1_PROG, &choices, promises)?;
    }

    #[test]
    fn two_pins_and_a_gup_of_one_page_keep_counts_exact(choices in schedules(120)) {
        check_all_designs(&TWO_PINS_PROG, &choices, Promises { safe: &["bounce"], ..Promises::default() })?;
    }

    #[test]
    fn dirtying_unpin_racing_writeback_keeps_counts_exact(choices in schedules(120)) {
        check_all_designs(&PIN_WB_PROG, &choices, Promises { safe: &["bounce"], ..Promises::default() })?;
    }

    #[test]
    fn two_processes_sharing_a_file_keep_counts_exact(choices in schedules(120)) {
        check_all_designs(&SHARED_FILE_PROG, &choices, Promises::default())?;
    }

    /// Without a device nothing writes a page behind the kernel's back, so
    /// no design may break a checksum or lose a write.
    #[test]
    fn store_and_fsync_racing_writeback_lose_nothing(choices in schedules(120)) {
        let promises = Promises { safe: &DESIGNS[..], ..Promises::default() };
        check_all_designs(&STORE_FSYNC_PROG, &choices, promises)?;
    }
}

proptest! {
    #![proptest_config(cases(400))]

    /// Zero page, COW, fork, exit, pins before and after the fork. (Every
    /// state of this scenario is also checked by
    /// `every_state_of_anon_fork_keeps_counts_exact`.)
    #[test]
    fn anon_fork_cow_and_pins_keep_counts_exact(choices in schedules(80)) {
        check_all_designs(&ANON_FORK_PROG, &choices, NO_DMA_AFTER_FREE)?;
    }

    /// A pinned page outlives its mapping and its process.
    #[test]
    fn munmap_and_exit_while_pinned_keep_frames_alive(choices in schedules(100)) {
        check_all_designs(&MUNMAP_EXIT_PROG, &choices, NO_DMA_AFTER_FREE)?;
    }

    #[test]
    fn reclaim_racing_writeback_and_pins_keeps_counts_exact_private_ref(choices in schedules(150)) {
        check_all_designs(&RECLAIM_REF_PROG, &choices, NO_DMA_AFTER_FREE)?;
    }

    #[test]
    fn reclaim_racing_writeback_and_pins_keeps_counts_exact_private_noref(choices in schedules(150)) {
        check_all_designs(&RECLAIM_NOREF_PROG, &choices, NO_DMA_AFTER_FREE)?;
    }

    #[test]
    fn reclaim_racing_writeback_and_pins_keeps_counts_exact_ext4like(choices in schedules(150)) {
        check_all_designs(&RECLAIM_EXT4_PROG, &choices, NO_DMA_AFTER_FREE)?;
    }

    #[test]
    fn migration_racing_dma_and_writeback_keeps_counts_exact(choices in schedules(150)) {
        check_all_designs(&MIGRATE_PROG, &choices, NO_DMA_AFTER_FREE)?;
    }

    #[test]
    fn large_folios_and_offlining_keep_counts_exact(choices in schedules(120)) {
        check_all_designs(&THP_MOVABLE_PROG, &choices, NO_DMA_AFTER_FREE)?;
    }

    #[test]
    fn coalesced_thp_fixed_buffers_keep_counts_exact(choices in schedules(120)) {
        check_all_designs(&THP_URING_PROG, &choices, NO_DMA_AFTER_FREE)?;
    }

    #[test]
    fn truncate_punch_and_direct_io_keep_counts_exact(choices in schedules(150)) {
        check_all_designs(&STORAGE_PROG, &choices, NO_DMA_AFTER_FREE)?;
    }

    /// Layout-lease breaks by truncate, punch and writeback release pins
    /// from other threads' steps; counts stay exact under every design.
    #[test]
    fn lease_breaks_keep_counts_exact(choices in schedules(150)) {
        check_all_designs(&LEASES_PROG, &choices, Promises::default())?;
    }

    /// Transient references confuse only the heuristic's pin test; with no
    /// device, every other design loses nothing.
    #[test]
    fn lookups_racing_writeback_keep_counts_exact(choices in schedules(150)) {
        let promises = Promises { safe: &EXACT_PIN_TESTS[..], ..Promises::default() };
        check_all_designs(&LOOKUP_PROG, &choices, promises)?;
    }
}

/// Every reachable state of the anon/fork/COW/pin scenario, under every
/// design (about 10k states each).
#[test]
fn every_state_of_anon_fork_keeps_counts_exact() {
    for &name in DESIGNS.iter() {
        let states =
            check_every_state(&ANON_FORK_PROG, &design(name), 100_000).unwrap_or_else(|e| panic!("{e}"));
        assert!((1_000..100_000).contains(&states), "{name}: {states} states");
    }
}

/// Regression test for a model bug this suite found (now fixed): `op_migrate` frees the old frame in
/// its stage 2 (`folio_migrate_mapping`) but its migration entries still
/// name that PFN until stage 3 (`remove_migration_ptes`), which matches
/// entries by PFN alone. The second process's anon page is allocated in the
/// freed frame and migrated; the first migration's stage 3 then turns the
/// second's migration entry into a PTE to the first process's new page, and
/// the second migration's own new page is freed unmapped. Shortest
/// schedule: `0.0.0.0.0.0.1.1.1.1.1` (a: mmap, fault, store, isolate,
/// unmap, move+free pfn 0; b: mmap, fault into pfn 0, store, isolate,
/// unmap) — then `0.0.1.1.1` ends with q's `n[0]` mapping p's page
/// (`b.r == 0x11`, an anon-exclusive folio mapped by two processes).
#[test]
fn every_state_of_two_concurrent_migrations_keeps_entries_apart() {
    for &name in DESIGNS.iter() {
        check_every_state(&TWO_MIGRATIONS_PROG, &design(name), 100_000).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Regression test for a model bug this suite found (now fixed): `op_fork` skips a PTE that is a
/// migration entry ("the child refaults here"), so a private anon page
/// under migration is simply missing from the child, whose next read maps
/// the zero page. Linux copies the migration entry (`copy_nonpresent_pte`)
/// and `remove_migration_ptes` later maps the new page in both. Shortest
/// schedule: `0.0.0.1.1.0.1.1.2.2` (par: mmap, fault, store; mig: isolate,
/// try_to_migrate; par: fork, copying no PTE; mig: copy, remove entries;
/// kid: zero-page fault, load) ends with `kid.r == 0x00`.
#[test]
fn every_state_of_fork_during_migration_keeps_the_childs_data() {
    for &name in DESIGNS.iter() {
        check_every_state(&FORK_DURING_MIGRATION_PROG, &design(name), 100_000)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Regression test for a model bug this suite found (now fixed): reclaim's `__remove_mapping` step
/// (`op_reclaim` stage 2) frees the folio when `refcount == 2`, taking the
/// two for the page cache's reference and its own isolation reference. A
/// truncate (or an O_DIRECT invalidation) between `folio_isolate_lru` and
/// the next reclaim step removes the folio from the page cache (owner
/// `Anon`, cache reference dropped); the 2 are then the isolation reference
/// and someone else's: a lookup's here, a pin's in the storage scenario
/// with reclaim added (`bad_page_free` under `linux-4.19`). The frame is
/// freed under the holder, whose `folio_put` then panics ("folio of a free
/// frame", `World::folio_put` called from `op_lookup`). Linux frees a
/// truncated folio only when the isolation reference is the last one
/// (`!mapping && folio_ref_count(folio) == 1`). Shortest schedule:
/// `0.1.2.1.1` (k: lookup +1; kswapd: isolate; t: truncate removes the
/// page; kswapd: trylock + unmap, then the freeze "succeeds" and frees the
/// frame the lookup still holds); one more `0` panics.
#[test]
fn every_state_of_truncate_under_reclaim_keeps_referenced_frames() {
    for &name in DESIGNS.iter() {
        check_every_state(&TRUNCATE_RECLAIM_PROG, &design(name), 100_000).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Regression test for a model bug this suite found (now fixed): `exit` ends every thread of the
/// process at once (`World::thread_done` is true for every thread of an
/// exited process) even when one is in the middle of a multi-step kernel
/// operation; whatever that operation holds is never released. Shortest
/// schedule: `0.0.0.0.0.0.1.1.1.2` (a: mmap, fault, mkwrite, store,
/// isolate, try_to_migrate → migration entry + folio locked; b: lookup
/// +1, put, exit; other: mmap) — then `other` waits forever on the
/// locked folio in `filemap_fault` and the flusher on its lock.
#[test]
fn every_state_of_exit_while_a_sibling_is_in_the_kernel_can_finish() {
    for &name in DESIGNS.iter() {
        check_every_state(&EXIT_MID_OP_PROG, &design(name), 100_000).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Every reachable state of fixed-buffer I/O through a coalesced THP
/// registration, under every design: counts stay exact, and READ_FIXED
/// into the registration's third page reaches the mapping's fourth.
#[test]
fn every_state_of_coalesced_thp_fixed_buffers_keeps_counts_exact() {
    for &name in DESIGNS.iter() {
        let states =
            check_every_state(&THP_URING_PROG, &design(name), 100_000).unwrap_or_else(|e| panic!("{e}"));
        assert!((50..100_000).contains(&states), "{name}: {states} states");
    }
}

/// `u.register` of a THP holds one pin per folio once registered
/// (`io_coalesce_buffer` → `unpin_user_folio(folio, nr - 1)`): the ghost
/// count and the folio's `_pincount` say 1 while every page was acquired;
/// unregistering (`io_release_ubuf`) leaves no pin, no reference and no
/// underflow. A registration within the folio (pages 1..3) coalesces too,
/// as `io_check_coalesce_buffer` accepts a partly covered single folio.
#[test]
fn coalesced_thp_registration_holds_one_pin_per_folio() {
    for (pages, n) in [("0..4", 4), ("1..4", 3), ("1..3", 2)] {
        let prog = compile("thp-register.litmus", &thp_register_text(pages));
        for &name in DESIGNS.iter() {
            let d = design(name);
            let cx = Cx { prog: &prog, design: &d };
            let mut w = World::new(&prog).unwrap();
            let what = format!("pages={pages}, {name}");
            let step_to = |w: &mut World, pc: u8| {
                while w.threads[0].pc < pc && !w.all_done(&cx) {
                    assert!(matches!(w.step(&cx, ThreadId(0), &mut NoTrace), Step::Ran(_)), "{what}: stuck");
                    check_invariants(&cx, w).unwrap_or_else(|e| panic!("{what}: {e}"));
                }
            };
            // mmap and store, then the registration.
            step_to(&mut w, 2);
            let refs_before: Vec<u32> =
                w.mem.frames.iter().map(|f| f.folio.map_or(0, |f| f.refcount)).collect();
            step_to(&mut w, 3);
            let set = &w.pinsets[0];
            assert_eq!(set.pages.len(), n, "{what}: every page acquired");
            let held: Vec<_> = set.pages.iter().filter(|p| p.held).collect();
            assert_eq!(held.len(), 1, "{what}: one pin per folio");
            assert!(set.pages.iter().skip(1).all(|p| p.coalesced && !p.held), "{what}: {set:?}");
            let head = head_of(&w, held[0].pfn);
            assert_eq!(w.ghost.pins[head.idx()], 1, "{what}: ghost pins");
            let folio = w.mem.folio(head);
            let exact = matches!(d.pin_tracking, PinTracking::Bias | PinTracking::Exact);
            assert_eq!(folio.pincount, u16::from(exact), "{what}: _pincount");
            // The unregistration.
            step_to(&mut w, u8::MAX);
            assert!(w.all_done(&cx), "{what}: unfinished");
            assert!(w.pinsets[0].pages.iter().all(|p| !p.held), "{what}: a pin leaked");
            assert!(w.ghost.pins.iter().all(|&c| c == 0), "{what}: ghost pins {:?}", w.ghost.pins);
            assert_eq!(w.mem.folio(head).pincount, 0, "{what}: _pincount after unregistering");
            let refs_after: Vec<u32> =
                w.mem.frames.iter().map(|f| f.folio.map_or(0, |f| f.refcount)).collect();
            assert_eq!(
                refs_after, refs_before,
                "{what}: references before registering and after unregistering"
            );
            assert!(w.fired().bugs().next().is_none(), "{what}: {:?}", w.fired().bugs().collect::<Vec<_>>());
        }
    }
}

/// A small deterministic PRNG (xorshift64*) for the coverage test.
fn xorshift(state: &mut u64) -> u8 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
}

/// The properties above are only as good as the states the driver reaches:
/// random schedules of the same length must reach biased refcounts, exact
/// pin counts above one, bounce buffers and the seed's races.
#[test]
fn random_schedules_reach_the_interesting_states() {
    let (mut bias, mut double_pin, mut bounce_frame, mut race) = (false, false, false, false);
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..64 {
        let choices: Vec<u8> = (0..120).map(|_| xorshift(&mut rng)).collect();
        for (prog, name) in
            [(&*TWO_PINS_PROG, "linux-6.x"), (&*TWO_PINS_PROG, "bounce"), (&*SEED_PROG, "linux-4.19")]
        {
            let d = design(name);
            let cx = Cx { prog, design: &d };
            let mut w = World::new(prog).unwrap();
            for &c in &choices {
                let Some((_, next)) = step_from(&cx, &w, usize::from(c)) else { break };
                w = next;
                let folios = || w.mem.frames.iter().filter_map(|f| f.folio);
                bias |= folios().any(|f| f.refcount >= GUP_PIN_COUNTING_BIAS);
                double_pin |= d.pin_tracking == PinTracking::Exact && folios().any(|f| f.pincount >= 2);
                bounce_frame |= folios().any(|f| f.owner == Owner::Bounce);
            }
            race |= w.fired().has(Oracle::ChecksumError) || w.fired().has(Oracle::LostWrite);
        }
    }
    assert!(bias, "no FOLL_PIN bias was ever seen under linux-6.x");
    assert!(double_pin, "no folio was ever pinned twice at once under bounce");
    assert!(bounce_frame, "no bounce buffer was ever allocated under bounce");
    assert!(race, "no random schedule of the seed hit the linux-4.19 race");
}

/// Run `runs` random schedules of `prog` under `name` (each to the end,
/// choices from the PRNG), calling `see` on every state reached.
fn sample(prog: &Program, name: &str, runs: usize, rng: &mut u64, mut see: impl FnMut(&Cx, &World)) {
    let d = design(name);
    let cx = Cx { prog, design: &d };
    for _ in 0..runs {
        let mut w = World::new(prog).unwrap();
        while let Some((_, next)) = step_from(&cx, &w, usize::from(xorshift(rng))) {
            w = next;
            see(&cx, &w);
        }
    }
}

/// The mm scenarios' random schedules reach the states they are about.
#[test]
fn random_schedules_reach_the_interesting_mm_states() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let held = |w: &World| -> Vec<(Foll, Pfn)> {
        w.pinsets
            .iter()
            .flat_map(|s| s.pages.iter().filter(|p| p.held).map(move |p| (s.foll, p.pfn)))
            .collect()
    };
    let mut seen = std::collections::BTreeMap::<&str, bool>::new();
    let mut mark = |what: &'static str, hit: bool| *seen.entry(what).or_default() |= hit;
    for name in ["linux-4.19", "linux-6.x"] {
        sample(&ANON_FORK_PROG, name, 40, &mut rng, |_, w| {
            let zero = w.zero_pfn;
            mark(
                "a read pin of the zero page",
                held(w).iter().any(|&(f, p)| f == Foll::Pin && Some(p) == zero),
            );
            mark(
                "an anon page COW-shared by parent and child",
                w.mem
                    .frames
                    .iter()
                    .any(|f| f.folio.is_some_and(|f| f.owner == Owner::Anon && f.mapcount == 2)),
            );
            mark(
                "a pin held after the child exited",
                w.procs.iter().any(|p| p.state == ProcState::Exited) && w.ghost.pins.iter().any(|&n| n > 0),
            );
        });
    }
    for name in ["linux-4.19", "bounce"] {
        sample(&MUNMAP_EXIT_PROG, name, 40, &mut rng, |_, w| {
            mark(
                "a pinned page outliving its process",
                w.procs[0].state == ProcState::Exited
                    && held(w)
                        .iter()
                        .any(|&(_, p)| w.mem.frames[p.idx()].folio.is_some_and(|f| f.owner == Owner::Anon)),
            );
        });
    }
    for (prog, name) in [
        (&*RECLAIM_REF_PROG, "linux-4.19"),
        (&*RECLAIM_NOREF_PROG, "linux-4.19"),
        (&*RECLAIM_EXT4_PROG, "linux-4.19"),
    ] {
        sample(prog, name, 60, &mut rng, |cx, w| {
            mark("a page reclaimed", w.files[0].cache.iter().any(Option::is_none));
            mark(
                "a pinned page isolated by reclaim",
                w.threads.iter().any(
                    |t| matches!(t.op, OpState::Reclaim { cur: Some(p), .. } if w.ghost.pins[p.idx()] > 0),
                ),
            );
            let private = cx.prog.fss[0].private;
            mark(
                if private == PrivateData::Ref {
                    "private data holding a reference"
                } else {
                    "private data without a reference"
                },
                w.mem.frames.iter().any(|f| f.folio.is_some_and(|f| f.flags.has(FolioFlags::PRIVATE))),
            );
            mark(
                "a pinned page whose buffers reclaim stripped",
                private == PrivateData::Ref
                    && w.mem.frames.iter().enumerate().any(|(i, f)| {
                        f.folio.is_some_and(|f| !f.flags.has(FolioFlags::PRIVATE)) && w.ghost.pins[i] > 0
                    }),
            );
        });
    }
    sample(&MIGRATE_PROG, "linux-4.19", 80, &mut rng, |_, w| {
        mark("a migration entry in the other process", w.procs[1].ptes.iter().any(|(_, e)| e.migration));
        mark(
            "a migration past the copy",
            w.threads.iter().any(|t| matches!(t.op, OpState::Migrate { new: Some(_), .. })),
        );
        mark(
            "a pinned page under migration",
            w.threads.iter().any(
                |t| matches!(t.op, OpState::Migrate { old, stage: 2, .. } if w.ghost.pins[old.idx()] > 0),
            ),
        );
    });
    for name in ["linux-4.19", "linux-6.x"] {
        sample(&THP_MOVABLE_PROG, name, 60, &mut rng, |cx, w| {
            let large = || w.mem.frames.iter().filter_map(|f| f.folio).filter(|f| f.order > 0);
            if cx.design.pin_tracking == PinTracking::Bias {
                mark("a large folio pinned twice (exact _pincount)", large().any(|f| f.pincount == 2));
            }
            mark("a large folio mapped by parent and child", large().any(|f| f.mapcount > 4));
            let hotplug = ThreadId(2);
            mark(
                "memory offlining that succeeded",
                w.thread_done(cx, hotplug) && w.err(hotplug).is_none() && w.mem.frames.len() > 8,
            );
        });
    }
    sample(&STORAGE_PROG, "linux-4.19", 40, &mut rng, |_, w| {
        mark(
            "a truncated page kept alive by its pin",
            w.files[0].cache[1].is_none()
                && w.mem.frames.iter().enumerate().any(|(i, f)| {
                    f.folio.is_some_and(|f| f.owner == Owner::Anon)
                        && w.ghost.pins[i] > 0
                        && w.rmap_count(Pfn(i as u8)) == 0
                }),
        );
        mark(
            "O_DIRECT moving data through its short-term pin",
            w.threads
                .iter()
                .any(|t| matches!(&t.op, OpState::Dio(st) if matches!(st.stage, DioStage::Io { .. }))),
        );
    });
    sample(&LOOKUP_PROG, "heuristic", 60, &mut rng, |_, w| {
        mark(
            "a lookup reference on a page under writeback",
            w.threads.iter().any(|t| match t.op {
                OpState::Lookup { pfn } => {
                    w.mem.frames[pfn.idx()].folio.is_some_and(|f| f.flags.has(FolioFlags::WRITEBACK))
                }
                _ => false,
            }),
        );
        mark(
            "the heuristic's false positive on a transient reference",
            w.fired().has(Oracle::PinFalsePositive),
        );
    });
    let missed: Vec<_> = seen.iter().filter(|(_, hit)| !**hit).map(|(what, _)| *what).collect();
    assert!(missed.is_empty(), "random schedules never reached: {missed:?}");
}

/// The checker itself must reject a world whose counts are off.
#[test]
fn invariant_checker_rejects_corrupted_counts() {
    let d = design("bounce");
    let prog = &*SEED_PROG;
    // Run until the NIC's pin is taken and the page is mapped: app's mmap,
    // reg_mr (fault + grab), store (fault + mkwrite + store).
    let mut w = World::new(prog).unwrap();
    let cx = Cx { prog, design: &d };
    while w.pinsets.is_empty() || w.rmap_count(Pfn(0)) == 0 {
        let Step::Ran(_) = w.step(&cx, ThreadId(0), &mut NoTrace) else { panic!("app cannot move") };
    }
    check_invariants(&cx, &w).unwrap();
    let folio = w.mem.frames[0].folio.expect("page 0 is cached");
    assert!(folio.pincount == 1 && folio.refcount == 3, "{folio:?}");

    type Corruption = (&'static str, fn(&mut World));
    let corruptions: [Corruption; 16] = [
        ("refcount", |w| w.mem.frames[0].folio.as_mut().unwrap().refcount += 1),
        ("mapcount", |w| w.mem.frames[0].folio.as_mut().unwrap().mapcount += 1),
        ("pincount", |w| w.mem.frames[0].folio.as_mut().unwrap().pincount -= 1),
        ("write_pincount", |w| w.mem.frames[0].folio.as_mut().unwrap().write_pincount = 0),
        ("ghost", |w| w.ghost.pins[0] += 1),
        ("held", |w| w.pinsets[0].pages[0].held = false),
        ("pinned generation", |w| w.pinsets[0].pages[0].gen += 1),
        // A transient reference the folio does not carry.
        ("lookup state", |w| w.threads[2].op = OpState::Lookup { pfn: Pfn(0) }),
        ("reclaim state", |w| w.threads[2].op = OpState::Reclaim { next: 1, cur: Some(Pfn(0)), stage: 1 }),
        ("migration state", |w| w.threads[2].op = OpState::Migrate { old: Pfn(0), new: None, stage: 1 }),
        // PG_private on csumfs without private data.
        ("private flag", |w| w.mem.frames[0].folio.as_mut().unwrap().flags.set(FolioFlags::PRIVATE)),
        // A migration entry nobody owns, and a PTE that maps the wrong page.
        ("migration entry", |w| w.procs[0].ptes[0].1.migration = true),
        ("PTE target", |w| w.procs[0].ptes[0].1.pfn = Pfn(1)),
        ("zero page", |w| w.zero_pfn = Some(Pfn(1))),
        // A bounce frame no writeback holds; a page-cache folio another slot holds.
        ("bounce owner", |w| w.mem.frames[1].folio.as_mut().unwrap().owner = Owner::Bounce),
        ("file owner", |w| {
            w.mem.frames[0].folio.as_mut().unwrap().owner = Owner::File { file: FileId(0), index: 1 }
        }),
    ];
    for (what, corrupt) in corruptions {
        let mut bad = w.clone();
        corrupt(&mut bad);
        assert!(check_invariants(&cx, &bad).is_err(), "corrupted {what} went unnoticed");
    }
    for b in COUNT_BUGS {
        let mut bad = w.clone();
        bad.fired.set_bug(b);
        assert!(check_invariants(&cx, &bad).is_err(), "kernel_bug({}) went unnoticed", b.name());
    }
    // Frees page 1 behind everyone's back: its page-cache slot still names it.
    let mut bad = w.clone();
    bad.mem.free(Pfn(1));
    assert!(check_invariants(&cx, &bad).is_err(), "a freed cached page went unnoticed");
}

fn seed_cx<'a>(d: &'a Design) -> Cx<'a> {
    Cx { prog: &SEED_PROG, design: d }
}

static DESIGN_419: LazyLock<Design> = LazyLock::new(|| design("linux-4.19"));

/// Exhaustive exploration of the seed under linux-4.19, shared by the tests
/// that need its witnesses.
static EXPLORED_419: LazyLock<Report> =
    LazyLock::new(|| explore(&seed_cx(&DESIGN_419), &World::new(&SEED_PROG).unwrap(), &Config::default()));

/// Index of the seed's written `forbid ORACLE` condition.
fn forbid_index(o: Oracle) -> usize {
    SEED_PROG
        .conds
        .iter()
        .position(|c| c.kind == CondKind::Forbid && !c.implicit && c.cond == Cond::Oracle(o))
        .unwrap_or_else(|| panic!("the seed has no `forbid {}`", o.name()))
}

#[test]
fn seed_exhaustive_bounce_every_condition_holds() {
    let d = design("bounce");
    let r = explore(&seed_cx(&d), &World::new(&SEED_PROG).unwrap(), &Config::default());
    assert!(r.complete);
    assert!(r.finals > 0);
    assert_eq!(r.conds.len(), SEED_PROG.conds.len());
    for (c, res) in SEED_PROG.conds.iter().zip(&r.conds) {
        assert!(
            res.holds && res.decided,
            "bounce: `{:?} {}` does not hold (witness {:?})",
            c.kind,
            c.text,
            res.witness
        );
    }
    assert_eq!(r.verdict(), Verdict::Pass);
    for o in [Oracle::ChecksumError, Oracle::LostWrite, Oracle::Deadlock, Oracle::KernelBug] {
        assert!(r.fired.iter().all(|(f, _)| *f != o), "bounce: {} fired somewhere", o.name());
    }
}

#[test]
fn seed_exhaustive_linux_4_19_witnesses_replay_to_the_race() {
    let d = &*DESIGN_419;
    let cx = seed_cx(d);
    let init = World::new(&SEED_PROG).unwrap();
    let r = &*EXPLORED_419;
    assert!(r.complete);
    assert_eq!(r.verdict(), Verdict::Fail);
    for o in [Oracle::ChecksumError, Oracle::LostWrite] {
        let i = forbid_index(o);
        let res = &r.conds[i];
        assert!(!res.holds && res.decided, "linux-4.19: `forbid {}` holds", o.name());
        // The oracle decides its forbid the moment it fires: the witness
        // stops at that step, and every completion of it violates the forbid.
        let witness = res.witness.as_ref().expect("a failed forbid has a witness");
        let (story, w) = replay(&cx, &init, witness).expect("the witness replays");
        assert_eq!(story.steps.len(), witness.0.len());
        assert!(w.fired().has(o), "replaying the witness of `forbid {}` does not fire it", o.name());
        assert!(
            story.steps.last().is_some_and(|s| s.fired.contains(&o.name())),
            "the witness of {} does not stop where it fires",
            o.name()
        );
        let (judged, full) = pinlab_explore::judge(&cx, &init, witness, 10_000).expect("it completes");
        assert_eq!(judged.evals[i], Some(true), "the completed witness violates `forbid {}`", o.name());
        let (story, end) = replay(&cx, &init, &full).unwrap();
        assert_eq!(story.end, "all threads finished");
        assert!(end.all_done(&cx) && SEED_PROG.conds[i].cond.eval(&end));
        // The step that fires the oracle comes before `finally`: the race is
        // seen when it happens, not only at the end.
        let (_, oracle_step) = r.fired.iter().find(|(f, _)| *f == o).expect("the oracle is in `fired`");
        let (_, at) = replay(&cx, &init, oracle_step).unwrap();
        assert!(at.fired().has(o));
    }
    // The other conditions still hold: the race loses data, nothing hangs or BUGs.
    for (c, res) in SEED_PROG.conds.iter().zip(&r.conds) {
        if c.implicit || c.kind == CondKind::Exists {
            assert!(res.holds, "linux-4.19: `{:?} {}` does not hold", c.kind, c.text);
        }
    }
}

#[test]
fn witness_schedule_round_trips_through_text_and_replays_identically() {
    let cx = seed_cx(&DESIGN_419);
    let init = World::new(&SEED_PROG).unwrap();
    let r = &*EXPLORED_419;
    let witness = r.conds[forbid_index(Oracle::ChecksumError)].witness.clone().expect("witness");
    let text = witness.to_string();
    assert!(text
        .split('.')
        .all(|p| p.parse::<u8>().is_ok_and(|t| usize::from(t) < SEED_PROG.thread_count())));
    let parsed: Schedule = text.parse().expect("a printed schedule parses");
    assert_eq!(parsed, witness);
    let (story_a, world_a) = replay(&cx, &init, &witness).unwrap();
    let (story_b, world_b) = replay(&cx, &init, &parsed).unwrap();
    assert_eq!(world_a, world_b);
    assert_eq!(story_a, story_b);
    assert_eq!(story_a.schedule, text);
    // Stepping the threads by hand gives the same world too.
    let mut w = init.clone();
    for &t in &witness.0 {
        assert!(matches!(w.step(&cx, t, &mut NoTrace), Step::Ran(_)));
    }
    assert_eq!(w, world_a);
    // A schedule that is not the program's is refused, not replayed.
    let mut wrong = witness.clone();
    wrong.0.push(ThreadId(0));
    assert!(replay(&cx, &init, &wrong).is_err(), "a step past the end of every thread replayed");
    assert!(replay(&cx, &init, &Schedule(vec![ThreadId(9)])).is_err());
}
