"""scripts/demo.sh --fast on the local stack: every step runs, the killed router's partitions are
taken over, and every message the API accepted during the demo is delivered once."""

import subprocess

from devstack.layout import REPO_DIR
from tests.demo_summary import assert_the_demo_ran_and_accounted_for_everything


def test_the_fast_demo_runs_every_step_and_accounts_for_every_message():
    out = subprocess.run([str(REPO_DIR / "scripts" / "demo.sh"), "--local", "--fast"], cwd=REPO_DIR,
                         capture_output=True, text=True, timeout=300)
    assert_the_demo_ran_and_accounted_for_everything(out)
