"""The experiments' timeline arithmetic: rates between readings and the clients' 5xx window."""

from experiments.cases import _error_window
from experiments.probe import Reading
from experiments.timeline import Timeline


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
    assert _error_window(tl, 1.5) == (1.5, 2.5)  # errors at t=1 came before the fault
    assert _error_window(tl, 4.5) is None
