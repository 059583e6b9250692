"""The `chat4all` command line against the running API."""

from __future__ import annotations

import json
import time
import uuid

from click.testing import CliRunner

from chat4all_app.cli import main
from devstack.layout import Layout


def run(env: dict, *args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_register_login_send_and_read_back(tmp_path):
    env = {"CHAT4ALL_CONFIG_DIR": str(tmp_path)}
    name, peer = f"cli-{uuid.uuid4().hex[:8]}", f"cli-{uuid.uuid4().hex[:8]}"
    peer_id = json.loads(run(env, "register", peer, "--password", "peer-password"))["user_id"]
    run(env, "register", name, "--password", "cli-password")
    assert f"logged in as {name}" in run(env, "login", name, input="cli-password\n")
    assert oct((tmp_path / "token.json").stat().st_mode & 0o777) == "0o600"
    conv = json.loads(run(env, "conversations", "--create", peer_id))["conversation_id"]
    assert conv in run(env, "conversations")
    cid = f"cli-{uuid.uuid4().hex}"
    sent = json.loads(run(env, "send", conv, "hello from the cli", "--correlation-id", cid))
    assert sent["status"] == "ACCEPTED"
    deadline = time.monotonic() + 10  # services write their logs in chunks (every 100 ms)
    while True:
        accepted = [json.loads(line) for line in Layout.from_env().log("api").read_text().splitlines()
                    if cid in line]
        if accepted or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [(r["message"], r["message_id"]) for r in accepted] == [("message accepted", sent["message_id"])]
    deadline = time.monotonic() + 60
    while True:
        listing = json.loads(run(env, "messages", conv))["messages"]
        if listing or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [m["content"] for m in listing] == ["hello from the cli"]
    assert json.loads(run(env, "status", sent["message_id"]))["status"] == "DELIVERED"


def test_cli_errors_are_messages_not_tracebacks(tmp_path):
    env = {"CHAT4ALL_CONFIG_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["conversations"], env=env)
    assert result.exit_code == 1 and "not logged in" in result.output
    result = CliRunner().invoke(main, ["login", "nobody-" + uuid.uuid4().hex[:6]], env=env,
                                input="wrong\n")
    assert result.exit_code == 1
    assert "invalid username or password (HTTP 401)" in result.output
