import os

import pytest

from chat4all_app.settings import Settings
from devstack.layout import Layout

# Tests read the local stack's generated secrets (forging tokens, signing webhooks) like its
# processes do; an explicit CHAT4ALL_SECRETS_FILE or secret in the environment wins.
os.environ.setdefault("CHAT4ALL_SECRETS_FILE", str(Layout.from_env().secrets))

# tests/compose starts a container engine and the whole compose deployment: only
# `make compose-test` (scripts/compose-test.sh) asks for it, never a plain `pytest`.
collect_ignore = [] if os.environ.get("CHAT4ALL_COMPOSE_TEST") == "1" else ["compose"]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()
