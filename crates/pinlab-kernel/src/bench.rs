//! `pinlab kernel --bench`: the kernel's cost of a long-term pin per page
//! (IORING_REGISTER_BUFFERS of 256 MiB of anon memory, as 4 KiB pages and
//! as THPs, minimum of 5) beside the model's cost of the same operation.

use crate::model;
use crate::probes::thp_map;
use crate::sys::{Kind, Map, Ring, PAGE};
use pinlab_model::ids::ThreadId;
use pinlab_model::program::Op;
use pinlab_model::trace::NoTrace;
use pinlab_model::{Cx, Step, World};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

pub const BYTES: usize = 256 << 20;
const TRIES: usize = 5;
/// Pages the model registers (its memory has 32 frames).
const MODEL_PAGES: u8 = 16;

#[derive(Serialize, Clone, Debug)]
pub struct Line {
    pub what: &'static str,
    /// Kernel ns per page (min of 5), or why it could not be measured.
    pub kernel_ns_per_page: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_skipped: Option<String>,
    /// The model's ns per page for the same pin (min over many runs).
    pub model_ns_per_page: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_error: Option<String>,
    /// model / kernel.
    pub ratio: Option<f64>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Bench {
    pub host: crate::Host,
    pub bytes: usize,
    pub pages: usize,
    pub tries: usize,
    pub model_pages: u8,
    pub lines: Vec<Line>,
}

fn kernel_ns(map: &Map) -> Result<f64, String> {
    let ring = Ring::new().map_err(|e| format!("io_uring unavailable ({})", crate::parse::io_errno(&e)))?;
    let mut best = f64::INFINITY;
    for _ in 0..TRIES {
        let t = Instant::now();
        ring.register(&[map])
            .map_err(|e| format!("registration refused ({})", crate::parse::io_errno(&e)))?;
        let ns = t.elapsed().as_nanos() as f64;
        ring.unregister().map_err(|e| format!("unregister failed: {e}"))?;
        best = best.min(ns);
    }
    Ok(best / (map.len() / PAGE) as f64)
}

fn kernel_4k() -> Result<f64, String> {
    let m = Map::new(BYTES, Kind::Anon { align: PAGE }).map_err(|e| format!("mmap: {e}"))?;
    m.madvise(libc::MADV_NOHUGEPAGE).map_err(|e| format!("MADV_NOHUGEPAGE: {e}"))?;
    m.touch_all(0x11);
    kernel_ns(&m)
}

fn kernel_thp() -> Result<f64, String> {
    kernel_ns(&thp_map(BYTES)?)
}

/// The model's ns per page for `u.register` of `MODEL_PAGES` faulted-in pages.
pub fn model_ns(thp: bool) -> Result<f64, String> {
    let n = MODEL_PAGES;
    let mut text = format!(
        "litmus bench-register\nsetup {{\n  process p\n  uring u\n}}\nthread app on p {{\n  m = mmap anon pages=0..{n} private write{}\n",
        if thp { " thp" } else { "" }
    );
    for i in 0..if thp { 1 } else { n } {
        text += &format!("  store m[{i}] = 0x11\n");
    }
    text += &format!("  b = u.register m pages=0..{n}\n}}\n");
    let prog = model::compile("bench-register", &text)?;
    let design = model::design();
    let cx = Cx { prog: &prog, design: &design };
    let reg_pc =
        prog.threads[0].ops.iter().position(|o| matches!(o, Op::Gup { .. })).ok_or("no register op")? as u8;
    let t0 = ThreadId(0);
    let mut w = World::new(&prog).map_err(|e| e.0)?;
    while w.threads[0].pc < reg_pc {
        if !matches!(w.step(&cx, t0, &mut NoTrace), Step::Ran(_)) {
            return Err("model stuck before register".into());
        }
    }
    let mut best = f64::INFINITY;
    for _ in 0..2000 {
        let mut x = w.clone();
        let t = Instant::now();
        while x.threads[0].pc == reg_pc {
            if !matches!(x.step(&cx, t0, &mut NoTrace), Step::Ran(_)) {
                return Err("model stuck in register".into());
            }
        }
        best = best.min(t.elapsed().as_nanos() as f64);
        if x.err(t0).is_some() {
            return Err(format!("model refused the registration: {:?}", x.err(t0)));
        }
    }
    Ok(best / f64::from(n))
}

fn line(what: &'static str, k: Result<f64, String>, m: Result<f64, String>) -> Line {
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let ratio = match (&k, &m) {
        (Ok(k), Ok(m)) if *k > 0.0 => Some((m / k * 100.0).round() / 100.0),
        _ => None,
    };
    Line {
        what,
        kernel_ns_per_page: k.as_ref().ok().copied().map(round),
        kernel_skipped: k.err(),
        model_ns_per_page: m.as_ref().ok().copied().map(round),
        model_error: m.err(),
        ratio,
    }
}

pub fn run(base: &Path) -> Bench {
    Bench {
        host: crate::host(base),
        bytes: BYTES,
        pages: BYTES / PAGE,
        tries: TRIES,
        model_pages: MODEL_PAGES,
        lines: vec![
            line("4 KiB pages (MADV_NOHUGEPAGE)", kernel_4k(), model_ns(false)),
            line("THP (MADV_HUGEPAGE)", kernel_thp(), model_ns(true)),
        ],
    }
}

pub fn text(b: &Bench) -> String {
    let h = &b.host;
    let mut s = format!(
        "kernel: {} {} {}\nIORING_REGISTER_BUFFERS of {} MiB anon ({} pages), min of {}; model: u.register of {} pages under {}\n\n",
        h.sysname,
        h.release,
        h.machine,
        b.bytes >> 20,
        b.pages,
        b.tries,
        b.model_pages,
        model::DESIGN
    );
    s += &format!(
        "{:<32}  {:>16}  {:>16}  {:>14}\n",
        "pin of", "kernel ns/page", "model ns/page", "model/kernel"
    );
    for l in &b.lines {
        let k = l.kernel_ns_per_page.map_or_else(|| "-".into(), |x| format!("{x:.1}"));
        let m = l.model_ns_per_page.map_or_else(|| "-".into(), |x| format!("{x:.1}"));
        let r = l.ratio.map_or_else(|| "-".into(), |x| format!("{x:.2}x"));
        s += &format!("{:<32}  {k:>16}  {m:>16}  {r:>14}\n", l.what);
        if let Some(why) = &l.kernel_skipped {
            s += &format!("  kernel skipped: {why}\n");
        }
        if let Some(why) = &l.model_error {
            s += &format!("  model: {why}\n");
        }
    }
    s
}
