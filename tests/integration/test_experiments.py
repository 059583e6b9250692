"""Fast variants of the fault experiments (make experiment NAME=… --fast) on the real stack: the
same code as the full runs, seconds of load, the same exact accounting."""

from __future__ import annotations

import json

import pytest

from devstack.topology import local
from experiments.__main__ import run_one


@pytest.mark.parametrize("name", ["connector-isolation", "failover", "circuit-breaker", "store-and-forward"])
def test_fast_experiment_holds_its_checks_and_accounts_for_every_message(name, tmp_path):
    result = run_one(local(), name, fast=True, out_root=tmp_path)
    failed = [check for check, ok in result["checks"].items() if not ok]
    assert not failed, (failed, result["figures"], result["accounting"])
    acc = result["accounting"]
    assert acc["accepted"] > 0 and acc["accepted"] == acc["stored"] == acc["delivered"]
    assert acc["duplicates"] == 0 and acc["out_of_order_recipients"] == 0
    written = json.loads((tmp_path / name / "latest.json").read_text())
    assert written["checks"] == result["checks"]
    assert (tmp_path / name / "timeline.png").stat().st_size > 10_000
    assert "- [x]" in (tmp_path / name / "summary.md").read_text()
