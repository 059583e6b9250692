"""Notice a partition that has work but is never handed to its agent.

Faust can leave an assigned partition unfetched, or drop records it fetched (faust-streaming
#175, #629, #640): the worker looks healthy, its lag never drains and messages stay PENDING.
Every `STALL_CHECK_INTERVAL_S` the watch compares, per assigned partition of the agent's topic,
the broker's highwater with this consumer's committed offset. A partition is *stalled* when it has
lag, its committed offset has not moved for `STALL_AFTER_S`, no event of it reached the agent in
that time, and the agent is not simply busy with one long batch (an open circuit holds a batch on
purpose: that is store-and-forward, not a stall). The first remedy is a seek of the partition back
to its committed offset: Faust reads the lost records again, within seconds and without a
rebalance. A partition still stalled at the same offset after that restarts the worker in place
(`workarounds.restart`). Both log where the events stopped, for the bug report.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from faust.types import TP

from chat4all_app.lifecycle import own
from chat4all_app.observability.metrics import CONSUMER_LAG
from chat4all_app.workarounds.consumer_thread import aiokafka_consumer
from chat4all_app.workarounds.pins import Private
from chat4all_app.workarounds.restart import restart_in_place

if TYPE_CHECKING:
    from faust.transport.consumer import Consumer

_FAUST_CONSUMER = "faust.transport.consumer:Consumer"
PRIVATE = (
    Private(_FAUST_CONSUMER, "_committed_offset", instance=True),
    Private(_FAUST_CONSUMER, "_read_offset", instance=True),
    Private(_FAUST_CONSUMER, "_active_partitions", instance=True),
    Private(_FAUST_CONSUMER, "_paused_partitions", instance=True),
    Private(_FAUST_CONSUMER, "_buffered_partitions", instance=True),
    Private("aiokafka.consumer.consumer:AIOKafkaConsumer", "_fetcher", instance=True),
    Private("aiokafka.consumer.fetcher:Fetcher", "_subscriptions", instance=True),
)

log = logging.getLogger(__name__)


def faust_consumer(app: faust.App) -> Consumer:
    """`app.consumer`, typed as the class it is (Faust's Consumer), not the ConsumerT interface,
    which declares neither `flow_active` nor the offset maps read here (see PRIVATE)."""
    return cast("Consumer", app.consumer)


def committed_offset(app: faust.App, tp: TP) -> int | None:
    """The offset Faust seeks `tp` to when it is assigned (None before the first commit)."""
    return faust_consumer(app)._committed_offset.get(tp)


@dataclass
class BatchActivity:
    """What the agent's batch loop reports: when a batch started, and the last event per partition."""

    busy_since: float | None = None
    last_event_at: dict[TP, float] = field(default_factory=dict)

    def batch_started(self, tps: Iterable[TP], now: float) -> None:
        self.busy_since = now
        for tp in tps:
            self.last_event_at[tp] = now

    def batch_done(self) -> None:
        self.busy_since = None


@dataclass
class StallDetector:
    """Pure bookkeeping over samples, so the rule is testable without Kafka."""

    stall_after_s: float
    _last_move: dict[TP, tuple[int | None, float]] = field(default_factory=dict)

    def stalled(self, now: float, committed: Mapping[TP, int | None], highwater: Mapping[TP, int],
                activity: BatchActivity) -> list[TP]:
        if activity.busy_since is not None and now - activity.busy_since >= self.stall_after_s:
            return []  # one long batch (e.g. waiting on an open circuit) is not a stall
        found = []
        for tp, end in highwater.items():
            offset = committed.get(tp)
            previous = self._last_move.get(tp)
            if previous is None or previous[0] != offset:
                self._last_move[tp] = (offset, now)
                continue
            has_lag = end is not None and end > (offset or 0)
            quiet_since = max(previous[1], activity.last_event_at.get(tp, 0.0))
            if has_lag and now - quiet_since >= self.stall_after_s:
                found.append(tp)
        for tp in set(self._last_move) - set(highwater):
            del self._last_move[tp]  # revoked
        return found

    def restart_clock(self, tps: Iterable[TP], now: float) -> None:
        """A remedy was applied: these partitions get a whole new delay before they count again."""
        for tp in tps:
            if tp in self._last_move:
                self._last_move[tp] = (self._last_move[tp][0], now)


@dataclass
class StallRemedy:
    """Seek first, restart if that did not help: a partition stalled again at the offset it was
    sought to restarts the worker; one that moved on since gets a seek again."""

    seek: Callable[[TP, int], Awaitable[None]]
    restart: Callable[[str], None]
    _sought: dict[TP, int] = field(default_factory=dict)

    def keep_only(self, assigned: Iterable[TP]) -> None:
        """Forget partitions no longer assigned: when one comes back, a stall gets a seek first again."""
        for tp in set(self._sought) - set(assigned):
            del self._sought[tp]

    async def __call__(self, stalled: list[TP], committed: Mapping[TP, int | None], why: str) -> None:
        if any(self._sought.get(tp) == committed.get(tp) for tp in stalled):
            self.restart(f"{why}; still stalled after a seek back to the committed offset")
            return
        log.warning("stall watch: seeking back to the committed offset: %s", why)
        for tp in stalled:
            offset = committed.get(tp) or 0
            try:
                await self.seek(tp, offset)
            except Exception as exc:  # e.g. revoked meanwhile: a timer that raises ends the worker
                self.restart(f"{why}; the seek back to the committed offset failed: {exc!r}")
                return
            self._sought[tp] = offset


def consumer_state(app: faust.App, tps: Iterable[TP]) -> dict:
    """Where the events stop, for the log line (Faust/aiokafka private state: diagnostics only)."""
    consumer, tps = faust_consumer(app), set(tps)
    pick = lambda name: sorted(str(tp) for tp in (getattr(consumer, name, None) or ()) if tp in tps)  # noqa: E731
    state: dict[str, Any] = {
        "active": pick("_active_partitions"), "paused": pick("_paused_partitions"),
        "buffered": pick("_buffered_partitions"), "flow_active": consumer.flow_active,
        "read_offset": {str(tp): consumer._read_offset.get(tp) for tp in tps},
        "stream_inbound_s_ago": {str(tp): round(time.monotonic() - t, 1) if t else None
                                 for tp in tps
                                 for t in [app.monitor.stream_inbound_time.get(tp)]}}
    try:  # aiokafka's own view: fetch position and whether it considers the partition paused
        assignment = aiokafka_consumer(app)[0]._fetcher._subscriptions.subscription.assignment
        for tp in tps:
            tp_state = assignment.state_value(tp)
            state.setdefault("aiokafka", {})[str(tp)] = (
                tp_state and {"position": tp_state.position, "paused": tp_state.paused,
                              "highwater": tp_state.highwater})
    except Exception as exc:  # diagnostics must never break the watch
        state["aiokafka"] = repr(exc)
    return state


def skip_tick_while_broker_unreachable(tick: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """An exception escaping a Faust timer crashes the whole App: with Kafka down for longer than the
    client's request timeout, the broker query raised and took the worker down with it. A sample the
    broker cannot answer is skipped instead; the next tick tries again."""

    @functools.wraps(tick)
    async def guarded() -> None:
        try:
            await tick()
        except (TimeoutError, KafkaError) as exc:
            log.warning("stall watch: broker unreachable, tick skipped: %r", exc)

    return guarded


class BrokerOffsets:
    """Highwaters and log start offsets from a client of our own (no group): the watch must not
    touch the consumer it watches — Faust's consumer thread is exactly what we suspect when a
    partition stalls. Owned by the app (chat4all_app.lifecycle): connects on first use, inside the
    worker's event loop; closed by `stop()`."""

    def __init__(self, app: faust.App, topic_name: str) -> None:
        self.bootstrap = [f"{u.host}:{u.port or 9092}" for u in app.conf.broker]
        self.client_id = f"{app.conf.id}-stall-watch-{topic_name}"
        self._client: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        pass  # no I/O at start-up: a broker outage must not hold the worker up

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.stop()

    async def __call__(self, tps: list[TP], end: bool = True) -> dict[TP, int]:
        """Highwaters (or, `end=False`, log start offsets) straight from the broker."""
        if self._client is None:
            client = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, client_id=self.client_id)
            await client.start()
            self._client = client
        query = self._client.end_offsets if end else self._client.beginning_offsets
        found = await query([TopicPartition(tp.topic, tp.partition) for tp in tps])
        return {TP(tp.topic, tp.partition): offset for tp, offset in found.items()}


_ACTIVITIES: dict[str, list[BatchActivity]] = {}  # app id -> its agents' batch activity


def busy(app: faust.App) -> bool:
    """An agent of this app is processing a batch right now."""
    return any(a.busy_since is not None for a in _ACTIVITIES.get(app.conf.id, ()))


def install(app: faust.App, topic_name: str, activity: BatchActivity, interval_s: float,
            stall_after_s: float) -> None:
    if all(a is not activity for a in _ACTIVITIES.setdefault(app.conf.id, [])):
        _ACTIVITIES[app.conf.id].append(activity)
    detector = StallDetector(stall_after_s)
    broker_offsets = BrokerOffsets(app, topic_name)
    own(app, broker_offsets)
    # seek_wait, not seek: it runs aiokafka's seek on the consumer's own thread and loop (Faust's
    # `seek` calls it from this thread, racing the fetcher).
    remedy = StallRemedy(lambda tp, offset: faust_consumer(app).seek_wait({tp: offset}),
                         lambda why: restart_in_place(app, why))

    @app.timer(interval_s, name=f"stall-watch-{topic_name}")
    @skip_tick_while_broker_unreachable
    async def watch() -> None:
        if app.rebalancing or app.in_recovery or not faust_consumer(app).flow_active:
            return
        consumer = faust_consumer(app)
        tps = [tp for tp in consumer.assignment() if tp.topic == topic_name]
        remedy.keep_only(tps)
        if not tps:
            return
        highwater = await broker_offsets(tps)
        committed = {tp: consumer._committed_offset.get(tp) for tp in tps}
        never = [tp for tp, offset in committed.items() if offset is None]
        if never:  # never committed by this group: it reads from the start of the log
            committed.update(await broker_offsets(never, end=False))
        # A rebalance during the awaits above may have revoked some: their lag series was removed
        # (batching.forget_revoked) and is another worker's to report; setting it again here left
        # a stale series behind for good (seen in the compose scale-out test).
        still = set(consumer.assignment())
        for tp in tps:
            end, offset = highwater.get(tp), committed.get(tp)
            if end is not None and offset is not None and tp in still:
                CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, end - offset))
        stalled = detector.stalled(time.monotonic(), committed, highwater, activity)
        if stalled:
            await remedy(
                stalled, committed,
                f"partitions {[str(tp) for tp in stalled]} have lag but no progress for {stall_after_s:.0f}s "
                f"(highwater { {str(tp): highwater.get(tp) for tp in stalled} }, committed "
                f"{ {str(tp): committed.get(tp) for tp in stalled} }, {consumer_state(app, stalled)})")
            detector.restart_clock(stalled, time.monotonic())
