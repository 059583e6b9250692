#!/usr/bin/env python3
"""The assignment's name for the k6 analysis (§2.3): summary.md/.json and charts of one run.

    scripts/analyze-k6-results.py results/loadtests/<stamp>-<case> [--raw FILE] [--bucket S]

`make loadtest` runs it for every case; the implementation is benchmarks/k6_analysis.py.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.k6_analysis import main  # after the repository is on the path

if __name__ == "__main__":
    sys.exit(main())
