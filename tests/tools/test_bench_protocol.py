"""make bench's protocol logic, on synthetic data: sustained criteria, drain, pair ratios, step
ascent, proof of delivery, the broker's counters, pausing workers, the summary's keys."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import k6
from benchmarks.__main__ import parse_plan
from benchmarks.broker import Counters, delta, parse
from benchmarks.chart import draw, per_second
from benchmarks.pairs import FIRST_START_RPS, ratios, start_rate
from benchmarks.pause import Paused, worker_pids
from benchmarks.plan import QUICK, Plan, estimate_s
from benchmarks.proof import check
from benchmarks.report import markdown, priorities
from benchmarks.stats import slope, spread
from benchmarks.steps import ascend, highest_sustained
from benchmarks.summary import summary
from benchmarks.sustained import Sample, judge, judge_lag

GROUPS = ("chat4all-router", "chat4all-connector-whatsapp")


def samples(rate: float, seconds: float = 135, lag_growth: float = 0.0, delivered_share: float = 1.0,
            drain_after: float = 2.0, sawtooth: float = 0.0) -> list[Sample]:
    """A step offered `rate`/s for `seconds`, then drained `drain_after` s later; every 2 s a reading.
    `lag_growth`: msg/s the backlog grows by; `sawtooth`: committed-offset steps (every 3 s)."""
    out, t = [], 0.0
    while t <= seconds:
        lag = 50 + lag_growth * t + sawtooth * ((t % 3) / 3)
        out.append(Sample(t, rate * t, rate * t * delivered_share, dict.fromkeys(GROUPS, lag)))
        t += 2
    out.append(Sample(seconds + drain_after, rate * seconds, rate * seconds, {}))
    return out


def verdict(points: list[Sample], rate: float = 1000, seconds: float = 135):
    return judge(points, (15, seconds - 0.5), rate, GROUPS, load_end=seconds, accepted=rate * seconds)


# --- sustained ---------------------------------------------------------------------------------
def test_flat_lag_full_delivery_and_a_quick_drain_is_sustained():
    v = verdict(samples(1000, sawtooth=2500))  # commit steps of 2.5 s worth: noise, not growth
    assert v.sustained, v.reasons()
    assert v.delivered_slope_per_s == pytest.approx(1000)
    assert v.as_dict()["reasons"] == []


def test_growing_lag_is_not_sustained_even_when_the_slope_of_delivered_looks_fine():
    v = verdict(samples(1000, lag_growth=30))  # 3 % of the offered rate per second
    assert not v.lag_flat and not v.sustained
    assert all(not g.flat for g in v.groups.values())
    assert "lag of chat4all-router not flat" in v.reasons()[0]


def test_lag_rising_late_in_the_hold_is_caught_by_the_head_and_tail_medians():
    flat, late = 50.0, [(t, 50.0 + max(0.0, t - 100) * 60) for t in range(15, 135, 2)]
    g = judge_lag(late, 1000)
    assert g.tail > g.head + 1000 and not g.flat
    assert judge_lag([(t, flat) for t in range(15, 135, 2)], 1000).flat


def test_delivered_below_99_percent_of_offered_is_not_sustained():
    assert not verdict(samples(1000, delivered_share=0.985)).delivered_ok
    assert verdict(samples(1000, delivered_share=0.995)).delivered_ok


def test_a_drain_over_10_s_or_never_is_not_sustained():
    assert verdict(samples(1000, drain_after=9.5)).drained
    slow = verdict(samples(1000, drain_after=12))
    assert not slow.drained and not slow.sustained and slow.drain_s == pytest.approx(12)
    never = samples(1000)[:-1]  # the last reading is still short of what was accepted
    never[-1] = Sample(never[-1].t, never[-1].accepted, never[-1].delivered - 1, {})
    assert verdict(never).drain_s is None


def test_a_group_without_lag_readings_is_not_known_flat():
    points = [Sample(s.t, s.accepted, s.delivered, {GROUPS[0]: 10.0}) for s in samples(1000)]
    v = verdict(points)
    assert v.groups[GROUPS[0]].flat and not v.groups[GROUPS[1]].flat and not v.sustained


def test_least_squares_slope():
    assert slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2)
    assert slope([(1, 1)]) is None and slope([(1, 1), (1, 2)]) is None


# --- capacity pairs ----------------------------------------------------------------------------
def test_pair_ratios_median_and_spread_for_running_and_paused_workers():
    pairs = [{"ratio": r, "ratio_isolated": i} for r, i in ((0.05, 0.09), (0.04, 0.1), (0.07, 0.08))]
    out = ratios(pairs)
    assert out["api_to_baseline_ratio"] == {"median": 0.05, "min": 0.04, "max": 0.07, "n": 3}
    assert out["api_to_baseline_ratio_isolated"]["median"] == 0.09
    assert ratios([])["api_to_baseline_ratio"] is None
    assert spread([None, 2.0, 4.0]) == {"median": 3.0, "min": 2.0, "max": 4.0, "n": 2}


def test_later_searches_start_below_what_earlier_ones_found():
    assert start_rate([]) == FIRST_START_RPS
    assert start_rate([0.0]) == FIRST_START_RPS
    assert start_rate([4000, 5000, 4800]) == pytest.approx(0.7 * 4800)


def test_a_capacity_step_passes_only_under_every_bound():
    def run(errors=0.0, dropped=0, p95=10.0):
        return k6.Run(offered_rps=100, achieved_rps=100, requests=2000, accepted=2000, error_rate=errors,
                      dropped=dropped, p50_ms=1, p95_ms=p95, p99_ms=p95)
    assert run().sustained(0.001, 50)
    assert not run(errors=0.001).sustained(0.001, 50)
    assert not run(dropped=3).sustained(0.001, 50)  # 3 of 2003 offered: 0.15 %
    assert run(dropped=1).sustained(0.001, 50)
    assert not run(p95=50).sustained(0.001, 50)


def test_k6_figures_come_from_the_measured_scenario_when_there_is_a_warm_up():
    metrics = {
        "http_req_duration": {"med": 9, "p(95)": 90, "p(99)": 99},
        "http_req_duration{scenario:bench}": {"med": 1, "p(95)": 5, "p(99)": 7},
        "http_req_failed": {"value": 0.5}, "http_req_failed{scenario:bench}": {"value": 0.0},
        "http_reqs": {"count": 1500}, "http_reqs{scenario:bench}": {"count": 1000},
        "accepted": {"count": 1500}, "accepted{scenario:bench}": {"count": 1000},
        "dropped_iterations{scenario:bench}": {"count": 0}, "abandoned": {"count": 2},
        "abandoned{scenario:bench}": {"count": 0},
    }
    run = k6.parse(metrics, 100, 10, warmup_s=5)
    assert (run.requests, run.accepted, run.p95_ms, run.error_rate) == (1000, 1000, 5, 0.0)
    assert (run.achieved_rps, run.accepted_total, run.abandoned, run.abandoned_total) == (100, 1500, 0, 2)
    old = k6.parse({k: v for k, v in metrics.items() if "{" not in k}, 100, 15)
    assert (old.requests, old.p95_ms) == (1500, 90)


# --- ascent ------------------------------------------------------------------------------------
def test_the_ascent_stops_at_the_first_step_that_is_not_sustained_and_records_it():
    ran = []

    def measure(rate):
        ran.append(rate)
        return {"offered_rps": rate, "sustained": rate < 1300}

    steps = ascend([1667, 600, 1333, 1000], measure)
    assert ran == [600, 1000, 1333]
    assert [s["sustained"] for s in steps] == [True, True, False]
    assert highest_sustained(steps) == 1000
    assert highest_sustained(ascend([600], lambda r: {"offered_rps": r, "sustained": False})) == 0.0


# --- proof of delivery -------------------------------------------------------------------------
def conversation(n: int, prefix: str = "m") -> list[dict]:
    """n messages rotating internal / whatsapp / instagram, one address per channel."""
    to = [None, "whatsapp:+5511123", "instagram:@lt_abc"]
    return [{"id": f"{prefix}{i}", "to": to[i % 3], "status": "DELIVERED"} for i in range(n)]


def ledgers_for(pages: list[list[dict]]) -> dict:
    out = {"whatsapp": {"received": {}, "order": {}}, "instagram": {"received": {}, "order": {}}}
    for messages in pages:
        for m in messages:
            if m["to"]:
                channel, address = m["to"].split(":", 1)
                out[channel]["received"][m["id"]] = 1
                out[channel]["order"].setdefault(address, []).append(m["id"])
    return out


def test_proof_holds_when_every_message_is_delivered_once_in_order():
    pages = [conversation(9), conversation(6, "n")]
    ledgers = ledgers_for(pages)
    ledgers["whatsapp"]["order"]["+5511123"].insert(0, "older-run-id")  # other runs' ids are ignored
    proof = check(pages, ledgers, accepted=15, abandoned=0)
    assert proof.ok, proof
    assert (proof.stored, proof.external, proof.recipients) == (15, 10, 2)
    assert proof.as_dict()["proof_ok"] is True


def test_proof_catches_out_of_order_duplicates_missing_abandoned_and_undelivered():
    pages = [conversation(9)]
    ledgers = ledgers_for(pages)
    order = ledgers["whatsapp"]["order"]["+5511123"]
    order[0], order[1] = order[1], order[0]
    assert check(pages, ledgers, 9, 0).out_of_order_recipients == 1

    ledgers = ledgers_for(pages)
    ledgers["instagram"]["received"]["m2"] = 2
    dup = check(pages, ledgers, 9, 0)
    assert dup.ledger_duplicates == 1 and not dup.ok and "m2: received 2 times" in dup.examples[0]

    ledgers = ledgers_for(pages)
    del ledgers["whatsapp"]["received"]["m4"]
    ledgers["whatsapp"]["order"]["+5511123"].remove("m4")
    missing = check(pages, ledgers, 9, 0)
    assert missing.ledger_missing == 1 and missing.out_of_order_recipients == 0 and not missing.ok

    assert not check(pages, ledgers_for(pages), 9, abandoned=1).ok
    assert not check(pages, ledgers_for(pages), 10, 0).ok  # a 202 without a stored row
    pending = [dict(m, status="SENT") if m["id"] == "m3" else m for m in pages[0]]
    assert check([pending], ledgers_for(pages), 9, 0).not_delivered == 1
    read = [dict(m, status="READ") for m in pages[0]]
    assert check([read], ledgers_for(pages), 9, 0).ok
    twice = check([pages[0] + pages[0][:1]], ledgers_for(pages), 9, 0)
    assert twice.duplicate_rows == 1 and twice.stored == 9 and not twice.ok


# --- the broker's counters ---------------------------------------------------------------------
def test_broker_counters_sum_request_versions_and_keep_topics_apart():
    raw = {"kafka.network:name=RequestsPerSec,request=Produce,type=RequestMetrics,version=11": 90.0,
           "kafka.network:name=RequestsPerSec,request=Produce,type=RequestMetrics,version=9": 10.0,
           "kafka.server:name=TotalProduceRequestsPerSec,type=BrokerTopicMetrics": 300.0,
           "kafka.server:name=MessagesInPerSec,type=BrokerTopicMetrics": 5000.0,
           "kafka.server:name=MessagesInPerSec,topic=chat4all.messages,type=BrokerTopicMetrics": 4000.0,
           "kafka.server:name=TotalProduceRequestsPerSec,topic=chat4all.messages,type=BrokerTopicMetrics":
               40.0}
    after = parse(raw)
    assert (after.produce_requests, after.appends, after.records) == (100, 300, 5000)
    before = Counters(0, 0, 0, {})
    d = delta(before, after, 10)
    assert d["produce_requests_per_s"] == 10 and d["records_per_s"] == 500
    assert d["records_per_produce_request"] == 50
    assert d["by_topic"]["chat4all.messages"] == {"appends": 40, "records": 4000, "records_per_append": 100}
    assert delta(None, after, 10)["produce_requests"] is None


# --- pausing the workers -----------------------------------------------------------------------
def state(pid: int) -> str:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2]


def test_paused_workers_are_stopped_inside_the_block_and_resumed_even_on_an_error():
    assert worker_pids({"router": 1, "router-2": 2, "connector-whatsapp": 3, "api": 4, "kafka": 5}) == {
        "router": 1, "router-2": 2, "connector-whatsapp": 3}
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.01)"])
    try:
        with pytest.raises(RuntimeError), Paused({"router": child.pid}, log=lambda _: None):
            time.sleep(0.2)
            assert state(child.pid) == "T"
            raise RuntimeError("a failed step")
        time.sleep(0.2)
        assert state(child.pid) in "RS"
    finally:
        child.kill()
        child.wait()


# --- plan, summary, report, chart --------------------------------------------------------------
def test_quick_and_explicit_knobs():
    plan, _ = parse_plan(["--quick", "--hold-seconds", "30"])
    assert plan.repeats == 1 and plan.e2e_rates == QUICK.e2e_rates and plan.hold_s == 30
    plan, _ = parse_plan(["--e2e-steps", "100,200", "--pairs", "2", "--repeats", "5"])
    assert (plan.e2e_rates, plan.pairs, plan.repeats, plan.hold_s) == ((100.0, 200.0), 2, 5, 120.0)
    assert parse_plan(["--e2e-rate", "300"])[0].e2e_rates == (300.0,)
    assert estimate_s(QUICK) < 15 * 60 < estimate_s(Plan())


def step(rate: float, sustained: bool) -> dict:
    """One end-to-end step as benchmarks.steps records it (figures made up, shape real)."""
    t = [float(x) for x in range(0, 40, 2)]
    return {"offered_rps": rate, "sustained": sustained, "delivered_per_s": rate * (1 if sustained else 0.8),
            "drain_s": 1.0 if sustained else 40.0, "p50_ms": 20.0, "p95_ms": 40.0, "p99_ms": 60.0,
            "k6": {"error_rate": 0.0}, "final_lag": 0, "lost_messages": 0, "proof_ok": True,
            "cpu_ms_per_message": 3.0, "cpu_ms_per_message_by_process": {"api": 1.0, "k6": 0.5},
            "kafka": {"produce_requests_per_s": 50.0, "records_per_s": rate,
                      "records_per_produce_request": 20.0},
            "verdict": {"hold_s": [5, 35]},
            "series": {"t": t, "accepted": [rate * x for x in t], "delivered": [rate * x for x in t],
                       "lag": {"chat4all-router": [10.0] * len(t)}}}


def repeat(others_cores: float, rates: tuple[float, ...] = (600, 1000)) -> dict:
    pair = {"hello": {"max_rps": 4000.0}, "api": {"max_rps": 200.0, "p95_ms_at_max": 30.0},
            "api_isolated": {"max_rps": 400.0}, "ratio": 0.05, "ratio_isolated": 0.1}
    steps = [step(r, r < rates[-1]) for r in rates]
    return {"pairs": [pair], "api_at_1000": {"offered_rps": 1000, "p95_ms": 500.0}, "e2e_steps": steps,
            "e2e_sustained_per_s": highest_sustained(steps),
            "machine": {"quiet": others_cores <= 0.05, "others_cores": others_cores, "steal_pct": 0.1}}


def test_the_summary_keeps_todays_keys_and_adds_the_protocols(tmp_path):
    result = summary([repeat(0.01), repeat(0.2, (600, 1000, 1333)), repeat(0.01)], Plan())
    for key in ("baseline_hello_rps", "api_max_rps", "api_p95_ms_at_max", "api_to_baseline_ratio",
                "api_p95_ms_at_1000", "e2e_offered_rps", "e2e_delivered_per_s", "e2e_p50_ms", "e2e_p95_ms",
                "e2e_p99_ms", "e2e_final_lag", "error_rate", "lost_messages", "cpu_ms_per_message",
                "quiet_machine", "repeats", "e2e_seconds", "step_seconds", "git_sha", "runs",
                "e2e_sustained_per_s", "api_to_baseline_ratio_isolated"):
        assert key in result, key
    assert result["runs"][-1]["api_at_1000"]["offered_rps"] == 1000  # the report prints it
    assert result["e2e_offered_rps"] == 1000  # the highest step every repeat ran
    assert result["e2e_sustained_per_s"] == 600
    assert result["spread"]["e2e_sustained_per_s"] == {"median": 600, "min": 600, "max": 1000, "n": 3}
    assert (result["api_to_baseline_ratio"], result["api_to_baseline_ratio_isolated"]) == (0.05, 0.1)
    assert result["quiet_machine"] is False and result["invalid_repeats"] == [2]
    assert result["e2e_by_step"]["1333"]["runs"] == 1
    json.dumps(result, allow_nan=False)
    text = markdown(result)
    assert ("| API / hello ratio, workers paused (`api_to_baseline_ratio_isolated`) | 0.100 "
            "[0.100 to 0.100, n=3] |") in text
    assert ("| End to end: highest sustained step (`e2e_sustained_per_s`) | 600.0 msg/s "
            "[600.0 to 1,000.0, n=3] |") in text
    assert "invalid repeat(s): 2" in text
    assert draw([r["e2e_steps"] for r in result["runs"]], tmp_path / "e2e.png").stat().st_size > 0


def test_per_second_rates_between_readings():
    assert per_second([0, 2, 4], [0, 100, 300]) == ([2, 4], [50, 100])


def test_broker_lag_reads_none_per_group_while_kafka_does_not_answer():
    from benchmarks.lag import BrokerLag, counted

    assert counted("chat4all.messages") and counted("chat4all-router-route-repartition")
    assert not counted("chat4all-router-dedup-changelog")
    assert not counted("chat4all-router-__assignor-__leader")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with BrokerLag(f"127.0.0.1:{port}", GROUPS, timeout_s=2) as lags:
        assert lags.read() == dict.fromkeys(GROUPS)
        assert lags.read() == dict.fromkeys(GROUPS)  # and tries again with new clients


# --- the runners, on fakes of the stack ---------------------------------------------------------
class FakeClock:
    """Counters of a pipeline that delivers at once: accepted == delivered == rate x load time."""

    def __init__(self, rate: float, seconds: float):
        self.rate, self.seconds, self.t0 = rate, seconds, None

    def load(self, url, rate, duration_s, users_file=None, env_extra=None, warmup_s=0.0):
        self.t0 = time.monotonic()
        time.sleep(warmup_s + duration_s)
        n = int(self.rate * (warmup_s + duration_s))
        return k6.Run(offered_rps=rate, achieved_rps=rate, requests=n, accepted=n, error_rate=0.0,
                      dropped=0, p50_ms=1, p95_ms=2, p99_ms=3, warmup_s=warmup_s, accepted_total=n)

    def snapshot(self, _topology):
        from benchmarks.pipeline import Snapshot

        done = 0.0 if self.t0 is None else min(time.monotonic() - self.t0, self.seconds)
        count = int(self.rate * done)
        return Snapshot(accepted=count, delivered=count, buckets={0.1: count, math.inf: count}, lag=0)


class FakeLag:
    def __init__(self, _bootstrap, groups):
        self.groups = groups

    def read(self):
        return dict.fromkeys(self.groups, 0.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


class FakeSampler:
    def __init__(self):
        self.result = {"api": {"cpu_s": 2.0, "cpu_pct": 50.0, "peak_rss_mib": 100.0}}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


class FakeBroker:
    problem = None

    def __init__(self):
        self.readings = iter([Counters(10, 20, 100, {}), Counters(30, 60, 1100, {})])

    def read(self):
        return next(self.readings)


def test_one_step_samples_judges_and_proves_on_a_fake_stack(monkeypatch):
    from benchmarks import e2e, pipeline, steps, users
    from benchmarks import proof as proof_module
    from devstack.topology import local

    topology = local({})
    plan = steps.StepPlan(rates=(100,), warmup_s=1.0, hold_s=3.0, sample_s=0.2, senders=1)
    clock = FakeClock(100, plan.warmup_s + plan.hold_s)
    monkeypatch.setattr(users, "create", lambda api, n: [{"token": "t", "conversation_id": "c"}])
    monkeypatch.setattr(e2e, "wait_idle", lambda *a: None)
    monkeypatch.setattr(k6, "run", clock.load)
    monkeypatch.setattr(pipeline, "snapshot", clock.snapshot)
    monkeypatch.setattr(steps.lag, "BrokerLag", FakeLag)
    monkeypatch.setattr(steps, "Sampler", FakeSampler)
    proved = []
    monkeypatch.setattr(proof_module, "prove", lambda topo, senders, accepted, abandoned: proved.append(
        accepted) or check([conversation(3)], ledgers_for([conversation(3)]), 3, abandoned))
    result = steps.run_step(topology, 100, plan, FakeBroker(), log=lambda _: None)
    assert result["sustained"], result["verdict"]["reasons"]
    assert result["delivered_per_s"] == pytest.approx(100, rel=0.05)
    assert result["drain_s"] is not None and result["drain_s"] <= 1
    assert set(result["verdict"]["lag"]) == set(steps.lag.groups(topology)) and result["final_lag"] == 0
    assert result["kafka"]["records_per_produce_request"] == 50  # (1100 - 100) / (30 - 10)
    assert result["proof_ok"] and proved == [400]
    assert result["cpu_ms_per_message"] is not None and "k6" in result["cpu_ms_per_message_by_process"]
    assert len(result["series"]["t"]) >= 10
    json.dumps(result, allow_nan=False)


def test_a_pair_searches_hello_api_and_api_with_the_workers_paused(monkeypatch):
    from contextlib import contextmanager

    from benchmarks import e2e, pairs

    capacity = {"hello": 4000, "api-running": 200, "api-paused": 400}
    state = {"paused": False}

    def run(url, rate, duration_s, users_file=None, env_extra=None, warmup_s=0.0):
        key = "hello" if url == "hello" else ("api-paused" if state["paused"] else "api-running")
        ok = rate <= capacity[key]
        return k6.Run(offered_rps=rate, achieved_rps=rate, requests=1000, accepted=1000, error_rate=0.0,
                      dropped=0, p50_ms=1, p95_ms=10 if ok else 500, p99_ms=20, warmup_s=warmup_s)

    @contextmanager
    def hello_server():
        yield "hello"

    class FakePaused:
        def __init__(self, workers, log):
            assert set(workers) == {"router", "connector-whatsapp"}

        def __enter__(self):
            state["paused"] = True

        def __exit__(self, *exc):
            state["paused"] = False

    monkeypatch.setattr(k6, "run", run)
    monkeypatch.setattr(pairs, "hello_server", hello_server)
    monkeypatch.setattr(pairs, "Paused", FakePaused)
    monkeypatch.setattr(pairs, "pids", lambda: {"router": 1, "connector-whatsapp": 2, "kafka": 3})
    monkeypatch.setattr(e2e, "wait_idle", lambda *a: None)
    from devstack.topology import local

    pair = pairs.run_pair(local({}), Path("users.json"), pairs.StepTiming(), [], log=lambda _: None)
    assert 3600 <= pair["hello"]["max_rps"] <= 4000 and 180 <= pair["api"]["max_rps"] <= 200
    assert 360 <= pair["api_isolated"]["max_rps"] <= 400 and not state["paused"]
    assert pair["ratio"] == pytest.approx(pair["api"]["max_rps"] / pair["hello"]["max_rps"], abs=1e-4)
    later = pairs.run_pair(local({}), Path("users.json"), pairs.StepTiming(), [pair], log=lambda _: None)
    assert later["hello"]["start_rps"] == round(0.7 * pair["hello"]["max_rps"])
    assert len(later["hello"]["steps"]) < len(pair["hello"]["steps"])


def test_the_run_writes_strict_json_a_dated_copy_markdown_and_the_chart(tmp_path):
    from benchmarks.__main__ import write

    result = summary([repeat(0.01)], Plan())
    result["runs"][0]["api_at_1000"]["p95_ms"] = math.inf  # nothing answered: written as null
    write(result, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert {"latest.json", "latest.md", "latest-e2e.png"} <= set(names) and len(names) == 4
    assert json.loads((tmp_path / "latest.json").read_text())["runs"][0]["api_at_1000"]["p95_ms"] is None


def test_the_benchmark_says_which_processes_ran_at_a_lower_cpu_priority():
    assert priorities({}) == "CPU priorities not recorded."
    same = {"nice_by_process": {"api": 0, "kafka": 0}}
    assert priorities(same) == "Every process at the same CPU priority."
    assert priorities({"nice_by_process": {"api": 0, "router": 10, "connector-whatsapp": 10}}) == (
        "Lower CPU priority (WORKER_NICE): nice 10: connector-whatsapp, router; every other process at 0.")
