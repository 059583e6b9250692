"""Figures about the source tree of a checkout: how its parts import each other, the hidden edges,
the lines in scripts/, the largest functions. Read from the files (ast), nothing is imported.

    python -m benchmarks.tree [--repo DIR] [--out results/tree/latest.json]

`--repo` may be any checkout, e.g. `git worktree add /tmp/old <sha>` to measure an older commit
the same way; the output records the checkout's commit. The layering itself is enforced by
tests/tools/test_layering.py; this only counts.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

PARTS = ("chat4all_app", "devstack", "benchmarks", "experiments", "monitoring", "report", "scripts", "tests")
HIDDEN_CALLS = ("spec_from_file_location", "sys.path.insert", "sys.path.append", "sys.path.extend")


def tracked_python(repo: Path) -> list[Path]:
    out = subprocess.run(["git", "ls-files", "*.py"], cwd=repo, capture_output=True, text=True, check=True)
    return [repo / p for p in out.stdout.split()]


def part_of(rel: tuple[str, ...]) -> str:
    """The top-level part a file belongs to; tests are told apart by their directory."""
    if rel[0] == "tests":
        return "/".join(rel[:2]) if len(rel) > 2 else "tests"
    return rel[0] if len(rel) > 1 else "(root)"


def imported(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def hidden_calls(tree: ast.AST) -> list[str]:
    """Calls that load code behind the import system's back (a file by path, an edited sys.path)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = ast.unparse(node.func)
            found += [call for call in HIDDEN_CALLS if name.endswith(call)]
    return found


def target_part(module: str) -> str | None:
    top = module.split(".")[0]
    if top not in PARTS:
        return None
    return "/".join(module.split(".")[:2]) if top == "tests" and "." in module else top


def measure(repo: Path) -> dict:
    edges: Counter[tuple[str, str]] = Counter()
    hidden: list[str] = []
    functions: list[tuple[int, str]] = []
    for path in tracked_python(repo):
        rel = path.relative_to(repo).parts
        tree = ast.parse(path.read_text())
        here = part_of(rel)
        for module in imported(tree):
            there = target_part(module)
            if there and there != here:
                edges[(here, there)] += 1
            if module.split(".")[0] == "tests" and module.split(".")[-1].startswith("test_"):
                hidden.append(f"{'/'.join(rel)} imports the test module {module}")
        hidden += [f"{'/'.join(rel)} calls {call}" for call in hidden_calls(tree)]
        functions += [(node.end_lineno - node.lineno + 1, f"{'/'.join(rel)}:{node.lineno} {node.name}")
                      for node in ast.walk(tree)
                      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno]
    scripts = [p for p in (repo / "scripts").iterdir() if p.is_file()] if (repo / "scripts").is_dir() else []
    functions.sort(reverse=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True)
    return {
        "git_sha": head.stdout.strip(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "edges": [{"from": a, "to": b, "imports": n} for (a, b), n in sorted(edges.items())],
        "hidden_edges": sorted(hidden),
        "scripts": {"files": len(scripts), "python_files": sum(p.suffix == ".py" for p in scripts),
                    "lines": sum(len(p.read_text().splitlines()) for p in scripts)},
        "largest_functions": [{"lines": n, "where": w} for n, w in functions[:5]],
        "largest_app_functions": [{"lines": n, "where": w} for n, w in functions
                                  if w.startswith("chat4all_app/")][:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure(args.repo.resolve())
    print(f"tree at {figures['git_sha'][:10]}")
    print(f"  top-level import edges: {len(figures['edges'])}")
    for e in figures["edges"]:
        print(f"    {e['from']} -> {e['to']} ({e['imports']})")
    print(f"  hidden edges: {len(figures['hidden_edges'])}")
    for h in figures["hidden_edges"]:
        print(f"    {h}")
    s = figures["scripts"]
    print(f"  scripts/: {s['files']} files ({s['python_files']} Python), {s['lines']} lines")
    print("  largest functions: " + "; ".join(f"{f['where']} ({f['lines']} lines)"
                                            for f in figures["largest_functions"][:3]))
    print("  largest in chat4all_app: " + "; ".join(f"{f['where']} ({f['lines']} lines)"
                                                  for f in figures["largest_app_functions"][:3]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
