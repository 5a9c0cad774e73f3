//! RDMA NIC: memory regions and the remote-access check.
//!
//! `reg_mr` is `ib_reg_user_mr` → `ib_umem_get`, which pins the range with
//! `pin_user_pages_fast(FOLL_LONGTERM [| FOLL_WRITE])` (see `mm::gup`);
//! `dereg` is `ib_dereg_mr` → `ib_umem_release`, which unpins with
//! `unpin_user_pages_dirty_lock(…, writable)`. Between the two, the NIC
//! reaches the pages only by the PFNs it recorded.

use crate::errno::Errno;
use crate::ids::{NameId, PinSetId};
use crate::world::{Binding, World};

impl World {
    /// The pin set a remote access to MR `obj` goes through, or the
    /// completion error the requester sees (the NIC checks the MR key and
    /// access flags and touches no memory on failure).
    pub(crate) fn mr_access(&self, obj: NameId, write: bool) -> Result<PinSetId, Option<Errno>> {
        let Binding::Mr { set, .. } = self.resolve(obj)? else { return Err(Some(Errno::EINVAL)) };
        let s = &self.pinsets[set.idx()];
        if !s.live || (write && !s.write) {
            return Err(Some(Errno::EACCES));
        }
        Ok(set)
    }
}
