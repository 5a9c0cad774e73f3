//! `pinlab kernel --selftests`: the kernel's own mm selftests (`cow`,
//! `gup_longterm`) beside the model.
//!
//! The selftests print TAP: a `# [RUN] TEST ... with BACKING` line, then
//! `ok N …` / `not ok N …`, possibly `# SKIP` or `# XFAIL`. Each case that
//! ran is mapped ([`map_case`]) to a generated scenario ([`scenario`]) whose
//! conditions say what the selftest checks ("no leak from parent into
//! child", "the long-term R/W pin is reliable", "should have failed"), and
//! the scenario is explored under `linux-6.x`: the model agrees when it
//! passes exactly the cases the kernel passes. A case the model cannot
//! express is counted as such, with the reason, never as agreement.
//!
//! The mapping table is this module: [`TESTS`] for the test functions and
//! [`map_backing`] for the memory they run on. Its abstractions, stated once:
//! - A THP of any size (16 kB … 2 MiB) is a 4-page model folio, PTE-mapped
//!   (the model's `thp` is a scaled-down large folio). What `cow.c` does to
//!   it (mprotect one subpage, `MADV_DONTNEED` all but one, `mremap` half,
//!   `MADV_DONTFORK` + fork + `MADV_DOFORK`) is done on those 4 pages.
//! - A hugetlb page of any size (2 MiB, 1 GiB) is a 4-page hugetlb folio
//!   (`mm/hugetlb.rs`): the kernel's own XFAILs (vmsplice on hugetlb leaks,
//!   because `hugetlb_wp` reuses by mapcount) are expected of the model too.
//! - A memfd is a file on `tmpfs` (shmem); a tmpfile or local tmpfile is a
//!   file on `ext4like` (the machine's /tmp is ext4).
//! - A PMD-mapped THP, swap, `MADV_COLLAPSE`, memfd hugetlb (hugetlbfs) and
//!   the huge zero page are not modelled: those cases are "not expressible".
//! - `clear_softdirty()` (`iouring_ro`) is not modelled: without it the
//!   model's `mprotect rw` maps the exclusive page writable at once, where
//!   the kernel takes a write fault that reuses it. Either way the write
//!   reaches the pinned page; only the path differs.
//! - The selftests order the parent and child with pipes; a scenario checks
//!   its condition over every interleaving, which includes the selftest's.

use crate::model;
use pinlab_explore::{explore, Config};
use pinlab_model::{Cx, World};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kernel's result for one case.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KernelResult {
    Pass,
    Fail,
    /// `# XFAIL`: the selftest expects the kernel to fail (hugetlb vmsplice).
    Xfail,
    Skip(String),
}

/// One selftest case as the TAP output reports it.
#[derive(Serialize, Clone, Debug)]
pub struct Case {
    pub binary: String,
    /// The text of its `# [RUN]` line.
    pub name: String,
    pub kernel: KernelResult,
}

/// Parse a selftest's TAP output. A result belongs to the last `[RUN]`
/// line before it (a `[RUN]` line without a result is a section header).
pub fn parse_tap(binary: &str, text: &str) -> Vec<Case> {
    let mut run: Option<String> = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(r) = line.strip_prefix("# [RUN] ") {
            run = Some(r.trim().to_string());
            continue;
        }
        let (ok, rest) = if let Some(r) = line.strip_prefix("ok ") {
            (true, r)
        } else if let Some(r) = line.strip_prefix("not ok ") {
            (false, r)
        } else {
            continue;
        };
        let Some(name) = run.take() else { continue };
        let directive = rest.split_once(" # ").map(|(_, d)| d.trim());
        let kernel = match directive {
            Some(d) if d.starts_with("SKIP") => {
                KernelResult::Skip(d.trim_start_matches("SKIP").trim().into())
            }
            Some(d) if d.starts_with("XFAIL") => KernelResult::Xfail,
            _ if ok => KernelResult::Pass,
            _ => KernelResult::Fail,
        };
        out.push(Case { binary: binary.into(), name, kernel });
    }
    out
}

