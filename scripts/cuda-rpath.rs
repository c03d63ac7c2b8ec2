//! Build script of the CLI and the workbench. In a CUDA build, candle's kernels link the
//! CUDA runtime (`libcudart`), so the binaries look for it in `cuda-lib/` beside them, where
//! scripts/build-cuda.sh puts it, after `LD_LIBRARY_PATH`: a CUDA build then starts on a
//! machine without CUDA and runs on the CPU, saying so in one line. Nothing in a CPU build.

fn main() {
    println!("cargo::rerun-if-changed=../../scripts/cuda-rpath.rs");
    let cuda = std::env::var_os("CARGO_FEATURE_CUDA").is_some();
    if cuda && std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
        println!("cargo::rustc-link-arg-bins=-Wl,-rpath,$ORIGIN/cuda-lib");
    }
}
