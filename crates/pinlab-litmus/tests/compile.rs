//! Compiler tests: the seed's exact program, how conditions compile and which
//! implicit conditions are added, and every compile-time diagnostic with its
//! exact `file:line:col` and text (as `Diags::to_plain` prints them).

use pinlab_litmus::{load, Source};
use pinlab_model::cond::Cond;
use pinlab_model::errno::Errno;
use pinlab_model::ids::*;
use pinlab_model::limits::FRAMES_MAX;
use pinlab_model::oracle::{Bug, Oracle};
use pinlab_model::program::{Advice, Backing, CondKind, DevKind, Foll, FsType, Op, ProcDecl, Program};
use proptest::prelude::*;

const SEED: &str = include_str!("../../../litmus/seed/rdma-writeback.litmus");

/// Eight lines of setup; the first statement after it is on line 9.
const SETUP: &str = "\
litmus t
setup {
  disk d0 sectors=64
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=2 fill=0xAA
  process p
  nic n
}
";

fn ok(text: &str) -> Program {
    match load(&Source::new("t.litmus", text)) {
        Ok(p) => p,
        Err(d) => panic!("unexpected errors:\n{}", d.to_plain()),
    }
}

/// The diagnostics of `text`, one `t.litmus:line:col: error: message` per line.
fn errs(text: &str) -> String {
    match load(&Source::new("t.litmus", text)) {
        Ok(p) => panic!("expected errors in {text:?}, compiled {p:#?}"),
        Err(d) => d.to_plain(),
    }
}

/// `SETUP` followed by `rest`.
fn with_setup(rest: &str) -> String {
    format!("{SETUP}{rest}")
}

// ---------------------------------------------------------------- positive

#[test]
fn seed_compiles_to_the_expected_program() {
    let p = load(&Source::new("litmus/seed/rdma-writeback.litmus", SEED)).expect("seed compiles");
    assert_eq!(p.name, "seed-rdma-writeback");
    assert_eq!(p.doc.as_deref(), Some("RDMA NIC writes a file page while writeback checksums it"));

    assert_eq!(p.disks.len(), 1);
    assert_eq!((p.disks[0].name.as_str(), p.disks[0].sectors, p.disks[0].volatile), ("d0", 64, true));
    assert_eq!(p.fss.len(), 1);
    assert_eq!((p.fss[0].name.as_str(), p.fss[0].disk, p.fss[0].ty), ("fs0", DiskId(0), FsType::Csumfs));
    assert!(p.fss[0].stable_writes, "csumfs defaults to stable writes");
    assert_eq!(p.files.len(), 1);
    assert_eq!(
        (p.files[0].name.as_str(), p.files[0].fs, p.files[0].pages, p.files[0].fill),
        ("f", FsId(0), 2, 0xAA)
    );
    assert_eq!(p.procs, vec![ProcDecl { name: "p".into(), forked: false }]);
    assert_eq!(p.devs.len(), 1);
    assert_eq!((p.devs[0].name.as_str(), p.devs[0].kind), ("n", DevKind::Nic));
    assert_eq!(p.names, vec!["m", "mr"]);

    let names: Vec<&str> = p.threads.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["app", "nic0", "flusher"]);
    assert_eq!(p.thread_count(), 4, "three threads and `finally`");
    assert_eq!(p.finally_id(), Some(ThreadId(3)));
    let procs: Vec<Option<ProcId>> = p.threads.iter().map(|t| t.proc).collect();
    assert_eq!(procs, [Some(ProcId(0)), None, None]);

    let (m, mr, dev, f) = (NameId(0), NameId(1), DevId(0), FileId(0));
    assert_eq!(
        p.threads[0].ops,
        vec![
            Op::Mmap {
                bind: m,
                backing: Backing::File(f),
                first: 0,
                pages: 2,
                shared: true,
                write: true,
                thp: false,
                hugetlb: false
            },
            Op::RegMr { bind: mr, dev, map: m, first: 0, pages: 1, write: true, odp: false },
            Op::Store { map: m, page: 0, byte: 0x11 },
            Op::Fsync { file: f, reg: None },
            Op::Dereg { dev, mr },
        ]
    );
    assert_eq!(
        p.threads[1].ops,
        vec![Op::DevWrite { dev, obj: mr, page: 0, pages: 1, byte: 0x22, key: None }]
    );
    assert_eq!(p.threads[2].ops, vec![Op::Writeback { file: f }]);
    let fin = p.finally.as_ref().expect("finally");
    assert_eq!(fin.name, "finally");
    assert_eq!(fin.proc, None);
    assert_eq!(fin.ops, vec![Op::Sync, Op::Crash, Op::Recover]);

    // Every op keeps its statement's text and location, for traces.
    let src: Vec<(&str, &str)> =
        p.all_threads().flat_map(|t| t.src.iter().map(|s| (s.text.as_str(), s.loc.as_str()))).collect();
    let at = |l: &str| format!("litmus/seed/rdma-writeback.litmus:{l}");
    let expect = [
        ("m = mmap f pages=0..2 shared write", at("14:3")),
        ("mr = n.reg_mr m pages=0..1 write", at("15:3")),
        ("store m[0] = 0x11", at("16:3")),
        ("fsync f", at("17:3")),
        ("n.dereg mr", at("18:3")),
        ("n.write mr[0] = 0x22", at("22:3")),
        ("writeback f", at("26:3")),
        ("sync", at("29:11")),
        ("crash", at("29:17")),
        ("recover", at("29:24")),
    ];
    assert_eq!(src, expect.iter().map(|(t, l)| (*t, l.as_str())).collect::<Vec<_>>());
    for t in p.all_threads() {
        assert_eq!(t.ops.len(), t.src.len(), "thread {}", t.name);
        assert!(t.regs.is_empty());
    }

    // Three written conditions, then the four implicit ones.
    let conds: Vec<(CondKind, &Cond, &str, bool)> =
        p.conds.iter().map(|c| (c.kind, &c.cond, c.text.as_str(), c.implicit)).collect();
    assert_eq!(
        conds,
        [
            (CondKind::Forbid, &Cond::Oracle(Oracle::ChecksumError), "checksum_error", false),
            (CondKind::Forbid, &Cond::Oracle(Oracle::LostWrite), "lost_write", false),
            (CondKind::Exists, &Cond::FileEq { file: f, page: 0, byte: 0x22 }, "f[0] == 0x22", false),
            (CondKind::Forbid, &Cond::Oracle(Oracle::Deadlock), "deadlock", true),
            (CondKind::Forbid, &Cond::Oracle(Oracle::Starvation), "starvation", true),
            (CondKind::Forbid, &Cond::Oracle(Oracle::KernelBug), "kernel_bug", true),
            (CondKind::Forbid, &Cond::Oracle(Oracle::DmaAfterFree), "dma_after_free", true),
        ]
    );
}

