#!/usr/bin/env python3
"""The assignment's name for the k6 analysis (§2.3): summary.md/.json and charts of one run.

    scripts/analyze-k6-results.py results/loadtests/<stamp>-<case> [--raw FILE] [--bucket S]

A launcher: it runs `python -m benchmarks.k6_analysis` (what `make loadtest` runs after every case)
with the repository on PYTHONPATH, so it works from any directory.
"""

import os
import sys
from pathlib import Path

repo = str(Path(__file__).resolve().parent.parent)
path = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH")) if p)
os.execve(sys.executable, [sys.executable, "-m", "benchmarks.k6_analysis", *sys.argv[1:]],
          os.environ | {"PYTHONPATH": path})
