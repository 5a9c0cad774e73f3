//! Typed indices. Every part of the world refers to every other part through
//! one of these, never through a pointer, so the world stays one plain value
//! that can be cloned, hashed and compared.

macro_rules! id {
    ($($(#[$m:meta])* $name:ident($t:ty);)*) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(pub $t);
        impl $name {
            /// The index as a `usize`, for slicing the table it refers to.
            pub fn idx(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

id! {
    /// Page frame number: index of a physical 4 KiB frame.
    Pfn(u8);
    /// A file of some file system.
    FileId(u8);
    /// A mounted file system.
    FsId(u8);
    /// A block device.
    DiskId(u8);
    /// A process (an `mm_struct` with its VMAs and page table).
    ProcId(u8);
    /// A scenario thread; the `finally` block is the thread after the last.
    ThreadId(u8);
    /// A scenario-global name bound by `NAME = verb ...` (mapping, pin, MR).
    NameId(u8);
    /// A per-thread register bound by `r = load ...`.
    RegId(u8);
    /// A set of pages taken by one GUP call (or one `reg_mr`).
    PinSetId(u8);
    /// A device: an RDMA NIC or a DMA engine.
    DevId(u8);
}
