//! A compiled scenario: the machine to build and what each thread does.
//!
//! `pinlab-litmus` produces a `Program` from a `.litmus` file after checking
//! every name and argument, so the model can trust it: indices are in range
//! and every operation is applicable to the kind of object it names.

use crate::cond::Cond;
use crate::ids::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskDecl {
    pub name: String,
    pub sectors: u16,
    /// A volatile write cache (lost on crash) rather than write-through.
    pub volatile: bool,
    /// `fua=yes`: the fs commits block pointers with REQ_FUA, so a commit
    /// is durable at once and the replaced block is free at once.
    pub fua: bool,
    /// `pi=yes`: T10 protection information. The block layer computes a
    /// guard tag per sector when the bio is built (`bio_integrity_prep`);
    /// the device checks it as it reads the data, and a sector that
    /// changed in between fails the write (`integrity_error`).
    pub pi: bool,
    /// `bdev_stable_writes`: the device needs data stable while it is
    /// written (integrity, or `BLK_FEAT_STABLE_WRITES`). A file system on
    /// it gets `SB_I_STABLE_WRITES`.
    pub stable_writes: bool,
    /// `mirrors=2`: an md RAID1 array of two such devices; each mirror
    /// reads a write's data by its own DMA (`block::disk`).
    pub mirrors: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum FsType {
    /// Copy-on-write with a CRC32C per block (btrfs-like).
    Csumfs,
    /// Writes in place through buffer heads attached as folio private data
    /// (holding a reference); no checksums (ext4-like).
    Ext4like,
    /// Writes in place through iomap, with no buffer heads and no data
    /// checksums (xfs-like). It asks for stable writes only when its device
    /// does (`SB_I_STABLE_WRITES` from `bdev_stable_writes`), and it is the
    /// file system 7.0's bounce-buffered direct I/O (`IOMAP_DIO_BOUNCE`,
    /// the `dio_bounce_stable` knob) is wired up for.
    Xfslike,
    /// shmem (tmpfs, memfd): the page cache is the file. `noop_dirty_folio`
    /// sets PG_dirty without the writeback tag, so no writeback ever runs;
    /// `noop_fsync`; no `page_mkwrite`, so shared writable mappings need no
    /// dirty tracking (and long-term write pins of them are allowed:
    /// `writable_file_mapping_allowed`). Without swap its folios are never
    /// reclaimed (the model keeps them PG_dirty). A crash empties it. Its
    /// `disk` is a hidden one the compiler adds and nothing writes.
    Tmpfs,
}

/// Whether the file system attaches private data (buffer heads) to its page
/// cache folios, and whether that data holds a folio reference. The thread
/// noted this differs between file systems, which is what makes an
/// "expected references" pin heuristic file-system dependent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PrivateData {
    /// No private data (csumfs's default).
    None,
    /// PG_private set on a write fault, holding one reference (as
    /// `folio_attach_private` does for buffer heads).
    Ref,
    /// PG_private set but no reference held (as some file systems did).
    NoRef,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FsDecl {
    pub name: String,
    pub disk: DiskId,
    pub ty: FsType,
    /// `SB_I_STABLE_WRITES`: CPU writes wait for writeback of the folio.
    pub stable_writes: bool,
    pub private: PrivateData,
}

/// `memory frames=N [movable=A..N]`: physical memory size and ZONE_MOVABLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MemoryDecl {
    pub frames: u8,
    /// First frame of ZONE_MOVABLE, if there is one.
    pub movable_from: Option<u8>,
}

/// A process: declared in `setup`, or created by a thread's `fork`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcDecl {
    pub name: String,
    /// Created by `fork`: threads on it start once the fork has happened.
    pub forked: bool,
}

/// What a mapping maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Backing {
    File(FileId),
    Anon,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileDecl {
    pub name: String,
    pub fs: FsId,
    pub pages: u8,
    pub fill: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DevKind {
    /// An RDMA NIC: memory regions, remote reads and writes.
    Nic,
    /// A DMA engine (GPU, accelerator) working through pins.
    Dma,
    /// An io_uring instance: registered (fixed) buffers and fixed-buffer I/O.
    Uring,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DevDecl {
    pub name: String,
    pub kind: DevKind,
    /// `nic n odp`: this NIC registers every MR on demand (ODP), never pinning.
    pub odp: bool,
    /// `burst=N`: sectors the device moves per step (default 1). Larger
    /// bursts give coarser interleavings and smaller state spaces.
    pub burst: u8,
    /// `nic n lease=cooperative|stubborn`: how the MR holder answers a
    /// layout-lease break (the `layout_lease` knob).
    pub lease: LeaseHolder,
}

/// How a long-term pin holder answers when the file system breaks its
/// layout lease.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum LeaseHolder {
    /// Deregisters the MR at once (its lease-break handler).
    #[default]
    Cooperative,
    /// Ignores the break: the file system waits for its own `dereg`.
    Stubborn,
}

/// The `madvise` advice modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Advice {
    /// MADV_DONTFORK: set VM_DONTCOPY.
    DontFork,
    /// MADV_DOFORK: clear VM_DONTCOPY.
    DoFork,
    /// MADV_DONTNEED: zap the PTEs; the VMA stays.
    DontNeed,
}

