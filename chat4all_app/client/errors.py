"""What the CLI says when a call fails: the next step for the user, never a bare status code."""

from __future__ import annotations

import re

from chat4all_app.client.http import ApiError

_UNREACHABLE = "cannot reach "  # http.Client's prefix for a request that never got an answer
_ERRNO = re.compile(r"^\[Errno -?\d+\] ")  # "[Errno 111] Connection refused" -> "connection refused"


def reason_text(reason: object) -> str:
    text = _ERRNO.sub("", str(reason)).strip() or type(reason).__name__
    return text[:1].lower() + text[1:]


def unreachable(base_url: str, reason: object) -> str:
    return f"cannot reach the API at {base_url}: {reason_text(reason)} (is the stack up? `make up`)"


def explain(exc: ApiError, base_url: str, authenticated: bool) -> str:
    """One line for `exc`. `authenticated`: the call carried the stored token, so a 401 means the
    session, not the password (login's own 401 keeps the API's message)."""
    if exc.status == 0 and exc.message.startswith(_UNREACHABLE):
        return unreachable(base_url, exc.message.split(": ", 1)[-1])
    if exc.status == 401 and authenticated:
        return "your session has expired or is invalid: run `chat4all login USERNAME`"
    if exc.status == 0:  # refused before any request (e.g. an unreadable file)
        return exc.message
    return f"{exc.message} (HTTP {exc.status})"
