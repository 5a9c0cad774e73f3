//! Footprints: which parts of the world an operation may touch, for
//! partial-order reduction.
//!
//! Two operations of different threads are *independent* when their
//! footprints do not conflict; then running their steps in either order
//! reaches the same state (up to version numbering, see below) and neither
//! enables or disables the other. The explorer uses this to take a single
//! thread's step as a persistent set: if nothing any other thread can still
//! do touches what that thread's current operation touches, the other
//! orders need not be tried.
//!
//! Footprints are conservative over-approximations, computed from the
//! program (which names can share memory) and a little of the current state
//! (whether a device's pin set is still held). Anything not analysed here
//! (fork, exit, reclaim, migration, sync, crash) touches everything.
//!
//! The resources:
//! - **alias classes**: scenario names, files and mappings that may share
//!   frames (`m = mmap f` joins `m` and `f`; `mr = n.reg_mr m` joins `mr`
//!   and `m`). Every access to a class is treated as a write.
//! - **ALLOC**: the frame allocator. Anything that may allocate or free a
//!   frame (a fault, a page-cache fill, a bounce buffer, a release) writes it.
//! - **REGISTRY**: the order pin sets, MRs and ODP tables are created in.
//! - **GHOST_ACK**: what fsync acknowledged.
//! - **PROC**: page tables. CPU-side operations may change any process's
//!   PTEs (faults, `page_mkclean` through the rmap), so they write them all;
//!   device DMA goes by PFN and never touches them.
//! - **DISK(d)**: a disk and the file system on it (block allocation, the
//!   write cache, injected errors).
//!
//! Deliberately *not* a resource: the ghost version clock (`ver_clock`). Two
//! independent writes take version numbers in either order, so the two
//! orders reach states that differ only by swapping those numbers. Versions
//! are only ever compared between data at the same location (the page on
//! disk against the version fsync acknowledged for it), and every new
//! version exceeds every older one in both orders, so no oracle or
//! condition can tell the two states apart; the reduction is sound for
//! everything pinlab checks, on states up to this renaming. Oracle bits
//! (`fired`) are only ever set, so setting them commutes too.

use crate::design::Design;
use crate::ids::{NameId, ThreadId};
use crate::program::{Backing, DevKind, Op, Program};
use crate::world::{Binding, Cx, World};

pub mod step;

/// Read and write sets over the resources above, as bit masks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub r: u64,
    pub w: u64,
}

const CLASS_BITS: u32 = 40;
const ALLOC: u64 = 1 << 40;
const REGISTRY: u64 = 1 << 41;
const GHOST_ACK: u64 = 1 << 42;
const PROC: u64 = 1 << 43;
const DISK_SHIFT: u32 = 44;
const DISK_BITS: u32 = 20;

impl Footprint {
    /// Touches everything.
    pub const ALL: Footprint = Footprint { r: u64::MAX, w: u64::MAX };

    pub fn conflicts(self, o: Footprint) -> bool {
        self.w & (o.r | o.w) != 0 || o.w & self.r != 0
    }

    pub fn union(self, o: Footprint) -> Footprint {
        Footprint { r: self.r | o.r, w: self.w | o.w }
    }

    fn write(bits: u64) -> Footprint {
        Footprint { r: bits, w: bits }
    }
}

/// Which names and files may share frames, computed once per program.
#[derive(Clone, Debug)]
pub struct Aliases {
    /// Per name: its class's bit, plus the disks of the files in the class.
    name_bits: Vec<u64>,
    /// Per name: its class's bit alone (device DMA never reaches a disk).
    name_class: Vec<u64>,
    /// Per file: the same.
    file_bits: Vec<u64>,
    /// The program registers an on-demand-paging MR somewhere.
    any_odp: bool,
    /// Per thread and op: the op's footprint, and the name whose pin set
    /// must stay confined for it to hold.
    current: Vec<Vec<(Footprint, Option<NameId>)>>,
    /// Per thread and op: the union over the op and every later one, and
    /// the names (as a bit mask) whose confinement that assumes. Ops past
    /// name 63 are not tracked: their footprint is taken whole.
    suffix: Vec<Vec<(Footprint, u64)>>,
}

fn disk_bit(d: usize) -> u64 {
    1 << (DISK_SHIFT + (d as u32 % DISK_BITS))
}

impl Aliases {
    /// Whether reduction can ever apply: some operation of one thread is
    /// independent of some operation of another (assuming devices stay
    /// confined). If none is, every state's check would fail, and the
    /// explorer skips it.
    pub fn may_reduce(&self, prog: &Program) -> bool {
        let n = prog.threads.len();
        (0..n).any(|t| {
            (0..n).any(|u| {
                u != t
                    && self.current[t]
                        .iter()
                        .any(|(a, _)| self.current[u].iter().any(|(b, _)| !a.conflicts(*b)))
            })
        })
    }

