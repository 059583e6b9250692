"""`make help`: every documented target, each description starting in the same column."""

import re
import shutil
import subprocess

import pytest

from devstack.layout import REPO_DIR

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make here")


def documented() -> dict[str, str]:
    """{target: description} of the Makefile's `target: … ## description` lines."""
    text = (REPO_DIR / "Makefile").read_text()
    return dict(re.findall(r"^([a-z-]+):.*?## (.*)$", text, re.M))


def test_help_lists_every_target_with_its_description_in_one_column():
    out = subprocess.run(["make", "-s", "--no-print-directory", "help"], cwd=REPO_DIR,
                         capture_output=True, text=True, timeout=30, check=True).stdout
    lines = out.splitlines()
    targets = documented()
    assert len(lines) == len(targets)
    width = max(map(len, targets))
    assert width > 8  # live-dashboards, render-dashboards, … are longer than the old fixed column
    for line, (target, description) in zip(lines, targets.items(), strict=True):
        assert line == f"  make {target.ljust(width)}  {description}"