/// The memory a `cow.c` anon test runs on, as the model expresses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backing {
    BasePage,
    PteMappedThp,
    SinglePteOfThp,
    PartiallyMremappedThp,
    PartiallySharedThp,
    /// A private anon hugetlb page of any size, as a 4-page hugetlb folio.
    Hugetlb,
}

/// The test functions of `cow.c` the model expresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// `test_cow_in_parent[_mprotect]`
    CowInParent { mprotect: bool },
    /// `test_vmsplice_in_child[_mprotect]`
    VmspliceInChild { mprotect: bool },
    /// `test_vmsplice_before_fork` / `test_vmsplice_after_fork`
    VmspliceInParent { before_fork: bool },
    /// `test_iouring_ro` / `test_iouring_fork`
    Iouring { fork: bool },
}

/// The `[RUN]` text of each anon test, as `cow.c` prints it.
pub const TESTS: &[(&str, Test)] = &[
    ("Basic COW after fork()", Test::CowInParent { mprotect: false }),
    ("Basic COW after fork() with mprotect() optimization", Test::CowInParent { mprotect: true }),
    ("vmsplice() + unmap in child", Test::VmspliceInChild { mprotect: false }),
    ("vmsplice() + unmap in child with mprotect() optimization", Test::VmspliceInChild { mprotect: true }),
    ("vmsplice() before fork(), unmap in parent after fork()", Test::VmspliceInParent { before_fork: true }),
    ("vmsplice() + unmap in parent after fork()", Test::VmspliceInParent { before_fork: false }),
    ("R/O-mapping a page registered as iouring fixed buffer", Test::Iouring { fork: false }),
    ("fork() with an iouring fixed buffer", Test::Iouring { fork: true }),
];

/// What a case maps to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mapping {
    Anon {
        test: Test,
        backing: Backing,
    },
    /// `cow.c` non-anon "Basic COW": a private mapping written, the other
    /// mapping of the same memory must not change.
    NonAnonCow {
        file: FileKind,
    },
    /// `gup_longterm.c` "io_uring fixed buffer with MAP_SHARED|MAP_PRIVATE
    /// file mapping".
    UringFile {
        shared: bool,
        file: FileKind,
    },
    NotExpressible(&'static str),
}

/// What a non-anon case maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// The shared zero page (anon, read-faulted).
    ZeroPage,
    /// A tmpfile (or local tmpfile) on a disk file system.
    Disk,
    /// A memfd: a tmpfs (shmem) file.
    Memfd,
}

/// The model's counterpart of `cow.c`'s backing text (after "with ").
pub fn map_backing(b: &str) -> Result<Backing, &'static str> {
    if b.contains("swapped") {
        return Err("swap (MADV_PAGEOUT) is not modelled");
    }
    Ok(match b {
        _ if b.starts_with("hugetlb (") => Backing::Hugetlb,
        "base page" => Backing::BasePage,
        _ if b.starts_with("PTE-mapped THP") => Backing::PteMappedThp,
        _ if b.starts_with("single PTE of THP") => Backing::SinglePteOfThp,
        _ if b.starts_with("partially mremap()'ed THP") => Backing::PartiallyMremappedThp,
        _ if b.starts_with("partially shared THP") => Backing::PartiallySharedThp,
        _ if b.starts_with("THP") => {
            return Err("a PMD-mapped THP: the model maps large folios by PTEs only")
        }
        _ => return Err("a backing the mapping table does not know"),
    })
}

