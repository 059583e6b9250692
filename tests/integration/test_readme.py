"""README.md does what it says: its curl block runs as written against the running stack, and every
`make` target and `chat4all` subcommand it names exists.

The text handling is in tests/readme_check.py (unit-tested in tests/tools/test_readme_check.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from chat4all_app.cli import main as cli
from devstack.layout import REPO_DIR
from tests import readme_check as rc
from tests.integration.helpers import STACK, wait_http

README = (REPO_DIR / "README.md").read_text()
MAKEFILE = (REPO_DIR / "Makefile").read_text()
CURL_SECTION = "### The API with curl"


def run_curl_block(workdir: Path) -> tuple[subprocess.CompletedProcess, str]:
    """The section's bash block(s), run as pasted into bash, but with -e -u -o pipefail so that a
    failing step fails the run. Overridden: API (the stack the tests use) and U (user names no
    earlier run took). A trailer prints the variables the assertions need."""
    blocks = rc.fenced_blocks(rc.section(README, CURL_SECTION))
    assert blocks, f"no ```bash block under {CURL_SECTION!r}"
    suffix = uuid.uuid4().hex[:12]
    # Logins are throttled per client address; failed logins elsewhere in the suite (the fuzzer)
    # come from 127.0.0.1 too. The API trusts X-Real-IP from 127.0.0.1 (the lb), so every curl of
    # this run names an address of its own, through a curlrc only this run reads (CURL_HOME).
    address = "198.18." + ".".join(str(b) for b in uuid.uuid4().bytes[:2])
    (workdir / ".curlrc").write_text(f'header = "X-Real-IP: {address}"\n')
    env = os.environ | {
        "API": STACK.api_url, "U": suffix, "CURL_HOME": str(workdir),
        # The block's json() helper runs python3: the venv's when no other is on PATH.
        "PATH": os.environ.get("PATH", "") + os.pathsep + str(Path(sys.executable).parent),
    }
    script = "\n".join(blocks) + '\nprintf "__vars__ %s %s\\n" "$CONV" "$DAVE"\n'
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=workdir,
                          capture_output=True, text=True, timeout=180)
    return proc, suffix


def test_curl_block_runs_as_written(tmp_path):
    # The API may restart under the suite (another test's fault injection): wait, then retry a run
    # that failed as a whole; a run that completed is judged as it is.
    failures = []
    for _attempt in range(3):
        wait_http(STACK.process("api").port, "/health", timeout=120)
        proc, suffix = run_curl_block(tmp_path)
        if proc.returncode == 0:
            break
        failures.append(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    else:
        raise AssertionError("the curl block failed three times:\n" + "\n---\n".join(failures))

    out = rc.printed(proc.stdout)
    trailer = [line for line in proc.stdout.splitlines() if line.startswith("__vars__ ")]
    assert len(trailer) == 1, proc.stdout
    _, conv, dave = trailer[0].split()
    assert conv and dave, proc.stdout
    assert "not stored within" not in proc.stderr, proc.stderr

    bodies = [body for body, _ in out if isinstance(body, dict)]
    carol = [b for b in bodies if b.get("username") == f"carol{suffix}"]
    assert len(carol) == 1 and carol[0].get("user_id"), proc.stdout

    accepted = [body for body, status in out if status == 202]
    assert len(accepted) == 2, proc.stdout
    assert all(b["status"] == "ACCEPTED" and b["conversation_id"] == conv for b in accepted), accepted

    # The listing printed after the polling loop: both messages, in sending order, with status.
    listings = [b for b in bodies if "messages" in b]
    assert len(listings) == 1, proc.stdout
    messages = listings[0]["messages"]
    assert [m["content"] for m in messages] == ["hi dave", "olá"], messages
    assert [m["message_id"] for m in messages] == [b["message_id"] for b in accepted], messages
    assert all(m["status"] and "ACCEPTED" in m["timestamps"] for m in messages), messages
    assert messages[1]["recipient_id"] == "whatsapp:+5511999990000", messages

    bad = [body for body, status in out if status == 400]
    assert len(bad) == 1 and isinstance(bad[0], dict) and bad[0].get("error"), proc.stdout

    conversations = [b for b in bodies if "conversations" in b]
    assert len(conversations) == 1 and "next_cursor" in conversations[0], proc.stdout
    listed = {c["conversation_id"]: c for c in conversations[0]["conversations"]}
    assert conv in listed and dave in listed[conv]["participant_ids"], conversations


def test_every_make_target_in_the_readme_exists():
    mentioned = rc.make_mentions(README)
    assert {"up", "test", "down", "ctl"} <= mentioned  # the parser still finds them
    targets = rc.makefile_targets(MAKEFILE)
    missing = sorted(mentioned - targets)
    assert not missing, f"README.md names make targets the Makefile lacks: {missing}"


def test_every_chat4all_subcommand_in_the_readme_exists():
    mentioned = rc.cli_mentions(README)
    assert {"register", "login", "send"} <= mentioned  # the parser still finds them
    missing = sorted(mentioned - set(cli.commands))
    assert not missing, f"README.md names chat4all subcommands chat4all_app.cli lacks: {missing}"


def test_every_readme_table_is_whole():
    problems = [p for table in rc.tables(README) for p in rc.table_problems(table)]
    assert not problems, problems
    services = rc.tables(rc.section(README, "## What `make up` runs"))
    assert len(services) == 1, services
