"""Run loadtests/bench.js at one arrival rate and read k6's end-of-test summary.

With `warmup_s` > 0 the same rate runs that long first, and only the measured part counts: bench.js
runs it as its own scenario and makes k6 export the `{scenario:bench}` submetrics, which are read
here in preference to the whole-run metrics.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.layout import REPO_DIR, Layout

SCRIPT = REPO_DIR / "loadtests" / "bench.js"
MEASURED = "{scenario:bench}"  # the tag bench.js gives the part after the warm-up


@dataclass(frozen=True)
class Run:
    """What one k6 run measured (latencies in ms), over its measured part only."""

    offered_rps: float
    achieved_rps: float
    requests: int
    accepted: int
    error_rate: float
    dropped: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    retried: int = 0  # re-sends after a 5xx or no answer (RETRY_S, loadtests/lib/chat4all.js)
    abandoned: int = 0  # messages still without a 202 when RETRY_S ran out
    warmup_s: float = 0.0  # run before the measured part and left out of every figure above
    accepted_total: int = 0  # 202s over the whole run, warm-up included (what must be delivered)
    abandoned_total: int = 0  # likewise

    def sustained(self, max_error_rate: float, max_p95_ms: float) -> bool:
        """Served the offered rate: errors and dropped iterations each under `max_error_rate` of the
        load, P95 under the bound."""
        offered = self.requests + self.dropped
        return (self.error_rate < max_error_rate and self.p95_ms < max_p95_ms
                and self.dropped < max_error_rate * max(offered, 1))


def _count(metrics: dict[str, Any], name: str) -> int:
    return int(metrics.get(name, {}).get("count", 0))


def parse(metrics: dict[str, Any], rate: float, duration_s: float, warmup_s: float = 0.0) -> Run:
    """A Run from --summary-export's "metrics": the measured scenario's submetrics when present."""
    def measured(name: str) -> str:
        return name + MEASURED if name + MEASURED in metrics else name

    duration = metrics.get(measured("http_req_duration"), {})  # no keys: no request answered
    reqs = _count(metrics, measured("http_reqs"))
    return Run(offered_rps=rate, achieved_rps=reqs / duration_s, requests=reqs,
               accepted=_count(metrics, measured("accepted")),
               error_rate=float(metrics.get(measured("http_req_failed"), {}).get("value", 1.0)),
               dropped=_count(metrics, measured("dropped_iterations")),
               p50_ms=duration.get("med", math.inf), p95_ms=duration.get("p(95)", math.inf),
               p99_ms=duration.get("p(99)", math.inf),
               retried=_count(metrics, measured("retried")),
               abandoned=_count(metrics, measured("abandoned")), warmup_s=warmup_s,
               accepted_total=_count(metrics, "accepted"), abandoned_total=_count(metrics, "abandoned"))


def run(url: str, rate: float, duration_s: float, users_file: Path | None = None,
        env_extra: dict[str, str] | None = None, warmup_s: float = 0.0) -> Run:
    """`users_file` None: no users (the hello baseline needs no token). `env_extra`: more of bench.js's
    settings (RECIPIENTS, ADDRESSES, ...). `warmup_s`: run the rate that long first, not measured."""
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        env = os.environ | {"API_URL": url, "RATE": str(int(rate)), "DURATION": f"{duration_s:g}s",
                            "WARMUP": f"{warmup_s:g}s",
                            "SETUP": "1" if users_file else "0", "USERS_FILE": str(users_file or "")}
        env |= env_extra or {}
        proc = subprocess.run([str(Layout.from_env().venv_bin / "k6"), "run", "--quiet",
                               "--no-color", "--summary-export", str(summary), str(SCRIPT)],
                              env=env, capture_output=True, text=True)
        if not summary.exists():
            raise RuntimeError(f"k6 failed ({proc.returncode}): {proc.stderr[-2000:]}")
        metrics = json.loads(summary.read_text())["metrics"]
    return parse(metrics, rate, duration_s, warmup_s)