/// Map a case (its binary and `[RUN]` text) to a scenario, or say why not.
pub fn map_case(binary: &str, name: &str) -> Mapping {
    let (test, backing) = name.split_once(" ... with ").unwrap_or((name, ""));
    if binary == "gup_longterm" {
        if let Some(shared) =
            test.strip_prefix("io_uring fixed buffer with MAP_").map(|t| t.starts_with("SHARED"))
        {
            return match backing {
                "tmpfile" | "local tmpfile" => Mapping::UringFile { shared, file: FileKind::Disk },
                "memfd" => Mapping::UringFile { shared, file: FileKind::Memfd },
                _ if backing.starts_with("memfd hugetlb") => {
                    Mapping::NotExpressible("memfd hugetlb (hugetlbfs) is not modelled")
                }
                _ => Mapping::NotExpressible("a file type the mapping table does not know"),
            };
        }
        return Mapping::NotExpressible("a gup_test (debugfs) case: not mapped yet");
    }
    if test.contains("collapsing") {
        return Mapping::NotExpressible("MADV_COLLAPSE is not modelled");
    }
    if test == "Basic COW" {
        return match backing {
            "shared zeropage" => Mapping::NonAnonCow { file: FileKind::ZeroPage },
            "tmpfile" => Mapping::NonAnonCow { file: FileKind::Disk },
            "memfd" => Mapping::NonAnonCow { file: FileKind::Memfd },
            "huge zeropage" => Mapping::NotExpressible("the huge zero page is not modelled"),
            _ if backing.contains("hugetlb") => {
                Mapping::NotExpressible("memfd hugetlb (hugetlbfs) is not modelled")
            }
            _ => Mapping::NotExpressible("a backing the mapping table does not know"),
        };
    }
    let Some(&(_, t)) = TESTS.iter().find(|(n, _)| *n == test) else {
        return Mapping::NotExpressible(
            "a test the mapping table does not know (gup_test R/O pins are not mapped yet)",
        );
    };
    match map_backing(backing) {
        Ok(backing) => Mapping::Anon { test: t, backing },
        Err(why) => Mapping::NotExpressible(why),
    }
}

/// The scenario of a mapping (`None` for [`Mapping::NotExpressible`]).
pub fn scenario(m: &Mapping) -> Option<String> {
    match *m {
        Mapping::Anon { test, backing } => Some(anon_scenario(test, backing)),
        Mapping::NonAnonCow { file } => Some(non_anon_cow(file)),
        Mapping::UringFile { shared, file } => Some(uring_file(shared, file)),
        Mapping::NotExpressible(_) => None,
    }
}

/// The backing's preparation in the parent (`do_run_with_thp`), the pages
/// the test then runs on, and any helper thread it needs.
fn prep(b: Backing) -> (String, u8, &'static str) {
    let thp =
        "  m = mmap anon pages=0..4 private write thp\n  store m[0] = 0x01   # populate: one 4-page folio\n";
    match b {
        Backing::BasePage => {
            ("  m = mmap anon pages=0..1 private write\n  store m[0] = 0x01\n".into(), 1, "")
        }
        Backing::PteMappedThp => (
            format!("{thp}  mprotect m pages=1..2 ro   # PTE-map the THP\n  mprotect m pages=1..2 rw\n"),
            4,
            "",
        ),
        Backing::SinglePteOfThp => (format!("{thp}  madvise m pages=1..4 dontneed\n"), 1, ""),
        Backing::PartiallyMremappedThp => (format!("{thp}  m2 = mremap m pages=2..4\n"), 2, ""),
        Backing::Hugetlb => (
            "  m = mmap anon pages=0..4 private write hugetlb\n  store m[0] = 0x01   # populate: one 4-page hugetlb folio\n"
                .into(),
            4,
            "",
        ),
        Backing::PartiallySharedThp => (
            format!(
                "{thp}  madvise m pages=1..4 dontfork\n  fork c0\n  wait c0\n  madvise m pages=1..4 dofork\n"
            ),
            4,
            "thread k0 on c0 {\n  exit\n}\n",
        ),
    }
}

fn stores(n: u8) -> String {
    (0..n).map(|i| format!("  store m[{i}] = 0xff\n")).collect()
}

/// The pages a test checks: the first and the last.
fn checked(n: u8) -> Vec<u8> {
    if n > 1 {
        vec![0, n - 1]
    } else {
        vec![0]
    }
}

