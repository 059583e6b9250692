"""Count and time every request by route template (`/v1/messages/{message_id}`, not the raw URL)."""

from __future__ import annotations

import time

from aiohttp import web

from chat4all_app.observability.metrics import HTTP_DURATION, HTTP_REQUESTS, MESSAGES_REJECTED

# Why a POST /v1/messages was refused, from its status (the view's error says the details).
REJECTION_REASONS = {400: "validation", 401: "auth", 403: "forbidden", 404: "not_found",
                     413: "too_large", 503: "unavailable"}


def route_template(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def http_metrics(request: web.Request, handler) -> web.StreamResponse:
    """Outermost middleware: sees the final status, after errors became JSON responses."""
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        path = route_template(request)
        if status != 101:  # a WebSocket's "duration" is its whole session: not a request's latency
            HTTP_DURATION.labels(request.method, path).observe(time.perf_counter() - start)
        HTTP_REQUESTS.labels(request.method, path, str(status)).inc()
        if path == "/v1/messages" and request.method == "POST" and status >= 400:
            MESSAGES_REJECTED.labels(REJECTION_REASONS.get(status, "other")).inc()