#[test]
fn conditions_compile_to_trees_and_suppress_their_implicit_forbids() {
    let p = ok(&with_setup(
        "\
thread app on p {
  m = mmap f pages=0..2 shared write
  r = load m[1]
  pp = pin m pages=0..2 write longterm
  g = gup m pages=1..2
  s = n.read mr[0]
  put g
  unpin pp dirty
}
thread reg on p {
  mr = n.reg_mr m pages=1..2
  n.dereg mr
}
forbid deadlock
exists app.r == 0xAA and not torn(f[1])
always app.err == 0 or kernel_bug(pin_underflow)
exists reg.err == EFAULT
",
    ));
    let (app, m, pp, g, mr) = (ThreadId(0), NameId(0), NameId(1), NameId(2), NameId(3));
    assert_eq!(p.names, vec!["m", "pp", "g", "mr"]);
    assert_eq!(p.threads[0].regs, vec!["r", "s"]);
    assert_eq!(
        p.threads[0].ops,
        vec![
            Op::Mmap {
                bind: m,
                backing: Backing::File(FileId(0)),
                first: 0,
                pages: 2,
                shared: true,
                write: true,
                thp: false,
                hugetlb: false,
            },
            Op::Load { reg: RegId(0), map: m, page: 1 },
            Op::Gup {
                bind: pp,
                map: m,
                first: 0,
                pages: 2,
                foll: Foll::Pin,
                write: true,
                longterm: true,
                coalesce: false
            },
            Op::Gup {
                bind: g,
                map: m,
                first: 1,
                pages: 1,
                foll: Foll::Get,
                write: false,
                longterm: false,
                coalesce: false
            },
            Op::DevRead { reg: RegId(1), dev: DevId(0), obj: mr, page: 0, key: None },
            Op::Unpin { pin: g, dirty: false },
            Op::Unpin { pin: pp, dirty: true },
        ]
    );
    assert_eq!(
        p.threads[1].ops,
        vec![
            Op::RegMr { bind: mr, dev: DevId(0), map: m, first: 1, pages: 1, write: false, odp: false },
            Op::Dereg { dev: DevId(0), mr },
        ]
    );
    let expect = [
        (CondKind::Forbid, Cond::Oracle(Oracle::Deadlock), false),
        (
            CondKind::Exists,
            Cond::And(
                Box::new(Cond::RegEq { thread: app, reg: RegId(0), value: 0xAA }),
                Box::new(Cond::Not(Box::new(Cond::Torn { file: FileId(0), page: 1 }))),
            ),
            false,
        ),
        (
            CondKind::Always,
            Cond::Or(
                Box::new(Cond::ErrEq { thread: app, err: None }),
                Box::new(Cond::Bug(Bug::PinUnderflow)),
            ),
            false,
        ),
        (CondKind::Exists, Cond::ErrEq { thread: ThreadId(1), err: Some(Errno::EFAULT) }, false),
        // `deadlock` and `kernel_bug(...)` are mentioned: only these are added.
        (CondKind::Forbid, Cond::Oracle(Oracle::Starvation), true),
        (CondKind::Forbid, Cond::Oracle(Oracle::DmaAfterFree), true),
    ];
    let got: Vec<(CondKind, Cond, bool)> =
        p.conds.iter().map(|c| (c.kind, c.cond.clone(), c.implicit)).collect();
    assert_eq!(got, expect);
    assert_eq!(p.conds[1].text, "app.r == 0xAA and not torn(f[1])");
}