fn anon_scenario(test: Test, backing: Backing) -> String {
    let (prep, n, helper) = prep(backing);
    let mprotect = format!("  mprotect m pages=0..{n} ro\n  mprotect m pages=0..{n} rw\n");
    let pages = checked(n);
    let any =
        |who: &str| pages.iter().map(|p| format!("{who}.r{p} == 0xff")).collect::<Vec<_>>().join(" or ");
    let mut s = format!("litmus selftest-{}\n", name_of(test, backing));
    s +=
        &format!("doc \"cow.c: {:?} with {:?} (generated by pinlab kernel --selftests)\"\n\n", test, backing);
    let needs_file = matches!(test, Test::Iouring { .. });
    s += "setup {\n  process p\n";
    if matches!(test, Test::VmspliceInChild { .. } | Test::VmspliceInParent { .. }) {
        s += "  dma pipe   # the pipe holding vmsplice's page references\n";
    }
    if needs_file {
        s += &format!("  disk d0 sectors=64\n  fs fs0 on d0 type=ext4like\n  file f on fs0 pages={n} fill=0x00\n  uring u\n");
    }
    s += "}\n\n";
    match test {
        Test::CowInParent { mprotect: mp } => {
            s += &format!("thread par on p {{\n{prep}  fork c\n");
            if mp {
                s += &mprotect;
            }
            s += &stores(n);
            s += "}\n\nthread kid on c {\n";
            s += &pages.iter().map(|p| format!("  r{p} = load m[{p}]\n")).collect::<String>();
            s += &format!("}}\n{helper}\nforbid {}\n", any("kid"));
        }
        Test::VmspliceInChild { mprotect: mp } => {
            s += &format!("thread par on p {{\n{prep}  fork c\n");
            if mp {
                s += &mprotect;
            }
            s += &stores(n);
            s += &format!("}}\n\nthread kid on c {{\n  g = gup m pages=0..{n}   # vmsplice: FOLL_GET, read-only\n  munmap m\n}}\n\nthread reader {{\n");
            s += &pages.iter().map(|p| format!("  r{p} = pipe.read g[{p}]\n")).collect::<String>();
            s += &format!("}}\n{helper}\nforbid {}\n", any("reader"));
        }
        Test::VmspliceInParent { before_fork } => {
            let vmsplice = format!("  g = gup m pages=0..{n}   # vmsplice: FOLL_GET, read-only\n");
            s += &format!("thread par on p {{\n{prep}");
            if before_fork {
                s += &vmsplice;
                s += "  fork c\n";
            } else {
                s += "  fork c\n";
                s += &vmsplice;
            }
            s += "  munmap m\n  wait c\n";
            s += &pages.iter().map(|p| format!("  r{p} = pipe.read g[{p}]\n")).collect::<String>();
            s += "}\n\nthread kid on c {\n";
            s += &stores(n);
            s += &format!("  exit\n}}\n{helper}\nforbid {}\n", any("par"));
        }
        Test::Iouring { fork } => {
            s += &format!("thread par on p {{\n{prep}  b = u.register m pages=0..{n}\n");
            if fork {
                s += "  fork c   # the child stays alive, with no thread\n";
            } else {
                s += &mprotect;
            }
            s += &stores(n);
            for p in &pages {
                s += &format!("  u.write_fixed f[{p}] from b[{p}]\n  r{p} = read f[{p}]\n");
            }
            let all = pages.iter().map(|p| format!("par.r{p} == 0xff")).collect::<Vec<_>>().join(" and ");
            s += &format!("}}\n{helper}\nalways {all}\n");
        }
    }
    s
}

fn name_of(test: Test, backing: Backing) -> String {
    let t = match test {
        Test::CowInParent { mprotect: false } => "cow-in-parent",
        Test::CowInParent { mprotect: true } => "cow-in-parent-mprotect",
        Test::VmspliceInChild { mprotect: false } => "vmsplice-in-child",
        Test::VmspliceInChild { mprotect: true } => "vmsplice-in-child-mprotect",
        Test::VmspliceInParent { before_fork: true } => "vmsplice-before-fork",
        Test::VmspliceInParent { before_fork: false } => "vmsplice-after-fork",
        Test::Iouring { fork: false } => "iouring-ro",
        Test::Iouring { fork: true } => "iouring-fork",
    };
    let b = match backing {
        Backing::BasePage => "base-page",
        Backing::PteMappedThp => "pte-mapped-thp",
        Backing::SinglePteOfThp => "single-pte-of-thp",
        Backing::PartiallyMremappedThp => "partially-mremapped-thp",
        Backing::PartiallySharedThp => "partially-shared-thp",
        Backing::Hugetlb => "hugetlb",
    };
    format!("{t}-{b}")
}

