#!/usr/bin/env bash
# Installs the Debian packages ShopLab builds against (webkit/gtk for the Tauri demo,
# xkbcommon for the egui workbench, Xvfb for headless window tests, protoc for the Spark
# Connect client, Java 17 for the local Spark Connect server, OpenBLAS whose static library
# the text encoder links), only when missing.
set -euo pipefail

packages=(
  pkg-config build-essential
  libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev
  librsvg2-dev libxdo-dev libssl-dev libayatana-appindicator3-dev libxkbcommon-dev
  xvfb x11-apps
  chromium
  protobuf-compiler libprotobuf-dev openjdk-17-jre-headless
  libopenblas-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The storefront UI's browser tests (tests/ui): playwright-core drives Debian's chromium.
ui_tests="$(cd "$(dirname "$0")/.." && pwd)/tests/ui"
if [ ! -d "$ui_tests/node_modules" ] || [ "$ui_tests/package-lock.json" -nt "$ui_tests/node_modules" ]; then
  echo "installing the UI tests' npm packages (tests/ui)"
  npm ci --prefix "$ui_tests" --no-audit --no-fund >/dev/null
  touch "$ui_tests/node_modules"
fi
if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install Rust (rustup) first" >&2
  exit 1
fi
bash "$(dirname "$0")/tauri-driver.sh" # WebKitWebDriver and tauri-driver for the real app's tests (tests/ui/real-app.mjs)
