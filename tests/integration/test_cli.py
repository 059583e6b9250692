"""The `chat4all` command line against the running API."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid

import pytest
from click.testing import CliRunner

from chat4all_app.cli import main
from devstack.layout import REPO_DIR, Layout


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


# --- usernames, read, output modes, pending, the API URL, failures ------------------------------
def fails(env: dict, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 1, result.output
    return result.output


def registered(env: dict, prefix: str = "cli") -> tuple[str, str]:
    """(username, user_id) of a new account."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return name, json.loads(run(env, "register", name, "--password", f"pw-{name}"))["user_id"]


def logged_in(tmp_path, prefix: str = "cli") -> tuple[dict, str, str]:
    """A config dir of its own with a new user logged in: (env, username, user_id)."""
    env = {"CHAT4ALL_CONFIG_DIR": str(tmp_path / prefix)}
    name, user_id = registered(env, prefix)
    run(env, "login", name, "--password", f"pw-{name}")
    return env, name, user_id


def wait_status(env: dict, message_id: str, wanted: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        result = CliRunner().invoke(main, ["status", message_id, "--json"], env=env)
        if result.exit_code:  # 404 until the router has stored it
            assert "not found (it may still be in flight) (HTTP 404)" in result.output, result.output
            seen = "not stored"
        else:
            seen = json.loads(result.output)["status"]
        if seen == wanted or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def test_usernames_wherever_a_user_id_is_taken_then_read(tmp_path):
    env, _, me = logged_in(tmp_path, "alice")
    bob_env, bob, bob_id = logged_in(tmp_path, "bob")
    _, carol_id = registered(env, "carol")
    conv = json.loads(run(env, "conversations", "--create", bob, "--create", carol_id))
    assert sorted(conv["participant_ids"]) == sorted([me, bob_id, carol_id])
    sent = json.loads(run(env, "send", conv["conversation_id"], "hi bob", "--to", bob))
    assert "no user named 'nobody-x' (HTTP 404)" in fails(env, "send", conv["conversation_id"], "?",
                                                          "--to", "nobody-x")
    assert "no user named" in fails(env, "conversations", "--create", "nobody-x")

    assert wait_status(bob_env, sent["message_id"], "DELIVERED") == "DELIVERED"
    assert json.loads(run(bob_env, "status", sent["message_id"]))["recipient_id"] == bob_id
    assert "(HTTP 403)" in fails(env, "read", sent["message_id"])  # the sender is not the reader
    assert json.loads(run(bob_env, "read", sent["message_id"])) == {
        "message_id": sent["message_id"], "status": "READ"}
    assert wait_status(env, sent["message_id"], "READ") == "READ"


def test_json_for_scripts_tables_for_people(tmp_path):
    env, _, _ = logged_in(tmp_path, "alice")
    bob, _ = registered(env, "bob")
    conv = json.loads(run(env, "conversations", "--create", bob, "--name", "plans"))["conversation_id"]
    assert "created conversation" in run(env, "conversations", "--create", bob, "--table")
    sent = run(env, "send", conv, "a line\nand another", "--to", bob, "--table")
    assert sent.startswith("· ACCEPTED ") and conv in sent
    message_id = sent.split()[2]
    assert wait_status(env, message_id, "DELIVERED") == "DELIVERED"

    piped = json.loads(run(env, "messages", conv))  # not a terminal: JSON, as scripts expect
    assert piped == json.loads(run(env, "messages", conv, "--json"))
    table = run(env, "messages", conv, "--table").splitlines()
    assert table[0].split() == ["MESSAGE", "SENT", "FROM", "TO", "STATUS", "CONTENT"]
    row = next(line for line in table if line.startswith(message_id))
    assert " you " in row and "✓✓ DELIVERED" in row and row.endswith("a line and another")
    assert table[-1] == "1 message(s)"
    listing = run(env, "conversations", "--table")
    assert any(line.startswith(conv) and "plans" in line for line in listing.splitlines())
    assert "✓✓ DELIVERED" in run(env, "status", message_id, "--table")
    result = CliRunner().invoke(main, ["messages", conv, "--json", "--table"], env=env)
    assert result.exit_code == 2 and "exclude each other" in result.output


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_api_url_from_the_environment_beats_the_stored_one_and_failures_say_what_to_do(tmp_path):
    from chat4all_app.client.http import TokenStore
    from chat4all_app.settings import Settings
    from tests.integration.helpers import STACK, forged

    env = {"CHAT4ALL_CONFIG_DIR": str(tmp_path)}
    name, user_id = registered(env)
    store = TokenStore(str(tmp_path))
    store.save({"access_token": "garbage", "user_id": user_id, "username": name, "api_url": STACK.api_url})
    # No CHAT4ALL_API_URL: the stored URL, which answers 401 to a garbage token.
    stored = fails({**env, "CHAT4ALL_API_URL": None}, "conversations")
    assert "your session has expired or is invalid: run `chat4all login USERNAME`" in stored
    port = closed_port()
    out = fails({**env, "CHAT4ALL_API_URL": f"http://127.0.0.1:{port}"}, "conversations")
    assert (f"cannot reach the API at http://127.0.0.1:{port}: connection refused "
            "(is the stack up? `make up`)") in out
    assert "HTTP 0" not in out
    expired = forged(user_id, secret=Settings.from_env().jwt_secret, exp_delta=-60)
    store.save({"access_token": expired, "user_id": user_id, "username": name, "api_url": STACK.api_url})
    assert "your session has expired" in fails(env, "messages", str(uuid.uuid4()))
    # login's own 401 is about the password, not a session
    assert "invalid username or password (HTTP 401)" in fails(env, "login", name, "--password", "wrong")


async def held_on_instagram(providers, env: dict) -> tuple[str, str, str]:
    """A message PENDING on instagram (its provider failing: the connector holds it), sent by the
    CLI user of `env`: (conversation_id, message_id, address)."""
    bob, _ = registered(env, "bob")
    conv = json.loads(run(env, "conversations", "--create", bob))["conversation_id"]
    await providers.configure("instagram", mode="error")
    address = f"instagram:ig-{uuid.uuid4().hex[:10]}"
    sent = json.loads(run(env, "send", conv, "held", "--to", address))
    assert wait_status(env, sent["message_id"], "PENDING") == "PENDING"
    time.sleep(1)  # still PENDING a moment later: held, not on its way
    assert wait_status(env, sent["message_id"], "PENDING", timeout=0) == "PENDING"
    return conv, sent["message_id"], address


async def test_pending_lists_messages_held_per_channel(tmp_path, providers):
    env, _, _ = logged_in(tmp_path, "alice")
    conv, message_id, address = await held_on_instagram(providers, env)
    listed = json.loads(run(env, "pending", "--channel", "instagram", "--limit", "1000000"))
    [backlog] = listed["channels"]
    assert backlog["channel"] == "instagram" and backlog["count"] >= 1 and listed["total"] == backlog["count"]
    [ours] = [m for m in backlog["messages"] if m["message_id"] == message_id]
    assert (ours["recipient_id"], ours["status"], ours["conversation_id"]) == (address, "PENDING", conv)
    assert ours["timestamp"]
    everything = json.loads(run(env, "pending", "--json"))
    assert {b["channel"] for b in everything["channels"]} >= {"whatsapp", "instagram"}
    table = run(env, "pending", "--channel", "instagram", "--table", "--limit", "1000000")
    assert re.match(r"instagram: [1-9][0-9]* pending$", table.splitlines()[0]), table[:200]
    assert any(line.split()[:3] == [message_id, address, "…"] for line in table.splitlines())
    assert "not a configured channel" in CliRunner().invoke(main, ["pending", "--channel", "nope"]).output


@pytest.mark.installed
async def test_make_cql_runs_the_pending_query(tmp_path, providers):
    env, _, _ = logged_in(tmp_path, "alice")
    conv, message_id, address = await held_on_instagram(providers, env)

    def cql(query: str) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "-s", "cql", f'ARGS=-e "{query}"'], cwd=REPO_DIR,
                              capture_output=True, text=True, timeout=120)

    pending = "SELECT message_id, recipient_id, status, toTimestamp(accepted_id) AS timestamp FROM messages"
    one = cql(f"{pending} WHERE conversation_id = {conv} AND status = 'PENDING' ALLOW FILTERING")
    assert one.returncode == 0, one.stderr
    assert any(message_id in line and address in line and "PENDING" in line
               for line in one.stdout.splitlines()), one.stdout
    # The assignment's query, the whole table: rows carry no tombstones (storage/messages.py),
    # so the scan is not refused however many messages the suite wrote (a stack with rows from
    # before that change may still refuse it: README, `make clean`).
    every = cql(f"{pending} WHERE status = 'PENDING' ALLOW FILTERING")
    assert every.returncode == 0 and message_id in every.stdout, every


