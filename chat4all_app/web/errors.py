"""Every error leaves the API as JSON `{"error": ...}` with the right status, never a traceback.

The one place where refusals (chat4all_app.errors, raised by the services and by the views' own
input checks alike) become HTTP statuses. Faust's exceptions (faust.web.exceptions) are not used:
a View's `dispatch` would answer them itself, past this mapping."""

from __future__ import annotations

import http
import logging

from aiohttp import web
from cassandra import CoordinationFailure, OperationTimedOut, Timeout, Unavailable
from cassandra.cluster import NoHostAvailable

from chat4all_app import errors
from chat4all_app.auth.throttle import Throttled

log = logging.getLogger(__name__)

STATUS_OF_REFUSAL: dict[type[errors.Refused], http.HTTPStatus] = {
    errors.Invalid: http.HTTPStatus.BAD_REQUEST,
    errors.Unauthenticated: http.HTTPStatus.UNAUTHORIZED,
    errors.Forbidden: http.HTTPStatus.FORBIDDEN,
    errors.NotFound: http.HTTPStatus.NOT_FOUND,
    errors.Conflict: http.HTTPStatus.CONFLICT,
    errors.TooLarge: http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.UnsupportedMediaType: http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.TooMany: http.HTTPStatus.TOO_MANY_REQUESTS,
    errors.Unavailable: http.HTTPStatus.SERVICE_UNAVAILABLE,
}


# Cassandra down, overloaded or timing out: transient (503), unlike an invalid query (a bug: 500).
STORAGE_UNAVAILABLE = (Unavailable, Timeout, OperationTimedOut, CoordinationFailure, NoHostAvailable)

# Headers of aiohttp's own HTTP errors that carry meaning beyond the status.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def status_of(refusal: errors.Refused) -> int | None:
    """The refusal's HTTP status; None for a kind of refusal this module does not know (a bug:
    answered as one, 500, since guessing a 4xx could tell a client its valid request was wrong)."""
    return next((int(status) for kind, status in STATUS_OF_REFUSAL.items() if isinstance(refusal, kind)),
                None)


@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    """Turn what escapes a view (the services' refusals, unknown route, wrong method, bugs) into
    JSON errors."""
    try:
        return await handler(request)
    except errors.Refused as exc:
        status = status_of(exc)
        if status is None:
            log.exception("unmapped refusal on %s %s", request.method, request.path)
            return json_error(500, "internal error")
        return json_error(status, exc.message)
    except Throttled as exc:  # a login refused for now: say when to come back
        response = json_error(int(http.HTTPStatus.TOO_MANY_REQUESTS),
                              f"too many failed logins; try again in {exc.retry_after_s} s")
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
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
