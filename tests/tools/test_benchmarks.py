"""The benchmark's arithmetic: capacity search, 'sustained', histogram quantiles."""

from __future__ import annotations

import math

from benchmarks.capacity import Search
from benchmarks.k6 import Run
from benchmarks.pipeline import quantile


def run(rate: float, p95: float = 10, errors: float = 0.0, dropped: int = 0) -> Run:
    return Run(offered_rps=rate, achieved_rps=rate, requests=int(rate * 10), accepted=int(rate * 10),
               error_rate=errors, dropped=dropped, p50_ms=p95 / 2, p95_ms=p95, p99_ms=p95 * 2)


def test_sustained_needs_low_errors_p95_in_bounds_and_no_dropped_iterations():
    assert run(100).sustained(0.001, 50)
    assert not run(100, p95=51).sustained(0.001, 50)
    assert not run(100, errors=0.002).sustained(0.001, 50)
    assert not run(100, dropped=5).sustained(0.001, 50)  # k6 could not even offer the load


def test_search_doubles_then_bisects_to_within_ten_percent_of_the_true_capacity():
    capacity = 1234.0
    search = Search(start_rps=100)
    best = search.find(lambda rate: run(rate, p95=10 if rate <= capacity else 500),
                       lambda r: r.sustained(0.001, 50))
    assert best is not None and best.offered_rps <= capacity
    assert (capacity - best.offered_rps) / capacity < 0.1
    assert [s.offered_rps for s in search.steps][:5] == [100, 200, 400, 800, 1600]


def test_search_reports_nothing_when_even_the_first_step_fails():
    assert Search(start_rps=100).find(lambda rate: run(rate, p95=999),
                                      lambda r: r.sustained(0.001, 50)) is None


def test_quantile_interpolates_within_buckets_over_the_increase_only():
    before = {0.1: 5, 0.5: 5, 1.0: 5, math.inf: 5}            # history before the run
    after = {0.1: 5 + 50, 0.5: 5 + 90, 1.0: 5 + 100, math.inf: 5 + 100}
    assert quantile(0.5, before, after) == 0.1                 # rank 50 = top of the first bucket
    assert abs(quantile(0.95, before, after) - 0.75) < 1e-9    # halfway through (0.5, 1.0]
    assert quantile(0.5, after, after) is None                 # nothing happened


def test_profile_shares_by_package_own_function_and_our_inclusive_frames():
    from benchmarks.profile import package_of, parse, summarize

    site = "/v/lib/python3.11/site-packages"
    raw = "\n".join([
        f"main (/r/chat4all_app/agents/router.py:10);send ({site}/aiokafka/producer.py:5) 3",
        f"main (/r/chat4all_app/agents/router.py:10);dumps ({site}/orjson.py:1) 1",
        "select (/usr/lib/python3.11/selectors.py:468) 4",
        "garbage line",
    ])
    stacks = parse(raw)
    assert len(stacks) == 3 and stacks[0][1] == 3
    assert package_of(f"{site}/faust/agents/agent.py") == "faust"
    assert package_of("/r/chat4all_app/agents/router.py") == "chat4all_app.agents"
    assert package_of("/usr/lib/python3.11/selectors.py") == "stdlib.selectors"
    s = summarize(stacks)
    assert s["samples"] == 8
    assert dict(s["packages"]) == {"aiokafka": 37.5, "orjson": 12.5, "stdlib.selectors": 50.0}
    assert dict(s["ours_inclusive"]) == {"main (chat4all_app.agents)": 50.0}
    assert s["own"][0] == ("select (stdlib.selectors)", 50.0)


def test_jfr_samples_are_shared_by_thread_pool_and_paxos_step():
    from benchmarks import jfr

    def sample(thread: str, *frames: str) -> str:
        body = "\n".join(f"    {f}(Object) line: 1" for f in frames)
        return f'jdk.ExecutionSample {{\n  sampledThread = "{thread}" (javaThreadId = 7)\n' \
               f"  stackTrace = [\n{body}\n  ]\n}}\n"

    commit = ("org.apache.cassandra.db.SystemKeyspace.savePaxosCommit",
              "org.apache.cassandra.service.paxos.PaxosCommit.executeOnSelf", "java.lang.Thread.run")
    text = (sample("MutationStage-1", *commit) + sample("MutationStage-2", *commit)
            + sample("ReadStage-3", "org.apache.cassandra.db.ReadCommand.execute", "java.lang.Thread.run")
            + sample("Native-Transport-Requests-12", "org.apache.cassandra.transport.Message.decode"))
    summary = jfr.summarize(text)
    assert summary["samples"] == 4 and summary["in_paxos_pct"] == 50.0
    assert summary["pools"] == [("MutationStage-N", 50.0), ("ReadStage-N", 25.0),
                                ("Native-Transport-Requests-N", 25.0)]
    assert summary["paxos_steps"] == [("PaxosCommit.executeOnSelf > SystemKeyspace.savePaxosCommit", 50.0)]
    assert "**50.0 %**" in "\n".join(jfr.markdown("cassandra", summary))


def test_a_jfr_recording_that_fails_leaves_a_note_not_a_crash():
    from concurrent.futures import Future

    from benchmarks import jfr

    failed: Future = Future()
    failed.set_exception(FileNotFoundError("jcmd"))
    summary = jfr.summary_of(failed)
    assert summary == {"error": "FileNotFoundError: jcmd"}
    assert jfr.markdown("cassandra", summary)[-1] == "No recording: FileNotFoundError: jcmd"
