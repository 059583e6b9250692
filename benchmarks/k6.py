"""Run loadtests/bench.js at one arrival rate and read k6's end-of-test summary."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devstack.layout import REPO_DIR, Layout

SCRIPT = REPO_DIR / "loadtests" / "bench.js"


@dataclass(frozen=True)
class Run:
    """What one k6 run measured (latencies in ms)."""

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

    def sustained(self, max_error_rate: float, max_p95_ms: float) -> bool:
        """Served the offered rate: few errors, P95 in bounds, no iteration k6 had to drop."""
        return (self.error_rate <= max_error_rate and self.p95_ms <= max_p95_ms
                and self.dropped <= 0.001 * self.requests)


def run(url: str, rate: float, duration_s: float, users_file: Path | None = None,
        env_extra: dict[str, str] | None = None) -> Run:
    """`users_file` None: no users (the hello baseline needs no token). `env_extra`: more of bench.js's
    settings (RECIPIENTS, ADDRESSES, ...)."""
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        env = os.environ | {"API_URL": url, "RATE": str(int(rate)), "DURATION": f"{duration_s:g}s",
                            "SETUP": "1" if users_file else "0", "USERS_FILE": str(users_file or "")}
        env |= env_extra or {}
        proc = subprocess.run([str(Layout.from_env().venv_bin / "k6"), "run", "--quiet",
                               "--no-color", "--summary-export", str(summary), str(SCRIPT)],
                              env=env, capture_output=True, text=True)
        if not summary.exists():
            raise RuntimeError(f"k6 failed ({proc.returncode}): {proc.stderr[-2000:]}")
        metrics = json.loads(summary.read_text())["metrics"]
    duration = metrics["http_req_duration"]
    reqs = int(metrics["http_reqs"]["count"])
    return Run(offered_rps=rate, achieved_rps=reqs / duration_s, requests=reqs,
               accepted=int(metrics.get("accepted", {}).get("count", 0)),
               error_rate=float(metrics["http_req_failed"]["value"]),
               dropped=int(metrics.get("dropped_iterations", {}).get("count", 0)),
               p50_ms=duration["med"], p95_ms=duration["p(95)"], p99_ms=duration["p(99)"],
               retried=int(metrics.get("retried", {}).get("count", 0)),
               abandoned=int(metrics.get("abandoned", {}).get("count", 0)))