# --- watch: the live feed (GET /v1/ws) on the command line ---------------------------------------
class Watch:
    """`chat4all watch ARGS` in the background, as a person or a script runs it: a process of its
    own, stdout a pipe; its stderr (connection notices) read as it comes."""

    def __init__(self, env: dict, *args: str):
        import os
        import sys
        import threading

        self.proc = subprocess.Popen([sys.executable, "-m", "chat4all_app.cli", "watch", *args],
                                     env={**os.environ, **env}, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.notices: list[str] = []
        self._reader = threading.Thread(target=self._read_notices, daemon=True)
        self._reader.start()

    def _read_notices(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.notices.append(line.rstrip("\n"))

    def wait_connected(self, timeout: float = 30) -> None:
        """Until the server's `ready` frame arrived (the watcher says so on stderr)."""
        deadline = time.monotonic() + timeout
        while not any(n.startswith("connected:") for n in self.notices):
            assert self.proc.poll() is None, f"watch exited {self.proc.returncode}: {self.notices}"
            assert time.monotonic() < deadline, f"watch did not connect: {self.notices}"
            time.sleep(0.05)

    def finish(self, timeout: float = 60) -> tuple[int, list[str]]:
        """(exit status, stdout lines) once it exited by itself."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"watch did not exit within {timeout} s; stderr: {self.notices}")
        assert self.proc.stdout is not None
        self._reader.join(5)
        return code, self.proc.stdout.read().splitlines()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_watch_prints_a_new_message_then_its_read_status_as_json(tmp_path):
    env, _, me = logged_in(tmp_path, "alice")
    bob_env, bob_name, bob_id = logged_in(tmp_path, "bob")
    conv = json.loads(run(env, "conversations", "--create", bob_name))["conversation_id"]
    elsewhere = json.loads(run(env, "conversations", "--create", bob_name))["conversation_id"]
    with Watch(env, conv, "--json", "--count", "3") as watch:
        watch.wait_connected()
        run(bob_env, "send", elsewhere, "not in the watched conversation")  # filtered out
        first = json.loads(run(bob_env, "send", conv, "hello alice, live"))["message_id"]
        assert wait_status(env, first, "DELIVERED") == "DELIVERED"
        assert json.loads(run(env, "read", first))["status"] == "READ"
        # A third update (a DELIVERED frame of its own, if the server sends one, counts too).
        run(bob_env, "send", conv, "and another")
        code, lines = watch.finish()
    assert code == 0, watch.notices
    frames = [json.loads(line) for line in lines]  # one JSON object per line
    assert len(frames) == 3, lines
    assert frames[0]["type"] == "message", frames
    message = frames[0]["message"]
    assert (message["message_id"], message["sender_id"], message["content"]) == (
        first, bob_id, "hello alice, live")
    assert all(f["cursor"] for f in frames)
    read = [i for i, f in enumerate(frames) if f["type"] == "status"
            and (f["status"]["message_id"], f["status"]["status"]) == (first, "READ")]
    assert read and read[0] > 0, frames  # the READ change, after the message it is about
    assert {(f.get("message") or f.get("status"))["conversation_id"] for f in frames} == {conv}
    assert me not in {f["message"]["sender_id"] for f in frames if f["type"] == "message"}


def test_watch_as_a_table_is_one_readable_line_per_event(tmp_path):
    env, _, _ = logged_in(tmp_path, "alice")
    bob_env, bob_name, _ = logged_in(tmp_path, "bob")
    conv = json.loads(run(env, "conversations", "--create", bob_name))["conversation_id"]
    with Watch(env, conv, "--table", "--count", "2") as watch:
        watch.wait_connected()
        sent = json.loads(run(bob_env, "send", conv, "a table\nline"))["message_id"]
        assert wait_status(env, sent, "DELIVERED") == "DELIVERED"
        run(env, "read", sent)
        code, lines = watch.finish()
    assert code == 0, watch.notices
    assert len(lines) == 2, lines
    new, read = lines
    # The sender by name (not an id), the content on one line; then the status change.
    assert sent in new and f"{bob_name} → " in new and new.endswith(": a table line"), new
    assert sent in read and read.endswith("✓✓ READ"), read
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ", read), read


def test_watch_with_a_refused_token_says_the_session_expired(tmp_path):
    from chat4all_app.client.http import TokenStore
    from tests.integration.helpers import STACK

    env = {"CHAT4ALL_CONFIG_DIR": str(tmp_path)}
    name, user_id = registered(env)
    TokenStore(str(tmp_path)).save({"access_token": "garbage", "user_id": user_id, "username": name,
                                    "api_url": STACK.api_url})
    with Watch(env, "--json") as watch:
        code, lines = watch.finish(30)
    assert code == 1 and lines == []
    assert "your session has expired or is invalid: run `chat4all login USERNAME`" in "\n".join(
        watch.notices), watch.notices
    assert "Traceback" not in "\n".join(watch.notices)


def test_watch_retries_an_unreachable_api_until_its_timeout(tmp_path):
    env, _, _ = logged_in(tmp_path, "alice")
    port = closed_port()
    with Watch({**env, "CHAT4ALL_API_URL": f"http://127.0.0.1:{port}"}, "--timeout", "2.5") as watch:
        code, lines = watch.finish(30)
    assert code == 1 and lines == []
    assert any("reconnecting in 1 s" in n for n in watch.notices), watch.notices
    assert any("reconnecting in 2 s" in n for n in watch.notices), watch.notices
    assert watch.notices[-1] == "Error: nothing arrived in 2.5 s", watch.notices
