"""benchmarks.quiet: another process's CPU counts against the run, the run's own does not."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks.__main__ import summary
from benchmarks.plan import Plan
from benchmarks.quiet import QUIET_LIMIT_CORES, LoadWatch, descendants, processes
from benchmarks.report import markdown

BUSY = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end: pass\n"


def spin_outsider(seconds: float) -> int:
    """A busy process that is not ours: its parent exits at once, so it is re-parented away from us."""
    out = subprocess.run(
        ["sh", "-c", f"{sys.executable} -c '{BUSY.format(s=seconds)}' >/dev/null 2>&1 & echo $!"],
        capture_output=True, text=True, check=True)
    return int(out.stdout)


def test_an_outsiders_cpu_makes_the_run_not_quiet_and_is_named():
    with LoadWatch() as watch:
        outsider = spin_outsider(1.0)
        assert outsider not in descendants([os.getpid()], processes())
        time.sleep(1.3)
    load = watch.result
    assert outsider in load.other_pids
    assert load.others_cores > 0.4, load
    assert not load.quiet
    assert any(name.startswith("python") and cores > 0.4 for name, cores in load.busiest_others), load


def test_the_runs_own_children_are_not_held_against_it():
    with LoadWatch() as watch:
        child = subprocess.Popen([sys.executable, "-c", BUSY.format(s=2.0)])
        time.sleep(1.0)  # still running when the watch ends, so it is in the last snapshot
    child.wait()
    load = watch.result
    # Whatever else this shared machine does, our child's second of CPU is not in the figure.
    assert child.pid not in load.other_pids
    assert 0 <= load.steal_pct <= 100
    assert load.as_dict()["quiet"] == (load.others_cores <= QUIET_LIMIT_CORES)


def repeat(others_cores: float) -> dict:
    """One repeat of `make bench` as benchmarks.__main__ records it (figures made up, shape real)."""
    e2e = {"offered_rps": 500.0, "sustained": True, "delivered_per_s": 400.0, "drain_s": 1.0, "p50_ms": 5.0,
           "p95_ms": 9.0, "p99_ms": 12.0, "final_lag": 0, "k6": {"error_rate": 0.0}, "lost_messages": 0,
           "proof_ok": True, "cpu_ms_per_message": 3.0, "cpu_ms_per_message_by_process": {"api": 3.0},
           "kafka": {"produce_requests_per_s": None, "records_per_s": None,
                     "records_per_produce_request": None}}
    machine = {"quiet": others_cores <= QUIET_LIMIT_CORES, "others_cores": others_cores, "steal_pct": 0.5}
    pair = {"hello": {"max_rps": 2000.0}, "api": {"max_rps": 800.0, "p95_ms_at_max": 20.0},
            "api_isolated": {"max_rps": 900.0}, "ratio": 0.4, "ratio_isolated": 0.45}
    return {"pairs": [pair], "api_at_1000": {"offered_rps": 1000, "p95_ms": 10.0}, "e2e_steps": [e2e],
            "e2e_sustained_per_s": 500.0, "machine": machine}


def test_a_benchmark_is_quiet_only_if_every_repeat_was_and_its_summary_says_so():
    quiet = summary([repeat(0.01), repeat(0.02)], Plan())
    noisy = summary([repeat(0.01), repeat(0.3)], Plan())
    assert quiet["quiet_machine"] is True and noisy["quiet_machine"] is False
    assert noisy["others_cores_max"] == 0.3
    assert "| Quiet machine (others <= 5 % of a core in every repeat) | NO (others up to 0.300 cores" \
        in markdown(noisy)
    assert "| yes (others up to 0.020 cores" in markdown(quiet)
