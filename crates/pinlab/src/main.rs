//! `pinlab`: check every interleaving of page pinning, writeback and DMA
//! under each kernel design.
#![forbid(unsafe_code)]

mod bench;
mod expected;
mod html;
mod merge;
mod report;
mod scale;
mod sim;
mod suite;

use clap::{Parser, Subcommand, ValueEnum};
use pinlab_explore::Strategy;
use pinlab_model::design::{profile, Design, PROFILES};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

// The explorer clones and drops millions of small `Vec`s; glibc's malloc
// spends a third of the run consolidating free chunks, mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    after_help = "Examples:\n  pinlab compare                                  # the built-in suite, every design\n  pinlab run litmus/seed/rdma-writeback.litmus    # one scenario, every design\n  pinlab run FILE --design bounce --json\n  pinlab trace litmus/seed/rdma-writeback.litmus --design linux-4.19\n  pinlab designs linux-6.x\n  pinlab sim litmus/seed/rdma-writeback.litmus --design linux-4.19 --runs 10000\n  pinlab run FILE --shard 0/4 --json > part0.json   # ... then: pinlab merge part*.json\n  pinlab kernel                                   # probes of the running kernel vs the model\n\nExit codes: 0 every expectation holds, 1 one does not, 2 bad input, 3 stopped early (limit or Ctrl-C)."
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
    /// Do not explore schedules longer than N steps (verdicts become "incomplete").
    #[arg(long, value_name = "N")]
    max_depth: Option<u32>,
    /// Stop each exploration after this much wall time, e.g. `30s`, `2m` ("incomplete").
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    time: Option<std::time::Duration>,
    /// Worker threads per exploration (default: the machine's cores). Results
    /// do not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// SPIN-style supertrace: remember visited states as bits in a 2^N-bit
    /// table (e.g. 30 = 128 MiB, at most 36 = 8 GiB). Finds violations in spaces too big to
    /// store, but may skip states: a clean result is reported "incomplete".
    #[arg(long, value_name = "LOG2_BITS", value_parser = clap::value_parser!(u8).range(10..=36))]
    bitstate: Option<u8>,
    /// Explore every interleaving, without partial-order reduction (same
    /// verdicts, more states; for checking the reduction).
    #[arg(long)]
    no_reduction: bool,
    /// Depth-first search only: keep sleep sets, so a step that commutes
    /// with everything taken since it was explored is not taken again.
    /// Same states and verdicts, fewer transitions; measured no faster yet
    /// (see docs/explorer.md).
    #[arg(long)]
    sleep_sets: bool,
    /// Explore the whole space even when every condition is decided early
    /// (for the counters: states, pin tests, longest wait, bounce bytes).
    #[arg(long, conflicts_with = "first")]
    exhaustive: bool,
    /// Stop at the first violation: the verdict is then known, other
    /// conditions may stay undecided (`?`). The fastest way to a counterexample.
    #[arg(long)]
    first: bool,
    /// Visit states depth-first (SPIN's order: the memory of one path, 3-4x
    /// faster per state; witnesses shrunk to 1-minimal) or breadth-first
    /// (shortest witnesses, parallel with -j, shardable). `auto`: bfs for
    /// `trace` and `--shard`, dfs otherwise.
    #[arg(long, value_enum, default_value_t = StrategyArg::Auto, value_name = "ORDER")]
    strategy: StrategyArg,
    /// Stop cleanly (verdicts undecided, exit 3) when the process's resident
    /// memory reaches this, e.g. `2G`, `512M` (default: half the machine's memory).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
    /// Seeded random executions tried before the search (0: none); a
    /// violation they find is decided at once, with a shrunk witness.
    #[arg(long, default_value_t = DEFAULT_SIM_RUNS, value_name = "N")]
    sim_runs: u32,
}

/// Random runs before each search: a few milliseconds, and they decide the
/// failures of spaces too big to search.
pub const DEFAULT_SIM_RUNS: u32 = 64;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StrategyArg {
    Auto,
    Bfs,
    Dfs,
}