#[test]
fn a_name_may_be_used_by_a_thread_written_before_its_binding() {
    let p = ok(&with_setup(
        "\
thread nic0 {
  n.write mr[0] = 0x22
}
thread app on p {
  m = mmap f pages=0..1 shared write
  mr = n.reg_mr m pages=0..1 write
}
",
    ));
    assert_eq!(p.names, vec!["m", "mr"]);
    assert_eq!(
        p.threads[0].ops,
        vec![Op::DevWrite { dev: DevId(0), obj: NameId(1), page: 0, pages: 1, byte: 0x22, key: None }]
    );
    assert_eq!(p.finally, None);
}

#[test]
fn setup_defaults_and_options() {
    let p = ok("\
litmus t
setup {
  disk d0 sectors=128 cache=writethrough
  disk d1 sectors=64
  fs a on d0 type=csumfs stable_writes=no
  fs b on d1 type=csumfs
  file f on a pages=3
  file g on b pages=1 fill=0x5a
  dma gpu
}
");
    let disks: Vec<(u16, bool)> = p.disks.iter().map(|d| (d.sectors, d.volatile)).collect();
    assert_eq!(disks, [(128, false), (64, true)], "a disk cache is volatile unless said otherwise");
    let fss: Vec<(DiskId, bool)> = p.fss.iter().map(|f| (f.disk, f.stable_writes)).collect();
    assert_eq!(fss, [(DiskId(0), false), (DiskId(1), true)], "csumfs defaults to stable writes");
    let files: Vec<(FsId, u8, u8)> = p.files.iter().map(|f| (f.fs, f.pages, f.fill)).collect();
    assert_eq!(files, [(FsId(0), 3, 0), (FsId(1), 1, 0x5a)], "a file is zero-filled unless said otherwise");
    assert_eq!(p.devs[0].kind, DevKind::Dma);
    assert!(p.threads.is_empty());
    assert_eq!(p.conds.len(), 4, "only the implicit conditions");
    assert!(p.conds.iter().all(|c| c.implicit && c.kind == CondKind::Forbid));
}

// ---------------------------------------------------------------- diagnostics

#[test]
fn unknown_verb_suggests_the_nearest() {
    let text = with_setup("thread a on p {\n  m = mmap f pages=0..2 shared write\n  stor m[0] = 1\n}\n");
    assert_eq!(errs(&text), "t.litmus:11:3: error: unknown verb `stor` (help: did you mean `store`?)\n");
}

#[test]
fn unknown_verb_without_a_near_miss_lists_the_verbs() {
    assert_eq!(
        errs(&with_setup("thread a on p {\n  frob f\n}\n")),
        "t.litmus:10:3: error: unknown verb `frob` \
         (help: verbs: mmap, munmap, madvise, mprotect, mremap, fork, exit, wait, store, load, pin, gup, unpin, put, fsync, writeback, sync, reclaim, migrate, offline, lookup, write, read, truncate, punch, dio_write, dio_read, fail_io)\n"
    );
}

#[test]
fn unknown_device_method_suggests_the_nearest() {
    let text =
        with_setup("thread a on p {\n  m = mmap f pages=0..2 shared write\n  mr = n.reg_m m pages=0..1\n}\n");
    assert_eq!(
        errs(&text),
        "t.litmus:11:10: error: `n` has no method `reg_m` (help: did you mean `reg_mr`?)\n"
    );
}

#[test]
fn unknown_setup_objects() {
    let text = "litmus t\nsetup {\n  disk d0 sectors=64\n  filesystem fs0 on d0\n  procss p\n}\n";
    assert_eq!(
        errs(text),
        "t.litmus:4:3: error: unknown setup object `filesystem` \
         (help: setup declares: memory, crash_points, disk, fs, file, process, nic, dma, uring)\n\
         t.litmus:5:3: error: unknown setup object `procss` (help: did you mean `process`?)\n"
    );
}

#[test]
fn setup_sizes_are_required() {
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0\n  fs fs0 on d0 type=csumfs\n  file f on fs0\n}\n"),
        "t.litmus:3:3: error: missing `sectors=N`\n\
         t.litmus:5:3: error: missing `pages=N`\n"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0 sectors=1024\n}\n"),
        "t.litmus:3:19: error: `sectors=N` must be at most 512\n"
    );
}

