"""`scripts/demo.sh --compose --fast` on the real engine runs every step and accounts for every
message the API accepted.

The demo's takeover line is not asserted here: compose's Prometheus scrapes every 15 s (the local
stack's every 5 s), and a SIGKILLed router's series can outlive the survivor's takeover, so the
partition count may never dip. The takeover itself is proven by test_4's failover accounting."""

import subprocess
import time

from devstack.layout import REPO_DIR
from tests.demo_summary import assert_the_demo_ran_and_accounted_for_everything


def test_the_fast_compose_demo_runs_to_the_end_and_accounts_for_every_message(deployment):
    # Back to the file's scale (test_4 left two APIs and two routers), then past nginx's DNS cache
    # (`valid=10s`): a POST sent to a replica compose just removed is not retried by nginx.
    deployment.compose("up", "--detach", "--wait", "--no-build", timeout=300)
    time.sleep(12)
    out = subprocess.run([str(REPO_DIR / "scripts" / "demo.sh"), "--compose", "--fast"], cwd=REPO_DIR,
                         env=deployment.env(), capture_output=True, text=True, timeout=600)
    assert_the_demo_ran_and_accounted_for_everything(out, takeover_seen=False)
