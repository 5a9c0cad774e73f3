//! The probes: each asks the running kernel one question a user-space
//! program can observe, and asks the model the same question with a
//! matching scenario under `linux-6.x`.

use crate::model;
use crate::parse::{io_errno, vmstat_pins, PinCounters};
use crate::sys::{self, fork_wait, ChildEnd, Kind, Map, Ring, HUGE, PAGE};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// What the kernel answered, or why the probe could not run.
pub type KernelAnswer = Result<String, String>;

/// Where a probe runs: a scratch directory of its own.
pub struct Ctx {
    pub dir: PathBuf,
    pub fs: String,
}

impl Ctx {
    fn file(&self, name: &str, fill: u8) -> io::Result<File> {
        let p = self.dir.join(name);
        let mut f =
            std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&p)?;
        f.write_all(&[fill; PAGE])?;
        f.sync_all()?;
        Ok(f)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The model's side of a probe.
pub enum ModelSide {
    /// Explore the scenario; each outcome is (label, condition).
    Explore { text: &'static str, outcomes: fn() -> Vec<(String, String)> },
    /// Run the scenario in one fixed order and count pins like `/proc/vmstat`.
    PinCounts { text: &'static str, pages: u64, folios: u64 },
    /// The model cannot express this probe.
    NotModelled(&'static str),
}

pub struct Probe {
    pub name: &'static str,
    pub question: &'static str,
    pub kernel: fn(&Ctx) -> KernelAnswer,
    pub model: ModelSide,
    /// A documented difference the model cannot yet close: it applies only
    /// when both answers are exactly the documented ones.
    pub gap: Option<Gap>,
}

/// A known, documented model gap (see `Status::ModelGap`).
pub struct Gap {
    pub kernel: &'static str,
    pub model: &'static str,
    pub why: &'static str,
}

fn setup<T>(what: &str, r: io::Result<T>) -> Result<T, String> {
    r.map_err(|e| format!("{what} failed: {}", io_errno(&e)))
}

fn ring() -> Result<Ring, String> {
    Ring::new().map_err(|e| format!("io_uring unavailable ({})", io_errno(&e)))
}

fn answer(r: io::Result<()>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => io_errno(&e),
    }
}

fn byte(b: Option<u8>) -> String {
    b.map_or_else(|| "mixed bytes".into(), |b| format!("0x{b:02X}"))
}

/// The first page of a file through the page cache.
fn file_page(f: &File) -> io::Result<Option<u8>> {
    let mut buf = vec![0u8; PAGE];
    f.read_exact_at(&mut buf, 0)?;
    Ok(buf.iter().all(|&b| b == buf[0]).then_some(buf[0]))
}

// ---- registration -------------------------------------------------------

fn k_reg_anon(_: &Ctx) -> KernelAnswer {
    let ring = ring()?;
    let m = setup("mmap", Map::new(PAGE, Kind::Anon { align: PAGE }))?;
    m.fill(0, 0x11);
    Ok(answer(ring.register(&[&m])))
}

fn k_reg_memfd(_: &Ctx) -> KernelAnswer {
    let ring = ring()?;
    let f = setup("memfd_create", sys::memfd(PAGE))?;
    let m = setup("mmap", Map::new(PAGE, Kind::File { file: &f, shared: true, write: true }))?;
    m.fill(0, 0x11);
    Ok(answer(ring.register(&[&m])))
}

fn k_reg_hugetlb(_: &Ctx) -> KernelAnswer {
    let ring = ring()?;
    let m = Map::new(HUGE, Kind::Hugetlb).map_err(|e| {
        format!("no hugetlb page to map ({}; vm.nr_hugepages is not raised by this probe)", io_errno(&e))
    })?;
    m.fill(0, 0x11);
    Ok(answer(ring.register(&[&m])))
}

fn k_reg_file(cx: &Ctx, shared: bool, write: bool, fault: bool) -> KernelAnswer {
    let ring = ring()?;
    let name = format!("reg-{shared}-{write}-{fault}");
    let f = setup("create file", cx.file(&name, 0xAA))?;
    let m = setup("mmap", Map::new(PAGE, Kind::File { file: &f, shared, write }))?;
    if fault {
        m.fill(0, 0x11);
    }
    Ok(answer(ring.register(&[&m])))
}

fn k_reg_file_shared(cx: &Ctx) -> KernelAnswer {
    k_reg_file(cx, true, true, false)
}
fn k_reg_file_private_clean(cx: &Ctx) -> KernelAnswer {
    k_reg_file(cx, false, true, false)
}
fn k_reg_file_private_cow(cx: &Ctx) -> KernelAnswer {
    k_reg_file(cx, false, true, true)
}
fn k_reg_file_private_ro(cx: &Ctx) -> KernelAnswer {
    k_reg_file(cx, false, false, false)
}

// ---- vmstat -------------------------------------------------------------

fn read_pins() -> Result<PinCounters, String> {
    // Fold the per-CPU vmstat deltas into the global counters first;
    // otherwise a small delta can hide below the per-CPU threshold.
    std::fs::write("/proc/sys/vm/stat_refresh", "1")
        .map_err(|e| format!("cannot fold per-CPU vmstat counters (/proc/sys/vm/stat_refresh: {e})"))?;
    let text = std::fs::read_to_string("/proc/vmstat").map_err(|e| format!("/proc/vmstat: {e}"))?;
    vmstat_pins(&text).ok_or_else(|| "no nr_foll_pin_acquired/released in /proc/vmstat".into())
}

/// The shape of a pin count, in the units that name it.
pub fn unit(x: u64, pages: u64, folios: u64) -> String {
    if x == pages {
        "page".into()
    } else if x == folios {
        "folio".into()
    } else {
        format!("{x} of {pages} pages")
    }
}

/// `acquired per page, held per folio, balanced`: what registering and
/// unregistering `pages` pages in `folios` folios did to the counters.
pub fn pin_shape(pages: u64, folios: u64, acq: u64, rel_reg: u64, rel_unreg: u64) -> String {
    let held = acq.saturating_sub(rel_reg);
    let balanced = if acq == rel_reg + rel_unreg { "balanced" } else { "unbalanced" };
    format!("acquired per {}, held per {}, {balanced}", unit(acq, pages, folios), unit(held, pages, folios))
}

/// Register `m`, unregister, and return (acquired, released at register,
/// released at unregister); the minimum of three tries, since other
/// processes' pins can only add to a delta.
fn vmstat_deltas(m: &Map) -> Result<(u64, u64, u64), String> {
    let ring = ring()?;
    let mut best: Option<(u64, u64, u64)> = None;
    for _ in 0..3 {
        let a = read_pins()?;
        ring.register(&[m]).map_err(|e| format!("registration refused ({})", io_errno(&e)))?;
        let b = read_pins()?;
        setup("unregister", ring.unregister())?;
        let c = read_pins()?;
        let d = (b.acquired - a.acquired, b.released - a.released, c.released - b.released);
        best = Some(match best {
            None => d,
            Some(x) => (x.0.min(d.0), x.1.min(d.1), x.2.min(d.2)),
        });
    }
    Ok(best.expect("three tries"))
}

const VMSTAT_PAGES: usize = 16;

fn k_vmstat_4k(_: &Ctx) -> KernelAnswer {
    let m = setup("mmap", Map::new(VMSTAT_PAGES * PAGE, Kind::Anon { align: PAGE }))?;
    setup("madvise(MADV_NOHUGEPAGE)", m.madvise(libc::MADV_NOHUGEPAGE))?;
    m.touch_all(0x11);
    let (acq, rr, ru) = vmstat_deltas(&m)?;
    let n = VMSTAT_PAGES as u64;
    Ok(pin_shape(n, n, acq, rr, ru))
}

/// A 2 MiB-aligned anon region with MADV_HUGEPAGE, touched; an error if
/// the kernel did not back it with a THP.
pub fn thp_map(len: usize) -> Result<Map, String> {
    let m = setup("mmap", Map::new(len, Kind::Anon { align: HUGE }))?;
    m.madvise(libc::MADV_HUGEPAGE)
        .map_err(|e| format!("THP unavailable (MADV_HUGEPAGE: {})", io_errno(&e)))?;
    m.touch_all(0x11);
    let smaps = std::fs::read_to_string("/proc/self/smaps").map_err(|e| format!("/proc/self/smaps: {e}"))?;
    let kb = crate::parse::smaps_anon_huge_kb(&smaps, m.ptr() as u64).unwrap_or(0);
    if kb * 1024 < len as u64 {
        return Err(format!(
            "no THP allocated ({kb} KiB of {} KiB huge; transparent_hugepage disabled or memory fragmented)",
            len / 1024
        ));
    }
    Ok(m)
}

fn k_vmstat_thp(_: &Ctx) -> KernelAnswer {
    let m = thp_map(HUGE)?;
    let (acq, rr, ru) = vmstat_deltas(&m)?;
    Ok(pin_shape((HUGE / PAGE) as u64, 1, acq, rr, ru))
}

// ---- O_DIRECT -----------------------------------------------------------

fn direct(cx: &Ctx, name: &str, fill: u8) -> Result<(File, File), String> {
    let f = setup("create file", cx.file(name, fill))?;
    let d = sys::open_direct(&cx.path(name))
        .map_err(|e| format!("O_DIRECT not supported on {} ({})", cx.fs, io_errno(&e)))?;
    Ok((f, d))
}

fn k_dio_write(cx: &Ctx, filemap: bool) -> KernelAnswer {
    let (f, d) = direct(cx, &format!("dio-w-{filemap}-f"), 0x00)?;
    let g = setup("create file", cx.file(&format!("dio-w-{filemap}-g"), 0x77))?;
    let m = if filemap {
        setup("mmap", Map::new(PAGE, Kind::File { file: &g, shared: true, write: true }))?
    } else {
        let m = setup("mmap", Map::new(PAGE, Kind::Anon { align: PAGE }))?;
        m.fill(0, 0x11);
        m
    };
    Ok(match sys::pwrite_raw(&d, m.ptr(), PAGE, 0) {
        Ok(PAGE) => format!("ok, f = {}", byte(setup("read f", file_page(&f))?)),
        Ok(n) => format!("short write ({n})"),
        Err(e) => io_errno(&e),
    })
}

fn k_dio_write_anon(cx: &Ctx) -> KernelAnswer {
    k_dio_write(cx, false)
}
fn k_dio_write_filemap(cx: &Ctx) -> KernelAnswer {
    k_dio_write(cx, true)
}

fn k_dio_read(cx: &Ctx, filemap: bool) -> KernelAnswer {
    let (_f, d) = direct(cx, &format!("dio-r-{filemap}-f"), 0x5A)?;
    let g = setup("create file", cx.file(&format!("dio-r-{filemap}-g"), 0x77))?;
    let m = if filemap {
        setup("mmap", Map::new(PAGE, Kind::File { file: &g, shared: true, write: true }))?
    } else {
        let m = setup("mmap", Map::new(PAGE, Kind::Anon { align: PAGE }))?;
        m.fill(0, 0x11);
        m
    };
    Ok(match sys::pread_raw(&d, m.ptr(), PAGE, 0) {
        Ok(PAGE) if filemap => {
            let gb = setup("read g", file_page(&g))?;
            format!("ok, process sees {}, g = {}", byte(m.uniform(0)), byte(gb))
        }
        Ok(PAGE) => format!("ok, process sees {}", byte(m.uniform(0))),
        Ok(n) => format!("short read ({n})"),
        Err(e) => io_errno(&e),
    })
}

fn k_dio_read_anon(cx: &Ctx) -> KernelAnswer {
    k_dio_read(cx, false)
}
fn k_dio_read_filemap(cx: &Ctx) -> KernelAnswer {
    k_dio_read(cx, true)
}

// ---- fork with a registered buffer --------------------------------------

fn k_fork(cx: &Ctx, dontfork: bool, child_writes: bool) -> KernelAnswer {
    let f = setup("create file", cx.file(&format!("fork-{dontfork}-{child_writes}"), 0x00))?;
    let m = setup("mmap", Map::new(PAGE, Kind::Anon { align: PAGE }))?;
    m.fill(0, 0x11);
    let mut ring = ring()?;
    ring.register(&[&m]).map_err(|e| format!("registration refused ({})", io_errno(&e)))?;
    if dontfork {
        setup("madvise(MADV_DONTFORK)", m.madvise(libc::MADV_DONTFORK))?;
    }
    let end = if child_writes {
        setup("fork", fork_wait(|| m.fill(0, 0x33)))?
    } else {
        let end = setup("fork", fork_wait(|| {}))?;
        m.fill(0, 0x22);
        end
    };
    let sent = match ring.fixed(f.as_raw_fd(), 0, &m, 0, 0, true) {
        Ok(PAGE) => byte(setup("read f", file_page(&f))?),
        Ok(n) => format!("short write ({n})"),
        Err(e) => return Ok(format!("WRITE_FIXED fails: {}", io_errno(&e))),
    };
    let child = match end {
        ChildEnd::Exit(0) => "child store ok".to_string(),
        ChildEnd::Signal(s) if s == libc::SIGSEGV || s == libc::SIGBUS => "child store faults".to_string(),
        e => format!("child ended {e:?}"),
    };
    Ok(if child_writes {
        format!("{child}; WRITE_FIXED sends {sent}")
    } else {
        format!("WRITE_FIXED sends {sent}")
    })
}

fn k_fork_parent(cx: &Ctx) -> KernelAnswer {
    k_fork(cx, false, false)
}
fn k_fork_child(cx: &Ctx) -> KernelAnswer {
    k_fork(cx, false, true)
}
fn k_fork_dontfork_parent(cx: &Ctx) -> KernelAnswer {
    k_fork(cx, true, false)
}
fn k_fork_dontfork_child(cx: &Ctx) -> KernelAnswer {
    k_fork(cx, true, true)
}

// ---- READ_FIXED ---------------------------------------------------------

fn k_read_fixed(cx: &Ctx, fork: bool) -> KernelAnswer {
    let f = setup("create file", cx.file(&format!("read-fixed-{fork}"), 0x5A))?;
    let m = setup("mmap", Map::new(PAGE, Kind::Anon { align: PAGE }))?;
    m.fill(0, 0x11);
    let mut ring = ring()?;
    ring.register(&[&m]).map_err(|e| format!("registration refused ({})", io_errno(&e)))?;
    if fork {
        setup("fork", fork_wait(|| {}))?;
    }
    Ok(match ring.fixed(f.as_raw_fd(), 0, &m, 0, 0, false) {
        Ok(PAGE) => format!("process sees {}", byte(m.uniform(0))),
        Ok(n) => format!("short read ({n})"),
        Err(e) => io_errno(&e),
    })
}

fn k_read_fixed_plain(cx: &Ctx) -> KernelAnswer {
    k_read_fixed(cx, false)
}
fn k_read_fixed_fork(cx: &Ctx) -> KernelAnswer {
    k_read_fixed(cx, true)
}

// ---- model outcomes -----------------------------------------------------

fn o_errno() -> Vec<(String, String)> {
    model::errno_outcomes("app")
}

fn o_dio_write() -> Vec<(String, String)> {
    let mut v: Vec<_> = [0x00u8, 0x11, 0x77]
        .iter()
        .map(|b| (format!("ok, f = 0x{b:02X}"), format!("app.err == 0 and f[0] == 0x{b:02X}")))
        .collect();
    v.extend(o_errno().into_iter().skip(1));
    v
}

fn o_dio_read_anon() -> Vec<(String, String)> {
    let mut v: Vec<_> = [0x11u8, 0x5A]
        .iter()
        .map(|b| (format!("ok, process sees 0x{b:02X}"), format!("app.err == 0 and app.r == 0x{b:02X}")))
        .collect();
    v.extend(o_errno().into_iter().skip(1));
    v
}

fn o_dio_read_filemap() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for r in [0x77u8, 0x5A] {
        for g in [0x77u8, 0x5A] {
            v.push((
                format!("ok, process sees 0x{r:02X}, g = 0x{g:02X}"),
                format!("app.err == 0 and app.r == 0x{r:02X} and g[0] == 0x{g:02X}"),
            ));
        }
    }
    v.extend(o_errno().into_iter().skip(1));
    v
}

fn o_fork_parent() -> Vec<(String, String)> {
    [0x11u8, 0x22]
        .iter()
        .map(|b| (format!("WRITE_FIXED sends 0x{b:02X}"), format!("app.err == 0 and f[0] == 0x{b:02X}")))
        .collect()
}

fn o_fork_child() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for (child, c) in [("child store ok", "kid.err == 0"), ("child store faults", "kid.err == EFAULT")] {
        for b in [0x11u8, 0x33] {
            v.push((
                format!("{child}; WRITE_FIXED sends 0x{b:02X}"),
                format!("{c} and app.err == 0 and f[0] == 0x{b:02X}"),
            ));
        }
    }
    v
}

fn o_read_fixed() -> Vec<(String, String)> {
    [0x11u8, 0x5A]
        .iter()
        .map(|b| (format!("process sees 0x{b:02X}"), format!("app.err == 0 and app.r == 0x{b:02X}")))
        .collect()
}

macro_rules! scenario {
    ($f:literal) => {
        include_str!(concat!("../probes/", $f, ".litmus"))
    };
}

/// Every probe, in report order.
pub fn all() -> Vec<Probe> {
    use ModelSide::*;
    vec![
        Probe {
            name: "reg/anon-private",
            question: "IORING_REGISTER_BUFFERS of private anon memory (FOLL_WRITE|FOLL_LONGTERM)",
            kernel: k_reg_anon,
            gap: None,
            model: Explore { text: scenario!("reg-anon"), outcomes: o_errno },
        },
        Probe {
            name: "reg/memfd-shared",
            question: "register a MAP_SHARED memfd (shmem) mapping",
            kernel: k_reg_memfd,
            gap: None,
            model: Explore { text: scenario!("reg-memfd"), outcomes: o_errno },
        },
        Probe {
            name: "reg/file-shared",
            question: "register a MAP_SHARED writable mapping of a file on the probe fs",
            kernel: k_reg_file_shared,
            gap: None,
            model: Explore { text: scenario!("reg-file-shared-write"), outcomes: o_errno },
        },
        Probe {
            name: "reg/file-private-clean",
            question: "register a MAP_PRIVATE writable file mapping before any write fault",
            kernel: k_reg_file_private_clean,
            gap: None,
            model: Explore { text: scenario!("reg-file-private-clean"), outcomes: o_errno },
        },
        Probe {
            name: "reg/file-private-cow",
            question: "register a MAP_PRIVATE file mapping after a write fault",
            kernel: k_reg_file_private_cow,
            gap: None,
            model: Explore { text: scenario!("reg-file-private-cow"), outcomes: o_errno },
        },
        Probe {
            name: "reg/file-private-ro",
            question: "register a MAP_PRIVATE read-only file mapping",
            kernel: k_reg_file_private_ro,
            gap: None,
            model: Explore { text: scenario!("reg-file-private-readonly"), outcomes: o_errno },
        },
        Probe {
            name: "reg/hugetlb",
            question: "register a MAP_HUGETLB mapping",
            kernel: k_reg_hugetlb,
            gap: None,
            model: Explore { text: scenario!("reg-hugetlb"), outcomes: o_errno },
        },
        Probe {
            name: "vmstat/4k",
            question: "nr_foll_pin_acquired/released deltas: register + unregister 16 small pages",
            kernel: k_vmstat_4k,
            model: PinCounts { text: scenario!("vmstat-4k"), pages: 8, folios: 8 },
            gap: None,
        },
        Probe {
            name: "vmstat/thp",
            question: "nr_foll_pin_acquired/released deltas: register + unregister one 2 MiB THP",
            kernel: k_vmstat_thp,
            model: PinCounts { text: scenario!("vmstat-thp"), pages: 8, folios: 1 },
            gap: None,
        },
        Probe {
            name: "dio/write-anon",
            question: "O_DIRECT write from private anon memory",
            kernel: k_dio_write_anon,
            gap: None,
            model: Explore { text: scenario!("dio-write-anon"), outcomes: o_dio_write },
        },
        Probe {
            name: "dio/write-filemap",
            question: "O_DIRECT write from a MAP_SHARED mapping of another file",
            kernel: k_dio_write_filemap,
            gap: None,
            model: Explore { text: scenario!("dio-write-filemap"), outcomes: o_dio_write },
        },
        Probe {
            name: "dio/read-anon",
            question: "O_DIRECT read into private anon memory",
            kernel: k_dio_read_anon,
            gap: None,
            model: Explore { text: scenario!("dio-read-anon"), outcomes: o_dio_read_anon },
        },
        Probe {
            name: "dio/read-filemap",
            question: "O_DIRECT read into a MAP_SHARED mapping of another file g",
            kernel: k_dio_read_filemap,
            gap: None,
            model: Explore { text: scenario!("dio-read-filemap"), outcomes: o_dio_read_filemap },
        },
        Probe {
            name: "fork/parent-write",
            question: "registered anon buffer, fork, parent stores 0x22: what does WRITE_FIXED send?",
            kernel: k_fork_parent,
            gap: None,
            model: Explore { text: scenario!("fork-parent-write"), outcomes: o_fork_parent },
        },
        Probe {
            name: "fork/child-write",
            question:
                "registered anon buffer, fork, child stores 0x33 and exits: what does WRITE_FIXED send?",
            kernel: k_fork_child,
            gap: None,
            model: Explore { text: scenario!("fork-child-write"), outcomes: o_fork_child },
        },
        Probe {
            name: "fork/dontfork-parent-write",
            question: "as fork/parent-write, with MADV_DONTFORK on the buffer",
            kernel: k_fork_dontfork_parent,
            gap: None,
            model: Explore { text: scenario!("fork-dontfork-parent-write"), outcomes: o_fork_parent },
        },
        Probe {
            name: "fork/dontfork-child-write",
            question: "as fork/child-write, with MADV_DONTFORK on the buffer",
            kernel: k_fork_dontfork_child,
            gap: None,
            model: Explore { text: scenario!("fork-dontfork-child-write"), outcomes: o_fork_child },
        },
        Probe {
            name: "uring/read-fixed",
            question: "READ_FIXED into a registered anon buffer: does the process see the data?",
            kernel: k_read_fixed_plain,
            gap: None,
            model: Explore { text: scenario!("read-fixed"), outcomes: o_read_fixed },
        },
        Probe {
            name: "uring/read-fixed-after-fork",
            question: "READ_FIXED into a registered anon buffer after fork: does the parent see it?",
            kernel: k_read_fixed_fork,
            gap: None,
            model: Explore { text: scenario!("fork-read-fixed"), outcomes: o_read_fixed },
        },
    ]
}

/// The model's answer to a probe: the labels some execution witnesses
/// (joined with ` | ` when more than one), or why it has none.
pub fn model_answer(p: &Probe) -> Result<String, String> {
    match &p.model {
        ModelSide::Explore { text, outcomes } => {
            let seen = model::witnessed(p.name, text, &outcomes())?;
            if seen.is_empty() {
                Ok("none of the known answers".into())
            } else {
                Ok(seen.join(" | "))
            }
        }
        ModelSide::PinCounts { text, pages, folios } => {
            let prog = model::compile(p.name, text)?;
            let snaps = model::run_counting(&prog)?;
            // The scenario ends with `register` then `unregister`.
            let n = snaps.len();
            if n < 2 {
                return Err("scenario too short".into());
            }
            let (_, before) = if n >= 3 { snaps[n - 3] } else { (0, (0, 0)) };
            let (_, reg) = snaps[n - 2];
            let (_, unreg) = snaps[n - 1];
            Ok(pin_shape(*pages, *folios, reg.0 - before.0, reg.1 - before.1, unreg.1 - reg.1))
        }
        ModelSide::NotModelled(why) => Err(format!("not modelled: {why}")),
    }
}

/// Whether the probe maps a file of the probe directory, so that its
/// answer depends on the file system there (dirty tracking for long-term
/// pins): the model's scenarios stand for a disk file system.
pub fn maps_probe_file(p: &Probe) -> bool {
    p.name.starts_with("reg/file") || p.name.ends_with("-filemap")
}

/// A fresh scratch directory under `base`.
pub fn scratch(base: &Path) -> io::Result<PathBuf> {
    let d = base.join(format!("pinlab-kernel-{}-{}", std::process::id(), nanos()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}
