"""`scripts/demo.sh --compose --fast` on the real engine runs every step, takes over the killed
router's partitions, and accounts for every message the API accepted."""

import re
import subprocess

from devstack.layout import REPO_DIR


def test_the_fast_compose_demo_runs_to_the_end_and_accounts_for_every_message(deployment):
    out = subprocess.run([str(REPO_DIR / "scripts" / "demo.sh"), "--compose", "--fast"], cwd=REPO_DIR,
                         env=deployment.env(), capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert [int(n) for n in re.findall(r"^\[(\d+)/10\]", out.stdout, re.M)] == list(range(1, 11)), log
    assert len(re.findall(r"^      sent \d: \S+ ACCEPTED$", out.stdout, re.M)) == 5, log
    accepted = int(re.search(r"accepted \(202\)\s+(\d+)", out.stdout).group(1))
    delivered = int(re.search(r"delivered\s+(\d+)", out.stdout).group(1))
    assert accepted == delivered > 0
    assert re.search(r"lost / duplicates\s+0 / 0", out.stdout)
    assert re.search(r"CLI messages\s+5 of 5 DELIVERED", out.stdout), log
    assert re.search(r"recovery after kill\s+\d+ s", out.stdout), log  # the survivor took over
