"""The consumer-group rebalance lines the router workers logged while an experiment ran.

aiokafka logs each step of a rebalance at INFO (revoked, assigned, leader elected); Faust adds the
table recovery that follows. The lines are read from the workers' JSON logs, from where the files
ended when the experiment began, and put on the experiment's clock.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from devstack.layout import Layout
from devstack.supervisor import SUPERVISOR_LOG_BACKUPS

MARKERS = ("Revoking previously assigned partitions", "Setting newly assigned partitions",
           "Elected group leader", "Restarting on rebalance", "Recovery complete",
           "restarting this worker in place")
MARKER_BYTES = tuple(m.encode() for m in MARKERS)


class RebalanceLog:
    def __init__(self, programs: tuple[str, ...], wall0: float):
        layout = Layout.from_env()
        self.wall0 = wall0
        self.files = {name: layout.log(name) for name in programs}
        # Where each log ended: the supervisor rotates logs (50 MB), so remember the file, not the name.
        self.start = {name: self._where(path) for name, path in self.files.items()}

    @staticmethod
    def _where(path: Path) -> tuple[int, int] | None:
        return (path.stat().st_ino, path.stat().st_size) if path.exists() else None

    def _chain(self, name: str) -> list[tuple[Path, int]]:
        """(file, offset) to read, oldest first: the rest of the file the experiment began in (now
        perhaps `<log>.1` or `.2`), then every file the supervisor started after it."""
        path = self.files[name]
        files = [p for p in (path.with_name(f"{path.name}.{i}") for i in range(SUPERVISOR_LOG_BACKUPS, 0, -1))
                 if p.exists()] + ([path] if path.exists() else [])
        inodes = [p.stat().st_ino for p in files]
        start = self.start[name]
        if start is not None and start[0] in inodes:
            i = inodes.index(start[0])
            return [(files[i], start[1])] + [(p, 0) for p in files[i + 1:]]
        return [(p, 0) for p in files]  # lines from before the experiment are dropped by time below

    def lines(self) -> list[dict]:
        found = []
        for name in self.files:
            for path, offset in self._chain(name):
                with open(path, "rb") as f:
                    f.seek(offset)
                    for raw in f:
                        if not any(m in raw for m in MARKER_BYTES):
                            continue
                        try:
                            line = json.loads(raw)
                        except ValueError:
                            continue
                        t = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp()
                        if t >= self.wall0:
                            found.append({"t": round(t - self.wall0, 2), "process": name,
                                          "message": str(line.get("message", ""))[:240]})
        return sorted(found, key=lambda line: line["t"])
