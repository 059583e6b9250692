"""The experiments' timeline arithmetic: rates between readings and the clients' 5xx window."""

from devstack.topology import local
from experiments import probe
from experiments.probe import Reading
from experiments.timeline import Timeline, error_window, recovery_time


def timeline(points: list[tuple[float, float, float]]) -> Timeline:
    """(t, accepted, api 5xx so far) readings."""
    tl = Timeline()
    tl.points = [(t, Reading(accepted=acc, api_errors=err)) for t, acc, err in points]
    return tl


def test_rate_and_series_are_per_second_increases():
    tl = timeline([(0, 0, 0), (1, 10, 0), (2, 30, 0), (4, 30, 0)])
    assert tl.rate(lambda r: r.accepted, 0, 2) == 15
    assert tl.series(lambda r: r.accepted) == [(1, 10), (2, 20), (4, 0)]


def test_error_window_covers_only_seconds_after_the_fault_that_saw_new_5xx():
    tl = timeline([(0, 0, 2), (1, 0, 3), (2, 0, 3), (3, 0, 5), (4, 0, 9), (5, 0, 9), (6, 0, 9)])
    assert error_window(tl, 1.5) == (1.5, 2.5)  # errors at t=1 came before the fault
    assert error_window(tl, 4.5) is None


def test_recovery_waits_for_the_dip_and_a_held_return():
    base = 100.0
    series = [(1, 100), (2, 98), (3, 60), (4, 40), (5, 95), (6, 80), (7, 92), (8, 97), (9, 101), (10, 99)]
    # Fault at 2.5: dips at 3; 5 is back for one reading only; back for good (3 in a row) at 7.
    assert recovery_time(series, 2.5, base) == 4.5
    assert recovery_time([(t, 100) for t in range(10)], 2.5, base) == 0.0  # never fell
    assert recovery_time([(3, 10), (4, 95), (5, 20)], 2.5, base) is None  # never held


def test_counters_stay_monotonic_across_a_restarted_instance(monkeypatch):
    """A killed worker's counters vanish, a restarted one starts at 0: neither is negative work."""
    readings = iter([
        {("delivered", "whatsapp", 8082): 100.0, ("delivered", "whatsapp", 8085): 50.0},
        {("delivered", "whatsapp", 8085): 60.0},  # 8082 killed
        {("delivered", "whatsapp", 8082): 5.0, ("delivered", "whatsapp", 8085): 70.0},  # restarted
    ])
    monkeypatch.setattr(probe, "raw", lambda topology: (next(readings), {}))
    p = probe.Probe(local({}))
    totals = [p.read().delivered["whatsapp"] for _ in range(3)]
    assert totals == [150.0, 160.0, 175.0]
