"""Did the survivor of a failover commit the partitions it took over? Read off the broker.

The timeline samples the router group's committed offsets per partition (from the broker, as any
other consumer of the group would find them). The killed worker's partitions are the ones whose
committed offset stopped moving at the kill; after the takeover the survivor must commit them,
or a second crash would replay everything since the first. Pure functions of the readings.
"""

from __future__ import annotations

from collections.abc import Sequence

from experiments.probe import Reading


def stalled_at_kill(points: Sequence[tuple[float, Reading]], t_kill: float,
                    t_takeover: float) -> dict[str, int]:
    """{partition: committed offset} of the partitions whose committed offset moved before the kill
    and did not from the first reading after it to the last one before the takeover: the dead
    worker's. (The first reading after the kill, not the last before it: the worker may commit
    just before dying. A partition no message went to moves neither before nor after: not stalled.)"""
    before = [r.router_committed for t, r in points if t < t_kill and r.router_committed]
    after = [r.router_committed for t, r in points if t_kill <= t < t_takeover and r.router_committed]
    if len(before) < 2 or len(after) < 2:
        return {}
    moving = {tp for tp, offset in before[-1].items() if before[0].get(tp) != offset}
    return {tp: offset for tp, offset in after[0].items() if tp in moving and after[-1].get(tp) == offset}


def first_commit_after(points: Sequence[tuple[float, Reading]], stalled: dict[str, int],
                       t_takeover: float) -> dict[str, float | None]:
    """Seconds from the takeover to the first reading in which each stalled partition's committed
    offset moved past where it stalled; None if it never did."""
    delays: dict[str, float | None] = {}
    for tp, offset in stalled.items():
        moved = [t for t, r in points if t >= t_takeover and r.router_committed.get(tp, offset) > offset]
        delays[tp] = round(moved[0] - t_takeover, 2) if moved else None
    return delays


def lag_back_at(points: Sequence[tuple[float, Reading]], t_from: float, level: float) -> float | None:
    """Time of the first reading from `t_from` on whose broker-side group lag is at most `level`."""
    return next((t for t, r in points
                 if t >= t_from and r.router_group_lag is not None and r.router_group_lag <= level), None)
