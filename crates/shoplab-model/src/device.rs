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
/// on a machine without a GPU that is the expected answer, not a crash. The first look
/// catches that panic (its message kept off standard error, the process's panic hook set
/// aside for it) and remembers whether the library loaded; later looks ask candle directly
/// or answer at once.
fn find_cuda() -> Result<Device, String> {
    const NO_DRIVER: &str = "the NVIDIA driver's library, libcuda, is not installed";
    static DRIVER_LOADS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let found = match DRIVER_LOADS.get() {
        Some(false) => return Err(NO_DRIVER.into()),
        Some(true) => Device::cuda_if_available(0),
        None => {
            let hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {}));
            let found = std::panic::catch_unwind(|| Device::cuda_if_available(0));
            std::panic::set_hook(hook);
            let _ = DRIVER_LOADS.set(found.is_ok());
            found.map_err(|_| NO_DRIVER.to_string())?
        }
    };
    match found {
        Ok(d) if d.is_cuda() => Ok(d),
        Ok(_) => Err("no CUDA device is visible".into()),
        Err(e) => Err(e.to_string().lines().next().unwrap_or_default().to_string()),
    }
}

fn fallback_line(why: &str) -> String {
    format!("CUDA build, but no GPU was found ({why}): runs use the CPU")
}
