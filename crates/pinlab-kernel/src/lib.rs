//! `pinlab kernel`: differential probes of page pinning against the running
//! Linux kernel, each beside the matching scenario on the `linux-6.x` model.
//!
//! A probe asks a question user space can observe (does io_uring register
//! this kind of memory, what `/proc/vmstat` counts per pin, what an
//! O_DIRECT or fixed-buffer transfer leaves where, what fork does to a
//! registered buffer) once of the kernel, through real syscalls, and once of
//! the model, by exploring a scenario from `probes/`. Probes the kernel does
//! not permit are reported as skipped with the reason, never as agreement;
//! probes the model cannot express are reported as not modelled.
//!
//! Unsafe code (mmap, fork, io_uring) is confined to [`sys`].

pub mod bench;
pub mod model;
pub mod parse;
pub mod probes;
pub mod selftests;
pub mod sys;

use serde::Serialize;
use std::path::{Path, PathBuf};

/// Options of `pinlab kernel`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub json: bool,
    pub bench: bool,
    /// Directory for the probe files (default: the system temp dir).
    pub dir: Option<PathBuf>,
    /// Run only probes whose name contains one of these.
    pub only: Vec<String>,
    /// A kernel source tree: build and run its mm selftests instead of the probes.
    pub selftests: Option<PathBuf>,
    /// Saved TAP outputs of the selftests to compare instead of running them.
    pub selftests_tap: Vec<PathBuf>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Host {
    pub sysname: String,
    pub release: String,
    pub version: String,
    pub machine: String,
    pub dir: String,
    pub fs: String,
    pub fs_magic: String,
}

/// How a probe came out.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Agree,
    Disagree,
    /// The kernel did not permit the probe.
    Skipped,
    /// The model cannot express the probe; the kernel's answer is recorded.
    NotModelled,
    /// The answers differ exactly as a documented model gap says (the
    /// probe's `gap`); not agreement, but not a new disagreement either.
    ModelGap,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Agree => "agree",
            Status::Disagree => "DISAGREE",
            Status::Skipped => "skipped",
            Status::NotModelled => "not modelled",
            Status::ModelGap => "known model gap",
        }
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct Row {
    pub probe: String,
    pub question: String,
    pub status: Status,
    /// The kernel's answer (absent when skipped).
    pub kernel: Option<String>,
    /// The model's answer (absent when not modelled).
    pub model: Option<String>,
    /// Why the probe was skipped or not modelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Report {
    pub host: Host,
    pub design: &'static str,
    pub rows: Vec<Row>,
    pub agree: usize,
    pub disagree: usize,
    pub skipped: usize,
    pub not_modelled: usize,
    pub model_gaps: usize,
}

impl Report {
    /// Exit code: 1 when a probe disagrees with the model in a way no
    /// documented gap explains, else 0 (skips, unmodelled probes and known
    /// gaps are printed, never counted as agreement).
    pub fn exit_code(&self) -> u8 {
        u8::from(self.disagree > 0)
    }
}

pub fn host(dir: &Path) -> Host {
    let (sysname, release, version, machine) = sys::uname()
        .unwrap_or_else(|e| ("?".into(), format!("uname failed: {e}"), String::new(), String::new()));
    let magic = sys::fs_magic(dir).ok();
    Host {
        sysname,
        release,
        version,
        machine,
        dir: dir.display().to_string(),
        fs: magic.map_or("unknown (statfs failed)", parse::fs_name).to_string(),
        fs_magic: magic.map_or_else(String::new, |m| format!("0x{m:X}")),
    }
}

