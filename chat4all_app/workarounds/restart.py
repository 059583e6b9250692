"""Restart this worker in place: the remedy when Faust's consumer loses track of a partition.

`exec` of the same command keeps the pid, so the supervisor (and its stop/kill/start commands)
sees one continuous process, whatever its restart policy. For Kafka the old member leaves the
group first, so the new one's join rebalances at once instead of after the old member's session
timeout; Faust then seeks every partition to its committed offset and replays in order — the path
the SIGKILL tests prove loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import faust
from aiokafka.consumer.group_coordinator import GroupCoordinator

from chat4all_app.observability.logs import drain
from chat4all_app.workarounds.consumer_thread import aiokafka_consumer
from chat4all_app.workarounds.pins import Private

PRIVATE = (
    Private("aiokafka.consumer.consumer:AIOKafkaConsumer", "_coordinator", instance=True),
    Private("aiokafka.consumer.group_coordinator:GroupCoordinator", "_maybe_leave_group"),
)

log = logging.getLogger(__name__)

LEAVE_GROUP_TIMEOUT_S = 2.0


def group_coordinator(app: faust.App) -> tuple[GroupCoordinator, asyncio.AbstractEventLoop]:
    """aiokafka's group coordinator of this worker's consumer, and the loop of the thread it runs on."""
    consumer, loop = aiokafka_consumer(app)
    return consumer._coordinator, loop


def leave_group(app: faust.App, timeout_s: float = LEAVE_GROUP_TIMEOUT_S) -> bool:
    """Send Kafka's LeaveGroup for this worker's consumer; best effort, as a clean shutdown does.

    Without it the group waits a whole session timeout for the exec'd (dead) member before the
    rebalance that lets the new process in: measured 4-6 s of a failover. Faust runs its aiokafka
    consumer on a thread of its own, so the request is scheduled on that thread's loop; aiokafka
    has no public "leave but keep running" call, hence the private coordinator method.
    """
    try:
        coordinator, loop = group_coordinator(app)
        asyncio.run_coroutine_threadsafe(coordinator._maybe_leave_group(), loop).result(timeout_s)
        return True
    except Exception as exc:  # a failed leave costs only the session timeout, as before
        log.warning("could not leave the consumer group before restarting: %r", exc)
        return False


def restart_in_place(app: faust.App, reason: str) -> None:
    log.error("restarting this worker in place: %s", reason)
    leave_group(app)
    logging.shutdown()
    drain()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
