"""The cluster stage of `make test` (scripts/cluster-test.sh): the local stack started with
`CLUSTER=3` in a state directory of its own. The integration tests' fixtures and helpers apply
unchanged: they read the recorded cluster size through devstack.topology."""

from pathlib import Path

import pytest

from tests.integration.conftest import api, app_processes_serving, providers  # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.cluster)
