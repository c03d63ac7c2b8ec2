//! The real app, end to end: the `shoplab-demo` binary (real IPC, real engine) on a real demo
//! workspace, driven through tauri-driver and WebKitWebDriver under Xvfb by
//! `tests/ui/real-app.mjs` (pick a shopper, open a product, add it to the cart, switch the
//! model, ask why, compare two runs, start and stop the control room). `scripts/deps.sh`
//! installs the drivers (`scripts/tauri-driver.sh`).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use shoplab_engine::demo::{Contents, WorldConfig, build_demo};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// tauri-driver: `$SHOPLAB_TAURI_DRIVER`, else where `scripts/tauri-driver.sh` installs it.
fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("SHOPLAB_TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/shoplab/tools/bin/tauri-driver")
}

/// Kills the driver's whole process group (xvfb-run, Xvfb, tauri-driver, WebKitWebDriver).
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

#[test]
fn the_real_app_through_webdriver() {
    let driver = tauri_driver();
    let native = Path::new("/usr/bin/WebKitWebDriver");
    assert!(
        driver.exists() && native.exists(),
        "tauri-driver ({}) or WebKitWebDriver is missing: `bash scripts/deps.sh` installs them",
        driver.display()
    );
    // A scratch cache with the demo workspace the app opens on start (the control room
    // stores its what-if in it).
    let cache = tempfile::tempdir().unwrap();
    build_demo(
        &cache.path().join("demo.duckdb"),
        &WorldConfig::demo(),
        Contents::Full,
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let runtime = std::env::temp_dir().join("shoplab-runtime-webdriver");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x900x24"])
        .arg(&driver)
        .args(["--port", &port.to_string(), "--native-driver"])
        .arg(native)
        .env("SHOPLAB_CACHE", cache.path())
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("xvfb-run starts");
    let _group = Group(child);

    let shots = std::env::var_os("SHOPLAB_UI_SHOTS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(|t| Path::new(&t).join("ui-shots")));
    let mut node = Command::new("node");
    node.arg(repo().join("tests/ui/real-app.mjs"))
        .env("TAURI_DRIVER_URL", format!("http://127.0.0.1:{port}"))
        .env("SHOPLAB_APP", env!("CARGO_BIN_EXE_shoplab-demo"))
        .current_dir(repo());
    if let Some(dir) = shots {
        node.env("SHOPLAB_UI_SHOTS", dir);
    }
    let status = node.status().expect("node runs");
    assert!(status.success(), "the real app's journey failed");
}
