"""scripts/demo.sh --fast on the local stack: every step runs, the killed router's partitions are
taken over, and every message the API accepted during the demo is delivered once."""

import re
import subprocess

from devstack.layout import REPO_DIR


def test_the_fast_demo_runs_every_step_and_accounts_for_every_message():
    out = subprocess.run([str(REPO_DIR / "scripts" / "demo.sh"), "--local", "--fast"], cwd=REPO_DIR,
                         capture_output=True, text=True, timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert [int(n) for n in re.findall(r"^\[(\d+)/10\]", out.stdout, re.M)] == list(range(1, 11)), log
    assert len(re.findall(r"^      sent \d: \S+ ACCEPTED$", out.stdout, re.M)) == 5, log
    accepted = int(re.search(r"accepted \(202\)\s+(\d+)", out.stdout).group(1))
    delivered = int(re.search(r"delivered\s+(\d+)", out.stdout).group(1))
    assert accepted == delivered > 0
    assert re.search(r"lost / duplicates\s+0 / 0", out.stdout)
    assert re.search(r"recovery after kill\s+\d+ s", out.stdout), log
    assert re.search(r"CLI messages\s+5 of 5 DELIVERED", out.stdout), log
