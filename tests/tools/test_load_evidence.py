"""What a load run records beyond k6's own figures: uploads by size, steps of a staircase, latency
drift, CPU/memory/lag per process (benchmarks.resources), and clear errors on missing inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import k6_analysis as analyzer
from benchmarks import resources
from tests.tools.k6_points import T0, point, request

FILES = "POST /v1/files"


def write_raw(directory: Path, lines: list[str]) -> None:
    (directory / "raw.ndjson").write_text("\n".join(lines) + "\n")


def upload(t: float, ms: float, band: str) -> list[str]:
    tags = {"endpoint": FILES, "status": "201", "group": "", "scenario": "upload", "size_band": band}
    return [point("http_reqs", t, 1, **tags), point("http_req_duration", t, ms, **tags),
            point("http_req_failed", t, 0, **tags)]


def test_uploads_are_summarized_per_size_band(tmp_path: Path):
    lines = []
    for i in range(10):
        lines += upload(T0 + i, 100.0 + i, "0-256 KiB")
        lines += upload(T0 + i + 0.5, 1000.0 + 10 * i, "768-1024 KiB")
    write_raw(tmp_path, lines)
    bands = analyzer.analyze(tmp_path)["size_bands"][FILES]
    assert bands["0-256 KiB"]["requests"] == 10 and bands["0-256 KiB"]["max_ms"] == 109.0
    assert bands["768-1024 KiB"]["p50_ms"] == pytest.approx(1045.0)
    assert "`POST /v1/files` by size" in (tmp_path / "summary.md").read_text()


def test_a_staircase_is_split_by_vu_level_and_ramps_are_left_out(tmp_path: Path):
    lines = []
    # 20 s at 10 VUs (all fine), 2 s ramp at 15, 20 s at 20 VUs where every 4th request fails.
    for s in range(42):
        level = 10 if s < 20 else (15 if s < 22 else 20)
        lines.append(point("vus", T0 + s, level))
        status = 503 if level == 20 and s % 4 == 0 else 202
        lines += request(T0 + s + 0.1, 10.0 if level == 10 else 50.0, "POST /v1/messages", status)
    write_raw(tmp_path, lines)
    steps = analyzer.analyze(tmp_path)["stages"]
    assert [s["vus"] for s in steps] == [10, 20]
    low, high = steps
    assert low["requests"] == 20 and low["failed"] == 0 and low["p95_ms"] == 10.0
    assert high["failed"] == 5 and high["error_rate"] == pytest.approx(0.25, abs=0.01)
    assert "## By VU level" in (tmp_path / "summary.md").read_text()


def test_latency_drift_compares_the_first_and_last_third(tmp_path: Path):
    lines = []
    for i in range(90):  # 90 s: 10 ms in the first third, 12 ms in the last
        lines += request(T0 + i, 10.0 if i < 30 else (11.0 if i < 60 else 12.0), "POST /v1/messages", 202)
    write_raw(tmp_path, lines)
    drift = analyzer.analyze(tmp_path)["drift"]
    assert drift["first_third"]["p50_ms"] == 10.0 and drift["last_third"]["p50_ms"] == 12.0
    assert drift["p50_change"] == pytest.approx(0.2)


def test_resources_are_summarized_over_the_load_window_only():
    t = [T0 + 5 * i for i in range(13)]  # 0..60 s
    recorded = {"interval_s": 5.0, "t": t, "processes": {
        "router": {"cpu_pct": [95.0] + [40.0] * 5 + [85.0] + [50.0] * 5 + [99.0],
                   "rss_mib": [100.0] * 6 + [110.0] * 7},
        "api": {"cpu_pct": [10.0] * 12 + [None], "rss_mib": [50.0] * 12 + [None]}},
        "lag": {"query": "sum(kafka_consumer_lag)", "t": t, "values": [500.0] + [3.0] * 10 + [40.0, 900.0]}}
    # The load window is 5..55 s: the first and last samples (warm-up, drain) are outside it, and so is
    # the CPU sample ending at 5 s (it covers 0..5 s, before the load).
    s = resources.summarize(recorded, T0 + 5, T0 + 55)
    router = s["processes"]["router"]
    assert router["cpu_max_pct"] == 85.0 and router["cpu_mean_pct"] == pytest.approx(49.5, abs=0.1)
    assert router["rss_first_third_mib"] == 100.0 and router["rss_last_third_mib"] == 110.0
    assert s["first_hot_s"] == {"router": 25.0} and s["hot_samples"] == {"router": 1}
    assert s["lag"]["max"] == 40.0 and s["lag"]["median"] == 3.0
    assert s["processes"]["api"]["cpu_max_pct"] == 10.0
    assert s["gone"] == []  # the api sample missing at 60 s is outside the window


def test_the_recorder_samples_every_process_and_stops_on_request(monkeypatch, tmp_path: Path):
    import os
    import threading

    monkeypatch.setattr(resources, "pids", lambda: {"self": os.getpid()})
    stop = threading.Event()
    threading.Timer(0.35, stop.set).start()
    samples = resources.sample_loop(stop, 0.1)
    assert len(samples["t"]) >= 2
    assert len(samples["processes"]["self"]["cpu_pct"]) == len(samples["t"])
    assert all(v > 0 for v in samples["processes"]["self"]["rss_mib"])


def test_the_analysis_names_a_missing_directory_or_raw_file_before_parsing(tmp_path: Path, capsys):
    assert analyzer.main([str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert analyzer.main([str(tmp_path)]) == 2
    assert "raw.ndjson" in capsys.readouterr().err
    assert analyzer.main([str(tmp_path), "--raw", str(tmp_path / "other.ndjson")]) == 2
    assert "other.ndjson does not exist" in capsys.readouterr().err


def test_a_reanalysis_keeps_the_commit_that_measured(tmp_path: Path):
    write_raw(tmp_path, [*request(T0, 5.0, "POST /v1/messages", 202),
                         *request(T0 + 1, 5.0, "POST /v1/messages", 202)])
    analyzer.analyze(tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    summary["git_sha"] = "0" * 40
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    again = analyzer.analyze(tmp_path)
    assert again["git_sha"] == "0" * 40 and again["analysed_sha"] != "0" * 40


def test_a_process_missing_from_a_sample_in_the_window_is_named():
    t = [T0 + 5 * i for i in range(5)]
    recorded = {"interval_s": 5.0, "t": t, "lag": {"query": "q", "t": [], "values": []}, "processes": {
        "kafka": {"cpu_pct": [5.0, 5.0, None, 5.0, 5.0], "rss_mib": [9.0, 9.0, None, 9.0, 9.0]},
        "api": {"cpu_pct": [1.0] * 5, "rss_mib": [9.0] * 5}}}
    assert resources.summarize(recorded, T0, T0 + 20)["gone"] == ["kafka"]  # the missing sample is at 10 s
    assert resources.summarize(recorded, T0 + 12, T0 + 20)["gone"] == []
