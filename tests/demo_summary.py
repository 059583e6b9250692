"""What a successful `scripts/demo.sh --fast` prints, on either runtime (local stack or compose)."""

from __future__ import annotations

import re
import subprocess


def assert_the_demo_ran_and_accounted_for_everything(out: subprocess.CompletedProcess[str],
                                                     takeover_seen: bool = True) -> None:
    """Every step ran, the 5 CLI messages were accepted and delivered, every message k6 got a 202 for
    was delivered once, and (takeover_seen) Prometheus showed a live worker taking the killed
    router's partitions over."""
    # Both tails: compose writes its progress to stderr, the demo its steps to stdout.
    log = f"{out.stdout[-4000:]}\n--- stderr ---\n{out.stderr[-2500:]}"
    assert out.returncode == 0, log
    assert [int(n) for n in re.findall(r"^\[(\d+)/10\]", out.stdout, re.M)] == list(range(1, 11)), log
    assert len(re.findall(r"^      sent \d: \S+ ACCEPTED$", out.stdout, re.M)) == 5, log
    accepted = int(re.search(r"accepted \(202\)\s+(\d+)", out.stdout).group(1))
    delivered = int(re.search(r"delivered\s+(\d+)", out.stdout).group(1))
    assert accepted == delivered > 0
    assert re.search(r"lost / duplicates\s+0 / 0", out.stdout)
    if takeover_seen:
        assert re.search(r"recovery after kill\s+\d+ s", out.stdout), log
    assert re.search(r"CLI messages\s+5 of 5 DELIVERED", out.stdout), log
