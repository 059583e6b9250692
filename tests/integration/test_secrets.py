"""No well-known secret anywhere: the stack's secrets are generated and private, processes refuse
to start without theirs, and what the old defaults signed is worthless."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chat4all_app.settings import KNOWN_DEFAULTS, read_secrets_file
from devstack.layout import Layout
from tests.integration.helpers import forged

BIN = Path(sys.executable).parent
OLD_DEFAULT_JWT_SECRET = "dev-only-insecure-secret-change-me"


def test_the_stacks_secrets_are_generated_private_and_not_well_known():
    path = Layout.from_env().secrets
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = read_secrets_file(str(path))
    assert {"JWT_SECRET", "S3_ROOT_PASSWORD", "S3_SECRET_KEY", "WEBHOOK_SECRET_WHATSAPP"} <= set(values)
    assert not set(values.values()) & KNOWN_DEFAULTS
    assert len(set(values.values())) == len(values)  # no secret doubles as another


async def test_a_token_signed_with_the_old_default_secret_is_refused(api):
    alice = await api.user()
    token = forged(alice.user_id, secret=OLD_DEFAULT_JWT_SECRET)
    status, body = await api.call("GET", "/v1/conversations",
                                  headers={"Authorization": f"Bearer {token}"})
    assert status == 401 and "invalid token" in body["error"]


@pytest.mark.parametrize("argv, variable, value", [
    (["faust", "-A", "chat4all_app.roles.api", "worker", "--web-port", "18190"], "JWT_SECRET", ""),
    (["faust", "-A", "chat4all_app.roles.api", "worker", "--web-port", "18191"], "JWT_SECRET",
     OLD_DEFAULT_JWT_SECRET),
    (["faust", "-A", "chat4all_app.roles.connector_whatsapp", "worker", "--web-port", "18192"],
     "WEBHOOK_SECRET_WHATSAPP", "too-short"),
    (["python", "-m", "chat4all_app.mocks.provider", "--channel", "instagram", "--port", "18193"],
     "WEBHOOK_SECRET_INSTAGRAM", ""),
], ids=["api-missing", "api-default", "connector-short", "mock-missing"])
def test_a_process_refuses_to_start_without_a_good_secret_and_names_it(tmp_path, argv, variable, value):
    secrets = read_secrets_file(str(Layout.from_env().secrets))
    secrets[variable] = value
    file = tmp_path / "secrets.env"
    file.write_text("".join(f"{k}={v}\n" for k, v in secrets.items()))
    env = {k: v for k, v in os.environ.items() if k not in secrets} | {"CHAT4ALL_SECRETS_FILE": str(file)}
    proc = subprocess.run([str(BIN / argv[0]), *argv[1:]], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode != 0
    assert f"configuration error: {variable}" in proc.stderr, proc.stderr[-2000:]
