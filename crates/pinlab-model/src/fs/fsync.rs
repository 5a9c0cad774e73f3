//! `fsync` and `sync`: write back, wait, flush, and (ghost) check that what
//! memory held when the call started reached the disk.

use crate::data::SectorData;
use crate::errno::Errno;
use crate::fs::writeback::WbState;
use crate::ids::*;
use crate::limits::SECTORS_PER_PAGE;
use crate::mm::frame::FolioFlags;
use crate::oracle::Oracle;
use crate::trace::Tracer;
use crate::world::{Cx, OpState, World};

/// Ghost: the version of each sector of a cached page when an fsync/sync
/// started. When the call returns, the disk must hold these or newer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Promise {
    pub file: FileId,
    pub index: u8,
    pub vers: [u16; SECTORS_PER_PAGE],
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FsyncState {
    pub stage: FsyncStage,
    pub promise: Vec<Promise>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FsyncStage {
    Writeback(WbState),
    Wait,
    Flush,
}

impl World {
    /// `fsync F` (`vfs_fsync_range` → `file_write_and_wait_range` → flush) or,
    /// with `file == None`, `sync` over every file (`ksys_sync`).
    pub(crate) fn op_fsync<T: Tracer>(
        &mut self,
        cx: &Cx,
        t: ThreadId,
        file: Option<FileId>,
        reg: Option<RegId>,
        tr: &mut T,
    ) -> Option<&'static str> {
        if file.is_some_and(|f| self.is_tmpfs(f)) {
            if let Some(r) = reg {
                self.threads[t.idx()].regs[r.idx()] = Some(0);
            }
            self.finish(t);
            return Some("vfs_fsync_range → noop_fsync (tmpfs)");
        }
        let (first, last) = match file {
            Some(f) => (f, f),
            None => (FileId(0), FileId(self.files.len().saturating_sub(1) as u8)),
        };
        let mut st = match &self.threads[t.idx()].op {
            OpState::Fsync(st) => st.clone(),
            _ => {
                let promise = self.promise(first, last);
                tr.note(|| format!("{} cached page(s) must be durable on return", promise.len()));
                let st =
                    FsyncState { stage: FsyncStage::Writeback(WbState::new(true, first, last)), promise };
                self.threads[t.idx()].op = OpState::Fsync(st);
                return Some(if file.is_some() { "vfs_fsync_range" } else { "ksys_sync" });
            }
        };
        let label = match &mut st.stage {
            FsyncStage::Writeback(wb) => {
                let (label, done) = self.wb_step(cx, wb, tr)?;
                if done {
                    st.stage = FsyncStage::Wait;
                }
                label
            }
            FsyncStage::Wait => {
                let busy = (first.0..=last.0).any(|f| {
                    self.files[usize::from(f)]
                        .cache
                        .iter()
                        .flatten()
                        .any(|p| self.folio(*p).flags.has(FolioFlags::WRITEBACK))
                });
                if busy {
                    return None;
                }
                st.stage = FsyncStage::Flush;
                "filemap_fdatawait_range"
            }
            FsyncStage::Flush => {
                let mut fss: Vec<FsId> = (first.0..=last.0).map(|f| self.files[usize::from(f)].fs).collect();
                fss.dedup();
                for fs in fss {
                    self.csumfs_flush(fs);
                }
                // file_check_and_advance_wb_err: a writeback error since
                // this fd last looked is reported once, and only then.
                let err =
                    file.filter(|f| self.files[f.idx()].errseq != self.threads[t.idx()].fd_seen[f.idx()]);
                if let Some(f) = err {
                    self.threads[t.idx()].fd_seen[f.idx()] = self.files[f.idx()].errseq;
                    tr.note(|| "a writeback error happened since this fd last checked: EIO".into());
                } else {
                    // Only a successful fsync promises anything.
                    self.check_promise(&st.promise, false, tr);
                    self.ghost_ack(&st.promise);
                }
                if file.is_none() {
                    self.ghost.sync_promise = std::mem::take(&mut st.promise);
                }
                if let Some(r) = reg {
                    self.threads[t.idx()].regs[r.idx()] =
                        Some(if err.is_some() { Errno::EIO.code() } else { 0 });
                }
                if err.is_some() {
                    self.fail(t, Errno::EIO, None);
                    return Some("blkdev_issue_flush; fsync returns EIO (errseq)");
                }
                self.finish(t);
                return Some("blkdev_issue_flush; fsync returns");
            }
        };
        self.threads[t.idx()].op = OpState::Fsync(st);
        Some(label)
    }

    fn promise(&self, first: FileId, last: FileId) -> Vec<Promise> {
        let mut out = Vec::new();
        // tmpfs promises nothing durable.
        for f in (first.0..=last.0).filter(|&f| !self.is_tmpfs(FileId(f))) {
            for (i, pfn) in self.files[usize::from(f)].cache.iter().enumerate() {
                if let Some(pfn) = pfn {
                    let d = &self.mem.frames[pfn.idx()].data;
                    out.push(Promise { file: FileId(f), index: i as u8, vers: d.map(|s: SectorData| s.ver) });
                }
            }
        }
        out
    }

    /// Ghost: remember what a successful fsync/sync acknowledged, for the
    /// crash-anywhere check (`crash_check`). Per page, the newest promise.
    fn ghost_ack(&mut self, promise: &[Promise]) {
        for p in promise {
            match self.ghost.acked.iter_mut().find(|a| a.file == p.file && a.index == p.index) {
                Some(a) => {
                    for s in 0..SECTORS_PER_PAGE {
                        a.vers[s] = a.vers[s].max(p.vers[s]);
                    }
                }
                None => self.ghost.acked.push(p.clone()),
            }
        }
    }

    /// A write that replaced a file page on disk wholesale (an O_DIRECT
    /// pointer switch, a truncate): earlier promises about the page no
    /// longer describe what the file should hold.
    pub(crate) fn ghost_supersede(&mut self, file: FileId, index: u8) {
        let keep = |p: &Promise| !(p.file == file && p.index == index);
        self.ghost.acked.retain(keep);
        self.ghost.sync_promise.retain(keep);
        for (i, ts) in self.threads.iter_mut().enumerate() {
            if let OpState::Fsync(st) = &mut ts.op {
                st.promise.retain(keep);
                self.stats.other_threads |= 1 << i;
            }
        }
    }

    /// `lost_write`: some promised sector is older on disk than promised.
    pub(crate) fn check_promise<T: Tracer>(&mut self, promise: &[Promise], media: bool, tr: &mut T) {
        for p in promise {
            let disk = self.fss[self.files[p.file.idx()].fs.idx()].disk;
            let on_disk =
                self.csumfs_ptr(p.file, p.index, media).and_then(|(b, _)| self.csumfs_block(disk, b, media));
            let lost = match on_disk {
                None => Some(0),
                Some(d) => (0..SECTORS_PER_PAGE).find(|&s| d[s].ver < p.vers[s]),
            };
            if let Some(s) = lost {
                self.fire(Oracle::LostWrite);
                tr.note(|| {
                    let have = on_disk.map_or(0, |d| d[s].ver);
                    format!(
                        "LOST WRITE: f{}[{}] sector {s} on disk is v{have}, promised v{}",
                        p.file.0, p.index, p.vers[s]
                    )
                });
            }
        }
    }
}
