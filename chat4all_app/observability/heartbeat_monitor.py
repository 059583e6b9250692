"""Follow the services' JSON logs and alert when one stops writing heartbeats.

    python -m chat4all_app.observability.heartbeat_monitor [--logs state/logs] [--silence 60]
    docker compose logs -f | python -m chat4all_app.observability.heartbeat_monitor --stdin

A source is one log file (local stack: one per supervised program, so a restarted process keeps
its identity) or, on stdin, one `docker compose logs` prefix ("router-worker-2 | ..."). Each alert
and each recovery is one JSON line on stdout; `--once` checks the current state and exits 1 if a
source is silent (for cron or a healthcheck).
"""

from __future__ import annotations

import argparse
import functools
import os
import select
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson

from chat4all_app.settings import Settings, environ_values

BLOCK = 256 * 1024
BACKFILL_MAX_BYTES = 64 * 1024 * 1024  # how far back a busy log is searched for its last heartbeat


@dataclass
class Source:
    name: str
    service: str | None = None
    instance_id: str | None = None
    last_beat: float | None = None  # epoch of the newest heartbeat seen
    alerted: bool = False


@dataclass
class Watch:
    silence_s: float
    sources: dict[str, Source] = field(default_factory=dict)

    def line(self, source: str, text: str) -> None:
        """Record `text` if it is a heartbeat record."""
        start = text.find("{")
        if start < 0 or '"heartbeat"' not in text:
            return
        try:
            record = orjson.loads(text[start:])
        except orjson.JSONDecodeError:
            return
        if not isinstance(record, dict) or record.get("message") != "heartbeat":
            return
        try:
            at = datetime.fromisoformat(str(record["timestamp"])).timestamp()
        except (KeyError, ValueError):
            return
        src = self.sources.setdefault(source, Source(source))
        src.service, src.instance_id = record.get("service"), record.get("instance_id")
        src.last_beat = max(at, src.last_beat or 0)

    def check(self, now: float) -> list[dict]:
        """Alerts for sources silent longer than `silence_s`, and recoveries; each reported once."""
        events = []
        for src in self.sources.values():
            silent = now - (src.last_beat or now)
            if silent > self.silence_s and not src.alerted:
                src.alerted = True
                events.append(self._event("ALERT", src, silent))
            elif silent <= self.silence_s and src.alerted:
                src.alerted = False
                events.append(self._event("RECOVERED", src, silent))
        return events

    @staticmethod
    def _event(kind: str, src: Source, silent: float) -> dict:
        last = datetime.fromtimestamp(src.last_beat).astimezone().isoformat() if src.last_beat else None
        return {"event": kind, "source": src.name, "service": src.service,
                "instance_id": src.instance_id, "silent_s": round(silent, 1), "last_heartbeat": last,
                "message": (f"{src.name}: no heartbeat for {silent:.0f}s" if kind == "ALERT"
                            else f"{src.name}: heartbeats again")}


class FileFollower:
    """Tail every *.log file of a directory, including files that appear or are truncated later."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.offsets: dict[Path, int] = {}
        self.partial: dict[Path, bytes] = {}

    def read(self) -> list[tuple[str, str]]:
        lines = []
        for path in sorted(self.directory.glob("*.log")):
            try:
                lines += self._read(path)
            except FileNotFoundError:  # rotated away between listing and reading
                self.offsets.pop(path, None)
        return lines

    def _read(self, path: Path) -> list[tuple[str, str]]:
        size = path.stat().st_size
        offset = self.offsets.get(path)
        if offset is None or size < offset:  # new file, or truncated: start at its last heartbeat
            offset = last_heartbeat_offset(path, size)
            self.partial[path] = b""
        if size == offset:
            self.offsets[path] = offset
            return []
        with path.open("rb") as f:
            f.seek(offset)
            data = self.partial.get(path, b"") + f.read(size - offset)
        self.offsets[path] = size
        *complete, self.partial[path] = data.split(b"\n")
        return [(path.stem, raw.decode(errors="replace")) for raw in complete]


def last_heartbeat_offset(path: Path, size: int) -> int:
    """Where the line holding the file's last heartbeat starts, searching back block by block (a
    busy worker writes megabytes between two heartbeats); the end if there is none."""
    with path.open("rb") as f:
        end = size
        while end > 0 and size - end < BACKFILL_MAX_BYTES:
            start = max(0, end - BLOCK)
            f.seek(start)
            block = f.read(end - start + 1024)  # overlap: a line cut at the block edge
            found = block.rfind(b'"message":"heartbeat"')
            if found >= 0:
                return start + block.rfind(b"\n", 0, found) + 1
            end = start
    return size


class StdinFollower:
    """Lines arriving on stdin, keyed by their `docker compose logs` prefix. Reads the raw file
    descriptor: Python's buffered readline would hide lines from select() until more arrive."""

    def __init__(self) -> None:
        self.fd = sys.stdin.fileno()
        self.partial = b""

    def read(self, timeout_s: float) -> list[tuple[str, str]]:
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if not ready:
            return []
        data = os.read(self.fd, 1024 * 1024)
        if not data:
            raise EOFError
        *complete, self.partial = (self.partial + data).split(b"\n")
        lines = []
        for raw in complete:
            text = raw.decode(errors="replace")
            prefix, sep, _ = text.partition(" | ")
            lines.append((prefix.strip() if sep else "stdin", text))
        return lines


def emit(event: dict) -> None:
    sys.stdout.write(orjson.dumps(event).decode() + "\n")
    sys.stdout.flush()


def logs_dir() -> str:
    """CHAT4ALL_LOGS alone: the monitor needs no other setting, so no other one can stop it."""
    return Settings.from_env(environ_values(["CHAT4ALL_LOGS"])).logs_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, default=Path(logs_dir()),
                        help="directory of the local stack's log files (default: CHAT4ALL_LOGS)")
    parser.add_argument("--stdin", action="store_true", help="read `docker compose logs -f` from stdin")
    parser.add_argument("--silence", type=float, default=60.0, help="alert after this many seconds")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between checks")
    parser.add_argument("--once", action="store_true", help="check once; exit 1 if a source is silent")
    args = parser.parse_args(argv)

    watch = Watch(args.silence)
    read: Callable[[], list[tuple[str, str]]]
    if args.stdin:
        read = functools.partial(StdinFollower().read, args.interval)
    else:
        if not args.logs.is_dir():
            parser.error(f"{args.logs} is not a directory (is the local stack up?)")
        read = FileFollower(args.logs).read
    emit({"event": "WATCHING", "message": f"alerting after {args.silence:.0f}s without a heartbeat",
          "logs": "stdin" if args.stdin else str(args.logs)})
    while True:
        try:
            lines = read()
        except EOFError:
            return 0
        for source, text in lines:
            watch.line(source, text)
        events = watch.check(time.time())
        for event in events:
            emit(event)
        if args.once:
            if not watch.sources:
                emit({"event": "ALERT", "message": "no heartbeat found in any log"})
                return 1
            return 1 if any(s.alerted for s in watch.sources.values()) else 0
        if not args.stdin:
            time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
