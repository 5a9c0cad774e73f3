//! Page faults and CPU accesses through page tables.
//!
//! A CPU access finds its PTE or faults. A fault is split where the kernel
//! can be interleaved: `filemap_fault` (find or read the folio, map it
//! read-only because a shared writable file mapping needs dirty tracking),
//! then on a write `do_page_mkwrite` (the file system's `page_mkwrite`:
//! lock the folio, wait for stable writes, mark it dirty, make the PTE
//! writable). Only then does the store itself run, atomically.
//!
//! Difference from Linux, on purpose: `do_shared_fault` installs the PTE
//! only after `page_mkwrite`; here the PTE appears read-only first. Nothing
//! in the model can observe the difference except an rmap walk, which would
//! find a clean read-only PTE and leave it as it is.

use crate::data::{page_fill, uniform_byte};
use crate::design::CowReuse;
use crate::errno::Errno;
use crate::ids::*;
use crate::mm::frame::{FolioFlags, Owner};
use crate::mm::vma::{ProcState, Pte};
use crate::program::PrivateData;
use crate::trace::Tracer;
use crate::world::{Binding, Cx, World};

/// Result of trying to make a virtual page accessible.
pub(crate) enum Access {
    /// Wait (folio locked, or under writeback with stable writes).
    Blocked,
    /// A fault step ran; the access itself needs another step.
    Faulted(&'static str),
    /// The access fails (SIGSEGV/SIGBUS, or EFAULT from GUP).
    Err(Errno),
    /// The PTE allows the access now.
    Ready(Pfn),
}

impl World {
    /// One step of `handle_mm_fault` for `vpn` of process `p`, or `Ready` if no
    /// fault is needed. `force` is GUP's FOLL_FORCE: a write to a private
    /// mapping without `PROT_WRITE` is allowed and breaks COW, leaving the
    /// private copy mapped read-only (`check_vma_flags`, then
    /// `can_follow_write_pte` with FOLL_COW in the 4.x era).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fault_in<T: Tracer>(
        &mut self,
        cx: &Cx,
        p: ProcId,
        vpn: u16,
        write: bool,
        force: bool,
        tr: &mut T,
    ) -> Access {
        if self.procs[p.idx()].state != ProcState::Alive {
            return Access::Err(Errno::EFAULT);
        }
        let Some(vma) = self.procs[p.idx()].vma(vpn).copied() else { return Access::Err(Errno::EFAULT) };
        if vma.hugetlb {
            return self.hugetlb_fault(p, vma, vpn, write, tr);
        }
        // check_vma_flags: FOLL_FORCE may write only a COW (private) mapping.
        let forced_cow = force && !vma.shared;
        if write && !vma.write && !forced_cow {
            return Access::Err(Errno::EFAULT);
        }
        match self.procs[p.idx()].pte(vpn).copied() {
            // migration_entry_wait
            Some(pte) if pte.migration => Access::Blocked,
            None => match vma.file {
                Some(file) => {
                    let index = vma.file_index(vpn);
                    if index >= self.files[file.idx()].size {
                        // filemap_fault: past i_size is VM_FAULT_SIGBUS
                        // (checked again under the folio lock, so a cached
                        // folio truncate has not reached yet is no help);
                        // GUP turns it into EFAULT, and the model records
                        // a CPU access's SIGBUS as EFAULT too.
                        return Access::Err(Errno::EFAULT);
                    }
                    let pfn = match self.cached(file, index) {
                        Some(pfn) => {
                            // filemap_fault → lock_folio_maybe_drop_mmap
                            if self.folio(pfn).flags.has(FolioFlags::LOCKED) {
                                return Access::Blocked;
                            }
                            pfn
                        }
                        None => match self.read_folio(file, index) {
                            Ok(pfn) => pfn,
                            Err(e) => return Access::Err(e),
                        },
                    };
                    if write && !vma.shared {
                        // do_cow_fault: a private copy of the file page.
                        // maybe_mkwrite: writable only if the VMA is.
                        return match self.cow_copy(p, vpn, pfn, None, vma.write) {
                            Some(new) => {
                                tr.note(|| format!("private copy of f{}[{index}] in pfn {}", file.0, new.0));
                                Access::Faulted("do_cow_fault")
                            }
                            None => Access::Err(Errno::ENOMEM),
                        };
                    }
                    let f = self.folio_mut(pfn);
                    f.refcount += 1;
                    f.mapcount += 1;
                    // A shared writable shmem mapping needs no dirty
                    // tracking: its page protection is writable at once.
                    let writable = vma.shmem && vma.shared && vma.write;
                    self.procs[p.idx()]
                        .install(vpn, Pte { dirty: writable && write, ..Pte::new(pfn, writable) });
                    let how = if writable { "writable" } else { "read-only" };
                    tr.note(|| format!("map f{}[{index}] (pfn {}) {how} at vpn {vpn}", file.0, pfn.0));
                    Access::Faulted(if vma.shmem { "shmem_fault" } else { "filemap_fault" })
                }
                None if write
                    && vma.order > 0
                    && (vma.start..vma.start + u16::from(vma.pages))
                        .all(|v| self.procs[p.idx()].pte(v).is_none()) =>
                {
                    // do_anonymous_page with a large folio (alloc_anon_folio):
                    // one folio for the whole VMA, every PTE mapped at once.
                    let Some(head) = self.mem.alloc_order(Owner::Anon, vma.order) else {
                        return Access::Err(Errno::ENOMEM);
                    };
                    self.sync_ghost_len();
                    let n = 1u16 << vma.order;
                    for i in 0..usize::from(n) {
                        self.mem.frames[head.idx() + i].data = page_fill(0, 0);
                        self.procs[p.idx()]
                            .install(vma.start + i as u16, Pte::new(Pfn(head.0 + i as u8), vma.write));
                    }
                    let f = self.folio_mut(head);
                    f.refcount = u32::from(n);
                    f.mapcount = n;
                    f.flags.set(FolioFlags::ANON_EXCLUSIVE);
                    f.flags.set(FolioFlags::LRU);
                    tr.note(|| {
                        format!(
                            "new large folio pfn {}..{} (order {}) mapped at vpn {}..",
                            head.0,
                            head.0 + n as u8,
                            vma.order,
                            vma.start
                        )
                    });
                    Access::Faulted("do_anonymous_page (large folio)")
                }
                None if write => {
                    // do_anonymous_page: a fresh zeroed, exclusive page.
                    let Some(pfn) = self.alloc(Owner::Anon) else { return Access::Err(Errno::ENOMEM) };
                    self.mem.frames[pfn.idx()].data = page_fill(0, 0);
                    let f = self.folio_mut(pfn);
                    f.mapcount = 1;
                    f.flags.set(FolioFlags::ANON_EXCLUSIVE);
                    f.flags.set(FolioFlags::LRU);
                    self.procs[p.idx()].install(vpn, Pte::new(pfn, vma.write));
                    tr.note(|| format!("new anon page pfn {} at vpn {vpn}", pfn.0));
                    Access::Faulted("do_anonymous_page")
                }
                None => {
                    // do_anonymous_page on a read: map the shared zero page.
                    let zero = match self.zero_pfn {
                        Some(z) => z,
                        None => {
                            let Some(z) = self.alloc(Owner::Zero) else { return Access::Err(Errno::ENOMEM) };
                            self.mem.frames[z.idx()].data = page_fill(0, 0);
                            self.zero_pfn = Some(z);
                            z
                        }
                    };
                    self.procs[p.idx()].install(vpn, Pte::new(zero, false));
                    tr.note(|| format!("zero page (pfn {}) mapped read-only at vpn {vpn}", zero.0));
                    Access::Faulted("do_anonymous_page (zero page)")
                }
            },
            Some(pte) if write && !pte.writable && vma.shared && vma.shmem => {
                // do_wp_page → wp_page_shared: shmem has no page_mkwrite.
                self.folio_mark_dirty(pte.pfn);
                let e = self.procs[p.idx()].pte_mut(vpn).expect("PTE vanished");
                e.writable = true;
                e.dirty = true;
                Access::Faulted("do_wp_page → wp_page_shared (shmem: no page_mkwrite)")
            }
            Some(pte) if write && !pte.writable && vma.shared => {
                let f = self.folio(pte.pfn);
                let file = vma.file.expect("shared anonymous memory is not modelled");
                let fs = &cx.prog.fss[cx.prog.files[file.idx()].fs.idx()];
                if f.flags.has(FolioFlags::LOCKED) || (fs.stable_writes && f.flags.has(FolioFlags::WRITEBACK))
                {
                    return Access::Blocked;
                }
                self.folio_mark_dirty(pte.pfn);
                if fs.private != PrivateData::None && !self.folio(pte.pfn).flags.has(FolioFlags::PRIVATE) {
                    // The fs attaches its buffers (block_page_mkwrite →
                    // create_empty_buffers → folio_attach_private).
                    let f = self.folio_mut(pte.pfn);
                    f.flags.set(FolioFlags::PRIVATE);
                    f.refcount += u32::from(fs.private == PrivateData::Ref);
                }
                let e = self.procs[p.idx()].pte_mut(vpn).expect("PTE vanished");
                e.writable = true;
                e.dirty = true;
                tr.note(|| format!("pfn {} dirty, PTE writable", pte.pfn.0));
                Access::Faulted(match fs.ty {
                    crate::program::FsType::Ext4like => {
                        "do_page_mkwrite → ext4_page_mkwrite (folio_lock, folio_wait_stable, folio_mark_dirty)"
                    }
                    crate::program::FsType::Xfslike => {
                        "do_page_mkwrite → xfs_filemap_page_mkwrite → iomap_page_mkwrite (folio_lock, folio_wait_stable, folio_mark_dirty)"
                    }
                    _ => "do_page_mkwrite → csumfs_page_mkwrite (folio_lock, folio_wait_stable, folio_mark_dirty)",
                })
            }
            // A forced write already broke COW: the private copy stays
            // read-only in the page table, and GUP takes it as it is.
            Some(pte)
                if write
                    && force
                    && !pte.writable
                    && self.folio(pte.pfn).owner == Owner::Anon
                    && self.folio(pte.pfn).flags.has(FolioFlags::ANON_EXCLUSIVE) =>
            {
                Access::Ready(pte.pfn)
            }
            Some(pte) if write && !pte.writable => self.do_wp_page(cx, p, vpn, pte.pfn, vma.write, tr),
            Some(pte) => Access::Ready(pte.pfn),
        }
    }

