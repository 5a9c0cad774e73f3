//! The only module with unsafe code: thin wrappers over mmap, madvise,
//! memfd, fork, O_DIRECT files, statfs, uname and an io_uring instance.
//! Every wrapper returns `io::Result` with the kernel's errno.
#![allow(unsafe_code)]

use io_uring::{opcode, types, IoUring};
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub const PAGE: usize = 4096;
pub const HUGE: usize = 2 << 20;

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A mapping owned by this value; unmapped on drop.
pub struct Map {
    ptr: *mut u8,
    len: usize,
    /// Bytes reserved past `len` (for alignment) and where the reservation began.
    base: *mut u8,
    base_len: usize,
}

/// How to map.
#[derive(Clone, Copy)]
pub enum Kind<'a> {
    /// Private anonymous memory, aligned to `align` bytes.
    Anon { align: usize },
    /// `MAP_HUGETLB` private anonymous memory.
    Hugetlb,
    /// A file (or memfd): `shared` or private, writable or read-only.
    File { file: &'a File, shared: bool, write: bool },
}

impl Map {
    pub fn new(len: usize, kind: Kind) -> io::Result<Map> {
        let (prot, flags, fd, reserve) = match kind {
            Kind::Anon { align } => (
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                len + align.saturating_sub(PAGE),
            ),
            Kind::Hugetlb => (
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_HUGETLB,
                -1,
                len,
            ),
            Kind::File { file, shared, write } => (
                libc::PROT_READ | if write { libc::PROT_WRITE } else { 0 },
                if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE },
                file.as_raw_fd(),
                len,
            ),
        };
        // SAFETY: a fresh mapping at an address the kernel chooses; no
        // existing memory is affected. The result is checked below.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), reserve, prot, flags, fd, 0) };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = base.cast::<u8>();
        let mut ptr = base;
        if let Kind::Anon { align } = kind {
            let off = (align - (base as usize) % align) % align;
            ptr = base.wrapping_add(off);
        }
        Ok(Map { ptr, len, base, base_len: reserve })
    }

    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iovec(&self) -> libc::iovec {
        libc::iovec { iov_base: self.ptr.cast(), iov_len: self.len }
    }

    pub fn madvise(&self, advice: libc::c_int) -> io::Result<()> {
        // SAFETY: the range is this mapping's; madvise changes no memory we
        // hold references into (DONTFORK/HUGEPAGE/NOHUGEPAGE keep contents).
        cvt(unsafe { libc::madvise(self.ptr.cast(), self.len, advice) }).map(drop)
    }

    /// Store `byte` to every byte of page `page` (a CPU write: faults in).
    pub fn fill(&self, page: usize, byte: u8) {
        assert!((page + 1) * PAGE <= self.len);
        for i in 0..PAGE {
            // SAFETY: in bounds (asserted) of a writable mapping we own;
            // volatile because the kernel changes this memory behind the
            // compiler's back (io_uring, O_DIRECT).
            unsafe { self.ptr.add(page * PAGE + i).write_volatile(byte) };
        }
    }

    /// Touch every page (one store per page).
    pub fn touch_all(&self, byte: u8) {
        for p in 0..self.len / PAGE {
            // SAFETY: in bounds of a writable mapping we own.
            unsafe { self.ptr.add(p * PAGE).write_volatile(byte) };
        }
    }

    /// The byte every byte of page `page` holds, or `None` if they differ.
    pub fn uniform(&self, page: usize) -> Option<u8> {
        assert!((page + 1) * PAGE <= self.len);
        // SAFETY: in bounds (asserted) of a readable mapping we own.
        let first = unsafe { self.ptr.add(page * PAGE).read_volatile() };
        // SAFETY: as above, for each byte of the page.
        (0..PAGE).all(|i| unsafe { self.ptr.add(page * PAGE + i).read_volatile() } == first).then_some(first)
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the reservation made in `new`; nothing
        // borrows it past this value's life.
        unsafe { libc::munmap(self.base.cast(), self.base_len) };
    }
}

/// `memfd_create`: a shmem file of `len` bytes.
pub fn memfd(len: usize) -> io::Result<File> {
    let name = c"pinlab-probe";
    // SAFETY: a NUL-terminated name; returns a new fd or -1.
    let fd = cvt(unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) })?;
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let f = unsafe { File::from_raw_fd(fd) };
    f.set_len(len as u64)?;
    Ok(f)
}

/// Open (creating) a file with `O_DIRECT`.
pub fn open_direct(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new().read(true).write(true).create(true).custom_flags(libc::O_DIRECT).open(path)
}

