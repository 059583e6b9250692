"""Prometheus' targets on the local stack: the Chat4All processes the operator means to run.

Every process `make up` starts is a target whether it answers or not: a crashed router must show
DOWN. A spare (api-2, router-2) is a target only while supervisord does not report it STOPPED:
configured but never started, or stopped on purpose, it is nobody's outage; started, it is meant
to run, so a spare that crashed (EXITED, FATAL, BACKOFF) still shows DOWN. `make up`, every
`devstack ctl` and the experiments' `ctl` re-publish the list (Prometheus' file_sd reads it).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from chat4all_app.settings import Settings
from devstack.components import Component, applications, prometheus_targets
from devstack.layout import Layout
from devstack.supervisor import Supervisor

# supervisorctl commands that change no program's state: no reason to re-publish after them (an
# experiment asks `pid` often, and timing matters there).
# `signal` too: a signalled program stays a target (a killed spare is EXITED, still meant to run),
# and the experiments signal inside their measured windows.
READ_ONLY = frozenset({"avail", "clear", "fg", "help", "maintail", "pid", "signal", "status", "tail",
                       "version"})


def targets_file(layout: Layout) -> Path:
    """The file monitoring/prometheus.yml's file_sd_configs reads (its `*.json` glob)."""
    return layout.state / "prometheus-targets" / "chat4all.json"


def meant_to_run(app: Component, states: Mapping[str, str]) -> bool:
    """Every non-spare; a spare unless it is STOPPED (or unknown to supervisord: never started)."""
    return not app.spare or states.get(app.name, "STOPPED") != "STOPPED"


def scraped(apps: Iterable[Component], states: Mapping[str, str]) -> list[Component]:
    """The processes Prometheus should scrape, given supervisord's {program: STATE}."""
    return [app for app in apps if app.scrape_as and meant_to_run(app, states)]


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and a rename: file_sd may read the file at any moment, and a
    half-written one drops every target until the next write. The temporary name ends in .tmp,
    outside file_sd's `*.json` glob."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                     delete=False) as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def publish(layout: Layout, settings: Settings) -> list[str]:
    """(Re)write the targets file from supervisord's current states; the processes it lists.
    Nothing to do when `make up` never made the directory."""
    path = targets_file(layout)
    if not path.parent.is_dir():
        return []
    apps = scraped(applications(layout, settings), Supervisor(layout).states())
    write_atomically(path, json.dumps(prometheus_targets(apps), indent=2))
    return [app.name for app in apps]


def after_ctl(layout: Layout, settings: Settings, args: Iterable[str]) -> None:
    """Re-publish after a supervisorctl command that may have started or stopped a spare."""
    command = next(iter(args), "")
    if command not in READ_ONLY:
        publish(layout, settings)