    /// The program's alias classes and per-op footprints under `design`.
    pub fn new(prog: &Program, design: &Design) -> Aliases {
        // Union-find over names (0..N) and files (N..N+F).
        let n = prog.names.len();
        let mut parent: Vec<usize> = (0..n + prog.files.len()).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        let mut join = |a: usize, b: usize| {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra] = rb;
        };
        let name = |x: NameId| x.idx();
        // The `rdma_odp` knob makes every NIC registration ODP; without a
        // NIC it changes nothing (so designs that differ only in it reduce
        // alike: `Design::behaviour_on`).
        let mut any_odp = prog.devs.iter().any(|d| d.odp || (design.rdma_odp && d.kind == DevKind::Nic));
        for op in prog.all_threads().flat_map(|t| t.ops.iter()) {
            match *op {
                Op::Mmap { bind, backing: Backing::File(f), .. } => join(name(bind), n + f.idx()),
                Op::Gup { bind, map, .. } | Op::Mremap { bind, map, .. } => join(name(bind), name(map)),
                Op::RegMr { bind, map, odp, .. } => {
                    any_odp |= odp;
                    join(name(bind), name(map))
                }
                _ => {}
            }
        }
        let mut class_bit = vec![0u64; parent.len()];
        let mut next = 0u32;
        let mut bits = vec![0u64; parent.len()];
        for (x, b) in bits.iter_mut().enumerate() {
            let r = find(&mut parent, x);
            if class_bit[r] == 0 {
                class_bit[r] = 1 << (next % CLASS_BITS);
                next += 1;
            }
            *b = class_bit[r];
        }
        // A class's disks: those of the files in it.
        let mut disks = vec![0u64; parent.len()];
        for (f, decl) in prog.files.iter().enumerate() {
            let r = find(&mut parent, n + f);
            disks[r] |= disk_bit(prog.fss[decl.fs.idx()].disk.idx());
        }
        let with_disks: Vec<u64> = (0..parent.len()).map(|x| bits[x] | disks[find(&mut parent, x)]).collect();
        let mut al = Aliases {
            name_bits: with_disks[..n].to_vec(),
            name_class: bits[..n].to_vec(),
            file_bits: with_disks[n..].to_vec(),
            any_odp,
            current: Vec::new(),
            suffix: Vec::new(),
        };
        for t in prog.all_threads() {
            let cur: Vec<_> = t.ops.iter().map(|op| al.op_footprint(prog, design, op)).collect();
            let mut suf = vec![(Footprint::default(), 0u64); cur.len()];
            let mut acc = (Footprint::default(), 0u64);
            for (i, &(fp, dev)) in cur.iter().enumerate().rev() {
                acc.0 = acc.0.union(fp);
                match dev {
                    Some(d) if d.idx() < 64 => acc.1 |= 1 << d.idx(),
                    Some(_) => acc.0 = Footprint::ALL,
                    None => {}
                }
                suf[i] = acc;
            }
            al.current.push(cur);
            al.suffix.push(suf);
        }
        al
    }
}

