//! `pinlab`: check every interleaving of page pinning, writeback and DMA
//! under each kernel design.
#![forbid(unsafe_code)]

mod bench;
mod expected;
mod html;
mod report;
mod suite;

use clap::{Parser, Subcommand, ValueEnum};
use pinlab_model::design::{profile, Design, PROFILES};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Exit codes (the contract for scripts).
pub const EXIT_PASS: u8 = 0;
pub const EXIT_FAIL: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;
/// A limit or Ctrl-C stopped exploration before any expectation failed.
pub const EXIT_INCOMPLETE: u8 = 3;

#[derive(Parser)]
#[command(
    name = "pinlab",
    version,
    about = "Check every interleaving of page pinning, writeback and DMA under each kernel design",
    long_about = "pinlab models the pieces of Linux that the 2018 \"get_user_pages and RDMA\" debate was \
about (memory, page tables, page cache, a checksumming file system, a block device, DMA/RDMA devices, \
the GUP/pin API), explores every interleaving of a scenario's threads, and says per design whether data \
can be lost, checksums broken, the kernel hang or BUG, or a device touch freed memory.",
    after_help = "Examples:\n  pinlab compare                                  # the built-in suite, every design\n  pinlab run litmus/seed/rdma-writeback.litmus    # one scenario, every design\n  pinlab run FILE --design bounce --json\n  pinlab trace litmus/seed/rdma-writeback.litmus --design linux-4.19\n  pinlab designs linux-6.x\n\nExit codes: 0 every expectation holds, 1 one does not, 2 bad input, 3 stopped early (limit or Ctrl-C)."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct Limits {
    /// Stop exploring after this many distinct states (verdicts become "incomplete").
    #[arg(long, value_name = "N")]
    max_states: Option<u64>,
    /// `all`: also try a power loss (then mount + scrub) at every state; only
    /// `forbid` conditions are checked after such a crash.
    #[arg(long, value_enum, default_value_t = CrashPoints::None, value_name = "WHERE")]
    crash_points: CrashPoints,
    /// Change one knob of the chosen design(s), e.g. `--set pinned_writeback=bounce`
    /// (repeatable; `pinlab designs` lists the knobs).
    #[arg(long = "set", value_name = "KNOB=VALUE")]
    set: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CrashPoints {
    None,
    All,
}

impl Limits {
    fn get(&self) -> report::Limits {
        report::Limits { max_states: self.max_states, crash_points: self.crash_points == CrashPoints::All }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Explore scenarios and print a herd-like report per scenario and design.
    #[command(after_help = "Example:\n  pinlab run litmus/seed/rdma-writeback.litmus --design linux-4.19")]
    Run {
        /// Scenario files (.litmus).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A design profile name, or `all`.
        #[arg(long, short, default_value = "all")]
        design: String,
        /// Machine-readable output: one JSON array of results.
        #[arg(long)]
        json: bool,
        /// Also print wall time and states per second (text output).
        #[arg(long)]
        timings: bool,
        #[command(flatten)]
        limits: Limits,
    },
    /// Print the shortest violating execution step by step.
    #[command(after_help = "Example:\n  pinlab trace litmus/seed/rdma-writeback.litmus --design linux-4.19")]
    Trace {
        file: PathBuf,
        #[arg(long, short)]
        design: String,
        /// Which condition to explain (1-based, in report order); default: the first that fails.
        #[arg(long)]
        cond: Option<usize>,
        /// Replay this schedule (as printed by `trace`, e.g. `0.0.1.c`) instead of exploring.
        #[arg(long, value_name = "SCHEDULE")]
        schedule: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: Limits,
    },
    /// Measure the explorer on every scenario × design; JSON to stdout or a file.
    #[command(after_help = "Example:\n  pinlab bench --out bench.json")]
    Bench {
        /// Directory of .litmus files; default: the built-in suite.
        dir: Option<PathBuf>,
        /// Comma-separated design names; default: all.
        #[arg(long, value_delimiter = ',')]
        designs: Vec<String>,
        /// Write the JSON here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the design profiles and their knobs, or explain one.
    Designs { name: Option<String> },
    /// Differential probes against the running Linux kernel, beside the linux-6.x model.
    #[command(
        after_help = "Examples:\n  pinlab kernel\n  pinlab kernel --json\n  pinlab kernel --bench\n\nExit codes: 0 every probe that ran agrees with the model, 1 one disagrees."
    )]
    Kernel {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Measure the kernel's cost per pinned page beside the model's.
        #[arg(long)]
        bench: bool,
        /// Directory for the probe files (default: the system temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Run only the probes whose name contains this (repeatable).
        #[arg(long, value_name = "NAME")]
        only: Vec<String>,
    },
    /// Run a directory of scenarios (default: the built-in suite) over designs: the verdict matrix.
    #[command(
        after_help = "Examples:\n  pinlab compare\n  pinlab compare litmus --designs linux-4.19,bounce --format markdown"
    )]
    Compare {
        /// Directory of .litmus files; default: the suite built into the binary.
        dir: Option<PathBuf>,
        /// Comma-separated design names; default: all.
        #[arg(long, value_delimiter = ',')]
        designs: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also print wall time (text output).
        #[arg(long)]
        timings: bool,
        /// Write the computed matrix to EXPECTED.toml (in DIR, or ./litmus).
        #[arg(long)]
        write_expected: bool,
        #[command(flatten)]
        limits: Limits,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
    Html,
}