/// `2G`, `512M`, `64K` or a number of bytes (binary units).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = t[i..].to_ascii_uppercase();
            let m: u64 = match unit.trim_end_matches("IB").trim_end_matches('B') {
                "" => 1,
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                "T" => 1 << 40,
                _ => return Err(format!("`{s}`: unknown unit (use K, M, G or T)")),
            };
            (&t[..i], m)
        }
        None => (t, 1),
    };
    let n: f64 = num.trim().parse().map_err(|_| format!("`{s}`: not a size, e.g. 2G or 512M"))?;
    if !(n.is_finite() && n > 0.0) {
        return Err(format!("`{s}`: a size must be positive"));
    }
    Ok((n * mult as f64) as u64)
}

/// The most workers `-j` accepts: more than a few per core only adds
/// threads that wait (and 10,000 of them make the machine unusable).
pub fn max_jobs() -> usize {
    cores() * 4
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `-j N`, checked against [`max_jobs`].
pub fn jobs_or_default(jobs: Option<usize>) -> Result<usize, String> {
    match jobs {
        None => Ok(cores()),
        Some(0) => Err("-j 0: need at least one worker".into()),
        Some(n) if n > max_jobs() => Err(format!(
            "-j {n}: at most {} workers (4 per core on this machine's {} core(s))",
            max_jobs(),
            cores()
        )),
        Some(n) => Ok(n),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CrashPoints {
    None,
    All,
}

impl Limits {
    /// The limits; `auto` resolves to `auto_strategy`.
    fn get(&self, auto_strategy: pinlab_explore::Strategy) -> Result<report::Limits, String> {
        let strategy = match self.strategy {
            StrategyArg::Auto => auto_strategy,
            StrategyArg::Bfs => pinlab_explore::Strategy::Bfs,
            StrategyArg::Dfs => pinlab_explore::Strategy::Dfs,
        };
        Ok(report::Limits {
            max_states: self.max_states,
            crash_points: self.crash_points == CrashPoints::All,
            max_depth: self.max_depth,
            time: self.time,
            jobs: jobs_or_default(self.jobs)?,
            bitstate_log2: self.bitstate,
            shard: None,
            reduction: !self.no_reduction,
            sleep_sets: self.sleep_sets,
            until: if self.exhaustive {
                pinlab_explore::Until::Exhausted
            } else if self.first {
                pinlab_explore::Until::Verdict
            } else {
                pinlab_explore::Until::Decided
            },
            sim_runs: self.sim_runs,
            max_memory: Some(self.max_memory.unwrap_or_else(pinlab_explore::budget::default_budget_bytes)),
            strategy,
        })
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Explore scenarios and print a herd-like report per scenario and design.
    #[command(after_help = "Example:\n  pinlab run litmus/seed/rdma-writeback.litmus --design linux-4.19")]
    Run {
        /// Scenario files (.litmus), or `-` for standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A design profile name, or `all` (`pinlab designs` lists them), e.g. `--design bounce`.
        #[arg(long, short, default_value = "all", visible_alias = "designs")]
        design: String,
        /// Machine-readable output: one JSON array of results.
        #[arg(long)]
        json: bool,
        /// Also print wall time and states per second (text output).
        #[arg(long)]
        timings: bool,
        /// The full report of every design (default with several designs:
        /// one line each).
        #[arg(long, short)]
        verbose: bool,
        /// Explore only part I of N (0-based) of each state space and print
        /// it as JSON for `pinlab merge`; run I = 0..N anywhere (GNU parallel,
        /// Slurm arrays, Kubernetes indexed jobs).
        #[arg(long, value_name = "I/N", requires = "json")]
        shard: Option<pinlab_explore::Shard>,
        #[command(flatten)]
        limits: Limits,
    },
    /// Combine the JSON of `run --shard I/N --json` runs into the report of one whole run.
    #[command(
        after_help = "Example:\n  for i in 0 1 2 3; do pinlab run FILE --shard $i/4 --json > part$i.json; done\n  pinlab merge part*.json"
    )]
    Merge {
        /// The shards' JSON outputs, e.g. `part*.json`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the merged report as JSON (as `run --json` would).
        #[arg(long)]
        json: bool,
    },
    /// Print the shortest violating execution step by step.
    #[command(after_help = "Example:\n  pinlab trace litmus/seed/rdma-writeback.litmus --design linux-4.19")]
    Trace {
        /// The scenario (.litmus), or `-` for standard input.
        file: PathBuf,
        /// One design profile, e.g. `--design linux-4.19` (`pinlab designs` lists them).
        #[arg(long, short)]
        design: String,
        /// Which condition to explain (1-based, in report order); default: the first that fails.
        #[arg(long)]
        cond: Option<usize>,
        /// Replay this schedule (as printed by `trace`, e.g. `0.0.1.c`) instead of exploring.
        #[arg(long, value_name = "SCHEDULE")]
        schedule: Option<String>,
        /// Print the story as JSON (steps, kernel functions, changes, registers).
        #[arg(long)]
        json: bool,
        /// Also write the execution as Chrome trace-event JSON (opens in the Perfetto UI).
        #[arg(long, value_name = "OUT.json")]
        perfetto: Option<PathBuf>,
        #[command(flatten)]
        limits: Limits,
    },
    /// Seeded random simulation with faults; every failure with the seed and schedule that replay it.
    #[command(
        after_help = "Examples:\n  pinlab sim litmus/seed/rdma-writeback.litmus --design linux-4.19 --seed 1 --runs 10000\n  pinlab sim FILE --design linux-4.19 --replay 0.0.0.2.2.1.2\n\nExit codes: 1 a failure found, 2 bad input, 3 no failure found (a sample decides nothing about forbid/always: run the search for that), 0 only if every condition is an exists seen in some run."
    )]
    Sim {
        /// The scenario (.litmus), or `-` for standard input.
        file: PathBuf,
        /// A design profile name, or `all` (`--replay` needs one).
        #[arg(long, short, default_value = "all")]
        design: String,
        /// The simulation's seed: the same seed gives the same runs, e.g. `--seed 7`.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// How many random executions, e.g. `--runs 100000`.
        #[arg(long, default_value_t = 1000)]
        runs: u64,
        /// A run longer than this is cut and not judged.
        #[arg(long, default_value_t = sim::MAX_STEPS, value_name = "N")]
        max_steps: u32,
        /// Fault kinds runs may enable (each run enables a random subset):
        /// crash,eio,reclaim,migrate,delay, `all` or `none`. Default: all but eio.
        #[arg(long, default_value = "crash,reclaim,migrate,delay", value_name = "KINDS")]
        faults: String,
        /// Print the report as JSON (counts per condition, every failure with its seed and schedule).
        #[arg(long)]
        json: bool,
        /// Replay one run: its run seed (`0x...`, as printed) or its schedule.
        #[arg(long, value_name = "SEED_OR_SCHEDULE")]
        replay: Option<String>,
        /// Change one knob of the chosen design(s) (repeatable).
        #[arg(long = "set", value_name = "KNOB=VALUE")]
        set: Vec<String>,
    },
    /// Measure the explorer on every scenario × design; JSON to stdout or a file.
    #[command(
        after_help = "Examples:\n  pinlab bench\n  pinlab bench --json > bench.json\n  pinlab bench --designs linux-4.19 --out bench.json"
    )]
    Bench {
        /// Directory of .litmus files; default: the built-in suite.
        dir: Option<PathBuf>,
        /// Comma-separated design names; default: all.
        #[arg(long, value_delimiter = ',')]
        designs: Vec<String>,
        /// Also write the JSON to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the JSON instead of the text summary.
        #[arg(long)]
        json: bool,
        /// Workers for the whole-suite run (default: the machine's cores).
        #[arg(long, short = 'j', value_name = "N")]
        jobs: Option<usize>,
        /// Measure the scaling family (`litmus/scale/`: the seed race over
        /// 1-4 pages and 1-3 devices) instead: states, time and peak memory
        /// per size and design, with and without reduction, and the shard overhead.
        #[arg(long)]
        scale: bool,
        /// Memory budget of each `--scale` search (default: 2G).
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
        /// Time limit of each `--scale` search (default: 10s).
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        time: Option<std::time::Duration>,
    },
    /// List the design profiles and their knobs, or explain one.
    #[command(after_help = "Examples:\n  pinlab designs\n  pinlab designs bounce")]
    Designs {
        /// A profile to explain (default: list them all).
        name: Option<String>,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  pinlab completions bash > /etc/bash_completion.d/pinlab\n  pinlab completions zsh > ~/.zfunc/_pinlab"
    )]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output.
    #[command(after_help = "Example:\n  pinlab man | man -l -")]
    Man,
    /// Differential probes against the running Linux kernel, beside the linux-6.x model.
    #[command(
        after_help = "Examples:\n  pinlab kernel\n  pinlab kernel --json\n  pinlab kernel --bench\n  pinlab kernel --selftests /usr/src/linux-source-6.12\n  pinlab kernel --selftests-tap cow.tap --selftests-tap gup_longterm.tap\n\nExit codes: 0 every probe that ran agrees with the model, 1 one disagrees."
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
        /// Build the mm selftests `cow` and `gup_longterm` from this kernel
        /// source tree (gcc and liburing needed), run them, and compare
        /// every case with the model instead of running the probes.
        #[arg(long, value_name = "SRC")]
        selftests: Option<PathBuf>,
        /// Compare a saved TAP output of `cow` or `gup_longterm` (the file
        /// name says which) instead of running them (repeatable).
        #[arg(long, value_name = "FILE")]
        selftests_tap: Vec<PathBuf>,
    },
    /// Run a directory of scenarios (default: the built-in suite) over designs: the verdict matrix.
    #[command(
        after_help = "Examples:\n  pinlab compare\n  pinlab compare litmus --designs linux-4.19,bounce --format markdown"
    )]
    Compare {
        /// Directory of .litmus files; default: the suite built into the binary.
        dir: Option<PathBuf>,
        /// Comma-separated design names; default: all. E.g. `--designs linux-4.19,bounce`.
        #[arg(long, value_delimiter = ',', visible_alias = "design")]
        designs: Vec<String>,
        /// `text` (a table), `markdown`, `json` (every cell's report) or
        /// `html` (one page with the matrix and every failing cell's trace).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also print wall time (text output).
        #[arg(long)]
        timings: bool,
        /// Write the computed matrix to EXPECTED.toml (in DIR, or ./litmus).
        #[arg(long)]
        write_expected: bool,
        /// Fit the text matrix in N columns, cutting long cells with `…`
        /// (default on a terminal: its width, `$COLUMNS` or 120).
        #[arg(long, value_name = "N", conflicts_with = "wide")]
        width: Option<usize>,
        /// Print every cell whole, however wide the table gets.
        #[arg(long)]
        wide: bool,
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
                    let hint =
                        did_you_mean(n, &names).map_or(String::new(), |m| format!("did you mean `{m}`? "));
                    format!("unknown design `{n}`; {hint}known: {}, all", names.join(", "))
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
        Cmd::Run { files, design, json, timings, verbose, shard, limits } => {
            let auto = if shard.is_some() { Strategy::Bfs } else { Strategy::Dfs };
            match (designs_named(&[design], &limits.set), limits.get(auto)) {
                (Ok(_), Ok(l)) if shard.is_some() && l.strategy == Strategy::Dfs => {
                    bad_input("--shard splits breadth-first levels: it needs --strategy bfs")
                }
                (Ok(ds), Ok(l)) => {
                    report::run(&files, &ds, json, timings, verbose, report::Limits { shard, ..l }, &stop)
                }
                (Err(e), _) | (_, Err(e)) => bad_input(&e),
            }
        }
        Cmd::Merge { files, json } => merge::merge_files(&files, json),
        Cmd::Trace { file, design, cond, json, schedule, perfetto, limits } => {
            match (designs_named(&[design], &limits.set), limits.get(Strategy::Bfs)) {
                (Ok(ds), Ok(l)) if ds.len() == 1 => match schedule {
                    Some(s) => report::replay_schedule(&file, &ds[0], &s, json, perfetto.as_deref()),
                    None => report::trace(&file, &ds[0], cond, json, l, &stop, perfetto.as_deref()),
                },
                (Ok(_), Ok(_)) => bad_input("trace needs one design, not `all`"),
                (Err(e), _) | (_, Err(e)) => bad_input(&e),
            }
        }
        Cmd::Sim { file, design, seed, runs, max_steps, faults, json, replay, set } => {
            match (designs_named(&[design], &set), pinlab_explore::FaultKinds::parse(&faults)) {
                (Ok(ds), Ok(faults)) => {
                    let opts = sim::SimOpts { seed, runs, max_steps, faults, json, replay, knobs: set };
                    sim::sim(&file, &ds, &opts, &stop)
                }
                (Err(e), _) | (_, Err(e)) => bad_input(&e),
            }
        }
        Cmd::Designs { name } => report::designs(name.as_deref()),
        Cmd::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "pinlab",
                &mut std::io::stdout(),
            );
            EXIT_PASS
        }
        Cmd::Man => match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
            .render(&mut std::io::stdout())
        {
            Ok(()) => EXIT_PASS,
            Err(e) => bad_input(&format!("cannot write the man page: {e}")),
        },
        Cmd::Kernel { json, bench, dir, only, selftests, selftests_tap } => {
            pinlab_kernel::main(&pinlab_kernel::Options { json, bench, dir, only, selftests, selftests_tap })
        }
        Cmd::Bench { dir, designs, out, json, jobs, scale, max_memory, time } => {
            match (designs_named(&designs, &[]), jobs_or_default(jobs)) {
                (Ok(ds), Ok(workers)) => {
                    let opts = bench::BenchOpts { json, workers, scale, max_memory, time };
                    bench::bench(dir.as_deref(), &ds, out.as_deref(), &opts, &stop)
                }
                (Err(e), _) | (_, Err(e)) => bad_input(&e),
            }
        }
        Cmd::Compare { dir, designs, format, timings, write_expected, width, wide, limits } => {
            let width = if wide { Some(usize::MAX) } else { width };
            match (designs_named(&designs, &limits.set), limits.get(Strategy::Dfs)) {
                (Ok(ds), Ok(l)) => {
                    suite::compare(dir.as_deref(), &ds, format, timings, write_expected, width, l, &stop)
                }
                (Err(e), _) | (_, Err(e)) => bad_input(&e),
            }
        }
    };
    ExitCode::from(code)
}

/// The nearest of `names` to `got`, ignoring case; none if nothing is close.
fn did_you_mean<'a>(got: &str, names: &[&'a str]) -> Option<&'a str> {
    let got = got.to_ascii_lowercase();
    names
        .iter()
        .map(|n| (strsim::damerau_levenshtein(&got, n), *n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 3))
        .min()
        .map(|(_, n)| n)
}

fn bad_input(msg: &str) -> u8 {
    eprintln!("pinlab: error: {msg}");
    EXIT_BAD_INPUT
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument of every command says what it is for.
    #[test]
    fn every_argument_has_help() {
        let cmd = <Cli as clap::CommandFactory>::command();
        for sub in cmd.get_subcommands() {
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                assert!(arg.get_help().is_some(), "`pinlab {} {id}` has no help text", sub.get_name());
            }
        }
    }

    #[test]
    fn sizes_parse_in_binary_units_and_bad_ones_are_refused() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("0").is_err());
    }
}
