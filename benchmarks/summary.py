"""results/bench/latest.json from the repeats of one `make bench`: medians, each with its spread.

Keys other tools read (report/, README) keep their meaning; the end-to-end ones (e2e_offered_rps,
e2e_delivered_per_s, latencies, error_rate, cpu_ms_per_message) now come from the highest step that
every repeat ran, so each median is over the same offered rate. Added by the benchmark protocol:
e2e_sustained_per_s (the highest step that met the sustained criteria, median over repeats),
api_to_baseline_ratio (workers running) and api_to_baseline_ratio_isolated (workers paused),
quiet_machine (true only if every repeat was quiet; a repeat that was not is listed as invalid).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from benchmarks.pairs import ratios
from benchmarks.plan import Plan
from benchmarks.stats import median, spread
from devstack.layout import REPO_DIR, git_sha

RATIO_NOTE = ("api_to_baseline_ratio: API capacity / hello capacity with the router and connectors "
              "running; api_to_baseline_ratio_isolated: the same with them paused (SIGSTOP). Median "
              "of the per-pair ratios.")


DIGITS = {"error_rate": 6, "api_to_baseline_ratio": 4, "api_to_baseline_ratio_isolated": 4}


def git_dirty() -> bool:
    """Uncommitted changes to tracked files: the sha alone does not say what was measured."""
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_DIR,
                         capture_output=True, text=True).stdout
    return bool(out.strip())


def common_rate(repeats: Sequence[dict]) -> float | None:
    """The highest e2e step every repeat ran (None if one ran none)."""
    ran = [{s["offered_rps"] for s in r["e2e_steps"]} for r in repeats]
    common = set.intersection(*ran) if ran else set()
    return max(common) if common else None


def at_rate(repeats: Sequence[dict], rate: float | None) -> list[dict]:
    return [s for r in repeats for s in r["e2e_steps"] if s["offered_rps"] == rate]


def by_step(repeats: Sequence[dict]) -> dict[str, dict]:
    """Per offered rate: how many repeats ran it and sustained it, and its figures' spreads."""
    out = {}
    for rate in sorted({s["offered_rps"] for r in repeats for s in r["e2e_steps"]}):
        steps = at_rate(repeats, rate)
        col = lambda f, steps=steps: spread(f(s) for s in steps)  # noqa: E731
        out[f"{rate:g}"] = {
            "runs": len(steps), "sustained": sum(s["sustained"] for s in steps),
            "proof_ok": all(s["proof_ok"] for s in steps),
            "delivered_per_s": col(lambda s: s["delivered_per_s"]),
            "drain_s": col(lambda s: s["drain_s"]),
            "p50_ms": col(lambda s: s["p50_ms"]), "p95_ms": col(lambda s: s["p95_ms"]),
            "cpu_ms_per_message": col(lambda s: s["cpu_ms_per_message"]),
            "kafka_produce_requests_per_s": col(lambda s: s["kafka"]["produce_requests_per_s"]),
            "kafka_records_per_s": col(lambda s: s["kafka"]["records_per_s"]),
            "kafka_records_per_produce_request": col(lambda s: s["kafka"]["records_per_produce_request"]),
        }
    return out


def cpu_by_process(steps: Sequence[dict]) -> dict[str, float | None]:
    names = sorted({n for s in steps for n in s.get("cpu_ms_per_message_by_process", {})})
    return {n: median(s.get("cpu_ms_per_message_by_process", {}).get(n) for s in steps) for n in names}


def summary(repeats: Sequence[dict], plan: Plan) -> dict[str, Any]:
    pairs = [p for r in repeats for p in r["pairs"]]
    rate = common_rate(repeats)
    ref = at_rate(repeats, rate)
    all_steps = [s for r in repeats for s in r["e2e_steps"]]
    machines = [r["machine"] for r in repeats]

    def figure(values: Callable[[], Sequence[float | None]], key: str, out: dict) -> float | None:
        found = spread(values(), DIGITS.get(key, 3))
        out["spread"][key] = found
        return None if found is None else found["median"]

    out: dict[str, Any] = {"spread": {}}
    ratio = ratios(pairs)
    out["spread"] |= ratio
    headline = {
        "baseline_hello_rps": lambda: [p["hello"]["max_rps"] for p in pairs],
        "api_max_rps": lambda: [p["api"]["max_rps"] for p in pairs],
        "api_max_rps_isolated": lambda: [p["api_isolated"]["max_rps"] for p in pairs],
        "api_p95_ms_at_max": lambda: [p["api"]["p95_ms_at_max"] for p in pairs],
        "api_p95_ms_at_1000": lambda: [r["api_at_1000"]["p95_ms"] for r in repeats],
        "e2e_sustained_per_s": lambda: [r["e2e_sustained_per_s"] for r in repeats],
        "e2e_delivered_per_s": lambda: [s["delivered_per_s"] for s in ref],
        "e2e_p50_ms": lambda: [s["p50_ms"] for s in ref],
        "e2e_p95_ms": lambda: [s["p95_ms"] for s in ref],
        "e2e_p99_ms": lambda: [s["p99_ms"] for s in ref],
        "e2e_drain_s": lambda: [s["drain_s"] for s in ref],
        "error_rate": lambda: [s["k6"]["error_rate"] for s in ref],
        # Every process of the stack plus k6, over the step (warm-up, hold, drain), per DELIVERED.
        "cpu_ms_per_message": lambda: [s["cpu_ms_per_message"] for s in ref],
        "kafka_produce_requests_per_s": lambda: [s["kafka"]["produce_requests_per_s"] for s in ref],
        "kafka_records_per_s": lambda: [s["kafka"]["records_per_s"] for s in ref],
        "kafka_records_per_produce_request": lambda: [s["kafka"]["records_per_produce_request"] for s in ref],
    }
    for key, values in headline.items():
        out[key] = figure(values, key, out)
    for key in ("api_to_baseline_ratio", "api_to_baseline_ratio_isolated"):
        out[key] = None if ratio[key] is None else ratio[key]["median"]
    invalid = [i + 1 for i, m in enumerate(machines) if not m["quiet"]]
    out |= {
        "api_to_baseline_ratio_note": RATIO_NOTE,
        "e2e_offered_rps": rate,
        "e2e_final_lag": max((s["final_lag"] for s in all_steps), default=None),
        "lost_messages": sum(s["lost_messages"] for s in all_steps),
        "proof_ok": all(s["proof_ok"] for s in all_steps) if all_steps else None,
        "cpu_ms_per_message_by_process": cpu_by_process(ref),
        "e2e_by_step": by_step(repeats),
        # Quiet only if every repeat was (benchmarks/quiet.py: others used <= 5 % of a core).
        "quiet_machine": not invalid if repeats else None,
        "invalid_repeats": invalid,
        "others_cores_max": max((m["others_cores"] for m in machines), default=None),
        "steal_pct_max": max((m["steal_pct"] for m in machines), default=None),
        "repeats": len(repeats), "pairs_per_repeat": plan.pairs,
        "step_seconds": plan.step_s, "step_discard_s": plan.discard_s,
        "e2e_steps_offered": list(plan.e2e_rates), "e2e_warmup_s": plan.warmup_s, "e2e_seconds": plan.hold_s,
        "git_sha": git_sha(), "git_dirty": git_dirty(),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": list(repeats),
    }
    return out
