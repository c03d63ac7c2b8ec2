#!/usr/bin/env bash
# README command 2: everything CI checks. Installs what it needs, fetches the public
# datasets into the cache (checksums verified), then format, lints and all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
source scripts/env.sh
bash datasets/fetch.sh
bash scripts/check-ui-free.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -q -- -D warnings
cargo test --workspace
