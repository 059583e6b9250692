"""aiohttp middleware: every request runs under a correlation id, echoed in the response."""

from __future__ import annotations

from aiohttp import web

from chat4all_app.observability import correlation
from chat4all_app.observability.logs import correlation_scope
from chat4all_app.web.errors import json_error

REQUEST_KEY = web.RequestKey("correlation_id", str)


def of_request(request: web.Request) -> str:
    return request[REQUEST_KEY]


@web.middleware
async def correlation_ids(request: web.Request, handler) -> web.StreamResponse:
    try:
        cid = correlation.accept(request.headers.get(correlation.HTTP_HEADER))
    except correlation.InvalidCorrelationId as exc:
        return json_error(400, str(exc))
    request[REQUEST_KEY] = cid
    with correlation_scope(cid):
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # still tell the client which id to quote
            exc.headers[correlation.HTTP_HEADER] = cid
            raise
    response.headers[correlation.HTTP_HEADER] = cid
    return response