/// The `setup` lines of a file of `kind`, named `f`, one page of zeroes.
fn file_setup(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Disk => {
            "  disk d0 sectors=64\n  fs fs0 on d0 type=ext4like\n  file f on fs0 pages=1 fill=0x00\n"
        }
        FileKind::Memfd => "  fs shm type=tmpfs   # memfd_create\n  file f on shm pages=1 fill=0x00\n",
        FileKind::ZeroPage => "",
    }
}

fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::ZeroPage => "shared-zeropage",
        FileKind::Disk => "tmpfile",
        FileKind::Memfd => "memfd",
    }
}

fn non_anon_cow(file: FileKind) -> String {
    let maps = match file {
        FileKind::ZeroPage => {
            "  m = mmap anon pages=0..1 private write\n  s = mmap anon pages=0..1 private\n"
        }
        _ => "  m = mmap f pages=0..1 private write\n  s = mmap f pages=0..1 shared\n",
    };
    format!(
        "litmus selftest-basic-cow-{}\ndoc \"cow.c non-anon Basic COW with {}: writing the private mapping leaves the other mapping alone\"\n\nsetup {{\n{}  process p\n}}\n\nthread par on p {{\n{maps}  a = load m[0]   # fault both in\n  b = load s[0]\n  store m[0] = 0xff\n  r = load s[0]\n}}\n\nalways par.r == 0x00\n",
        kind_name(file),
        kind_name(file),
        file_setup(file),
    )
}

fn uring_file(shared: bool, file: FileKind) -> String {
    let kind = if shared { "shared" } else { "private" };
    // gup_longterm's expectation: a shared mapping works only where the
    // file system needs no dirty tracking (shmem, hugetlbfs).
    let works = !shared || file == FileKind::Memfd;
    let (cond, why) = if works {
        ("par.err == 0", "should work")
    } else {
        ("par.err != 0", "should fail: a long-term write pin of a dirty-tracked shared file mapping")
    };
    format!(
        "litmus selftest-uring-{}-{kind}\ndoc \"gup_longterm.c io_uring fixed buffer with MAP_{} file mapping ({}): {why}\"\n\nsetup {{\n{}  process p\n  uring u\n}}\n\nthread par on p {{\n  m = mmap f pages=0..1 {kind} write\n  b = u.register m pages=0..1\n}}\n\nalways {cond}\n",
        kind_name(file),
        kind.to_uppercase(),
        kind_name(file),
        file_setup(file),
    )
}

/// How one case came out.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Agree,
    Disagree,
    /// The kernel expects its own failure (`XFAIL`) and the model fails too.
    AgreeXfail,
    NotExpressible,
    /// The kernel skipped the case.
    Skipped,
}

#[derive(Serialize, Clone, Debug)]
pub struct Row {
    #[serde(flatten)]
    pub case: Case,
    pub mapping: Mapping,
    /// The model's verdict under linux-6.x: every condition holds.
    pub model_pass: Option<bool>,
    pub verdict: Verdict,
}

#[derive(Serialize, Clone, Debug)]
pub struct Report {
    pub design: &'static str,
    pub rows: Vec<Row>,
    pub ran: usize,
    pub expressible: usize,
    pub agree: usize,
    pub disagree: usize,
    pub skipped: usize,
}

/// Explore a generated scenario under `linux-6.x`: does every condition
/// (implicit ones too) hold?
pub fn model_passes(text: &str) -> Result<bool, String> {
    model_passes_under(text, &model::design())
}

/// The same under any design (the tests use the 2018 ones).
pub fn model_passes_under(text: &str, design: &pinlab_model::design::Design) -> Result<bool, String> {
    let prog = model::compile("selftest.litmus", text)?;
    let init = World::new(&prog).map_err(|e| e.0)?;
    let cfg = Config { max_states: Some(2_000_000), ..Default::default() };
    let r = explore(&Cx { prog: &prog, design }, &init, &cfg);
    if let Some(why) = r.not_applicable {
        return Err(format!("n/a: {why}"));
    }
    let all_hold = r.conds.iter().all(|c| c.holds);
    if !all_hold {
        return Ok(false); // a violation seen is decided, complete or not
    }
    if !r.complete {
        return Err("model exploration incomplete".into());
    }
    Ok(true)
}

