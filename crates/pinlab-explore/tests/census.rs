//! What distinguishes states: a census over one whole exploration.
//!
//! For each part of the world (a frame's data, a folio, a thread's op
//! state, the ghost record, ...) it counts the distinct values seen, and
//! how many of the reached states would remain distinct if that part were
//! left out of the fingerprint. A part whose removal merges many states is
//! where the space comes from; one whose removal merges none is carried for
//! nothing but the oracles. The second number is an upper bound on what an
//! abstraction of that part could save (leaving it out also changes what is
//! explored afterwards).
//!
//! It is slow and prints a table, so it is not run by default:
//! `cargo test --release -p pinlab-explore --test census -- --ignored --nocapture`.
//! The figures are in `docs/explorer.md`.

use pinlab_model::ids::ThreadId;
use pinlab_model::trace::NoTrace;
use pinlab_model::world::Step;
use pinlab_model::{Cx, World};
use rustc_hash::{FxHashSet, FxHasher};
use std::hash::{Hash, Hasher};

mod common;
use common::{designs, load_file, random_walks, root};

fn h<T: Hash + ?Sized>(x: &T) -> u64 {
    let mut s = FxHasher::default();
    x.hash(&mut s);
    s.finish()
}

/// The world cut into named parts, each hashed on its own.
fn parts(w: &World) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    // Frames are added as they are first allocated: a fixed width keeps
    // every part in its column.
    for i in 0..pinlab_model::limits::FRAMES_MAX {
        let f = w.mem.frames.get(i);
        out.push((format!("frame {i} data (versions)"), h(&f.map(|f| f.data))));
        out.push((format!("frame {i} data (bytes only)"), h(&f.map(|f| f.data.map(|s| s.byte)))));
        out.push((format!("frame {i} folio + gen"), h(&f.map(|f| (&f.folio, f.gen)))));
    }
    for (i, p) in w.procs.iter().enumerate() {
        out.push((format!("process {i} (VMAs, PTEs)"), h(p)));
    }
    out.push(("files (page cache, size, errseq)".into(), h(&w.files)));
    out.push(("file systems (bitmaps)".into(), h(&w.fss)));
    for (i, d) in w.disks.iter().enumerate() {
        out.push((format!("disk {i}"), h(d)));
    }
    out.push(("pin sets".into(), h(&w.pinsets)));
    out.push(("ODP MRs, MR count, names".into(), h(&(&w.odp, w.mr_count, &w.names))));
    for (i, t) in w.threads.iter().enumerate() {
        out.push((format!("thread {i} pc"), h(&t.pc)));
        out.push((format!("thread {i} op state"), h(&t.op)));
        out.push((format!("thread {i} regs, err, fds"), h(&(&t.regs, &t.err, &t.fd_seen))));
    }
    out.push(("ghost pins".into(), h(&w.ghost.pins)));
    out.push(("ghost promises (sync, acked)".into(), h(&(&w.ghost.sync_promise, &w.ghost.acked))));
    out.push(("fired oracles".into(), h(&w.fired)));
    out.push(("version clock".into(), h(&w.ver_clock)));
    out
}

#[test]
#[ignore]
fn census_of_the_seed() {
    let prog = load_file(&root().join("seed/rdma-writeback.litmus"));
    for d in designs().into_iter().filter(|d| d.name == "bounce" || d.name == "linux-4.19") {
        let cx = Cx { prog: &prog, design: &d };
        let n = prog.thread_count();
        let init = World::new(&prog).unwrap();
        let mut seen = FxHashSet::default();
        let mut stack = vec![init.clone()];
        seen.insert(h(&init));
        let mut rows: Vec<Vec<u64>> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        while let Some(w) = stack.pop() {
            let p = parts(&w);
            if names.is_empty() {
                names = p.iter().map(|x| x.0.clone()).collect();
            }
            rows.push(p.iter().map(|x| x.1).collect());
            for t in 0..n {
                let mut c = w.clone();
                if let Step::Ran(_) = c.step(&cx, ThreadId(t as u8), &mut NoTrace) {
                    c.stats = Default::default();
                    if seen.insert(h(&c)) {
                        stack.push(c);
                    }
                }
            }
        }
        let total = rows.len();
        eprintln!("\n{} under {}: {total} states", prog.name, d.name);
        eprintln!("{:>10} {:>12} {:>8}  part", "distinct", "without it", "merged");
        for (i, name) in names.iter().enumerate() {
            let distinct: FxHashSet<u64> = rows.iter().map(|r| r[i]).collect();
            let without: FxHashSet<u64> = rows
                .iter()
                .map(|r| {
                    let mut s = FxHasher::default();
                    for (j, x) in r.iter().enumerate() {
                        if j != i {
                            x.hash(&mut s);
                        }
                    }
                    s.finish()
                })
                .collect();
            let merged = 100.0 * (1.0 - without.len() as f64 / total as f64);
            if distinct.len() > 1 {
                eprintln!("{:>10} {:>12} {:>7.1}%  {name}", distinct.len(), without.len(), merged);
            }
        }
        assert!(total > 1000, "the seed has a real state space");
    }
}

/// The states the census found distinct only by garbage are merged: in
/// every state of random walks through the suite, a data block that no
/// block pointer names (written or durable) and the file system neither
/// uses nor waits to free reads as zeroes, in the write cache and on the
/// media (`World::forget_dead_blocks`).
#[test]
fn free_blocks_hold_nothing() {
    use pinlab_model::block::disk::DiskSector;
    const SPP: u16 = pinlab_model::limits::SECTORS_PER_PAGE as u16;
    let mut checked = 0u64;
    for (name, prog) in common::suite() {
        for d in designs() {
            random_walks(&prog, &d, name.len() as u64, 4, 300, |w, _| {
                for fs in &w.fss {
                    let disk = &w.disks[fs.disk.idx()];
                    let ptr_end = fs.first_data_block * SPP;
                    let mut live = fs.used | fs.pending_free;
                    let sectors = disk.media().iter().enumerate().map(|(s, x)| (s as u16, *x));
                    for (s, x) in sectors.chain(disk.cache().iter().copied()) {
                        if let (true, DiskSector::Ptr { block, .. }) = (s < ptr_end, x) {
                            live |= 1 << block;
                        }
                    }
                    for b in (fs.first_data_block..fs.blocks).filter(|b| live & (1 << b) == 0) {
                        for s in b * SPP..(b + 1) * SPP {
                            checked += 1;
                            let what = format!("{name} under {}: free block {b}, sector {s}", d.name);
                            assert_eq!(disk.media()[usize::from(s)], DiskSector::Zero, "{what} on the media");
                            assert!(disk.cache().iter().all(|e| e.0 != s), "{what} in the write cache");
                        }
                    }
                }
            });
        }
    }
    assert!(checked > 10_000, "only {checked} free sectors met");
}
