//! Criterion benchmarks of the explorer (`cargo bench -p pinlab-explore`).
//! `pinlab bench` gives the per-scenario figures over the whole suite; these
//! track the hot paths with statistics: one exhaustive search of a
//! mid-sized scenario, the reduction on independent threads (with and
//! without), fingerprinting a world, and random simulation.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pinlab_explore::fingerprint::fingerprint;
use pinlab_explore::sim::{simulate, SimConfig};
use pinlab_explore::{explore, Config};
use pinlab_litmus::{load, Source};
use pinlab_model::design::profile;
use pinlab_model::{Cx, Program, World};

fn scenario(path: &str) -> Program {
    let full = format!("{}/../../litmus/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).expect("scenario exists");
    load(&Source::new(path, text.as_str())).expect("scenario compiles")
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("explore");
    g.sample_size(10);
    let short = scenario("dev/dma-short-term-pin.litmus");
    let d419 = profile("linux-4.19").unwrap().design();
    let cx = Cx { prog: &short, design: &d419 };
    let init = World::new(&short).unwrap();
    let states = explore(&cx, &init, &Config::default()).states;
    g.throughput(Throughput::Elements(states));
    g.bench_function("dma-short-term-pin/linux-4.19 (states)", |b| {
        b.iter(|| explore(&cx, &init, &Config::default()))
    });

    let ind = scenario("dev/independent-dma-engines.litmus");
    let d6 = profile("linux-6.x").unwrap().design();
    let cx = Cx { prog: &ind, design: &d6 };
    let init = World::new(&ind).unwrap();
    g.throughput(Throughput::Elements(1));
    for (label, reduction) in [("with reduction", true), ("without reduction", false)] {
        g.bench_function(format!("independent-dma-engines/linux-6.x {label} (verdicts)"), |b| {
            b.iter(|| explore(&cx, &init, &Config { reduction, ..Config::default() }))
        });
    }
    g.finish();

    let seed = scenario("seed/rdma-writeback.litmus");
    let cx = Cx { prog: &seed, design: &d419 };
    let init = World::new(&seed).unwrap();
    let mut g = c.benchmark_group("hot path");
    g.throughput(Throughput::Elements(1));
    g.bench_function("fingerprint the seed's initial world", |b| b.iter(|| fingerprint(&init)));
    g.bench_function("clone the seed's initial world", |b| {
        b.iter_batched(|| (), |_| init.clone(), BatchSize::SmallInput)
    });
    let cfg = SimConfig { seed: 7, runs: 1000, ..SimConfig::default() };
    let steps = simulate(&cx, &init, &cfg).steps;
    g.throughput(Throughput::Elements(steps));
    g.bench_function("simulate 1000 seed runs (steps)", |b| b.iter(|| simulate(&cx, &init, &cfg)));
    g.finish();
}

criterion_group!(explorer, benches);
criterion_main!(explorer);
