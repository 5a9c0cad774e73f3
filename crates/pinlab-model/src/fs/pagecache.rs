//! The page cache of a file (`address_space` and its xarray of folios).

use crate::ids::{FileId, FsId, Pfn, ThreadId};
use crate::world::{OpState, World};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct File {
    pub fs: FsId,
    pub pages: u8,
    /// Current size in pages (`i_size`); pages at or past it are gone.
    pub size: u8,
    /// `mapping->wb_err` (errseq): bumped by every writeback I/O error.
    pub errseq: u8,
    /// The csumfs pointer sector of page 0; page `i` uses `ptr_first + i`.
    pub ptr_first: u16,
    /// Folio caching each page, if any (`filemap_get_folio`).
    pub cache: Vec<Option<Pfn>>,
}

impl World {
    /// `lookup F[p]`: a transient page-cache reference, as any kernel path
    /// takes (`filemap_get_folio`, then `folio_put`): the kind of reference
    /// a refcount-based pin test cannot tell from a pin.
    pub(crate) fn op_lookup(&mut self, t: ThreadId, file: FileId, page: u8) -> &'static str {
        if let OpState::Lookup { pfn } = self.threads[t.idx()].op {
            self.folio_put(pfn, 1);
            self.finish(t);
            return "folio_put";
        }
        match self.cached(file, page) {
            Some(pfn) => {
                self.folio_mut(pfn).refcount += 1;
                self.threads[t.idx()].op = OpState::Lookup { pfn };
                "filemap_get_folio (+1 reference)"
            }
            None => {
                self.finish(t);
                "filemap_get_folio: not cached"
            }
        }
    }
}