fn designs_named(spec: &[String], knobs: &[String]) -> Result<Vec<Design>, String> {
    let mut ds: Vec<Design> = if spec.is_empty() || spec.iter().any(|s| s == "all") {
        PROFILES.iter().map(|p| p.design()).collect()
    } else {
        spec.iter()
            .flat_map(|s| s.split(','))
            .map(|n| {
                profile(n).map(|p| p.design()).ok_or_else(|| {
                    let names: Vec<_> = PROFILES.iter().map(|p| p.name).collect();
                    format!("unknown design `{n}`; known: {}, all", names.join(", "))
                })
            })
            .collect::<Result<_, _>>()?
    };
    for d in &mut ds {
        for k in knobs {
            d.set(k)?;
        }
    }
    Ok(ds)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second Ctrl-C falls through to the default action.
        // Without a handler (some sandboxes refuse one) Ctrl-C just kills
        // the run; nothing else depends on it.
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, std::sync::atomic::Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    }
    let code = match cli.cmd {
        Cmd::Run { files, design, json, timings, limits } => match designs_named(&[design], &limits.set) {
            Ok(ds) => report::run(&files, &ds, json, timings, limits.get(), &stop),
            Err(e) => bad_input(&e),
        },
        Cmd::Trace { file, design, cond, json, schedule, limits } => {
            match designs_named(&[design], &limits.set) {
                Ok(ds) if ds.len() == 1 => match schedule {
                    Some(s) => report::replay_schedule(&file, &ds[0], &s, json),
                    None => report::trace(&file, &ds[0], cond, json, limits.get(), &stop),
                },
                Ok(_) => bad_input("trace needs one design, not `all`"),
                Err(e) => bad_input(&e),
            }
        }
        Cmd::Designs { name } => report::designs(name.as_deref()),
        Cmd::Kernel { json, bench, dir, only } => {
            pinlab_kernel::main(&pinlab_kernel::Options { json, bench, dir, only })
        }
        Cmd::Bench { dir, designs, out } => match designs_named(&designs, &[]) {
            Ok(ds) => bench::bench(dir.as_deref(), &ds, out.as_deref(), &stop),
            Err(e) => bad_input(&e),
        },
        Cmd::Compare { dir, designs, format, timings, write_expected, limits } => {
            match designs_named(&designs, &limits.set) {
                Ok(ds) => {
                    suite::compare(dir.as_deref(), &ds, format, timings, write_expected, limits.get(), &stop)
                }
                Err(e) => bad_input(&e),
            }
        }
    };
    ExitCode::from(code)
}

fn bad_input(msg: &str) -> u8 {
    eprintln!("pinlab: error: {msg}");
    EXIT_BAD_INPUT
}
