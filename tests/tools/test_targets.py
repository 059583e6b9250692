"""Prometheus scrapes the Chat4All processes the operator means to run (devstack/targets.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from chat4all_app.settings import Settings
from devstack import targets
from devstack.components import applications
from devstack.layout import Layout, read_versions

SETTINGS = Settings()
EVERY_CORE = {"api", "router", "connector-whatsapp", "connector-instagram"}


def stack(tmp_path: Path) -> Layout:
    lay = Layout(repo=Path("."), cache=tmp_path / "cache", state=tmp_path / "state", versions=read_versions())
    lay.make_dirs()
    return lay


def scraped_names(tmp_path: Path, states: dict[str, str]) -> set[str]:
    return {app.name for app in targets.scraped(applications(stack(tmp_path), SETTINGS), states)}


def test_a_stopped_or_never_started_spare_is_no_target(tmp_path):
    running = dict.fromkeys(EVERY_CORE, "RUNNING")
    assert scraped_names(tmp_path, running | {"router-2": "STOPPED"}) == EVERY_CORE  # api-2 unknown


@pytest.mark.parametrize("state", ["RUNNING", "STARTING", "BACKOFF", "EXITED", "FATAL"])
def test_a_started_spare_is_a_target_even_once_it_crashed(tmp_path, state):
    states = dict.fromkeys(EVERY_CORE, "RUNNING") | {"router-2": state, "api-2": "STOPPED"}
    assert scraped_names(tmp_path, states) == EVERY_CORE | {"router-2"}


def test_every_non_spare_is_a_target_whatever_its_state(tmp_path):
    # A connector an experiment stopped is an outage to show, and supervisord may be unreachable.
    assert scraped_names(tmp_path, {"connector-instagram": "STOPPED", "router": "FATAL"}) == EVERY_CORE
    assert scraped_names(tmp_path, {}) == EVERY_CORE


class FakeSupervisor:
    states_now: ClassVar[dict[str, str]] = {}

    def __init__(self, layout: Layout):
        pass

    def states(self) -> dict[str, str]:
        return self.states_now


def test_publish_rewrites_the_file_sd_file_whole(tmp_path, monkeypatch):
    lay = stack(tmp_path)
    monkeypatch.setattr(targets, "Supervisor", FakeSupervisor)
    FakeSupervisor.states_now = {"router-2": "RUNNING", "api-2": "STOPPED"}
    assert set(targets.publish(lay, SETTINGS)) == EVERY_CORE | {"router-2"}
    FakeSupervisor.states_now = {"router-2": "STOPPED", "api-2": "STOPPED"}
    targets.publish(lay, SETTINGS)
    written = json.loads(targets.targets_file(lay).read_text())
    assert {t["labels"]["process"] for t in written} == EVERY_CORE
    assert {t["labels"]["service"] for t in written if t["labels"]["process"] == "router"} == {"router"}
    assert [p.name for p in targets.targets_file(lay).parent.iterdir()] == ["chat4all.json"]  # no .tmp left


def test_publish_waits_for_make_up_to_make_the_directory(tmp_path):
    lay = Layout(repo=Path("."), cache=tmp_path / "cache", state=tmp_path / "state", versions=read_versions())
    assert targets.publish(lay, SETTINGS) == []
    assert not targets.targets_file(lay).parent.exists()


@pytest.mark.parametrize(("args", "publishes"), [
    (("start", "router-2"), True), (("stop", "api-2"), True), (("restart", "router"), True),
    # a signalled program stays a target (a killed spare is EXITED): no re-publish, no delay
    (("signal", "KILL", "router-2"), False),
    (("pid", "router"), False), (("status",), False)])
def test_a_state_changing_ctl_command_republishes(tmp_path, monkeypatch, args, publishes):
    calls: list[Layout] = []
    monkeypatch.setattr(targets, "publish", lambda layout, settings: calls.append(layout))
    targets.after_ctl(stack(tmp_path), SETTINGS, args)
    assert bool(calls) == publishes
