"""Pause the stack's workers (router and connectors) with SIGSTOP for a block, and always resume them.

The API's capacity is measured twice: with the workers running (they compete with it for the
machine's cores, as in production on one host) and with them paused (the API tier alone; Kafka
keeps what it accepts, and the workers catch up after). SIGSTOP rather than a supervisor stop: a
paused worker keeps its memory and tables, nothing restarts. What resuming costs: the broker has
dropped the paused members from their groups after the session timeout, so they rejoin and the
groups rebalance; and a worker's stall watch may see "lag and no progress" and restart it in place.
The caller waits for the pipeline to drain after the block.

Nothing may stay stopped: resumed on leaving the block however it is left (exception, Ctrl-C,
SIGTERM or SIGHUP, which are turned into exceptions while paused), and from an atexit hook. Only a
SIGKILL of the benchmark escapes that; the pids and the command to resume them are printed first.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Mapping
from types import FrameType

from benchmarks.quiet import descendants, processes

WORKER_PREFIXES = ("router", "connector-")


def worker_pids(programs: Mapping[str, int]) -> dict[str, int]:
    """The running router and connector programs among the supervisor's {program: pid}."""
    return {name: pid for name, pid in programs.items() if name.startswith(WORKER_PREFIXES)}


class _Interrupted(BaseException):
    """A SIGTERM/SIGHUP while paused: leaves the block like Ctrl-C does."""

    def __init__(self, signum: int):
        super().__init__(f"signal {signum}")
        self.signum = signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise _Interrupted(signum)


class Paused:
    """`with Paused({"router": pid, ...}):` every process of those trees is stopped inside the block."""

    def __init__(self, workers: Mapping[str, int], log=print):
        self.workers = dict(workers)
        self.log = log
        self.stopped: list[int] = []
        self._handlers: dict[int, object] = {}

    def __enter__(self) -> Paused:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                self._handlers[sig] = signal.signal(sig, _raise)
        atexit.register(self.resume)
        pids = sorted(descendants(self.workers.values(), processes()))
        self.log(f"pausing {', '.join(f'{n} ({p})' for n, p in self.workers.items())}; if this process "
                 f"is killed, resume them with: kill -CONT {' '.join(map(str, pids))}")
        try:
            for pid in pids:
                self.stopped.append(pid)  # before the signal: an interruption between them still resumes it
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
        except BaseException:
            self.resume()
            raise
        return self

    def resume(self) -> None:
        """SIGCONT to everything stopped (idempotent)."""
        resumed = 0
        while self.stopped:  # each pid leaves the list only once it has been resumed
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.stopped[-1], signal.SIGCONT)
            self.stopped.pop()
            resumed += 1
        if resumed:
            self.log(f"resumed {resumed} worker process(es)")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.resume()
        finally:
            atexit.unregister(self.resume)
            for sig, handler in self._handlers.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]
            self._handlers.clear()
        if isinstance(exc, _Interrupted):
            sys.exit(128 + exc.signum)
