"""A CPU quota for one running process: a cgroup standing in for a machine of its own.

Every process of the local stack shares the same 2 cores, so "two workers finish twice as much"
cannot be shown by starting a second worker: it competes with the first for the same cores. With a
quota per worker (cgroup CPU bandwidth: `quota` of a core per period), each worker is a node of
known size and the rest of the machine serves the shared parts (Kafka, Cassandra, the other roles).
Works with cgroup v1 (cpu controller) and v2 (cpu.max); needs write access to /sys/fs/cgroup.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
# A short period: a throttled process waits at most (period - quota), so latency stays readable.
PERIOD_US = 20_000


class QuotaUnavailable(RuntimeError):
    """No writable cgroup CPU controller here."""


def _hierarchy() -> tuple[Path, str]:
    if (ROOT / "cgroup.controllers").exists() and "cpu" in (ROOT / "cgroup.controllers").read_text().split():
        return ROOT, "v2"
    if (ROOT / "cpu" / "cpu.cfs_quota_us").exists():
        return ROOT / "cpu", "v1"
    raise QuotaUnavailable("no cgroup CPU controller under /sys/fs/cgroup")


class CpuQuota:
    """`with CpuQuota("router", pid, cores=0.2):` caps pid (all its threads) at 0.2 of a core."""

    def __init__(self, name: str, pid: int, cores: float):
        self.pid, self.cores = pid, cores
        base, self.version = _hierarchy()
        self.base = base
        self.path = base / f"chat4all-{name}"

    def __enter__(self) -> CpuQuota:
        quota = max(1000, int(self.cores * PERIOD_US))  # the kernel's minimum is 1 ms
        try:
            self.path.mkdir(exist_ok=True)
            if self.version == "v2":
                (self.path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
            else:
                (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (self.path / "cpu.cfs_quota_us").write_text(str(quota))
            (self.path / "cgroup.procs").write_text(str(self.pid))
        except OSError as exc:
            raise QuotaUnavailable(f"cannot set a CPU quota in {self.path}: {exc}") from exc
        return self

    def throttled_s(self) -> float:
        """Seconds the quota held the process back (proof that the quota was the limit)."""
        stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        if self.version == "v2":
            return int(stat.get("throttled_usec", 0)) / 1e6
        return int(stat.get("throttled_time", 0)) / 1e9

    def __exit__(self, *exc) -> None:
        # Back to the root group (where supervisord started it), then the empty group can go.
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):  # the process is gone (killed meanwhile)
                    (self.base / "cgroup.procs").write_text(pid)
            os.rmdir(self.path)
