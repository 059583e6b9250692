"""CPU and memory of every supervised process of the local stack, sampled during a run."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field

from devstack.layout import Layout
from devstack.supervisor import Supervisor

TICKS = os.sysconf("SC_CLK_TCK")


def pids() -> dict[str, int]:
    sup, found = Supervisor(Layout.from_env()), {}
    for name, state in sup.states().items():
        if state == "RUNNING":
            out = sup.ctl("pid", name, check=False).stdout.strip()
            if out.isdigit():
                found[name] = int(out)
    return found


def niceness() -> dict[str, int]:
    """Each running process's nice value (the local stack starts its Faust workers niced: WORKER_NICE)."""
    found = {}
    for name, pid in pids().items():
        with contextlib.suppress(ProcessLookupError):
            found[name] = os.getpriority(os.PRIO_PROCESS, pid)
    return found


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of /proc/<pid>/status (VmRSS: resident now; VmHWM: its high-water mark)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(f"{field} not in /proc/{pid}/status")


def rss_mib(pid: int) -> float:
    try:
        return rss_bytes(pid) / 2**20
    except LookupError:  # a kernel thread or a process exiting
        return 0.0


@dataclass
class Sampler:
    """Run in a thread while the load runs: CPU % per process over the run, peak RSS."""

    interval_s: float = 1.0
    _pids: dict[str, int] = field(default_factory=pids)
    _cpu0: dict[str, float] = field(default_factory=dict)
    _peak: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _t0: float = 0.0

    def __enter__(self) -> Sampler:
        self._t0 = time.monotonic()
        self._cpu0 = {n: cpu_seconds(p) for n, p in self._pids.items()}
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            for name, pid in self._pids.items():
                with contextlib.suppress(OSError):  # the process may be gone
                    self._peak[name] = max(self._peak.get(name, 0.0), rss_mib(pid))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self._t0
        self.result = {}
        for name, pid in self._pids.items():
            try:
                cpu = (cpu_seconds(pid) - self._cpu0[name]) / wall * 100
            except OSError:
                continue  # the process went away during the run
            self.result[name] = {"cpu_pct": round(cpu, 1), "cpu_s": round(cpu * wall / 100, 3),
                                 "peak_rss_mib": round(self._peak.get(name, 0.0), 1)}