    /// `do_wp_page` on a private mapping: reuse the page if the design says
    /// nobody else can see it, else copy it (`wp_page_copy`).
    /// `vma_write`: the VMA allows writes; a forced write on one that does
    /// not (FOLL_FORCE) leaves the page mapped read-only.
    fn do_wp_page<T: Tracer>(
        &mut self,
        cx: &Cx,
        p: ProcId,
        vpn: u16,
        pfn: Pfn,
        vma_write: bool,
        tr: &mut T,
    ) -> Access {
        let f = self.folio(pfn);
        let reuse = f.owner == Owner::Anon
            && match cx.design.cow_reuse {
                CowReuse::Mapcount => f.mapcount == 1,
                CowReuse::Exclusive => f.flags.has(FolioFlags::ANON_EXCLUSIVE) || f.refcount == 1,
            };
        if reuse {
            let (map, refs) = (f.mapcount, f.refcount);
            self.folio_mut(pfn).flags.set(FolioFlags::ANON_EXCLUSIVE);
            let e = self.procs[p.idx()].pte_mut(vpn).expect("PTE vanished");
            e.writable = vma_write;
            e.dirty = true;
            tr.note(|| format!("pfn {} reused (mapcount {map}, refcount {refs})", pfn.0));
            return Access::Faulted("do_wp_page → wp_page_reuse");
        }
        match self.cow_copy(p, vpn, pfn, Some(pfn), vma_write) {
            Some(new) => {
                tr.note(|| format!("pfn {} copied to pfn {}", pfn.0, new.0));
                Access::Faulted("do_wp_page → wp_page_copy")
            }
            None => Access::Err(Errno::ENOMEM),
        }
    }

