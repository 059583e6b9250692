"""benchmarks/k6_analysis.py on a small synthetic k6 NDJSON: counts, percentiles, throughput."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from benchmarks import k6_analysis as analyzer
from tests.tools.k6_points import LIST, MSG, T0, point, request


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    declaration = {"type": "Metric", "data": {"name": "http_reqs", "type": "counter"}, "metric": "http_reqs"}
    lines = [json.dumps(declaration)]
    lines += request(T0 - 2, 900.0, "POST /auth/register", 201, setup=True)
    lines += request(T0 - 1, 800.0, "POST /auth/token", 401, setup=True)
    # POST /v1/messages: 10 requests, 1..10 ms, every 0.5 s from T0; the 4th one failed (503).
    for i in range(10):
        lines += request(T0 + 0.5 * i, i + 1.0, MSG, 503 if i == 3 else 202)
        lines.append(point("iterations", T0 + 0.5 * i, 1, scenario="default", group=""))
    # The listing: 100, 200, 300, 400 ms at T0 + 0.25, 1.25, 2.25, 3.25 s.
    for i in range(4):
        lines += request(T0 + 0.25 + i, 100.0 * (i + 1), LIST, 200)
    lines.append(point("dropped_iterations", T0 + 1, 1, scenario="default"))
    lines.append(point("dropped_iterations", T0 + 2, 2, scenario="default"))
    lines += [point("vus", T0 + s, 2) for s in range(5)]
    random.Random(7).shuffle(lines)  # k6 does not promise any order across metrics
    (tmp_path / "raw.ndjson").write_text("\n".join(lines) + "\n")
    (tmp_path / "k6-summary.json").write_text(json.dumps({"metrics": {
        f"http_req_duration{{endpoint:{MSG}}}": {"p(95)": 9.55, "thresholds": {"p(95)<200": False}},
        "http_req_failed": {"value": 0.1, "thresholds": {"rate<0.01": True}}}}))
    (tmp_path / "pipeline.json").write_text(json.dumps({"accepted": 9, "delivered": 9, "lost": 0,
                                                        "duplicates": 0, "final_lag": 0}))
    return tmp_path


def test_percentiles_interpolate_like_k6():
    assert analyzer.percentile([], 95) is None
    assert analyzer.percentile([7.0], 99) == 7.0
    assert analyzer.percentile(list(range(1, 11)), 50) == pytest.approx(5.5)
    assert analyzer.percentile(list(range(1, 11)), 95) == pytest.approx(9.55)
    values = sorted(random.Random(1).expovariate(0.1) for _ in range(1001))
    for pct in (50, 90, 95, 99):
        assert analyzer.percentile(values, pct) == pytest.approx(float(np.percentile(values, pct)))


def test_times_with_nanoseconds_and_offsets():
    assert analyzer.parse_time("2026-01-02T03:04:05.123456789Z") == pytest.approx(T0 + 0.123456789)
    assert analyzer.parse_time("2026-01-02T05:04:05.5+02:00") == pytest.approx(T0 + 0.5)
    assert analyzer.parse_time("2026-01-02T03:04:05Z") == T0


def test_summary_counts_latency_and_throughput(run_dir: Path):
    s = analyzer.analyze(run_dir)
    assert s["requests"] == {"total": 16, "failed": 2, "load": 14, "other_phases": 2}
    assert s["other_phases"]["setup"] == {"POST /auth/register": {"requests": 1, "failed": 0},
                                          "POST /auth/token": {"requests": 1, "failed": 1}}
    assert s["window"]["duration_s"] == pytest.approx(4.5)  # first to last request of the load

    msg = s["endpoints"][MSG]
    assert (msg["requests"], msg["failed"], msg["error_rate"]) == (10, 1, pytest.approx(0.1))
    assert msg["statuses"] == {"202": 9, "503": 1}
    assert (msg["p50_ms"], msg["p95_ms"], msg["p99_ms"]) == (5.5, 9.55, 9.91)
    assert (msg["min_ms"], msg["max_ms"], msg["avg_ms"]) == (1.0, 10.0, 5.5)
    assert msg["req_per_s"] == pytest.approx(10 / 4.5, abs=1e-3)

    lst = s["endpoints"][LIST]
    assert (lst["requests"], lst["failed"], lst["p50_ms"], lst["p95_ms"]) == (4, 0, 250.0, 385.0)

    overall = s["overall"]  # the load only: setup's slow registrations stay out
    assert (overall["requests"], overall["failed"], overall["max_ms"]) == (14, 1, 400.0)
    assert overall["p50_ms"] == pytest.approx(float(np.percentile([*range(1, 11), 100, 200, 300, 400], 50)))
    assert overall["req_per_s"] == pytest.approx(14 / 4.5, abs=1e-3)

    assert s["messages"] == {"posted": 10, "accepted": 9, "msg_per_s": pytest.approx(2.0),
                             "msg_per_min": pytest.approx(120.0)}
    assert (s["iterations"], s["dropped_iterations"], s["max_vus"]) == (10, 3, 2)
    assert s["thresholds"] == {f"http_req_duration{{endpoint:{MSG}}}": {"p(95)<200": "passed"},
                               "http_req_failed": {"rate<0.01": "crossed"}}
    assert s["thresholds_ok"] is False
    assert s["pipeline"]["accepted"] == s["pipeline"]["delivered"] == 9

    assert json.loads((run_dir / "summary.json").read_text())["requests"]["total"] == 16
    md = (run_dir / "summary.md").read_text()
    assert f"| `{MSG}` | 10 | 1 | 10.00% |" in md and "✗ `http_req_failed`" in md
    for png in ("latency.png", "throughput.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_time_buckets_hold_their_own_percentiles():
    from array import array

    times = array("d", [T0 + 0.1, T0 + 0.2, T0 + 0.3, T0 + 2.5])
    values = array("d", [30.0, 10.0, 20.0, 99.0])
    x, counts, pcts = analyzer.bucket_series(times, values, T0, 1.0)
    assert list(x) == [0.0, 1.0, 2.0] and list(counts) == [3, 0, 1]
    assert pcts["p50"][0] == 20.0 and np.isnan(pcts["p50"][1]) and pcts["p99"][2] == 99.0


def test_push_figures_count_missed_and_duplicated_pushes_from_k6s_own_counters():
    from benchmarks.push_summary import push_figures

    summary = {"metrics": {"ws_expected": {"count": 10}, "ws_received": {"count": 9},
                           "ws_duplicates": {"count": 2}, "ws_connected": {"count": 4},
                           "accepted": {"count": 5},
                           "ws_push_latency": {"med": 40, "p(95)": 63, "p(99)": 70, "max": 90}}}
    p = push_figures(summary)
    assert (p["expected_pushes"], p["received"], p["missed"], p["duplicated"]) == (10, 9, 1, 2)
    assert p["closed_early"] == 0 and p["latency_ms"]["p(95)"] == 63
    assert push_figures({"metrics": {"accepted": {"count": 5}}}) is None  # no listeners in that run