/// Which GUP family a pin comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Foll {
    /// `get_user_pages`: FOLL_GET, a plain page reference.
    Get,
    /// `pin_user_pages`: FOLL_PIN.
    Pin,
}

/// One operation of a thread. Each runs as one or more interleavable steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    /// `NAME = mmap FILE|anon pages=A..B shared|private [write]`
    /// `thp`: back an anon mapping with one large folio (order log2(pages)).
    /// `hugetlb`: MAP_HUGETLB, one hugetlb folio of the mapping's size.
    Mmap {
        bind: NameId,
        backing: Backing,
        first: u8,
        pages: u8,
        shared: bool,
        write: bool,
        thp: bool,
        hugetlb: bool,
    },
    /// `munmap X [pages=A..B]`. `range`: pages of the mapping, `None` for
    /// all of it.
    Munmap { map: NameId, range: Option<(u8, u8)> },
    /// `madvise X [pages=A..B] dontfork|dofork|dontneed`
    Madvise { map: NameId, range: Option<(u8, u8)>, advice: Advice },
    /// `mprotect X [pages=A..B] ro|rw`: `write` is PROT_WRITE.
    Mprotect { map: NameId, range: Option<(u8, u8)>, write: bool },
    /// `NAME = mremap X pages=A..B`: move those pages of the mapping to a
    /// new address, bound to `NAME`.
    Mremap { bind: NameId, map: NameId, first: u8, pages: u8 },
    /// `fork CHILD`
    Fork { child: ProcId },
    /// `exit`: the thread's process exits (`exit_mmap`).
    Exit,
    /// `wait CHILD`: block until that process has exited (`do_wait`).
    Wait { child: ProcId },
    /// `reclaim`: one pass of `shrink_folio_list` over the LRU.
    Reclaim,
    /// `migrate X[p]`: `migrate_pages` of the page mapped there.
    Migrate { map: NameId, page: u8 },
    /// `offline`: evacuate ZONE_MOVABLE (`offline_pages` / a CMA
    /// allocation): migrate every folio out; EBUSY if one cannot move.
    Offline,
    /// `lookup F[p]`: a transient page-cache reference (`filemap_get_folio`
    /// then `folio_put`), as any kernel thread may take.
    Lookup { file: FileId, page: u8 },
    /// `store X[p] = B`: a CPU store filling the page.
    Store { map: NameId, page: u8, byte: u8 },
    /// `r = load X[p]`
    Load { reg: RegId, map: NameId, page: u8 },
    /// `P = pin X pages=A..B`, `P = gup X ...`, `B = u.register X pages=A..B`,
    /// and the pinning half of `reg_mr`.
    Gup {
        bind: NameId,
        map: NameId,
        first: u8,
        pages: u8,
        foll: Foll,
        write: bool,
        longterm: bool,
        /// io_uring buffer registration (`io_sqe_buffer_register`): once every
        /// page is pinned, `io_check_coalesce_buffer` / `io_coalesce_buffer`
        /// keep one pin per large folio and drop the rest
        /// (`unpin_user_folio(folio, nr - 1)`); fixed-buffer I/O then reaches
        /// a subpage through its folio (`imu->folio_shift`).
        coalesce: bool,
    },
    /// `unpin P [dirty]`, `put P`, and the unpinning half of `dereg`.
    Unpin { pin: NameId, dirty: bool },
    /// `MR = n.reg_mr X pages=A..B [write] [odp]`: pin_user_pages(FOLL_LONGTERM
    /// [|FOLL_WRITE]), or an on-demand-paging MR that pins nothing.
    RegMr { bind: NameId, dev: DevId, map: NameId, first: u8, pages: u8, write: bool, odp: bool },
    /// `n.dereg MR`: ib_umem_release → unpin_user_pages_dirty_lock for writable MRs.
    Dereg { dev: DevId, mr: NameId },
    /// `n.write MR[p] [key=K] = B`, `d.write P[p] [pages=N] = B`: device DMA
    /// into `pages` pages from `page` on (a scatter-gather list when > 1).
    /// `key` forges an rkey (default: the MR's own).
    DevWrite { dev: DevId, obj: NameId, page: u8, pages: u8, byte: u8, key: Option<u16> },
    /// `r = n.read MR[p] [key=K]`, `r = d.read P[p]`.
    DevRead { reg: RegId, dev: DevId, obj: NameId, page: u8, key: Option<u16> },
    /// `u.read_fixed F[p] into B[q]` / `u.write_fixed F[p] from B[q]`:
    /// io_uring I/O through a registered buffer (already pinned).
    UringFixed { file: FileId, page: u8, buf: NameId, bpage: u8, is_write: bool },
    /// `[r =] fsync F`: `r` gets 0 or the errno number.
    Fsync { file: FileId, reg: Option<RegId> },
    /// `write F[p] = B`: buffered write through the page cache.
    Write { file: FileId, page: u8, byte: u8 },
    /// `r = read F[p]`: buffered read.
    Read { reg: RegId, file: FileId, page: u8 },
    /// `truncate F pages=N`: shrink the file to N pages.
    Truncate { file: FileId, pages: u8 },
    /// `punch F[p]`: punch a hole (`fallocate(FALLOC_FL_PUNCH_HOLE)`).
    Punch { file: FileId, page: u8 },
    /// `dio_write F[p] from X[q]`: O_DIRECT write from a user buffer.
    DioWrite { file: FileId, page: u8, map: NameId, mpage: u8 },
    /// `dio_read F[p] into X[q]`: O_DIRECT read into a user buffer.
    DioRead { file: FileId, page: u8, map: NameId, mpage: u8 },
    /// `fail_io D`: the next write to disk D fails (an injected I/O error).
    FailIo { disk: DiskId },
    /// `scrub [D]` (in `finally`): read back every block of D (or of every
    /// disk), verifying csumfs checksums and comparing md RAID1 mirrors.
    Scrub { disk: Option<DiskId> },
    /// `writeback F`: one WB_SYNC_NONE flusher pass over the file.
    Writeback { file: FileId },
    /// `sync`: write back every file, wait, flush; records what it promised.
    Sync,
    /// `crash`: power loss. Volatile disk caches and all memory are lost.
    Crash,
    /// `recover`: mount again and read every block back, verifying checksums.
    Recover,
}