/// Compare parsed cases with the model.
pub fn compare(cases: Vec<Case>) -> Report {
    let mut cache: HashMap<Mapping, Result<bool, String>> = HashMap::new();
    let mut rows = Vec::new();
    for case in cases {
        let mapping = map_case(&case.binary, &case.name);
        let ran = !matches!(case.kernel, KernelResult::Skip(_));
        let model = match (&mapping, ran) {
            (Mapping::NotExpressible(_), _) | (_, false) => None,
            (m, true) => Some(
                cache
                    .entry(m.clone())
                    .or_insert_with(|| model_passes(&scenario(m).expect("expressible")))
                    .clone(),
            ),
        };
        let model_pass = model.as_ref().and_then(|r| r.as_ref().ok().copied());
        let verdict = match (&case.kernel, &mapping, model_pass) {
            (KernelResult::Skip(_), _, _) => Verdict::Skipped,
            (_, Mapping::NotExpressible(_), _) => Verdict::NotExpressible,
            (_, _, None) => Verdict::Disagree, // the model could not decide
            (KernelResult::Pass, _, Some(true)) | (KernelResult::Fail, _, Some(false)) => Verdict::Agree,
            (KernelResult::Xfail, _, Some(false)) => Verdict::AgreeXfail,
            _ => Verdict::Disagree,
        };
        rows.push(Row { case, mapping, model_pass, verdict });
    }
    let count = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count();
    Report {
        design: model::DESIGN,
        ran: count(&|r| r.verdict != Verdict::Skipped),
        expressible: count(&|r| !matches!(r.verdict, Verdict::Skipped | Verdict::NotExpressible)),
        agree: count(&|r| matches!(r.verdict, Verdict::Agree | Verdict::AgreeXfail)),
        disagree: count(&|r| r.verdict == Verdict::Disagree),
        skipped: count(&|r| r.verdict == Verdict::Skipped),
        rows,
    }
}

