//! Devices that touch memory by physical frame: DMA engines and RDMA NICs.

pub mod dma;
pub mod rdma;
