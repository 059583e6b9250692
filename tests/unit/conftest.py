"""Fixtures shared by the unit tests (their stand-ins: fakes.py)."""

from __future__ import annotations

import uuid

import faust
import pytest


@pytest.fixture
def app() -> faust.App:
    """A Faust app for agent tests: memory store, flow resumed, a broker nobody answers (the
    tests drive agents directly and never start the app)."""
    app = faust.App(f"test-{uuid.uuid4().hex[:6]}", store="memory://", broker="kafka://127.0.0.1:1")
    app.flow_control.resume()
    return app
