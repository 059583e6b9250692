"""The live-push figures of a k6 run (loadtests/08-websocket.js), from its --summary-export.

missed = pushes owed (2 per accepted message: both members of its conversation) - first arrivals;
duplicated = any further arrival of a message at a member. Latency: the message's ACCEPTED
timestamp (the API's clock) -> the frame's arrival at k6, on the same machine.
"""

from __future__ import annotations

from typing import Any


def push_figures(k6_summary: dict[str, Any]) -> dict[str, Any] | None:
    """None for a run without WebSocket listeners."""
    metrics = k6_summary.get("metrics", {})
    if "ws_expected" not in metrics:
        return None

    def count(name: str) -> int:
        return int(metrics.get(name, {}).get("count", 0))

    latency = metrics.get("ws_push_latency", {})
    expected, received = count("ws_expected"), count("ws_received")
    return {
        "connected": count("ws_connected"),
        "closed_early": count("ws_closed_early"),
        "accepted": count("accepted"),
        "expected_pushes": expected,
        "received": received,
        "missed": expected - received,
        "duplicated": count("ws_duplicates"),
        "latency_ms": {k: latency.get(k) for k in ("med", "p(95)", "p(99)", "max")},
    }


def markdown(p: dict[str, Any]) -> list[str]:
    lat = p["latency_ms"]
    return ["", "## Live push (WebSocket)", "",
            f"- {p['connected']} sockets ready, {p['closed_early']} closed before the end.",
            f"- {p['accepted']} messages accepted → {p['expected_pushes']} pushes owed (2 members each): "
            f"**{p['received']} received, {p['missed']} missed, {p['duplicated']} duplicated**.",
            f"- Accepted → pushed: P50 {lat['med']} ms, **P95 {lat['p(95)']} ms**, P99 {lat['p(99)']} ms, "
            f"max {lat['max']} ms."]
