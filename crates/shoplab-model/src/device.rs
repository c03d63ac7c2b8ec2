//! Where tensors live: the CPU, or a CUDA GPU when built with the `cuda` feature and one is
//! found at run time.

use candle_core::Device;

/// The device for a run: `want` is "cpu", "cuda" or "auto" (CUDA when available).
/// Without the `cuda` feature, or without a GPU, this is the CPU; a CUDA build that finds
/// no GPU says so once on standard error ([`status`]'s line).
pub fn select(want: &str) -> (Device, String) {
    if want == "cpu" {
        return (Device::Cpu, "cpu".into());
    }
    match Device::cuda_if_available(0) {
        Ok(d) if d.is_cuda() => (d, "cuda:0".into()),
        found => {
            if cfg!(feature = "cuda") {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| eprintln!("{}", fallback_line(found.err())));
            }
            (Device::Cpu, "cpu".into())
        }
    }
}

/// One line on the devices runs can use: whether this build has CUDA, and whether it
/// found a GPU (looked for on each call).
pub fn status() -> String {
    if !cfg!(feature = "cuda") {
        return "CPU only: this build has no CUDA (scripts/build-cuda.sh builds one)".into();
    }
    match Device::cuda_if_available(0) {
        Ok(d) if d.is_cuda() => "CUDA build: GPU cuda:0 found".into(),
        found => fallback_line(found.err()),
    }
}

fn fallback_line(error: Option<candle_core::Error>) -> String {
    let why = match error {
        Some(e) => e.to_string().lines().next().unwrap_or_default().to_string(),
        None => "no CUDA device is visible".into(),
    };
    format!("CUDA build, but no GPU was found ({why}): runs use the CPU")
}
