"""Every error leaves the API as JSON `{"error": ...}` with the right status, never a traceback."""

from __future__ import annotations

import http
import logging

from aiohttp import web
from cassandra import CoordinationFailure, OperationTimedOut, Timeout, Unavailable
from cassandra.cluster import NoHostAvailable
from faust.web.exceptions import WebError

log = logging.getLogger(__name__)


class Conflict(WebError):
    code = http.HTTPStatus.CONFLICT
    detail = "Conflict."


class PayloadTooLarge(WebError):
    code = http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    detail = "Payload too large."


# Cassandra down, overloaded or timing out: transient (503), unlike an invalid query (a bug: 500).
STORAGE_UNAVAILABLE = (Unavailable, Timeout, OperationTimedOut, CoordinationFailure, NoHostAvailable)

# Headers of aiohttp's own HTTP errors that carry meaning beyond the status.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    """Turn what escapes a view (unknown route, wrong method, bugs) into JSON errors."""
    try:
        return await handler(request)
    except WebError as exc:
        return json_error(int(exc.code), exc.detail)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = json_error(exc.status, exc.reason)
        for name in KEPT_HEADERS:  # e.g. a 405 says which methods the resource has (RFC 9110)
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except STORAGE_UNAVAILABLE as exc:
        # Cassandra unreachable or timing out (login, throttling, lookups): try again, not a bug.
        log.warning("storage unavailable on %s %s: %s", request.method, request.path, exc)
        return json_error(503, "storage unavailable, retry later")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal error")
