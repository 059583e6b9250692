"""What one `make bench` does, its knobs and their defaults (full and --quick), and how long it takes."""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.pairs import StepTiming
from benchmarks.steps import StepPlan


@dataclass(frozen=True)
class Plan:
    repeats: int = 3
    pairs: int = 1  # capacity pairs (hello, API running, API paused) per repeat
    step_s: float = 25.0  # one capacity step, its discarded start included
    discard_s: float = 5.0
    precision: float = 0.1  # capacity searches bisect until their bracket is within 10 %
    e2e_rates: tuple[float, ...] = (600, 1000, 1333, 1667)
    warmup_s: float = 15.0
    hold_s: float = 120.0
    users: int = 50  # senders of the capacity steps (one token each)
    senders: int = 50  # fresh senders per end-to-end step

    @property
    def timing(self) -> StepTiming:
        return StepTiming(self.step_s, self.discard_s, self.precision)

    def steps(self) -> StepPlan:
        return StepPlan(rates=tuple(sorted(self.e2e_rates)), warmup_s=self.warmup_s, hold_s=self.hold_s,
                        senders=self.senders)


# A smoke run: every part of the machinery once, in a few minutes (figures not comparable).
QUICK = Plan(repeats=1, pairs=1, step_s=8.0, discard_s=2.0, precision=0.25, e2e_rates=(200, 400),
             warmup_s=5.0, hold_s=20.0, users=10, senders=10)

# Rough costs for the estimate (seconds), from the shape of a run rather than measured here.
K6_OVERHEAD_S = 3.0  # k6 start, setup, summary
DOUBLINGS_FIRST, DOUBLINGS_LATER = 7, 2  # from 100/s to past ~5,000/s; from 70 % of an earlier result
DRAIN_BEFORE_API_STEP_S = 15.0
RESUME_AND_CATCH_UP_S = 120.0  # after the paused search: rejoin, rebalance, work off the backlog
E2E_STEP_OVERHEAD_S = 80.0  # senders, idle wait, drain, Kafka readings, proof of delivery


def estimate_s(plan: Plan) -> float:
    """Expected duration if every end-to-end step runs (an ascent stops at the first step that is
    not sustained, so a run is often shorter; a step far over capacity drains for longer)."""
    step = plan.step_s + K6_OVERHEAD_S
    bisections = math.ceil(math.log2(1 / plan.precision))  # the bracket halves from 100 % to precision
    total = 0.0
    for pair in range(plan.repeats * plan.pairs):
        # Later searches start near what the earlier ones found (benchmarks.pairs.start_rate).
        n = (DOUBLINGS_FIRST if pair == 0 else DOUBLINGS_LATER) + bisections
        total += n * step + n * (step + DRAIN_BEFORE_API_STEP_S) + n * step + RESUME_AND_CATCH_UP_S
    per_repeat = step + 60  # the API at 1,000/s, and its backlog drained
    per_repeat += sum(plan.warmup_s + plan.hold_s + E2E_STEP_OVERHEAD_S for _ in plan.e2e_rates)
    return total + plan.repeats * per_repeat