/// Build `cow` and `gup_longterm` from a kernel source tree into `out`.
pub fn build(src: &Path, out: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mm = src.join("tools/testing/selftests/mm");
    if !mm.join("cow.c").is_file() {
        return Err(format!("{} has no tools/testing/selftests/mm/cow.c", src.display()));
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    // check_config.sh's result, assuming liburing is installed (the build
    // fails with a clear linker error otherwise).
    std::fs::write(out.join("local_config.h"), "#define LOCAL_CONFIG_HAVE_LIBURING 1\n")
        .map_err(|e| format!("{}: {e}", out.display()))?;
    let mut built = Vec::new();
    for (bin, extra) in [("cow", &["thp_settings.c"][..]), ("gup_longterm", &[][..])] {
        let exe = out.join(bin);
        let mut cmd = Command::new("gcc");
        cmd.current_dir(&mm)
            .args(["-O1", "-w"])
            .arg("-I")
            .arg(out)
            .arg("-I")
            .arg("..")
            .arg("-isystem")
            .arg(src.join("tools/include/uapi"))
            .arg("-o")
            .arg(&exe)
            .arg(format!("{bin}.c"))
            .arg("vm_util.c")
            .args(extra)
            .args(["-luring", "-lrt", "-lpthread"]);
        let o = cmd.output().map_err(|e| format!("gcc: {e}"))?;
        if !o.status.success() {
            return Err(format!("building {bin} failed:\n{}", String::from_utf8_lossy(&o.stderr)));
        }
        built.push((bin.to_string(), exe));
    }
    Ok(built)
}

/// Run a built selftest and return its TAP output.
pub fn run_binary(exe: &Path) -> Result<String, String> {
    let o = Command::new(exe).output().map_err(|e| format!("{}: {e}", exe.display()))?;
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// The report as text: one line per (test, backing) group, then totals.
pub fn text(r: &Report) -> String {
    type Group = (String, String, usize, Verdict, Option<bool>, String, Option<&'static str>);
    let mut groups: Vec<Group> = Vec::new();
    for row in &r.rows {
        if row.verdict == Verdict::Skipped {
            continue;
        }
        let (test, backing) = row.case.name.split_once(" ... with ").unwrap_or((&row.case.name, ""));
        // Sizes of the same backing form one group.
        let backing = backing.split(" (").next().unwrap_or(backing).to_string();
        let kernel = format!("{:?}", row.case.kernel).to_lowercase();
        let why = match row.mapping {
            Mapping::NotExpressible(w) => Some(w),
            _ => None,
        };
        let key = (format!("{}: {test}", row.case.binary), backing);
        match groups.iter_mut().find(|g| g.0 == key.0 && g.1 == key.1 && g.3 == row.verdict && g.5 == kernel)
        {
            Some(g) => g.2 += 1,
            None => groups.push((key.0, key.1, 1, row.verdict, row.model_pass, kernel, why)),
        }
    }
    let mut s = format!("kernel selftests vs the model ({}):\n\n", r.design);
    for (test, backing, n, v, model, kernel, why) in &groups {
        let model = match model {
            Some(true) => "pass",
            Some(false) => "fail",
            None => "-",
        };
        let why = match v {
            Verdict::NotExpressible => format!(" ({})", why.unwrap_or("?")),
            _ => String::new(),
        };
        let with = if backing.is_empty() { String::new() } else { format!(" … with {backing}") };
        s += &format!("  {n:>3} × {test}{with}: kernel {kernel}, model {model} → {v:?}{why}\n");
    }
    let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
    s += &format!(
        "\n{} case(s) ran ({} skipped by the kernel): {} expressible ({:.0}%), {} agree, {} disagree\n",
        r.ran,
        r.skipped,
        r.expressible,
        pct(r.expressible, r.ran),
        r.agree,
        r.disagree
    );
    s
}

/// `pinlab kernel --selftests SRC` / `--selftests-tap FILE`: the exit code.
pub fn main(src: Option<&Path>, taps: &[PathBuf], out_dir: &Path, json: bool) -> u8 {
    let mut cases = Vec::new();
    for tap in taps {
        let bin = tap.file_stem().and_then(|s| s.to_str()).unwrap_or("cow");
        let bin = if bin.contains("gup_longterm") { "gup_longterm" } else { "cow" };
        match std::fs::read_to_string(tap) {
            Ok(t) => cases.extend(parse_tap(bin, &t)),
            Err(e) => {
                eprintln!("error: {}: {e}", tap.display());
                return 2;
            }
        }
    }
    if let Some(src) = src {
        let built = match build(src, out_dir) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        for (bin, exe) in built {
            eprintln!("running {} (this takes a while) …", exe.display());
            match run_binary(&exe) {
                Ok(t) => cases.extend(parse_tap(&bin, &t)),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            }
        }
    }
    let r = compare(cases);
    if json {
        println!("{}", serde_json::to_string_pretty(&r).expect("serialisable"));
    } else {
        print!("{}", text(&r));
    }
    u8::from(r.disagree > 0)
}

/// Every scenario the mapping table can generate, with its name.
pub fn all_scenarios() -> Vec<(Mapping, String)> {
    let backings = [
        Backing::BasePage,
        Backing::PteMappedThp,
        Backing::SinglePteOfThp,
        Backing::PartiallyMremappedThp,
        Backing::PartiallySharedThp,
        Backing::Hugetlb,
    ];
    let mut v: Vec<Mapping> = TESTS
        .iter()
        .flat_map(|&(_, test)| backings.iter().map(move |&backing| Mapping::Anon { test, backing }))
        .collect();
    let kinds = [FileKind::ZeroPage, FileKind::Disk, FileKind::Memfd];
    v.extend(kinds.map(|file| Mapping::NonAnonCow { file }));
    for shared in [false, true] {
        v.extend([FileKind::Disk, FileKind::Memfd].map(|file| Mapping::UringFile { shared, file }));
    }
    v.into_iter().map(|m| (m.clone(), scenario(&m).expect("expressible"))).collect()
}
