"""`make ps`: supervisord's programs, then one line per readiness probe, every column as wide as
its widest cell (cluster nodes kafka-1…, long names such as connector-instagram)."""

import subprocess

from devstack import __main__ as cli
from devstack.__main__ import probe_line, ps_width, status_rows, status_table
from devstack.components import Component

# `supervisorctl status` pads names to at least 30 characters; its detail has spaces.
STATUS = """\
kafka-1                          RUNNING   pid 101, uptime 1:02:03
kafka-2                          RUNNING   pid 102, uptime 1:02:03
cassandra-1                      RUNNING   pid 103, uptime 1:01:59
connector-instagram              STOPPED   Nov 30 01:20 AM
router-2                         STOPPED   Not started
api                              FATAL     Exited too quickly (process log may have details)
"""
PROBES = {"kafka-1": True, "kafka-2": True, "cassandra-1": False, "connector-instagram": False, "api": False,
          "alert-receiver": True}


def render(status: str, probes: dict[str, bool]) -> list[str]:
    rows = status_rows(status)
    width = ps_width(rows, list(probes))
    return (status_table(rows, width) + "".join(probe_line(n, ok, width) + "\n" for n, ok in probes.items())
            ).splitlines()


def test_status_rows_keep_the_detail_whole():
    rows = status_rows(STATUS + "\n")
    assert rows[0] == ("kafka-1", "RUNNING", "pid 101, uptime 1:02:03")
    assert rows[-1] == ("api", "FATAL", "Exited too quickly (process log may have details)")
    assert status_rows("lonely\n") == [("lonely", "", "")]


def test_every_column_starts_in_one_place():
    lines = render(STATUS, PROBES)
    status, probes = lines[:6], lines[6:]
    # Widest name (connector-instagram, 19) + 2; widest state (RUNNING, STOPPED: 7) + 2.
    assert [line[:21] for line in status] == [f"{n:<21}" for n in
                                              ("kafka-1", "kafka-2", "cassandra-1", "connector-instagram",
                                               "router-2", "api")]
    assert [line[21:30] for line in status] == ["RUNNING  ", "RUNNING  ", "RUNNING  ", "STOPPED  ",
                                                "STOPPED  ", "FATAL    "]
    assert status[3][30:] == "Nov 30 01:20 AM" and status[5][30:].startswith("Exited too quickly")
    assert {line.index("probe: ") for line in probes} == {len("[devstack] ") + 21}
    assert probes[0] == "[devstack] kafka-1              probe: ready"
    assert probes[3] == "[devstack] connector-instagram  probe: NOT READY"
    assert all(line == line.rstrip() for line in lines)


def test_widths_follow_the_data():
    assert render("lb  RUNNING   pid 1, uptime 0:00:01\n", {"lb": True}) == [
        "lb  RUNNING  pid 1, uptime 0:00:01", "[devstack] lb  probe: ready"]
    # A probed name longer than any program's still fits.
    assert ps_width([("lb", "RUNNING", "")], ["lb", "alert-receiver"]) == len("alert-receiver")


class FakeSupervisor:
    def __init__(self, layout):
        pass

    def running(self):
        return True

    def ctl(self, *args, check=True):
        assert args == ("status",)
        return subprocess.CompletedProcess(["supervisorctl", *args], 3, stdout=STATUS, stderr="")


def component(name: str, ready: bool, spare: bool = False) -> Component:
    return Component(name=name, port=1, argv=[], env={}, ready_timeout_s=1, likely_cause="", url="",
                     probe=lambda _settings: ready, spare=spare)


def test_ps_prints_the_aligned_lines_and_exits_1_when_a_probe_fails(monkeypatch, capsys):
    monkeypatch.setattr(cli, "Supervisor", FakeSupervisor)
    nodes = [component("kafka-1", True), component("kafka-2", True)]
    monkeypatch.setattr(cli, "infrastructure", lambda *a: nodes)
    monkeypatch.setattr(cli, "applications", lambda *a: [component("router-2", False, spare=True)])
    assert cli.ps(None, None) == 0  # the stopped spare is not probed
    assert capsys.readouterr().out.splitlines() == render(STATUS, {"kafka-1": True, "kafka-2": True})
    monkeypatch.setattr(cli, "applications", lambda *a: [component("connector-instagram", False)])
    assert cli.ps(None, None) == 1
    assert "[devstack] connector-instagram  probe: NOT READY" in capsys.readouterr().out.splitlines()