#[test]
fn a_file_of_zero_pages_is_an_error() {
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0 sectors=64\n  fs fs0 on d0 type=csumfs\n  file f on fs0 pages=0\n}\n"),
        "t.litmus:5:3: error: a file needs at least one page (help: write `pages=1` or more)\n"
    );
}

#[test]
fn setup_objects_defined_twice_or_misplaced() {
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0 sectors=64\n  disk d0 sectors=64\n}\n"),
        "t.litmus:4:8: error: `d0` is already defined (help: first defined on line 3)\n"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0 sectors=64\n  fs a on d0 type=csumfs\n  fs b on d0 type=csumfs\n}\n"),
        "t.litmus:5:3: error: only one file system per disk\n"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0 sectors=64\n  fs a on d0 type=xfs\n}\n"),
        "t.litmus:4:14: error: unknown file-system type (help: `type=csumfs`, `type=ext4like`, `type=xfslike` or `type=tmpfs`)\n"
    );
}

#[test]
fn unknown_names_files_and_processes() {
    let text = with_setup(
        "thread a on p {\n  m = mmap f pages=0..2 shared write\n  store mm[0] = 0x11\n  fsync g\n  unpin q\n}\n",
    );
    // A near miss gets a suggestion; otherwise the hint shows how to bind
    // the kind of object the statement needs.
    assert_eq!(
        errs(&text),
        "t.litmus:11:9: error: unknown name `mm` (help: did you mean `m`?)\n\
         t.litmus:12:9: error: unknown file `g` (help: did you mean `f`?)\n\
         t.litmus:13:9: error: unknown name `q` (help: bind it first, e.g. `pg = pin m pages=0..1 write`)\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on pp {\n  fsync f\n}\n")),
        "t.litmus:9:13: error: unknown process `pp` (help: did you mean `p`?)\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on f {\n  fsync f\n}\n")),
        "t.litmus:9:13: error: `f` is a file, not a process\n"
    );
}

#[test]
fn a_name_of_the_wrong_kind() {
    let text = with_setup(
        "thread a on p {\n  m = mmap f pages=0..2 shared write\n  unpin m\n  n.write m[0] = 1\n}\n",
    );
    assert_eq!(
        errs(&text),
        "t.litmus:11:9: error: `m` is a mapping, expected a pin\n\
         t.litmus:12:11: error: `m` is a mapping, expected a memory region\n"
    );
}

#[test]
fn name_bound_twice() {
    let text = with_setup(
        "thread a on p {\n  m = mmap f pages=0..2 shared write\n}\nthread b on p {\n  m = mmap f pages=0..1 shared\n}\n",
    );
    assert_eq!(
        errs(&text),
        "t.litmus:13:3: error: `m` is bound twice (help: first bound on line 10; names are global to the scenario)\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  f = mmap f pages=0..2 shared write\n}\n")),
        "t.litmus:10:3: error: `f` is already a setup object\n"
    );
}

#[test]
fn thread_defined_twice() {
    let text = with_setup("thread a on p {\n  fsync f\n}\nthread a {\n  writeback f\n}\n");
    assert_eq!(
        errs(&text),
        "t.litmus:12:8: error: thread `a` is defined twice (help: first defined on line 9)\n"
    );
}

#[test]
fn store_in_a_thread_without_a_process() {
    let text = with_setup(
        "thread a on p {\n  m = mmap f pages=0..2 shared write\n}\nthread b {\n  store m[0] = 0x11\n}\n",
    );
    assert_eq!(
        errs(&text),
        "t.litmus:13:3: error: `store` needs a process (help: declare the thread as `thread b on PROC {`)\n"
    );
}

#[test]
fn verbs_of_the_language_not_modelled_yet() {
    assert_eq!(
        errs(&with_setup("thread a on p {\n  drop_caches\n}\n")),
        "t.litmus:10:3: error: `drop_caches` is part of the language but not modelled in this version\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  m = mmap anon pages=0..1 shared write\n}\n")),
        "t.litmus:10:3: error: shared anonymous memory is not modelled in this version (help: use `private`)\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  m = mmap f pages=0..2 write\n}\n")),
        "t.litmus:10:3: error: say exactly one of `shared` or `private`\n"
    );
}

#[test]
fn fork_creates_a_process_threads_can_run_on() {
    let p = ok(&with_setup("thread a on p {\n  fork c\n}\nthread b on c {\n  exit\n}\n"));
    assert_eq!(p.procs[1], ProcDecl { name: "c".into(), forked: true });
    assert_eq!(p.threads[1].proc, Some(ProcId(1)));
    assert_eq!(p.threads[0].ops, [Op::Fork { child: ProcId(1) }]);
    assert_eq!(
        errs(&with_setup("thread a on p {\n  fork p\n}\n")),
        "t.litmus:10:8: error: `p` already exists (help: `fork CHILD` names a new process, used by no other statement)\n"
    );
}

