#!/usr/bin/env python3
"""Layering check: inside each crate, the graph of top-level modules (an edge A -> B when
code in module A names `crate::B`) has no cycle. Prints each crate's module order, lowest
layer first, and fails (exit 1) on a cycle, naming the modules in it.

    python3 scripts/check-modules.py          # every crate
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRATES = sorted(p.parent for p in ROOT.glob("crates/*/src")) + [ROOT / "src-tauri"]
NAMED = re.compile(r"\bcrate::(\w+)")


def modules(src):
    """Top-level module name -> its files."""
    mods = {}
    for f in sorted(src.rglob("*.rs")):
        rel = f.relative_to(src).parts
        if rel[0] in ("lib.rs", "main.rs", "bin"):
            continue
        name = rel[0][:-3] if len(rel) == 1 else rel[0]
        mods.setdefault(name, []).append(f)
    return mods


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def sccs(graph):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out  # reverse topological: lowest layer first


status = 0
for crate in CRATES:
    src = crate / "src"
    if not src.is_dir():
        continue
    mods = modules(src)
    graph = {m: set() for m in mods}
    for m, files in mods.items():
        for f in files:
            for target in NAMED.findall(strip_comments(f.read_text())):
                if target in graph and target != m:
                    graph[m].add(target)
    comps = sccs(graph)
    cycles = [c for c in comps if len(c) > 1]
    order = " < ".join("{" + ", ".join(c) + "}" if len(c) > 1 else c[0] for c in comps)
    print(f"{crate.relative_to(ROOT)}: {order or '(one module)'}")
    for c in cycles:
        print(f"  CYCLE: {' <-> '.join(c)}", file=sys.stderr)
        status = 1
sys.exit(status)
