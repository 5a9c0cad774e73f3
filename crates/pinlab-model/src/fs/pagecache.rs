//! The page cache of a file (`address_space` and its xarray of folios).

use crate::ids::{FsId, Pfn};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct File {
    pub fs: FsId,
    pub pages: u8,
    /// The csumfs pointer sector of page 0; page `i` uses `ptr_first + i`.
    pub ptr_first: u16,
    /// Folio caching each page, if any (`filemap_get_folio`).
    pub cache: Vec<Option<Pfn>>,
}
