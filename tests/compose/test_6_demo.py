"""`scripts/demo.sh --compose --fast` on the real engine runs every step, takes over the killed
router's partitions, and accounts for every message the API accepted."""

import subprocess

from devstack.layout import REPO_DIR
from tests.demo_summary import assert_the_demo_ran_and_accounted_for_everything


def test_the_fast_compose_demo_runs_to_the_end_and_accounts_for_every_message(deployment):
    out = subprocess.run([str(REPO_DIR / "scripts" / "demo.sh"), "--compose", "--fast"], cwd=REPO_DIR,
                         env=deployment.env(), capture_output=True, text=True, timeout=600)
    assert_the_demo_ran_and_accounted_for_everything(out)
