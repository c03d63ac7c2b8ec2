//! Links OpenBLAS statically: the text encoder's matrix products on the CPU
//! (src/kernels/blas.rs). The archive is Debian's `libopenblas-dev` (scripts/deps.sh); only
//! the objects the products need end up in a binary, which then runs without OpenBLAS
//! installed. `OPENBLAS_LIB_DIR` names another folder holding `libopenblas.a`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=OPENBLAS_LIB_DIR");
    let from_pkg_config = Command::new("pkg-config")
        .args(["--variable=libdir", "openblas"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let candidates = std::env::var("OPENBLAS_LIB_DIR")
        .ok()
        .into_iter()
        .chain(from_pkg_config)
        .chain([
            "/usr/lib/x86_64-linux-gnu/openblas-pthread".to_string(),
            "/usr/lib/aarch64-linux-gnu/openblas-pthread".to_string(),
            "/usr/lib".to_string(),
        ])
        .map(PathBuf::from);
    let dir = candidates
        .into_iter()
        .find(|d| d.join("libopenblas.a").exists())
        .unwrap_or_else(|| {
            panic!(
                "OpenBLAS's static library (libopenblas.a) was not found: install Debian's \
                 libopenblas-dev (bash scripts/deps.sh) or set OPENBLAS_LIB_DIR to its folder"
            )
        });
    println!("cargo:rustc-link-search=native={}", dir.display());
    // Not bundled into the rlib: the final link takes the objects it needs from the archive.
    println!("cargo:rustc-link-lib=static:-bundle=openblas");
}
