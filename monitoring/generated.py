"""Files generated from code and committed (the Grafana JSON, the live consoles): one command line
for each generator, which writes them or, with --check, fails if the committed ones are stale."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def stale(files: dict[Path, str]) -> list[Path]:
    """Files whose committed text differs from the generated one (missing counts as different)."""
    return [p for p, text in files.items() if not p.exists() or p.read_text() != text]


def main(argv: list[str] | None, description: str, generate: Callable[[], dict[Path, str]],
         module: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed files differ from the generated ones")
    args = parser.parse_args(argv)
    files = generate()
    if args.check:
        for path in stale(files):
            print(f"{path} is out of date: run python -m {module}", file=sys.stderr)
        return 1 if stale(files) else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path)
    return 0
