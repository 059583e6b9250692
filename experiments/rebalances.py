"""The consumer-group rebalance lines the router workers logged while an experiment ran.

aiokafka logs each step of a rebalance at INFO (revoked, assigned, leader elected); Faust adds the
table recovery that follows. The lines are read from the workers' JSON logs, from where the files
ended when the experiment began, and put on the experiment's clock.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from devstack.layout import Layout
from devstack.supervisor import SUPERVISOR_LOG_BACKUPS

MARKERS = ("Revoking previously assigned partitions", "Setting newly assigned partitions",
           "Elected group leader", "Restarting on rebalance", "Recovery complete",
           "restarting this worker in place")
MARKER_BYTES = tuple(m.encode() for m in MARKERS)


class RebalanceLog:
    def __init__(self, programs: tuple[str, ...], wall0: float, files: dict[str, Path] | None = None):
        layout = Layout.from_env()
        self.wall0 = wall0
        self.files = files or {name: layout.log(name) for name in programs}
        # Where reading goes on, per log: the supervisor rotates logs (50 MB), so remember the file
        # (inode), not the name. Each call reads only what was written since the last one.
        self.cursor = {name: self._end(path) for name, path in self.files.items()}
        self.found: list[dict] = []

    @staticmethod
    def _end(path: Path) -> tuple[int, int] | None:
        return (path.stat().st_ino, path.stat().st_size) if path.exists() else None

    def _chain(self, name: str) -> list[tuple[Path, int]]:
        """(file, offset) to read, oldest first: the rest of the file reading stopped in (by now
        perhaps `<log>.1` or `.2`), then every file the supervisor started after it."""
        path = self.files[name]
        files = [p for p in (path.with_name(f"{path.name}.{i}") for i in range(SUPERVISOR_LOG_BACKUPS, 0, -1))
                 if p.exists()] + ([path] if path.exists() else [])
        inodes = [p.stat().st_ino for p in files]
        cursor = self.cursor[name]
        if cursor is not None and cursor[0] in inodes:
            i = inodes.index(cursor[0])
            return [(files[i], cursor[1])] + [(p, 0) for p in files[i + 1:]]
        return [(p, 0) for p in files]  # lines from before the experiment are dropped by time below

    def _read(self, name: str, path: Path, offset: int) -> None:
        with open(path, "rb") as f:
            inode = os.fstat(f.fileno()).st_ino
            f.seek(offset)
            for raw in f:
                if not raw.endswith(b"\n"):
                    break  # a line still being written: read it next time
                offset += len(raw)
                if not any(m in raw for m in MARKER_BYTES):
                    continue
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                t = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp()
                if t >= self.wall0:
                    self.found.append({"t": round(t - self.wall0, 2), "process": name,
                                       "message": str(line.get("message", ""))[:240]})
        self.cursor[name] = (inode, offset)

    def lines(self) -> list[dict]:
        for name in self.files:
            for path, offset in self._chain(name):
                self._read(name, path, offset)
        return sorted(self.found, key=lambda line: line["t"])
