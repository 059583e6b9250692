"""scripts/test-infrastructure.sh on the running local stack: every service devstack runs gets a
line and is UP (exit 0); a stopped one turns the run into exit 1 and is named.

Its verdicts on every kind of answer and the stack-not-running case are checked without a stack
in tests/tools/test_infrastructure_script.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from devstack.components import applications, infrastructure
from devstack.layout import REPO_DIR, Layout, port_of
from tests.integration.helpers import STACK, ctl, wait_http

SCRIPT = REPO_DIR / "scripts" / "test-infrastructure.sh"
SPARES_LISTED_AS = {"UP", "SPARE"}  # a spare another test left running is checked like the others


def run() -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT)], cwd=REPO_DIR, env=os.environ | {"PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=180)


def rows(stdout: str) -> dict[str, tuple[str, str]]:
    """SERVICE -> (ADDRESS, STATUS) of the script's table."""
    lines = [ln for ln in stdout.splitlines() if not ln.startswith("[test-infrastructure]")]
    assert lines and lines[0].split() == ["SERVICE", "ADDRESS", "STATUS", "DETAIL"], stdout
    return {name: (address, status) for name, address, status, *_ in (ln.split() for ln in lines[1:])}


def test_every_service_is_listed_and_up(settings):
    layout = Layout.from_env()
    components = infrastructure(layout, settings) + applications(layout, settings)
    # A service an earlier test stopped or faulted may still be coming back: a few tries.
    deadline = time.monotonic() + 120
    while True:
        out = run()
        if out.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert out.returncode == 0, out.stdout + out.stderr
    listed = rows(out.stdout)
    for comp in components:
        assert comp.name in listed, (comp.name, out.stdout)
        assert listed[comp.name][1] in (SPARES_LISTED_AS if comp.spare else {"UP"}), out.stdout
    assert listed["s3-console"][1] == "UP", out.stdout
    assert listed["api"][0] == f"{STACK.process('api').url}/health"
    assert "services healthy" in out.stdout


def test_a_stopped_service_fails_the_run_and_is_named(settings):
    # The alert receiver: nothing else waits on it, and it is back in a second.
    assert "stopped" in ctl("stop", "alert-receiver")
    try:
        out = run()
    finally:
        assert "started" in ctl("start", "alert-receiver")
        wait_http(port_of(settings.alert_receiver_url), "/health", timeout=60)
    assert out.returncode == 1, out.stdout + out.stderr
    assert rows(out.stdout)["alert-receiver"][1] == "DOWN", out.stdout
    # (named whatever else an earlier test may have left recovering)
    assert "NOT HEALTHY:" in out.stderr and "alert-receiver" in out.stderr, out.stderr