    /// Copy `src` into a new exclusive anon page and map it at `vpn`
    /// (writable or not), dropping the mapping of `old` if there was one
    /// (`wp_page_copy`, `do_cow_fault`, and the unshare fault).
    pub(crate) fn cow_copy(
        &mut self,
        p: ProcId,
        vpn: u16,
        src: Pfn,
        old: Option<Pfn>,
        writable: bool,
    ) -> Option<Pfn> {
        let new = self.alloc(Owner::Anon)?;
        self.mem.frames[new.idx()].data = self.mem.frames[src.idx()].data;
        let f = self.folio_mut(new);
        f.mapcount = 1;
        f.flags.set(FolioFlags::ANON_EXCLUSIVE);
        f.flags.set(FolioFlags::LRU);
        if old.is_some() {
            self.zap_pte(p, vpn);
        }
        self.procs[p.idx()].install(vpn, Pte::new(new, writable));
        Some(new)
    }

    /// `filemap_read_folio`: bring a file page into the page cache from disk.
    pub(crate) fn read_folio(&mut self, file: FileId, index: u8) -> Result<Pfn, Errno> {
        let data = self.csumfs_read(file, index, false)?;
        let pfn = self.alloc(Owner::File { file, index }).ok_or(Errno::ENOMEM)?;
        self.mem.frames[pfn.idx()].data = data;
        self.folio_mut(pfn).flags.set(FolioFlags::UPTODATE);
        if self.is_tmpfs(file) {
            // shmem_get_folio on a hole: a zeroed folio, which without swap
            // is never reclaimed (kept PG_dirty).
            self.folio_mut(pfn).flags.set(FolioFlags::DIRTY);
        }
        self.files[file.idx()].cache[usize::from(index)] = Some(pfn);
        Ok(pfn)
    }

