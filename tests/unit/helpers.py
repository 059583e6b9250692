"""Fakes shared by the agent tests: settings, a recording Cassandra stand-in, dead letters whose
Kafka sends are recorded, a Faust app fixture (memory store, no Kafka) and a polling helper."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import faust
import pytest

from chat4all_app.dead_letters import DeadLetters
from chat4all_app.settings import Settings

SETTINGS = Settings.from_env({"BATCH_WITHIN_S": "0.01", "CIRCUIT_RESET_S": "0.2"})


class RecordingStore:
    """Stands in for Cassandra: records every statement."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple]] = []

    async def execute(self, cql, params=()):
        self.statements.append((cql, params))
        return []

    async def execute_batch(self, statements):
        self.statements.extend(statements)


def done_future() -> asyncio.Future:
    fut = asyncio.get_running_loop().create_future()
    fut.set_result(None)
    return fut


def recorded_dead_letters(app: faust.App) -> tuple[DeadLetters, list]:
    """Dead letters whose Kafka send is recorded: [(key, value, headers as a dict)]."""
    dead_letters, sent = DeadLetters(app, SETTINGS), []

    async def send(key, value, headers=None):
        sent.append((key, value, dict(headers)))
        return done_future()

    dead_letters.topic.send = send
    return dead_letters, sent


@pytest.fixture
def app() -> faust.App:
    app = faust.App(f"test-{uuid.uuid4().hex[:6]}", store="memory://", broker="kafka://127.0.0.1:1")
    app.flow_control.resume()
    return app


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the agent did not get there in time"
        await asyncio.sleep(0.01)
