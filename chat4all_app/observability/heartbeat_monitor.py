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
import os
import select
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson

BACKFILL_BYTES = 256 * 1024  # enough to hold several heartbeat intervals of a busy service


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
            size = path.stat().st_size
            offset = self.offsets.get(path)
            if offset is None or size < offset:  # new file, or truncated: backfill its tail
                offset = max(0, size - BACKFILL_BYTES)
                self.partial[path] = b""
            if size == offset:
                self.offsets[path] = offset
                continue
            with path.open("rb") as f:
                f.seek(offset)
                data = self.partial.get(path, b"") + f.read(size - offset)
            self.offsets[path] = size
            *complete, self.partial[path] = data.split(b"\n")
            lines += [(path.stem, raw.decode(errors="replace")) for raw in complete]
        return lines


def stdin_lines(timeout_s: float) -> list[tuple[str, str]]:
    """Lines available on stdin within `timeout_s`, keyed by their compose prefix."""
    ready, _, _ = select.select([sys.stdin], [], [], timeout_s)
    if not ready:
        return []
    raw = sys.stdin.readline()
    if raw == "":
        raise EOFError
    prefix, sep, _ = raw.partition(" | ")
    return [(prefix.strip() if sep else "stdin", raw)]


def emit(event: dict) -> None:
    sys.stdout.write(orjson.dumps(event).decode() + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, default=Path(os.environ.get("CHAT4ALL_LOGS", "state/logs")),
                        help="directory of the local stack's log files (default state/logs)")
    parser.add_argument("--stdin", action="store_true", help="read `docker compose logs -f` from stdin")
    parser.add_argument("--silence", type=float, default=60.0, help="alert after this many seconds")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between checks")
    parser.add_argument("--once", action="store_true", help="check once; exit 1 if a source is silent")
    args = parser.parse_args(argv)

    watch = Watch(args.silence)
    follower = None if args.stdin else FileFollower(args.logs)
    if follower and not args.logs.is_dir():
        parser.error(f"{args.logs} is not a directory (is the local stack up?)")
    emit({"event": "WATCHING", "message": f"alerting after {args.silence:.0f}s without a heartbeat",
          "logs": "stdin" if args.stdin else str(args.logs)})
    while True:
        try:
            lines = stdin_lines(args.interval) if args.stdin else follower.read()
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