#[test]
fn verbs_in_the_wrong_block() {
    let text = with_setup("thread a on p {\n  crash\n}\nfinally { store m[0] = 1 }\n");
    assert_eq!(
        errs(&text),
        "t.litmus:10:3: error: `crash` is not allowed in a thread \
         (help: allowed here: mmap, munmap, madvise, mprotect, mremap, fork, exit, wait, store, load, pin, gup, unpin, put, fsync, writeback, sync, reclaim, migrate, offline, lookup, write, read, truncate, punch, dio_write, dio_read, fail_io)\n\
         t.litmus:12:11: error: `store` is not allowed in `finally` (help: allowed here: sync, crash, recover, scrub)\n"
    );
}

#[test]
fn bad_page_ranges() {
    let range_err =
        "error: page range must be non-empty and within the limits (help: write A..B with A < B <= 64)";
    assert_eq!(
        errs(&with_setup("thread a on p {\n  m = mmap f pages=3..1 shared write\n}\n")),
        format!("t.litmus:10:20: {range_err}\n")
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  m = mmap f pages=1..1 shared write\n}\n")),
        format!("t.litmus:10:20: {range_err}\n")
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  m = mmap f pages=0..3 shared write\n}\n")),
        "t.litmus:10:3: error: the file has 2 page(s); the mapping runs past its end\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  m = mmap f pages=0..2 shared write\n  g = gup m pages=0..1 longterm\n}\n")),
        "t.litmus:11:3: error: FOLL_LONGTERM requires FOLL_PIN (is_valid_gup_args) (help: use `pin ... longterm`)\n"
    );
}

#[test]
fn byte_values_above_0xff() {
    // The message reads awkwardly (reported as a diagnostic to improve).
    assert_eq!(
        errs(&with_setup("thread a on p {\n  m = mmap f pages=0..2 shared write\n  store m[0] = 0x100\n}\n")),
        "t.litmus:11:16: error: a byte value (0x00..0xff) must be at most 255\n"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0 sectors=64\n  fs fs0 on d0 type=csumfs\n  file f on fs0 pages=2 fill=0x1AA\n}\n"),
        "t.litmus:5:30: error: a byte value (0x00..0xff) must be at most 255\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  m = mmap f pages=0..2 shared write\n  store m[0]\n}\n")),
        "t.litmus:11:3: error: `store` needs `= BYTE` (help: `store m[0] = 0x11`)\n"
    );
}

#[test]
fn unknown_oracle_suggests_the_nearest() {
    assert_eq!(
        errs(&with_setup("thread a on p {\n  fsync f\n}\nforbid checksum_eror\n")),
        "t.litmus:12:8: error: unknown oracle `checksum_eror` (help: did you mean `checksum_error`?)\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  fsync f\n}\nforbid kernel_bug(oops)\n")),
        "t.litmus:12:19: error: unknown kernel bug `oops` \
         (help: known: refcount_underflow, pin_underflow, bad_page_free, pin_overflow, page_without_buffers, dirty_without_buffers)\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  fsync f\n}\nexists f[2] == 0x11\n")),
        "t.litmus:12:10: error: `f` has 2 page(s)\n"
    );
}

#[test]
fn unknown_errno() {
    assert_eq!(
        errs(&with_setup("thread a on p {\n  fsync f\n}\nexists a.err == EFAULTY\n")),
        "t.litmus:12:17: error: unknown errno `EFAULTY` (help: known: EFAULT, EIO, ENOMEM, ENOSPC, EACCES, EINVAL, EBUSY, EAGAIN, ETXTBSY)\n"
    );
}

#[test]
fn registers_and_threads_in_conditions_must_exist() {
    let text = with_setup(
        "thread a on p {\n  m = mmap f pages=0..2 shared write\n  r = load m[0]\n}\nexists a.x == 0x11\n",
    );
    assert_eq!(errs(&text), "t.litmus:13:10: error: thread `a` has no register `x`\n");
    // Registers are per thread: `b.r` is not `a.r`.
    let text = with_setup(
        "thread a on p {\n  m = mmap f pages=0..2 shared write\n  r = load m[1]\n}\n\
         thread b on p {\n  s = load m[0]\n}\nexists b.r == 1\n",
    );
    assert_eq!(errs(&text), "t.litmus:16:10: error: thread `b` has no register `r`\n");
    assert_eq!(
        errs(&with_setup("thread a on p {\n  fsync f\n}\nexists b.err == 0\n")),
        "t.litmus:12:8: error: unknown thread `b`\n"
    );
    assert_eq!(
        errs(&with_setup("thread a on p {\n  m = mmap f pages=0..2 shared write\n  err = load m[0]\n}\n")),
        "t.litmus:11:3: error: `err` is reserved for the thread's last error\n"
    );
}

