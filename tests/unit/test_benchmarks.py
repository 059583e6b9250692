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
