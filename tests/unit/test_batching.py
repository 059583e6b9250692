"""An unexpected error while processing a batch restarts the worker before Faust can ack the batch."""

from __future__ import annotations

import pytest
from faust.exceptions import PartitionsMismatch

from chat4all_app.agents import batching


class Restarted(BaseException):
    """Stands in for os.execv: nothing after restart_in_place runs in the real worker."""


@pytest.fixture
def restarts(monkeypatch) -> list[str]:
    reasons: list[str] = []

    def restart_in_place(app, reason):
        reasons.append(reason)
        raise Restarted

    monkeypatch.setattr(batching, "restart_in_place", restart_in_place)
    monkeypatch.setattr(batching, "RESTART_BACKOFF_S", 0.01)
    return reasons


async def test_an_unexpected_error_restarts_the_worker_instead_of_raising_into_faust(restarts):
    async def handle(events):
        raise PartitionsMismatch("changelog topic has 0 partitions")

    with pytest.raises(Restarted):
        await batching.handled_or_restart(None, "send-whatsapp", handle, ["event"])
    assert len(restarts) == 1
    assert restarts[0].startswith("send-whatsapp: PartitionsMismatch while processing a batch")


async def test_a_step_that_succeeds_restarts_nothing(restarts):
    seen = []

    async def handle(events):
        seen.extend(events)

    await batching.handled_or_restart(None, "route-messages", handle, ["a", "b"])
    assert seen == ["a", "b"] and restarts == []