#[test]
fn disk_too_small_for_the_files() {
    // Located at the scenario's name, not at the disk (reported as a
    // diagnostic to improve).
    let text =
        "litmus t\nsetup {\n  disk d0 sectors=16\n  fs fs0 on d0 type=csumfs\n  file f on fs0 pages=2\n}\n";
    assert_eq!(
        errs(text),
        "t.litmus:1:8: error: the machine in `setup` cannot be built: \
         disk `d0` has 16 sectors; fs `fs0` with 2 file pages needs at least 32\n"
    );
    // 32 sectors are enough: one pointer block, two data blocks, one spare.
    ok("litmus t\nsetup {\n  disk d0 sectors=32\n  fs fs0 on d0 type=csumfs\n  file f on fs0 pages=2\n}\n");
    // A file may have up to 64 pages, but the machine has only 32 frames
    // and every file page starts cached.
    let text =
        "litmus t\nsetup {\n  disk d0 sectors=512\n  fs fs0 on d0 type=csumfs\n  file f on fs0 pages=40\n}\n";
    assert_eq!(
        errs(text),
        "t.litmus:1:8: error: the machine in `setup` cannot be built: not enough frames for the files' page cache\n"
    );
}

#[test]
fn unexpected_arguments_and_keys() {
    assert_eq!(
        errs(&with_setup("thread a on p {\n  fsync f now\n  writeback f speed=3\n}\n")),
        "t.litmus:10:11: error: unexpected argument to `fsync`\n\
         t.litmus:11:15: error: `writeback` takes no `speed=`\n"
    );
}

#[test]
fn several_errors_at_once_in_source_order() {
    let text = with_setup(
        "forbid lost_wrte\nthread a on p {\n  m = mmap f pages=0..2 shared write\n  stor m[0] = 1\n  \
         store m[0] = 0x1ff\n  fsync nope\n}\n",
    );
    let out = errs(&text);
    assert_eq!(
        out,
        "t.litmus:9:8: error: unknown oracle `lost_wrte` (help: did you mean `lost_write`?)\n\
         t.litmus:12:3: error: unknown verb `stor` (help: did you mean `store`?)\n\
         t.litmus:13:16: error: a byte value (0x00..0xff) must be at most 255\n\
         t.litmus:14:9: error: unknown file `nope`\n"
    );
    // The one-line `Display` is the first diagnostic.
    let d = load(&Source::new("t.litmus", text.as_str())).unwrap_err();
    assert_eq!(d.diags.len(), 4);
    assert_eq!(d.to_string(), "t.litmus:9:8: unknown oracle `lost_wrte`");
}

// ---------------------------------------------------------------- robustness

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever numbers a scenario uses, compiling it never panics; it
    /// succeeds exactly when every number is valid, and then the program
    /// always builds a world. (`pages=0` is left out: see
    /// `a_file_of_zero_pages_is_silently_one_page`.)
    #[test]
    fn numbers_in_any_range_compile_exactly_when_valid(
        sectors in 0u64..600,
        pages in 1u64..70,
        fill in 0u64..0x120,
        a in 0u64..70,
        b in 0u64..70,
        byte in 0u64..0x120,
        idx in 0u64..70,
    ) {
        let text = format!(
            "litmus t\nsetup {{\n  disk d0 sectors={sectors}\n  fs fs0 on d0 type=csumfs\n  \
             file f on fs0 pages={pages} fill={fill:#x}\n  process p\n}}\n\
             thread a on p {{\n  m = mmap f pages={a}..{b} shared write\n  store m[{idx}] = {byte:#x}\n}}\n\
             exists f[{idx}] == {byte:#x}\n"
        );
        // csumfs: one pointer sector per page (rounded up to blocks of 8
        // sectors), a block per page and one spare (hence `>`), in at most
        // 64 blocks.
        let blocks = (sectors / 8).min(64);
        // Every page of every file is cached from the start, one frame each.
        let fits = sectors <= 512
            && pages <= FRAMES_MAX as u64
            && blocks > pages.div_ceil(8) + pages;
        let valid = fits && fill <= 0xff && a < b && b <= pages && byte <= 0xff && idx < pages;
        match load(&Source::new("t.litmus", text.as_str())) {
            Ok(p) => {
                prop_assert!(valid, "accepted:\n{text}");
                prop_assert!(pinlab_model::World::new(&p).is_ok());
            }
            Err(d) => {
                let plain = d.to_plain();
                prop_assert!(!valid, "rejected:\n{text}\n{plain}");
                for line in plain.lines() {
                    prop_assert!(line.starts_with("t.litmus:") && line.contains(": error: "), "{line}");
                }
            }
        }
    }
}

// ------------------------------------------------------------ static checks