/// `pwrite`/`pread` of `len` bytes at `off` from/into raw memory.
pub fn pwrite_raw(f: &File, buf: *const u8, len: usize, off: u64) -> io::Result<usize> {
    // SAFETY: `buf..buf+len` lies in a mapping the caller owns (a `Map`);
    // the kernel reads it (or faults, returning EFAULT).
    let r = unsafe { libc::pwrite(f.as_raw_fd(), buf.cast(), len, off as libc::off_t) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

pub fn pread_raw(f: &File, buf: *mut u8, len: usize, off: u64) -> io::Result<usize> {
    // SAFETY: `buf..buf+len` lies in a writable mapping the caller owns.
    let r = unsafe { libc::pread(f.as_raw_fd(), buf.cast(), len, off as libc::off_t) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// How a forked child ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ChildEnd {
    Exit(i32),
    Signal(i32),
}

/// Fork; the child runs `child` (which must only touch memory, no locks or
/// allocation: the parent may be multi-threaded) and `_exit(0)`s. The
/// parent waits for it.
pub fn fork_wait(child: impl FnOnce()) -> io::Result<ChildEnd> {
    // SAFETY: the child only runs `child` (plain volatile memory stores)
    // and `_exit`, both async-signal-safe, so it is sound even when other
    // threads of the parent held locks at the fork.
    let pid = cvt(unsafe { libc::fork() })?;
    if pid == 0 {
        child();
        // SAFETY: leaves the child at once, running no destructors or atexit hooks.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child; `status` is a valid out pointer.
    cvt(unsafe { libc::waitpid(pid, &mut status, 0) })?;
    Ok(if libc::WIFSIGNALED(status) {
        ChildEnd::Signal(libc::WTERMSIG(status))
    } else {
        ChildEnd::Exit(libc::WEXITSTATUS(status))
    })
}

/// `statfs(path).f_type`.
pub fn fs_magic(path: &Path) -> io::Result<u64> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(io::Error::other)?;
    // SAFETY: zeroed plain-data struct, filled by the kernel.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: NUL-terminated path and a valid out pointer.
    cvt(unsafe { libc::statfs(c.as_ptr(), &mut st) })?;
    Ok(st.f_type as u64)
}

/// `uname()`: (sysname, release, version, machine).
pub fn uname() -> io::Result<(String, String, String, String)> {
    // SAFETY: zeroed plain-data struct, filled by the kernel.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid out pointer.
    cvt(unsafe { libc::uname(&mut u) })?;
    let s = |f: &[libc::c_char]| {
        // SAFETY: the kernel NUL-terminates every utsname field; the slice
        // is the whole field array, so the terminator lies inside it.
        unsafe { CStr::from_ptr(f.as_ptr()) }.to_string_lossy().into_owned()
    };
    Ok((s(&u.sysname), s(&u.release), s(&u.version), s(&u.machine)))
}

/// An io_uring instance with fixed-buffer helpers.
pub struct Ring {
    ring: IoUring,
}

impl Ring {
    pub fn new() -> io::Result<Ring> {
        Ok(Ring { ring: IoUring::new(8)? })
    }

    /// `IORING_REGISTER_BUFFERS` of whole mappings (one iovec each):
    /// `io_sqe_buffers_register` → `io_pin_pages` (FOLL_WRITE|FOLL_LONGTERM).
    pub fn register(&self, maps: &[&Map]) -> io::Result<()> {
        let iovs: Vec<libc::iovec> = maps.iter().map(|m| m.iovec()).collect();
        // SAFETY: every iovec names a mapping that outlives its registration:
        // callers unregister (or drop the ring) before dropping the `Map`s
        // (`Ring` is declared after, so dropped before, the maps it uses, and
        // a pinned page stays valid for the kernel even after munmap).
        unsafe { self.ring.submitter().register_buffers(&iovs) }
    }

    pub fn unregister(&self) -> io::Result<()> {
        self.ring.submitter().unregister_buffers()
    }

    /// `IORING_OP_WRITE_FIXED` / `READ_FIXED` of one page between `fd` at
    /// `off` and page `page` of registered buffer `index` (`map`).
    pub fn fixed(
        &mut self,
        fd: RawFd,
        off: u64,
        map: &Map,
        index: u16,
        page: usize,
        write: bool,
    ) -> io::Result<usize> {
        assert!((page + 1) * PAGE <= map.len());
        let buf = map.ptr().wrapping_add(page * PAGE);
        let sqe = if write {
            opcode::WriteFixed::new(types::Fd(fd), buf, PAGE as u32, index).offset(off).build()
        } else {
            opcode::ReadFixed::new(types::Fd(fd), buf, PAGE as u32, index).offset(off).build()
        };
        // SAFETY: the buffer is inside registered buffer `index` (the kernel
        // checks the range against the registration) and stays mapped until
        // we have reaped the completion below.
        unsafe { self.ring.submission().push(&sqe) }.map_err(io::Error::other)?;
        self.ring.submit_and_wait(1)?;
        let cqe = self.ring.completion().next().ok_or_else(|| io::Error::other("no completion"))?;
        let r = cqe.result();
        if r < 0 {
            Err(io::Error::from_raw_os_error(-r))
        } else {
            Ok(r as usize)
        }
    }
}
