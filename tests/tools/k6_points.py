"""Synthetic k6 NDJSON points for the analysis tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
MSG, LIST = "POST /v1/messages", "GET /v1/conversations/{id}/messages"


def k6_time(t: float) -> str:
    """Like k6: RFC 3339 with nanoseconds."""
    whole = int(t)
    nanos = round((t - whole) * 1e9)
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def point(metric: str, t: float, value: float, **tags) -> str:
    return json.dumps({"metric": metric, "type": "Point",
                       "data": {"time": k6_time(t), "value": value, "tags": tags}}, separators=(",", ":"))


def request(t: float, ms: float, endpoint: str, status: int, setup: bool = False) -> list[str]:
    tags = {"endpoint": endpoint, "status": str(status), "method": endpoint.split()[0],
            "expected_response": str(status < 400).lower()}
    tags |= {"group": "::setup"} if setup else {"group": "", "scenario": "default"}
    return [point("http_reqs", t, 1, **tags), point("http_req_duration", t, ms, **tags),
            point("http_req_blocked", t, 0.1, **tags),
            point("http_req_failed", t, 0 if status < 400 else 1, **tags)]
