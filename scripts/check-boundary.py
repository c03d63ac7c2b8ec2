#!/usr/bin/env python3
"""API boundary check: front-ends use only shoplab-engine, and the engine hands out chosen
types, not whole lower crates or modules.

Fails (exit 1, one line per finding) when
  - a front-end (crates/shoplab-cli, crates/shoplab-workbench, src-tauri, and the CLI's
    end-to-end tests in tests/e2e) depends on, or names in its code, a lower crate
    (shoplab-data, shoplab-synth, shoplab-model, shoplab-sim), or reaches one through an
    engine module that re-exports it (`shoplab_engine::sim::...`);
  - shoplab-engine re-exports a lower crate whole (`pub use shoplab_sim as sim;`) or one
    of its modules (`pub use shoplab_model::text;`).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOWER = ["shoplab-data", "shoplab-synth", "shoplab-model", "shoplab-sim"]
FRONT_ENDS = ["crates/shoplab-cli", "crates/shoplab-workbench", "src-tauri"]
EXTRA_SOURCES = ["tests/e2e"]

findings = []


def rust_files(folder):
    return sorted(p for p in (ROOT / folder).rglob("*.rs") if "target" not in p.parts)


def lower_modules():
    """Each lower crate's public modules, from its lib.rs."""
    mods = {}
    for crate in LOWER:
        lib = ROOT / "crates" / crate / "src" / "lib.rs"
        names = re.findall(r"^pub mod (\w+)", lib.read_text(), re.M)
        mods[crate.replace("-", "_")] = set(names)
    return mods


MODULES = lower_modules()
# A lower crate named in code, or an engine module path that leads into one.
NAMED = re.compile(r"\b(" + "|".join(c.replace("-", "_") for c in LOWER) + r")\b")

for fe in FRONT_ENDS:
    manifest = ROOT / fe / "Cargo.toml"
    for n, line in enumerate(manifest.read_text().splitlines(), 1):
        for crate in LOWER:
            if re.match(rf"\s*{crate}\s*[.=]", line):
                findings.append(f"{manifest.relative_to(ROOT)}:{n}: depends on {crate}; use shoplab-engine")

for folder in FRONT_ENDS + EXTRA_SOURCES:
    for path in rust_files(folder):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("//")[0]
            m = NAMED.search(code)
            if m:
                findings.append(f"{path.relative_to(ROOT)}:{n}: names {m.group(1)}; use shoplab_engine")
            if re.search(r"shoplab_engine::(sim|model|data|synth)\b", code):
                findings.append(f"{path.relative_to(ROOT)}:{n}: reaches a lower crate through the engine: {code.strip()}")

# The engine's re-exports: no whole crate, no module of one.
for path in rust_files("crates/shoplab-engine/src"):
    text = path.read_text()
    for m in re.finditer(r"pub use (shoplab_\w+)((?:::\w+)*)(?:::\{([^}]*)\})?\s*(?:as \w+)?;", text):
        crate, prefix, group = m.group(1), m.group(2), m.group(3)
        n = text[: m.start()].count("\n") + 1
        where = f"{path.relative_to(ROOT)}:{n}"
        if crate not in MODULES:
            continue
        if not prefix and group is None:
            findings.append(f"{where}: re-exports the whole crate {crate}")
            continue
        if group is None:
            # `pub use crate::module;`
            exported = [prefix.strip(":")]
        else:
            # `pub use crate::{module, Type, ...};` (paths inside the braces keep their last part)
            exported = [g.strip().split(" as ")[0] for g in group.split(",") if g.strip()]
            if prefix:
                exported = [prefix.strip(":") + "::" + e for e in exported]
        for path_ in exported:
            if "::" not in path_ and path_ in MODULES[crate]:
                findings.append(f"{where}: re-exports the module {crate}::{path_}")

for f in findings:
    print(f, file=sys.stderr)
if findings:
    print(f"API boundary: {len(findings)} finding(s)", file=sys.stderr)
    sys.exit(1)
print("API boundary: front-ends use shoplab-engine only")
