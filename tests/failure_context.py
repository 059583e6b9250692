"""What the services logged around a failed stack test, attached to its report: a CI run keeps
only the test output, and a stalled partition or a crashed worker is otherwise invisible there.

Only notable lines are kept (warnings and errors, restarts, Faust's rebalances and recoveries),
from the services' JSON logs (`docker compose logs` prefixes each line with its container)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

APP_SERVICES = ("api", "router", "connector-whatsapp", "connector-instagram")
NOTABLE_LEVELS = {"warning", "error", "critical"}
NOTABLE_WORDS = ("restarting", "Rebalanc", "recovery", "Recovery", "Traceback")


def notable(lines: Iterable[str], since: str = "", most: int = 60) -> list[str]:
    """The last `most` lines that are warnings or worse, or name a restart, rebalance or recovery,
    of the JSON records stamped `since` or later (ISO 8601 UTC, compared as text); a record is
    shortened to its time, level, logger and message."""
    kept = []
    for line in lines:
        prefix, _, rest = line.partition("{")
        try:
            record = json.loads("{" + rest)
        except ValueError:
            if any(word in line for word in NOTABLE_WORDS):
                kept.append(line[:500])
            continue
        if not isinstance(record, dict) or str(record.get("timestamp", "")) < since:
            continue
        level, message = str(record.get("level", "")).lower(), str(record.get("message", ""))
        if level in NOTABLE_LEVELS or any(word in message for word in NOTABLE_WORDS):
            kept.append(f"{prefix}{record.get('timestamp', '')} {level} {record.get('logger', '')}: "
                        f"{message[:600]}")
    return kept[-most:]


def tail(path: Path, lines: int) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError as exc:
        return [f"({path}: {exc})"]


def attach(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport,
           sections: Mapping[str, Callable[[], Iterable[str]]]) -> None:
    """Add each section's notable lines, from 30 s before the test on, to a failed test's report."""
    if call.when != "call" or not report.failed:
        return
    since = datetime.fromtimestamp(call.start - 30, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for title, read in sections.items():
        try:
            found = notable(read(), since)
        except Exception as exc:  # the context must never hide the failure itself
            found = [f"(could not read: {exc!r})"]
        if found:
            report.sections.append((f"notable log lines: {title}", "\n".join(found)))
