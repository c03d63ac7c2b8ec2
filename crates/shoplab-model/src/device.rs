//! Where tensors live: the CPU, or a CUDA GPU when built with the `cuda` feature and one is
//! found at run time.

use candle_core::Device;

/// The device for a run: `want` is "cpu", "cuda" or "auto" (CUDA when available).
/// Without the `cuda` feature, or without a GPU, this is the CPU; a CUDA build that finds
/// no GPU says so once on standard error ([`status`]'s line).
pub fn select(want: &str) -> (Device, String) {
    if want == "cpu" || !cfg!(feature = "cuda") {
        return (Device::Cpu, "cpu".into());
    }
    match find_cuda() {
        Ok(d) => (d, "cuda:0".into()),
        Err(why) => {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| eprintln!("{}", fallback_line(&why)));
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
    match find_cuda() {
        Ok(_) => "CUDA build: GPU cuda:0 found".into(),
        Err(why) => fallback_line(&why),
    }
}

/// The first CUDA GPU, or why there is none. A CUDA build loads the NVIDIA driver's
/// library when it first looks for a GPU (cudarc's dynamic loading, which
/// scripts/build-cuda.sh selects), and cudarc panics when that library is not installed:
/// on a machine without a GPU that is the expected answer, not a crash, so the panic is
/// caught here and its message kept off standard error.
fn find_cuda() -> Result<Device, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let found = std::panic::catch_unwind(|| Device::cuda_if_available(0));
    std::panic::set_hook(hook);
    match found {
        Ok(Ok(d)) if d.is_cuda() => Ok(d),
        Ok(Ok(_)) => Err("no CUDA device is visible".into()),
        Ok(Err(e)) => Err(e.to_string().lines().next().unwrap_or_default().to_string()),
        Err(_) => Err("the NVIDIA driver's library, libcuda, is not installed".into()),
    }
}

fn fallback_line(why: &str) -> String {
    format!("CUDA build, but no GPU was found ({why}): runs use the CPU")
}
