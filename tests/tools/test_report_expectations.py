"""report.expectations: the assignment's expected metrics per k6 case, computed from a run's summary."""

from __future__ import annotations

from report import expectations


def run(**extra) -> dict:
    base = {"overall": {"requests": 100, "error_rate": 0.0, "p50_ms": 5.0, "p95_ms": 50.0, "p99_ms": 90.0},
            "endpoints": {"POST /v1/messages": {"statuses": {"202": 100}}},
            "messages": {"msg_per_min": 540.0, "msg_per_s": 9.0}, "pipeline": {"final_lag": 0}}
    return base | extra


def test_a_latency_that_grows_more_than_15_percent_fails_the_soak():
    drift = {"first_third": {"p50_ms": 10.0, "p95_ms": 20.0}, "last_third": {"p50_ms": 12.0, "p95_ms": 21.0},
             "p50_change": 0.2, "p95_change": 0.05}
    api = {"rss_first_third_mib": 100.0, "rss_last_third_mib": 104.0}
    resources = {"processes": {"api": api}, "gone": []}
    latency, memory, crashes = expectations.soak(run(drift=drift, resources=resources))
    assert latency["ok"] is False and "+20,0 %" in latency["measured"]
    assert memory["ok"] is True and "api +4,0 %" in memory["measured"]
    assert crashes["ok"] is True


def test_a_process_that_exited_during_the_soak_is_a_crash():
    drift = {"first_third": {"p50_ms": 10.0, "p95_ms": 20.0}, "last_third": {"p50_ms": 10.0, "p95_ms": 20.0},
             "p50_change": 0.0, "p95_change": 0.0}
    router = {"rss_first_third_mib": 1.0, "rss_last_third_mib": 1.0}
    resources = {"processes": {"router": router}, "gone": ["router"]}
    assert expectations.soak(run(drift=drift, resources=resources))[2]["ok"] is False


def test_5xx_in_a_spike_fail_it_and_the_lag_must_drain():
    spike = run(endpoints={"POST /v1/messages": {"statuses": {"202": 90, "503": 10}}},
                resources={"lag": {"max": 300.0, "median": 5.0}}, pipeline={"final_lag": 7})
    no5xx, lag, _ = expectations.spike(spike)
    assert no5xx["ok"] is False and no5xx["measured"] == "10 respostas 5xx"
    assert lag["ok"] is False


def test_the_stress_maximum_is_the_best_step_before_errors_pass_1_percent():
    steps = [{"vus": 10, "req_per_s": 9.0, "error_rate": 0.0, "p95_ms": 10.0},
             {"vus": 20, "req_per_s": 18.0, "error_rate": 0.0, "p95_ms": 250.0},
             {"vus": 30, "req_per_s": 25.0, "error_rate": 0.05, "p95_ms": 900.0}]
    resources = {"first_hot_s": {"cassandra": 42.0}, "hot_samples": {"cassandra": 3}, "samples": 120}
    best, first, hot = expectations.stress(run(stages=steps, resources=resources))
    assert best["measured"].startswith("18,0 req/s com 20 VUs") and best["ok"] is None
    assert "20 VUs" in first["measured"]
    assert hot["measured"] == "cassandra, 42 s após o início, em 3 de 120 amostras de 5 s; nenhum outro"


def test_cases_without_a_run_have_no_rows():
    assert set(expectations.expectations({"02-baseline": run()})) == {"02-baseline"}
