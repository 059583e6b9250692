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

MARKERS = ("Revoking previously assigned partitions", "Setting newly assigned partitions",
           "Elected group leader", "Restarting on rebalance", "Recovery complete")


class RebalanceLog:
    def __init__(self, programs: tuple[str, ...], wall0: float):
        layout = Layout.from_env()
        self.wall0 = wall0
        self.files = {name: layout.log(name) for name in programs}
        self.offsets = {name: self._size(path) for name, path in self.files.items()}

    @staticmethod
    def _size(path: Path) -> int:
        return path.stat().st_size if path.exists() else 0

    def lines(self) -> list[dict]:
        found = []
        for name, path in self.files.items():
            if not path.exists():
                continue
            start = self.offsets[name] if self._size(path) >= self.offsets[name] else 0  # rotated
            with open(path, "rb") as f:
                f.seek(start)
                for raw in f:
                    try:
                        line = json.loads(raw)
                    except ValueError:
                        continue
                    message = str(line.get("message", ""))
                    if any(m in message for m in MARKERS):
                        t = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp()
                        found.append({"t": round(t - self.wall0, 2), "process": name,
                                      "message": message[:240]})
        return sorted(found, key=lambda line: line["t"])
