"""Did an end-to-end step sustain its offered rate? A pure judgement over the step's samples.

For an offered rate R (msg/s), held for the hold after the warm-up, a step is sustained when:

1. every consumer group's lag, as the broker sees it (committed offset vs end offset), is flat over
   the hold, which takes both:
   a. its least-squares slope <= 1 % of R per second (LAG_SLOPE_FRACTION). A pipeline short of
      capacity C builds a backlog at R - C per second, several % of R as soon as it is really short;
      1 % lets over a 120 s hold at most 1.2 s worth of traffic pile up, less than the noise below.
   b. the median of its last fifth of readings <= the median of its first fifth + 1 s of R
      (LAG_RISE_S). This catches a rise late in the hold that a long flat start dilutes in the
      slope. Medians over fifths (about 24 s of 2 s readings), never single readings: committed
      offsets advance in steps (Faust commits every few seconds), so one reading can sit up to
      R x commit interval above the level.
   A group with fewer than MIN_SAMPLES readings in the hold is not known to be flat: not sustained.
2. DELIVERED (the router's count) grew over the hold at a least-squares slope >= 99 % of R.
3. Then the drain: after the load stopped, everything the API accepted is DELIVERED within 10 s.
   A rate that is only "delivered" by working off a backlog for minutes afterwards (a 13.8 s P50)
   is not a sustained figure.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.stats import slope

LAG_SLOPE_FRACTION = 0.01
LAG_RISE_S = 1.0
DELIVERED_FRACTION = 0.99
DRAIN_LIMIT_S = 10.0
MIN_SAMPLES = 5


@dataclass(frozen=True)
class Sample:
    """One reading during a step; counts are increases since just before the step."""

    t: float  # seconds since the load started
    accepted: float  # the API's messages_accepted_total
    delivered: float  # the router's DELIVERED transitions
    lag: dict[str, float | None] = field(default_factory=dict)  # group -> broker-side lag (None: unread)


@dataclass(frozen=True)
class GroupLagVerdict:
    samples: int
    slope_per_s: float | None
    head: float | None  # median of the first fifth of the hold's readings
    tail: float | None  # median of the last fifth
    flat: bool

    def as_dict(self) -> dict:
        r = lambda v: None if v is None else round(v, 2)  # noqa: E731
        return {"samples": self.samples, "slope_per_s": r(self.slope_per_s), "head": r(self.head),
                "tail": r(self.tail), "flat": self.flat}


def judge_lag(points: Sequence[tuple[float, float]], offered_rps: float) -> GroupLagVerdict:
    """Flat: slope <= 1 % of the offered rate per second, and the last fifth's median no more
    than one second of offered traffic above the first fifth's."""
    if len(points) < MIN_SAMPLES:
        return GroupLagVerdict(len(points), slope(points), None, None, flat=False)
    fifth = max(1, len(points) // 5)
    head = statistics.median(v for _, v in points[:fifth])
    tail = statistics.median(v for _, v in points[-fifth:])
    rise = slope(points)
    flat = (rise is not None and rise <= LAG_SLOPE_FRACTION * offered_rps
            and tail <= head + LAG_RISE_S * offered_rps)
    return GroupLagVerdict(len(points), rise, head, tail, flat)


def drain_time(samples: Sequence[Sample], load_end: float, accepted: float) -> float | None:
    """Seconds from the end of the load until DELIVERED reached `accepted` (None: never seen)."""
    for s in samples:
        if s.t >= load_end and s.delivered >= accepted:
            return max(0.0, s.t - load_end)
    return None


@dataclass(frozen=True)
class Verdict:
    offered_rps: float
    hold: tuple[float, float]  # (start, end) in seconds since the load started
    delivered_slope_per_s: float | None
    accepted_slope_per_s: float | None
    groups: dict[str, GroupLagVerdict]
    drain_s: float | None
    drain_limit_s: float = DRAIN_LIMIT_S

    @property
    def lag_flat(self) -> bool:
        return bool(self.groups) and all(g.flat for g in self.groups.values())

    @property
    def delivered_ok(self) -> bool:
        return (self.delivered_slope_per_s is not None
                and self.delivered_slope_per_s >= DELIVERED_FRACTION * self.offered_rps)

    @property
    def drained(self) -> bool:
        return self.drain_s is not None and self.drain_s <= self.drain_limit_s

    @property
    def sustained(self) -> bool:
        return self.lag_flat and self.delivered_ok and self.drained

    def reasons(self) -> list[str]:
        """Why a step is not sustained (empty when it is)."""
        out = [f"lag of {name} not flat ({g.as_dict()})" for name, g in self.groups.items() if not g.flat]
        if not self.groups:
            out.append("no consumer group lag was read")
        if not self.delivered_ok:
            out.append(f"DELIVERED slope {self.delivered_slope_per_s} < {DELIVERED_FRACTION:.0%} "
                       f"of {self.offered_rps:g}/s")
        if not self.drained:
            out.append("not drained" if self.drain_s is None
                       else f"drained in {self.drain_s:.1f} s > {self.drain_limit_s:g} s")
        return out

    def as_dict(self) -> dict:
        r = lambda v: None if v is None else round(v, 1)  # noqa: E731
        return {"sustained": self.sustained, "lag_flat": self.lag_flat, "delivered_ok": self.delivered_ok,
                "drained": self.drained, "hold_s": [round(self.hold[0], 1), round(self.hold[1], 1)],
                "delivered_slope_per_s": r(self.delivered_slope_per_s),
                "accepted_slope_per_s": r(self.accepted_slope_per_s),
                "drain_s": r(self.drain_s), "drain_limit_s": self.drain_limit_s,
                "lag": {name: g.as_dict() for name, g in self.groups.items()}, "reasons": self.reasons()}


def judge(samples: Sequence[Sample], hold: tuple[float, float], offered_rps: float, groups: Sequence[str],
          load_end: float, accepted: float, drain_limit_s: float = DRAIN_LIMIT_S) -> Verdict:
    """`hold`: the window judged (after the warm-up, before the load stopped); `load_end`: when the
    load stopped (k6 exited); `accepted`: everything the API accepted in the step, warm-up included."""
    inside = [s for s in samples if hold[0] <= s.t <= hold[1]]
    verdicts = {}
    for group in groups:
        points = [(s.t, v) for s in inside if (v := s.lag.get(group)) is not None]
        verdicts[group] = judge_lag(points, offered_rps)
    return Verdict(offered_rps=offered_rps, hold=hold,
                   delivered_slope_per_s=slope([(s.t, s.delivered) for s in inside]),
                   accepted_slope_per_s=slope([(s.t, s.accepted) for s in inside]),
                   groups=verdicts, drain_s=drain_time(samples, load_end, accepted),
                   drain_limit_s=drain_limit_s)
