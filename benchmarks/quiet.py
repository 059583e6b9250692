"""Was the machine quiet while a benchmark ran? The CPU other processes used, and the steal.

These machines are shared: a figure measured while something else ran is not comparable with one
measured on a quiet machine. `LoadWatch` snapshots every process's CPU time and the kernel's steal
counter around a block and tells apart the processes of the run (the benchmark, its children such
as k6, and the local stack under supervisord) from the others. A run is quiet when the others used
at most `QUIET_LIMIT_CORES` (5 % of one core) on average.

Kernel threads (children of kthreadd) are reported apart and not held against the run: most of
their work (network softirqs, writeback) is done for the run itself. A process that both started
and ended inside the block is not seen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
QUIET_LIMIT_CORES = 0.05
KTHREADD = 2


@dataclass(frozen=True)
class ProcessTime:
    pid: int
    ppid: int
    name: str
    cpu_s: float  # utime + stime
    started_at_tick: int  # since boot: tells a reused pid from the process seen before


def read_process(pid: int, proc: Path = Path("/proc")) -> ProcessTime | None:
    try:
        raw = (proc / str(pid) / "stat").read_text()
    except OSError:  # gone meanwhile
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[0] is field 3 of proc(5): state; ppid is field 4, utime 14, stime 15, starttime 22.
    cpu_s = (int(fields[11]) + int(fields[12])) / TICKS
    return ProcessTime(pid, int(fields[1]), name, cpu_s, int(fields[19]))


def processes(proc: Path = Path("/proc")) -> dict[int, ProcessTime]:
    found = {}
    for entry in proc.iterdir():
        if entry.name.isdigit() and (p := read_process(int(entry.name), proc)) is not None:
            found[p.pid] = p
    return found


def steal_and_total(proc: Path = Path("/proc")) -> tuple[int, int]:
    """(steal, total) jiffies over all CPUs since boot (the `cpu` line of /proc/stat)."""
    values = [int(v) for v in (proc / "stat").read_text().splitlines()[0].split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    return values[7], sum(values[:8])


def descendants(roots: Iterable[int], table: dict[int, ProcessTime]) -> set[int]:
    """`roots` and every process below them."""
    children: dict[int, list[int]] = {}
    for p in table.values():
        children.setdefault(p.ppid, []).append(p.pid)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return found


@dataclass(frozen=True)
class MachineLoad:
    seconds: float
    others_cores: float  # CPU of processes outside the run, in cores (1.0 = one core all along)
    kernel_cores: float  # kernel threads, reported apart
    steal_pct: float  # time the hypervisor gave our vCPUs to someone else, % of all CPUs
    busiest_others: list[tuple[str, float]] = field(default_factory=list)  # (name, cores), top 5
    other_pids: frozenset[int] = frozenset()  # the processes counted as others

    @property
    def quiet(self) -> bool:
        return self.others_cores <= QUIET_LIMIT_CORES

    def as_dict(self) -> dict:
        return {"seconds": round(self.seconds, 1), "quiet": self.quiet,
                "others_cores": round(self.others_cores, 3), "kernel_cores": round(self.kernel_cores, 3),
                "steal_pct": round(self.steal_pct, 2),
                "busiest_others": [[n, round(c, 3)] for n, c in self.busiest_others]}


class LoadWatch:
    """`with LoadWatch(roots) as watch: ...` then `watch.result`. `roots`: the pids whose process
    trees are the run (this process is always one)."""

    def __init__(self, roots: Iterable[int] = (), proc: Path = Path("/proc")) -> None:
        self.roots = {os.getpid(), *roots}
        self.proc = proc

    def __enter__(self) -> LoadWatch:
        self._before = processes(self.proc)
        self._steal0, self._total0 = steal_and_total(self.proc)
        self._t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = time.monotonic() - self._t0
        after = processes(self.proc)
        steal1, total1 = steal_and_total(self.proc)
        ours = descendants(self.roots, after) | descendants(self.roots, self._before)
        kernel = descendants([KTHREADD], after)
        others: dict[str, float] = {}
        other_pids: set[int] = set()
        kernel_s = 0.0
        for pid, now in after.items():
            if pid in ours:
                continue
            then = self._before.get(pid)
            used = now.cpu_s - (then.cpu_s if then and then.started_at_tick == now.started_at_tick else 0.0)
            if pid in kernel:
                kernel_s += used
            elif used > 0:
                others[now.name] = others.get(now.name, 0.0) + used
                other_pids.add(pid)
        busiest = sorted(others.items(), key=lambda kv: -kv[1])[:5]
        self.result = MachineLoad(
            seconds=seconds, others_cores=sum(others.values()) / seconds, kernel_cores=kernel_s / seconds,
            steal_pct=100 * (steal1 - self._steal0) / max(1, total1 - self._total0),
            busiest_others=[(name, used / seconds) for name, used in busiest],
            other_pids=frozenset(other_pids))
