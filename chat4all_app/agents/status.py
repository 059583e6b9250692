"""Status applier: status event -> monotonic transition -> Cassandra.

Events for one message arrive in order on one partition (keyed by conversation), but may be
repeated or late (at-least-once). The `statuses` table holds the latest applied status, so a
repeated or backwards event is ignored. Cassandra is written before the table, so a crash
in between re-applies the transition instead of losing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import faust
from faust.types import EventT

from chat4all_app.agents.batching import batch_agent
from chat4all_app.ids import accepted_epoch
from chat4all_app.observability.logs import get_logger
from chat4all_app.observability.metrics import CASSANDRA_WRITE_DURATION, DELIVERY_LATENCY, MESSAGES_PROCESSED
from chat4all_app.records import StatusEvent
from chat4all_app.retry import until_done
from chat4all_app.settings import Settings
from chat4all_app.status import Status, can_transition
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.storage.messages import apply_statuses
from chat4all_app.tables.scope import for_event
from chat4all_app.tables.state import message_key

log = get_logger(__name__)


@dataclass
class StatusApplier:
    settings: Settings
    store: CassandraStore
    statuses: faust.Table

    def transitions(self, events: Sequence[EventT]) -> dict[str, tuple[EventT, list[StatusEvent]]]:
        """Per message: its last event and the valid transitions, in arrival order."""
        latest: dict[str, Status | None] = {}
        out: dict[str, tuple[EventT, list[StatusEvent]]] = {}
        for event in events:
            ev: StatusEvent = event.value
            try:
                new = Status(ev.status)
            except ValueError:
                continue  # not a status we know: nothing to apply
            key = message_key(ev.conversation_id, ev.message_id)
            if key not in latest:
                with for_event(event):
                    current = self.statuses.get(key)
                latest[key] = Status(current) if current else None
            if can_transition(latest[key], new):
                latest[key] = new
                _, applied = out.get(key, (event, []))
                out[key] = (event, [*applied, ev])
        return out

    async def handle(self, events: Sequence[EventT]) -> int:
        changes = self.transitions(events)

        async def write() -> None:
            with CASSANDRA_WRITE_DURATION.time():
                await apply_statuses(self.store, [applied for _, applied in changes.values()])

        if changes:
            await until_done(write, f"applying {len(changes)} status changes", reason="cassandra")
        for _, applied in changes.values():
            for ev in applied:
                MESSAGES_PROCESSED.labels(ev.status).inc()
                log.info("status applied", correlation_id=ev.correlation_id, message_id=ev.message_id,
                         status=ev.status, channel=ev.channel, reason=ev.reason)
                if ev.status == Status.DELIVERED.value:  # receipts carry only the accepted_id
                    DELIVERY_LATENCY.labels(ev.channel or "unknown").observe(
                        max(0.0, ev.at - accepted_epoch(ev.accepted_id)))
        for key, (event, applied) in changes.items():
            with for_event(event):
                self.statuses[key] = applied[-1].status
        return len(changes)


def install(app: faust.App, applier: StatusApplier, statuses: faust.TopicT) -> faust.types.AgentT:
    return batch_agent(app, statuses, "apply-status", applier.settings.router_batch_size,
                       applier.handle, applier.settings)