#[test]
fn a_constant_index_past_a_mapping_is_a_compile_error() {
    let e =
        errs(&with_setup("thread a on p {\n  m = mmap f pages=0..2 shared write\n  store m[5] = 0x11\n}\n"));
    assert!(e.contains("page 5 is outside `m`"), "{e}");
    assert!(e.contains("`m` has 2 page(s)"), "{e}");
    // A pin set too.
    let pinned = "litmus p\nsetup {\n  disk d0 sectors=64\n  fs fs0 on d0 type=csumfs\n  file f on fs0 pages=2\n  process p\n  dma gpu\n}\nthread a on p {\n  m = mmap f pages=0..2 shared write\n  pg = pin m pages=0..1 write\n  gpu.write pg[IDX] = 0x22\n  unpin pg\n}\n";
    let e = errs(&pinned.replace("IDX", "1"));
    assert!(e.contains("page 1 is outside `pg`") && e.contains("`pg` has 1 page(s)"), "{e}");
    ok(&pinned.replace("IDX", "0"));
    // In range: fine.
    ok(&with_setup("thread a on p {\n  m = mmap f pages=0..2 shared write\n  store m[1] = 0x11\n}\n"));
}

#[test]
fn threads_that_wait_for_each_other_are_a_compile_error_naming_the_cycle() {
    let text = with_setup(
        "thread a on p {\n  m = mmap f pages=0..2 shared write\n  n.write mr[0] = 0x22\n  pg = pin m pages=0..1 write\n}\n\
         thread b on p {\n  unpin pg\n  mr = n.reg_mr m pages=0..1 write\n}\n",
    );
    let e = errs(&text);
    assert!(e.contains("these statements wait for each other"), "{e}");
    assert!(e.contains("`a` (line 11) waits for `mr`") && e.contains("`b` (line 15) waits for `pg`"), "{e}");
    // Within one thread: a use before its own binding.
    let e =
        errs(&with_setup("thread a on p {\n  store m[0] = 0x11\n  m = mmap f pages=0..2 shared write\n}\n"));
    assert!(e.contains("`a` (line 10) waits for `m`"), "{e}");
    // A use in an earlier thread of a name bound later in the file is no cycle.
    ok(&with_setup(
        "thread a on p {\n  n.write mr[0] = 0x22\n}\nthread b on p {\n  m = mmap f pages=0..1 shared write\n  mr = n.reg_mr m pages=0..1 write\n}\n",
    ));
}

#[test]
fn a_name_of_the_wrong_kind_says_what_it_is_and_suggestions_fit_the_kind() {
    let e = errs(&with_setup(
        "thread a on p {\n  m = mmap f pages=0..2 shared write\n  fsync m\n}\nthread b on m {\n  exit\n}\n",
    ));
    assert!(e.contains("`m` is a mapping, not a file"), "{e}");
    assert!(e.contains("`m` is a mapping, not a process"), "{e}");
    assert!(!e.contains("did you mean `m`"), "never suggests the word itself: {e}");
    // Case-insensitive suggestion, of the needed kind only.
    let e = errs(&with_setup("thread a on p {\n  fsync F\n}\n"));
    assert!(e.contains("unknown file `F` (help: did you mean `f`?)"), "{e}");
}

#[test]
fn a_condition_on_an_oracle_the_machine_cannot_fire_is_warned_about() {
    let text = "litmus v\nsetup {\n  disk d0 sectors=64\n  fs fs0 on d0 type=ext4like\n  file f on fs0 pages=1\n  process p\n}\nthread a on p {\n  write f[0] = 0x11\n}\nforbid checksum_error\nforbid torn\n";
    let p = ok(text);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(
        p.warnings[0].starts_with("t.litmus:11:8: `checksum_error` can never fire here"),
        "{:?}",
        p.warnings
    );
    // The seed has csumfs: nothing to warn about.
    assert!(ok(&with_setup("forbid checksum_error\n")).warnings.is_empty());
}

#[test]
fn tmpfs_lives_in_memory_and_refuses_what_is_not_modelled() {
    let p = ok("litmus t\nsetup {\n  fs shm type=tmpfs\n  file f on shm pages=1\n  process p\n}\nthread a on p {\n  m = mmap f pages=0..1 shared write\n}\n");
    assert_eq!(p.fss[0].ty, FsType::Tmpfs);
    assert_eq!(p.disks.len(), 1, "a hidden disk for the block pointers");
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0 sectors=64\n  fs shm on d0 type=tmpfs\n}\n"),
        "t.litmus:4:3: error: tmpfs lives in memory, not on a disk (help: write `fs shm type=tmpfs`)\n"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  fs shm type=tmpf\n}\n"),
        "t.litmus:3:10: error: unknown file-system type (help: did you mean `tmpfs`?)\n"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  fs shm type=tmpfs\n  file f on shm pages=1\n  process p\n}\nthread a on p {\n  m = mmap anon pages=0..1 private write\n  dio_write f[0] from m[0]\n}\n"),
        "t.litmus:9:3: error: O_DIRECT on a tmpfs file is not modelled in this version (help: use a csumfs or ext4like file)\n"
    );
}

