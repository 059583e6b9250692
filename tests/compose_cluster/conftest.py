"""The compose check of the replicated backbone: docker-compose.yml with docker-compose.cluster.yml
(three Kafka brokers, three Cassandra nodes) on the real engine, deployed like tests/compose's
(images built or reused, `docker compose up --wait`, everything stopped afterwards). Collected
only when CHAT4ALL_COMPOSE_TEST=1 (tests/conftest.py); `make compose-test` runs it after
tests/compose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compose.conftest import deployed, engine  # noqa: F401
from tests.compose.deployment import CLUSTER_FILES, Deployment, published_ports


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.compose)


@pytest.fixture(scope="session")
def deployment(engine) -> Iterator[Deployment]:  # noqa: F811
    yield from deployed(engine, Deployment(engine, published_ports(), CLUSTER_FILES))
