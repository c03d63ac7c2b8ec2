#!/usr/bin/env bash
# The real app's WebDriver tests (tests/ui/real-app.mjs): Debian's WebKitWebDriver
# (webkit2gtk-driver) and tauri-driver 2.x, each installed only when missing. tauri-driver goes
# into a cache outside the clone ($SHOPLAB_TOOLS, default ~/.cache/shoplab/tools); its path is printed.
set -euo pipefail

if ! dpkg-query -W -f='${Status}' webkit2gtk-driver 2>/dev/null | grep -q "install ok installed"; then
  echo "installing Debian packages: webkit2gtk-driver"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends webkit2gtk-driver >/dev/null
fi
command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver is not on PATH after installing webkit2gtk-driver" >&2; exit 1; }

tools="${SHOPLAB_TOOLS:-$HOME/.cache/shoplab/tools}"
driver="$tools/bin/tauri-driver"
if ! "$driver" --help >/dev/null 2>&1; then
  command -v cargo >/dev/null || { echo "cargo is missing: install Rust (rustup) first" >&2; exit 1; }
  echo "installing tauri-driver 2.x into $tools"
  # Its own temporary target dir (not the workspace's CARGO_TARGET_DIR, whose lock a build may hold).
  env -u CARGO_TARGET_DIR cargo install tauri-driver --version '^2' --locked --root "$tools" --quiet
  "$driver" --help >/dev/null
fi
echo "tauri-driver: $driver"
echo "WebKitWebDriver: $(command -v WebKitWebDriver)"
