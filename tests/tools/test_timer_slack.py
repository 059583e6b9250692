"""devstack/timer_slack.py: the program it runs, and what that program starts, has the slack."""

import subprocess
import sys

from devstack.layout import REPO_DIR


def test_the_program_and_its_children_run_with_the_given_timer_slack():
    out = subprocess.run(
        [sys.executable, str(REPO_DIR / "devstack/timer_slack.py"), "1234567",
         "sh", "-c", "cat /proc/self/timerslack_ns"],  # cat: a child of the exec'd program
        capture_output=True, text=True, check=True, timeout=30)
    assert out.stdout.strip() == "1234567"


def test_a_malformed_call_says_how_to_use_it():
    out = subprocess.run([sys.executable, str(REPO_DIR / "devstack/timer_slack.py"), "sh"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "usage" in out.stderr