/// Run the probes (those matching `only`, or all) in `base`.
pub fn run_probes(base: &Path, only: &[String]) -> Report {
    let h = host(base);
    let probes: Vec<_> = probes::all()
        .into_iter()
        .filter(|p| only.is_empty() || only.iter().any(|o| p.name.contains(o)))
        .collect();
    let scratch = probes::scratch(base);
    let mut rows = Vec::new();
    for p in &probes {
        let kernel = match &scratch {
            Ok(d) => {
                let cx = probes::Ctx { dir: d.clone(), fs: h.fs.clone() };
                (p.kernel)(&cx)
            }
            Err(e) => Err(format!("cannot create a scratch directory in {}: {e}", base.display())),
        };
        let model = probes::model_answer(p);
        let shmem_dir = h.fs == "tmpfs" && probes::maps_probe_file(p);
        let (status, reason) = match (&kernel, &model) {
            (Err(why), _) => (Status::Skipped, Some(why.clone())),
            (Ok(_), _) if shmem_dir => (
                Status::NotModelled,
                Some("the probe directory is on tmpfs (shmem); the model's files are disk-backed".into()),
            ),
            (Ok(_), Err(why)) if matches!(p.model, probes::ModelSide::NotModelled(_)) => {
                (Status::NotModelled, Some(why.trim_start_matches("not modelled: ").to_string()))
            }
            (Ok(_), Err(why)) => (Status::Disagree, Some(format!("model error: {why}"))),
            (Ok(k), Ok(m)) if k == m => (Status::Agree, None),
            (Ok(k), Ok(m)) if p.gap.as_ref().is_some_and(|g| g.kernel == k && g.model == m) => {
                (Status::ModelGap, p.gap.as_ref().map(|g| g.why.to_string()))
            }
            (Ok(_), Ok(_)) => (Status::Disagree, None),
        };
        rows.push(Row {
            probe: p.name.to_string(),
            question: p.question.to_string(),
            status,
            kernel: kernel.ok(),
            model: model.ok(),
            reason,
        });
    }
    if let Ok(d) = scratch {
        let _ = std::fs::remove_dir_all(d);
    }
    let count = |s| rows.iter().filter(|r| r.status == s).count();
    Report {
        host: h,
        design: model::DESIGN,
        agree: count(Status::Agree),
        disagree: count(Status::Disagree),
        skipped: count(Status::Skipped),
        not_modelled: count(Status::NotModelled),
        model_gaps: count(Status::ModelGap),
        rows,
    }
}

/// The report as a text table.
pub fn text(r: &Report) -> String {
    let h = &r.host;
    let mut s = format!(
        "kernel: {} {} ({}) {}\nprobe dir: {} on {} (statfs magic {})\nmodel design: {}\n\n",
        h.sysname, h.release, h.version, h.machine, h.dir, h.fs, h.fs_magic, r.design
    );
    let cell = |o: &Option<String>, st: Status, kernel: bool| match (o, st) {
        (Some(v), _) => v.clone(),
        (None, Status::Skipped) if kernel => "-".into(),
        (None, _) => "-".into(),
    };
    let rows: Vec<[String; 4]> = r
        .rows
        .iter()
        .map(|row| {
            let verdict = match (&row.reason, row.status) {
                (Some(why), Status::Skipped | Status::NotModelled | Status::Disagree | Status::ModelGap) => {
                    format!("{}: {why}", row.status.word())
                }
                _ => row.status.word().to_string(),
            };
            [
                row.probe.clone(),
                cell(&row.kernel, row.status, true),
                cell(&row.model, row.status, false),
                verdict,
            ]
        })
        .collect();
    let head = ["probe", "kernel", "model (linux-6.x)", "verdict"];
    let mut w = head.map(|h| h.chars().count());
    for row in &rows {
        for (i, c) in row.iter().enumerate().take(3) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |c: &[String; 4]| {
        format!("{:<w0$}  {:<w1$}  {:<w2$}  {}\n", c[0], c[1], c[2], c[3], w0 = w[0], w1 = w[1], w2 = w[2])
    };
    s += &line(&head.map(String::from));
    s += &line(&[0, 1, 2, 3].map(|i| "-".repeat(if i == 3 { 7 } else { w[i] })));
    for row in &rows {
        s += &line(row);
    }
    s += &format!(
        "\n{} probe(s): {} agree, {} disagree, {} skipped, {} not modelled, {} known model gap(s)\n",
        r.rows.len(),
        r.agree,
        r.disagree,
        r.skipped,
        r.not_modelled,
        r.model_gaps
    );
    s
}

/// `pinlab kernel`: print the probe table (or the bench) and return the exit code.
pub fn main(opts: &Options) -> u8 {
    let base = opts.dir.clone().unwrap_or_else(std::env::temp_dir);
    if opts.selftests.is_some() || !opts.selftests_tap.is_empty() {
        let out = base.join(format!("pinlab-selftests-{}", std::process::id()));
        let code = selftests::main(opts.selftests.as_deref(), &opts.selftests_tap, &out, opts.json);
        let _ = std::fs::remove_dir_all(&out);
        return code;
    }
    if opts.bench {
        let b = bench::run(&base);
        if opts.json {
            println!("{}", serde_json::to_string_pretty(&b).expect("serialisable"));
        } else {
            print!("{}", bench::text(&b));
        }
        return 0;
    }
    let r = run_probes(&base, &opts.only);
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&r).expect("serialisable"));
    } else {
        print!("{}", text(&r));
    }
    r.exit_code()
}