    /// The process page of mapping `map` page `page` for thread `t`.
    pub(crate) fn user_page(
        &self,
        cx: &Cx,
        t: ThreadId,
        map: NameId,
        page: u8,
    ) -> Result<(ProcId, u16), Option<Errno>> {
        let Binding::Map { start, pages } = self.resolve(map)? else { return Err(Some(Errno::EINVAL)) };
        let p = cx.prog.thread(t).proc.ok_or(Some(Errno::EFAULT))?;
        if page >= pages {
            return Err(Some(Errno::EFAULT));
        }
        Ok((p, start + u16::from(page)))
    }

    /// One step of a CPU access to page `page` of mapping `map`: resolve
    /// the address, fault as needed, and once the PTE allows the access,
    /// hand the frame to `access`, which performs it. `what` names the
    /// access in the labels of its failures.
    #[allow(clippy::too_many_arguments)]
    fn cpu_access<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        map: NameId,
        page: u8,
        write: bool,
        tr: &mut T,
        access: impl FnOnce(&mut World, ProcId, u16, Pfn, &mut T) -> &'static str,
    ) -> Option<&'static str> {
        let (p, vpn) = match self.user_page(cx, t, map, page) {
            Ok(x) => x,
            Err(None) => return None,
            Err(Some(e)) => {
                self.fail(t, e, None);
                return Some(if write {
                    "store: bad address (SIGSEGV)"
                } else {
                    "load: bad address (SIGSEGV)"
                });
            }
        };
        match self.fault_in(cx, p, vpn, write, false, tr) {
            Access::Blocked => None,
            Access::Faulted(l) => Some(l),
            Access::Err(e) => {
                self.fail(t, e, None);
                Some(if write {
                    "store: fault failed (SIGSEGV/SIGBUS)"
                } else {
                    "load: fault failed (SIGSEGV/SIGBUS)"
                })
            }
            Access::Ready(pfn) => {
                let label = access(self, p, vpn, pfn, tr);
                self.finish(t);
                Some(label)
            }
        }
    }

    /// `store X[p] = B`: fault as needed, then fill the page through a
    /// writable, now dirty PTE.
    pub(crate) fn op_store<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        map: NameId,
        page: u8,
        byte: u8,
        tr: &mut T,
    ) -> Option<&'static str> {
        self.cpu_access(cx, t, map, page, true, tr, |w, p, vpn, pfn, tr| {
            let ver = w.next_ver();
            w.mem.frames[pfn.idx()].data = page_fill(byte, ver);
            w.procs[p.idx()].pte_mut(vpn).expect("PTE vanished").dirty = true;
            tr.note(|| format!("pfn {} = {byte:#04x} (v{ver})", pfn.0));
            "store (CPU write through a writable PTE)"
        })
    }

    /// `r = load X[p]`: fault as needed, then read the page.
    pub(crate) fn op_load<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        reg: RegId,
        map: NameId,
        page: u8,
        tr: &mut T,
    ) -> Option<&'static str> {
        self.cpu_access(cx, t, map, page, false, tr, |w, _, _, pfn, _| {
            let v = uniform_byte(&w.mem.frames[pfn.idx()].data).map_or(MIXED, u64::from);
            w.threads[t.idx()].regs[reg.idx()] = Some(v);
            "load (CPU read through a present PTE)"
        })
    }
}

/// Register value of a read that saw a page whose sectors differ.
pub const MIXED: u64 = u64::MAX;