/// Where each `Op` came from, for traces and reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpSrc {
    /// The statement's source text.
    pub text: String,
    /// `file:line:col`.
    pub loc: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ThreadProg {
    pub name: String,
    /// The process whose address space the thread's mappings are read in.
    pub proc: Option<ProcId>,
    pub ops: Vec<Op>,
    pub src: Vec<OpSrc>,
    /// Register names, indexed by `RegId`.
    pub regs: Vec<String>,
}

impl FsType {
    /// Writes a page back into its own block (ext4like, xfslike), where a
    /// page changing mid-copy leaves a torn block, rather than copy-on-write.
    pub fn in_place(self) -> bool {
        matches!(self, FsType::Ext4like | FsType::Xfslike)
    }
}

impl Op {
    /// The scenario name this op binds, if any.
    pub fn binds(&self) -> Option<NameId> {
        match *self {
            Op::Mmap { bind, .. }
            | Op::Gup { bind, .. }
            | Op::RegMr { bind, .. }
            | Op::Mremap { bind, .. } => Some(bind),
            _ => None,
        }
    }

    /// The scenario name this op uses (and waits for while unbound), if any.
    pub fn uses(&self) -> Option<NameId> {
        match *self {
            Op::Munmap { map, .. }
            | Op::Madvise { map, .. }
            | Op::Mprotect { map, .. }
            | Op::Mremap { map, .. }
            | Op::Migrate { map, .. }
            | Op::Store { map, .. }
            | Op::Load { map, .. }
            | Op::Gup { map, .. }
            | Op::RegMr { map, .. }
            | Op::DioWrite { map, .. }
            | Op::DioRead { map, .. } => Some(map),
            Op::Unpin { pin, .. } => Some(pin),
            Op::Dereg { mr, .. } => Some(mr),
            Op::DevWrite { obj, .. } | Op::DevRead { obj, .. } => Some(obj),
            Op::UringFixed { buf, .. } => Some(buf),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CondKind {
    Forbid,
    Exists,
    Always,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CondDecl {
    pub kind: CondKind,
    pub cond: Cond,
    pub text: String,
    /// Added by the compiler (`forbid deadlock` etc.), not written by the user.
    pub implicit: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Program {
    pub name: String,
    pub doc: Option<String>,
    pub disks: Vec<DiskDecl>,
    pub fss: Vec<FsDecl>,
    pub files: Vec<FileDecl>,
    pub memory: MemoryDecl,
    /// `crash_points all` in setup: explore a power loss at every state.
    pub crash_points: bool,
    pub procs: Vec<ProcDecl>,
    pub devs: Vec<DevDecl>,
    /// Scenario-global names, indexed by `NameId`.
    pub names: Vec<String>,
    pub threads: Vec<ThreadProg>,
    /// The `finally` block, run as one more thread once all others are done.
    pub finally: Option<ThreadProg>,
    pub conds: Vec<CondDecl>,
    /// What the compiler found suspicious but legal (`file:line:col: ...`),
    /// printed with the report: a condition that can never fire here.
    pub warnings: Vec<String>,
}

impl Program {
    /// Threads including the `finally` pseudo-thread.
    pub fn all_threads(&self) -> impl Iterator<Item = &ThreadProg> {
        self.threads.iter().chain(self.finally.iter())
    }

    pub fn thread(&self, t: ThreadId) -> &ThreadProg {
        if t.idx() < self.threads.len() {
            &self.threads[t.idx()]
        } else {
            self.finally.as_ref().expect("thread id past the finally block")
        }
    }

    pub fn thread_count(&self) -> usize {
        self.threads.len() + usize::from(self.finally.is_some())
    }

    /// The id of the `finally` pseudo-thread, if any.
    pub fn finally_id(&self) -> Option<ThreadId> {
        self.finally.as_ref().map(|_| ThreadId(self.threads.len() as u8))
    }
}
