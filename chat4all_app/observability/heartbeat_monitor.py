"""Follow the services' JSON logs and alert when one stops writing heartbeats.

    python -m chat4all_app.observability.heartbeat_monitor [--logs state/logs] [--silence 60]
    docker compose logs -f | python -m chat4all_app.observability.heartbeat_monitor --stdin

A source is one log file (local stack: one per supervised program, so a restarted process keeps
its identity) or, on stdin, one `docker compose logs` prefix ("router-worker-2 | ..."). Each alert
and each recovery is one JSON line on stdout; `--once` checks the current state and exits 1 if a
source is silent (for cron or a healthcheck).

Silent is not always broken: a spare stopped on purpose (`make ctl ARGS="stop router-2"`) writes
no heartbeat either. Given the programs' supervisord states (`python -m devstack.heartbeats`, which
scripts/monitor-heartbeats.sh runs, passes them in: this package does not know the local stack's
process manager), a silent source whose program is STOPPED is reported once as STOPPED and never
alerts; without states (stdin, compose) every silent source alerts.
"""

from __future__ import annotations

import argparse
import functools
import os
import select
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson

from chat4all_app.settings import Settings, environ_values

BLOCK = 256 * 1024
BACKFILL_MAX_BYTES = 64 * 1024 * 1024  # how far back a busy log is searched for its last heartbeat
# Each look-up of the programs' states runs supervisorctl (a Python process): not every second.
STATES_EVERY_S = 5.0

States = Callable[[], Mapping[str, str] | None]  # {program: supervisord STATE}; None: unknown now


def no_states() -> None:
    return None


@dataclass
class Source:
    name: str
    service: str | None = None
    instance_id: str | None = None
    last_beat: float | None = None  # epoch of the newest heartbeat seen
    alerted: bool = False
    stopped: bool = False  # its program was STOPPED on purpose when last asked
    resumed_at: float | None = None  # when it was seen started again: its silence counts from then


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

    def check(self, now: float, states: States = no_states) -> list[dict]:
        """Alerts for sources silent longer than `silence_s` whose program is meant to run,
        recoveries, and sources found STOPPED; each reported once. `states` is asked only when a
        source is silent, at most once."""
        asked: list[Mapping[str, str] | None] = []

        def state_of(name: str) -> str | None:
            if not asked:
                asked.append(states())
            return (asked[0] or {}).get(name)

        events = []
        for src in self.sources.values():
            silent = now - max(src.last_beat or now, src.resumed_at or 0)
            if silent <= self.silence_s:
                src.stopped = False  # it beats, so it runs
                if src.alerted:
                    src.alerted = False
                    events.append(self._event("RECOVERED", src, silent))
            else:
                events += self._silent(src, silent, state_of(src.name), now)
        return events

    def _silent(self, src: Source, silent: float, state: str | None, now: float) -> list[dict]:
        """A silent source: STOPPED on purpose, started again (silence counts anew), or an alert.
        An unknown state leaves a stopped source stopped and alerts on any other."""
        if state == "STOPPED":
            if src.stopped:
                return []
            src.stopped, src.alerted = True, False
            return [self._event("STOPPED", src, silent)]
        if src.stopped and state is not None:
            src.stopped, src.resumed_at = False, now  # give the new process `silence_s` to beat
            return []
        if src.stopped or src.alerted:
            return []
        src.alerted = True
        return [self._event("ALERT", src, silent)]

    @staticmethod
    def _event(kind: str, src: Source, silent: float) -> dict:
        last = datetime.fromtimestamp(src.last_beat).astimezone().isoformat() if src.last_beat else None
        message = {"ALERT": f"{src.name}: no heartbeat for {silent:.0f}s",
                   "RECOVERED": f"{src.name}: heartbeats again",
                   "STOPPED": f"{src.name}: stopped on purpose (supervisord: STOPPED), not alerting"}[kind]
        return {"event": kind, "source": src.name, "service": src.service,
                "instance_id": src.instance_id, "silent_s": round(silent, 1), "last_heartbeat": last,
                "message": message}


class Throttled:
    """The programs' states, asked again only when the last answer is `every_s` old."""

    def __init__(self, ask: States, every_s: float = STATES_EVERY_S,
                 clock: Callable[[], float] = time.monotonic):
        self.ask, self.every_s, self.clock = ask, every_s, clock
        self.answer: Mapping[str, str] | None = None
        self.asked_at: float | None = None

    def __call__(self) -> Mapping[str, str] | None:
        now = self.clock()
        if self.asked_at is None or now - self.asked_at >= self.every_s:
            self.answer, self.asked_at = self.ask(), now
        return self.answer


@dataclass(frozen=True)
class Supervised:
    """The local stack's process manager, as the monitor sees it: where its programs log (one
    file per program, named after it) and their current states."""

    logs: Path
    states: States


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


def states_for(logs: Path, supervised: Supervised | None) -> States:
    """The program states that apply to the logs followed: the supervised stack's own logs only."""
    if supervised is None or logs.resolve() != supervised.logs.resolve():
        return no_states
    return Throttled(supervised.states)


def main(argv: list[str] | None = None, supervised: Supervised | None = None) -> int:
    """`supervised`: given by a caller that knows the process manager (devstack.heartbeats)."""
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
    states: States = no_states
    if args.stdin:
        read = functools.partial(StdinFollower().read, args.interval)
    else:
        if not args.logs.is_dir():
            parser.error(f"{args.logs} is not a directory (is the local stack up?)")
        read = FileFollower(args.logs).read
        states = states_for(args.logs, supervised)
    emit({"event": "WATCHING", "message": f"alerting after {args.silence:.0f}s without a heartbeat",
          "logs": "stdin" if args.stdin else str(args.logs), "program_states": states is not no_states})
    while True:
        try:
            lines = read()
        except EOFError:
            return 0
        for source, text in lines:
            watch.line(source, text)
        events = watch.check(time.time(), states)
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