#[test]
fn range_verbs_check_their_ranges_and_advice() {
    let base =
        "litmus t\nsetup {\n  process p\n}\nthread a on p {\n  m = mmap anon pages=0..4 private write\n";
    let p = ok(&format!(
        "{base}  mprotect m pages=1..2 ro\n  madvise m dontneed\n  n = mremap m pages=2..4\n  munmap n\n}}\n"
    ));
    assert_eq!(p.threads[0].ops[1], Op::Mprotect { map: NameId(0), range: Some((1, 1)), write: false });
    assert_eq!(p.threads[0].ops[2], Op::Madvise { map: NameId(0), range: None, advice: Advice::DontNeed });
    assert_eq!(p.threads[0].ops[3], Op::Mremap { bind: NameId(1), map: NameId(0), first: 2, pages: 2 });
    assert_eq!(
        errs(&format!("{base}  mprotect m pages=2..6 rw\n}}\n")),
        "t.litmus:7:3: error: the mapping has 4 page(s); the range runs past its end\n"
    );
    assert_eq!(
        errs(&format!("{base}  mprotect m\n}}\n")),
        "t.litmus:7:3: error: say exactly one of `ro` (PROT_READ) or `rw` (PROT_READ|PROT_WRITE) (help: `mprotect m pages=0..1 ro`)\n"
    );
    assert_eq!(
        errs(&format!("{base}  madvise m dontneed dofork\n}}\n")),
        "t.litmus:7:3: error: say exactly one advice: `dontfork`, `dofork` or `dontneed` (help: `madvise m pages=1..4 dontneed`; other advice is not modelled)\n"
    );
    assert_eq!(
        errs(&format!("{base}  wait p\n}}\n")),
        "t.litmus:7:8: error: `p` is not a forked process (help: `wait CHILD` names a process created by `fork CHILD`)\n"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  process p\n}\nthread a on p {\n  m = mmap anon pages=0..3 private write hugetlb\n}\n"),
        "t.litmus:6:3: error: `hugetlb` needs an anon mapping of 2, 4, 8 or 16 pages (help: a large folio has a power-of-two size)\n"
    );
}

#[test]
fn pi_disks_require_stable_writes_and_their_file_systems_inherit_them() {
    let p = ok("litmus t\nsetup {\n  disk d0 sectors=64 pi=yes\n  fs fs0 on d0 type=xfslike\n  file f on fs0 pages=1\n}\n");
    assert!(p.disks[0].pi && p.disks[0].stable_writes);
    assert!(p.fss[0].stable_writes, "SB_I_STABLE_WRITES from bdev_stable_writes");
    assert_eq!(p.fss[0].ty, FsType::Xfslike);
    let q = ok("litmus t\nsetup {\n  disk d0 sectors=64\n  fs fs0 on d0 type=xfslike\n}\n");
    assert!(!q.fss[0].stable_writes, "an ordinary disk asks for nothing");
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0 sectors=64 pi=yes stable_writes=no\n}\n"),
        "t.litmus:3:3: error: a disk with `pi=yes` requires stable writes (bdev_stable_writes) (help: drop `stable_writes=no`)\n"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  disk d0 sectors=64 stable_writes=yes\n  fs fs0 on d0 type=ext4like stable_writes=no\n}\n"),
        "t.litmus:4:3: error: this disk requires stable writes; its file system inherits SB_I_STABLE_WRITES (help: drop `stable_writes=no`)\n"
    );
}

#[test]
fn raid1_disks_take_two_mirrors_and_only_they_can_be_scrubbed() {
    let setup = "litmus t\nsetup {\n  disk md0 sectors=64 mirrors=2\n  disk d1 sectors=64\n  fs fs0 on md0 type=xfslike\n  file f on fs0 pages=1\n}\n";
    let p = ok(&format!("{setup}finally {{ scrub md0 }}\nforbid mirror_mismatch\n"));
    assert_eq!((p.disks[0].mirrors, p.disks[1].mirrors), (2, 1));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        errs(&format!("{setup}finally {{ scrub d1 }}\n")),
        "t.litmus:8:11: error: disk `d1` has nothing to scrub: no checksums, one mirror (help: scrub verifies csumfs checksums and compares md RAID1 mirrors (`mirrors=2`))\n"
    );
    assert!(
        errs(&format!("{setup}thread a {{\n  scrub md0\n}}\n")).contains("`scrub`"),
        "scrub is a finally verb: md's check waits for writes in flight"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  disk md0 sectors=64 mirrors=3\n}\n"),
        "t.litmus:3:31: error: `mirrors=N` must be at most 2\n"
    );
    assert_eq!(
        errs("litmus t\nsetup {\n  disk md0 sectors=64 mirrors=0\n}\n"),
        "t.litmus:3:23: error: a disk has at least one mirror (help: `mirrors=2` makes it an md RAID1 array)\n"
    );
    let q = ok(&format!("{setup}forbid mirror_mismatch\n"));
    assert!(
        q.warnings.iter().any(|w| w.contains("`mirror_mismatch` can never fire here")),
        "{:?}",
        q.warnings
    );
}
