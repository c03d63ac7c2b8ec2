//! Where tensors live: the CPU, or a CUDA GPU when built with the `cuda` feature and one is
//! found at run time.

use candle_core::Device;

/// The device for a run: `want` is "cpu", "cuda" or "auto" (CUDA when available).
/// Without the `cuda` feature, or without a GPU, this is the CPU.
pub fn select(want: &str) -> (Device, String) {
    if want == "cpu" {
        return (Device::Cpu, "cpu".into());
    }
    match Device::cuda_if_available(0) {
        Ok(d) if d.is_cuda() => (d, "cuda:0".into()),
        _ => (Device::Cpu, "cpu".into()),
    }
}
