import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from chat4all_app.bootstrap.secrets import ensure_secrets
from chat4all_app.settings import Settings
from devstack.layout import Layout


def _secrets_file() -> Path:
    """The local stack's generated secrets, which tests read like its processes do (forging tokens,
    signing webhooks). Before the first `make up` (a fresh checkout's `make unit`) there are none:
    throwaway ones then, so modules that refuse to load without secrets still import."""
    stack = Layout.from_env().secrets
    if stack.exists():
        return stack
    directory = tempfile.mkdtemp(prefix="chat4all-test-secrets-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    throwaway = Path(directory) / "secrets.env"
    ensure_secrets(throwaway, Settings.from_env({}).channels)
    return throwaway


# An explicit CHAT4ALL_SECRETS_FILE or secret in the environment wins.
if not os.environ.get("CHAT4ALL_SECRETS_FILE"):
    os.environ["CHAT4ALL_SECRETS_FILE"] = str(_secrets_file())

# tests/compose starts a container engine and the whole compose deployment: only
# `make compose-test` (scripts/compose-test.sh) asks for it, never a plain `pytest`.
collect_ignore = [] if os.environ.get("CHAT4ALL_COMPOSE_TEST") == "1" else ["compose", "compose_cluster"]
# tests/cluster needs the stack started as clusters (scripts/cluster-test.sh, `make cluster-test`).
if os.environ.get("CHAT4ALL_CLUSTER_TEST") != "1":
    collect_ignore.append("cluster")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()
