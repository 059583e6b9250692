"""JSON logs: one object per line on stdout, from our code (structlog) and from libraries (logging).

Every line carries timestamp (ISO-8601 UTC), level, service, instance_id, correlation_id and
message, plus the event's context (message_id, duration_ms, ...). Faust and aiokafka log through
the standard library; their records are rendered by the same processors, so a log shipper (or
`scripts/monitor-heartbeats.sh`) reads one format.

The correlation id of the request or message being handled lives in a context variable
(`bind_correlation`); each asyncio task has its own copy, so concurrent requests never mix ids.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import sys
import threading
import time
from typing import Any, TextIO, cast

import orjson
import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, merge_contextvars
from structlog.types import EventDict, Processor

__all__ = [
    "bind_correlation",
    "configure",
    "correlation_scope",
    "default_instance_id",
    "drain",
    "get_logger",
    "logging_config",
]

get_logger = structlog.get_logger


class LineBuffer:
    """Log lines go out in chunks, every `interval_s` or `max_bytes`, not one write per line.

    At thousands of messages/s a line per message per hop is thousands of writes (and wake-ups of
    whatever reads the pipe); chunks cost a fraction. Loggers call `flush()` after every line, so
    that is a no-op; `drain()` writes. A SIGKILL loses at most `interval_s` of lines; a normal exit
    and `restart_in_place` drain first. Nothing runs until `start()` (called by `configure()`).
    """

    def __init__(self, stream, max_bytes: int = 64 * 1024, interval_s: float = 0.1):
        self.stream, self.max_bytes, self.interval_s = stream, max_bytes, interval_s
        self._lines: list[str] = []
        self._size = 0
        self._lock = threading.Lock()  # guards the list: held only to append or swap it
        self._write_lock = threading.Lock()  # keeps chunks in order on the stream
        self._started = False

    def start(self) -> None:
        """Drain every `interval_s` on a thread of its own, and once more at exit (idempotent)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._drain_forever, name="log-drain", daemon=True).start()
        atexit.register(self.drain)

    def write(self, text: str) -> int:
        with self._lock:
            self._lines.append(text)
            self._size += len(text)
            full = self._size >= self.max_bytes
        if full:
            self.drain()
        return len(text)

    def flush(self) -> None:
        """Called by loggers after each line: batching is the point, so nothing here."""

    def drain(self) -> None:
        """Write what is buffered. Never raises: logging must not break the code that logs."""
        with self._write_lock:
            with self._lock:
                if not self._lines:
                    return
                chunk, self._lines, self._size = "".join(self._lines), [], 0
            try:
                self.stream.write(chunk)
                self.stream.flush()
            except Exception as exc:  # e.g. stdout closed at shutdown: say so where we still can
                with contextlib.suppress(Exception):
                    if sys.__stderr__ is not None:  # None: no stderr at all (e.g. pythonw)
                        sys.__stderr__.write(f"log lines lost ({len(chunk)} bytes): {exc!r}\n")

    def _drain_forever(self) -> None:
        while True:
            time.sleep(self.interval_s)
            self.drain()


# One buffer per process for structlog and the standard library, so their lines stay whole and
# in order. It writes to the real stdout: Faust's worker replaces `sys.stdout` with a logging proxy.
# Created here because `logging_config` names it; `configure()` starts it.
STDOUT = LineBuffer(sys.__stdout__)
drain = STDOUT.drain


def default_instance_id() -> str:
    """Unique per process on a host (compose: the container's hostname tells replicas apart)."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _render(_logger: Any, _name: str, event: EventDict) -> str:
    return orjson.dumps(event, default=repr).decode()


def _identity(service: str, instance_id: str) -> Processor:
    def add(_logger: Any, _name: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        event.setdefault("instance_id", instance_id)
        event.setdefault("correlation_id", None)
        return event
    return add


def _shared(service: str, instance_id: str) -> list[Processor]:
    return [
        merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        _identity(service, instance_id),
        structlog.processors.format_exc_info,
        structlog.processors.EventRenamer("message"),
    ]


def configure(service: str, instance_id: str, level: str = "INFO") -> None:
    """structlog for our own code, onto the shared stdout buffer, which starts draining now."""
    STDOUT.start()
    structlog.configure(
        processors=[*_shared(service, instance_id), _render],
        # WriteLogger calls only write() and flush(), which LineBuffer provides, not all of TextIO.
        logger_factory=structlog.WriteLoggerFactory(file=cast(TextIO, STDOUT)),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )


def logging_config(service: str, instance_id: str, level: str = "INFO") -> dict:
    """dictConfig for the standard library (Faust's `logging_config` setting)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "foreign_pre_chain": [structlog.stdlib.add_logger_name, *_shared(service, instance_id)],
            "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, _render],
        }},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://chat4all_app.observability.logs.STDOUT"}},
        "root": {"level": level.upper(), "handlers": ["stdout"]},
    }


def bind_correlation(correlation_id: str | None) -> None:
    """Tag every later log line of this task (a request, a conversation's sends) with the id."""
    bind_contextvars(correlation_id=correlation_id)


def correlation_scope(correlation_id: str | None):
    """`with correlation_scope(cid):` — the id for the lines logged inside the block only."""
    return bound_contextvars(correlation_id=correlation_id)