impl Aliases {
    /// What `op` may touch from its current step to its end, assuming the
    /// pin set behind the returned name (a device's) stays confined; the
    /// caller checks that in the current state (`World::device_confined`).
    fn op_footprint(&self, prog: &Program, design: &Design, op: &Op) -> (Footprint, Option<NameId>) {
        let name = |x: NameId| self.name_bits[x.idx()];
        let file = |f: crate::ids::FileId| self.file_bits[f.idx()];
        // A CPU-side operation on memory: faults, rmap walks, allocation.
        let cpu = |bits: u64| Footprint::write(bits | ALLOC | PROC);
        let fp = match *op {
            Op::Mmap { bind, .. } => Footprint::write(name(bind) | PROC),
            Op::Munmap { map, .. } | Op::Madvise { map, .. } | Op::Mprotect { map, .. } => cpu(name(map)),
            Op::Mremap { bind, map, .. } => cpu(name(map) | name(bind)),
            Op::Lookup { file: f, .. } => Footprint::write(file(f) | ALLOC),
            Op::Store { map, .. } | Op::Load { map, .. } => cpu(name(map)),
            Op::Gup { map, .. } => cpu(name(map) | REGISTRY),
            Op::RegMr { map, odp, dev, .. } => {
                if odp || prog.devs[dev.idx()].odp || design.rdma_odp {
                    Footprint::ALL
                } else {
                    cpu(name(map) | REGISTRY)
                }
            }
            Op::Unpin { pin, .. } | Op::Dereg { mr: pin, .. } => {
                if self.any_odp {
                    Footprint::ALL
                } else {
                    Footprint::write(name(pin) | ALLOC | REGISTRY)
                }
            }
            // DMA by PFN through pages the pin set holds: only those frames
            // (and, for a NIC, the MR table it checks the key against) while
            // the set stays confined. A forged key may hit any MR, and an
            // ODP MR faults pages in.
            Op::DevWrite { dev, obj, key, .. } | Op::DevRead { dev, obj, key, .. } => {
                // Only a NIC has MRs: keys, ODP and the MR table are its.
                let nic = prog.devs[dev.idx()].kind == DevKind::Nic;
                if nic && (key.is_some() || self.any_odp) {
                    Footprint::ALL
                } else {
                    let class = self.name_class[obj.idx()];
                    let fp = Footprint { r: if nic { REGISTRY | class } else { class }, w: class };
                    return (fp, Some(obj));
                }
            }
            Op::UringFixed { file: f, buf, .. } => {
                return (Footprint::write(file(f) | name(buf) | ALLOC), Some(buf))
            }
            // A layout-lease break releases a NIC's pins from writeback,
            // truncate and hole punch.
            Op::Writeback { .. }
            | Op::Fsync { .. }
            | Op::DioWrite { .. }
            | Op::DioRead { .. }
            | Op::Truncate { .. }
            | Op::Punch { .. }
                if design.layout_lease && prog.devs.iter().any(|d| d.kind == DevKind::Nic) =>
            {
                Footprint::ALL
            }
            Op::Write { file: f, .. }
            | Op::Read { file: f, .. }
            | Op::Truncate { file: f, .. }
            | Op::Punch { file: f, .. }
            | Op::Writeback { file: f } => cpu(file(f)),
            Op::Fsync { file: f, .. } => cpu(file(f) | GHOST_ACK),
            Op::DioWrite { file: f, map, .. } | Op::DioRead { file: f, map, .. } => {
                cpu(file(f) | name(map) | REGISTRY)
            }
            Op::FailIo { disk } => Footprint::write(disk_bit(disk.idx())),
            // Reads both mirrors; the oracle bit is not a resource.
            Op::Scrub { disk: Some(disk) } => Footprint { r: disk_bit(disk.idx()), w: 0 },
            Op::Scrub { disk: None } => Footprint { r: u64::MAX, w: 0 },
            Op::Fork { .. }
            | Op::Exit
            | Op::Wait { .. }
            | Op::Reclaim
            | Op::Migrate { .. }
            | Op::Offline
            | Op::Sync
            | Op::Crash
            | Op::Recover => Footprint::ALL,
        };
        (fp, None)
    }
}

impl World {
    /// Whether a device may touch only the frames of the pin set behind `n`.
    /// True while the set is live and holds every page: its frames cannot
    /// be freed and reused before some operation on the same class releases
    /// them. True too while the name is unbound (the device waits, and the
    /// binding operation is on the same class) or failed (the device only
    /// fails). False once release began: then the device may reach frames
    /// someone else now owns.
    fn device_confined(&self, n: NameId) -> bool {
        let set = match self.names[n.idx()] {
            Binding::Unbound | Binding::Failed(_) => return true,
            Binding::Pin(s) => s,
            Binding::Mr { set, .. } => set,
            _ => return false,
        };
        let s = &self.pinsets[set.idx()];
        // A page io_uring coalesced into its folio is kept by the folio's pin.
        s.live && s.pages.iter().all(|p| p.held || p.coalesced)
    }

    /// Everything thread `t` may still touch: its current operation and all
    /// after it. Empty for a finished thread.
    pub fn future_footprint(&self, cx: &Cx, al: &Aliases, t: ThreadId) -> Footprint {
        if Some(t) == cx.prog.finally_id() {
            // Runs only once every other thread is done, and touches anything.
            return Footprint::ALL;
        }
        let pc = usize::from(self.threads[t.idx()].pc);
        match al.suffix[t.idx()].get(pc) {
            Some(&(fp, mut devices)) => {
                while devices != 0 {
                    let i = devices.trailing_zeros();
                    devices &= devices - 1;
                    if !self.device_confined(NameId(i as u8)) {
                        return Footprint::ALL;
                    }
                }
                fp
            }
            None => Footprint::default(),
        }
    }

    /// The footprint of thread `t`'s current operation (all its remaining
    /// steps), or `None` if it has finished.
    pub fn current_footprint(&self, cx: &Cx, al: &Aliases, t: ThreadId) -> Option<Footprint> {
        if Some(t) == cx.prog.finally_id() {
            return Some(Footprint::ALL);
        }
        let pc = usize::from(self.threads[t.idx()].pc);
        al.current[t.idx()].get(pc).map(|&(fp, dev)| match dev {
            Some(n) if !self.device_confined(n) => Footprint::ALL,
            _ => fp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_need_a_write() {
        let a = Footprint { r: 1, w: 0 };
        let b = Footprint { r: 1, w: 0 };
        assert!(!a.conflicts(b), "two reads commute");
        let c = Footprint { r: 1, w: 1 };
        assert!(a.conflicts(c) && c.conflicts(a), "a read and a write do not");
        let d = Footprint::write(2);
        assert!(!c.conflicts(d));
        assert!(Footprint::ALL.conflicts(d));
        assert_eq!(c.union(d), Footprint { r: 3, w: 3 });
    }
}
