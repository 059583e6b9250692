"""The Faust web driver every role uses: only our own routes, and JSON even for aiohttp's own errors.

Two things Faust's stock aiohttp driver does that we do not want on any port we publish:

1. It mounts Faust's built-in pages: `/router/…` (which worker owns which table key: the cluster
   layout), `/table/…` (table data), `/` (a status index, or sensor statistics and `/assignment/`
   in debug mode), `/graph/` and `/performance/`. Settings turn most of them off, but not the
   index at `/`; none of our roles needs any of them (nothing uses `@app.table_route`). This
   driver mounts no built-in blueprint at all, so every such path is our 404 JSON.

2. Errors aiohttp raises before a request reaches the application (the HTTP parser's 400 for a
   bad request line, oversized headers or a malformed chunked body) are answered by
   `RequestHandler.handle_error` as `text/plain`. Middlewares never see them: for a request the
   parser refused, `RequestHandler.start()` swaps in `_make_error_handler()`, which calls
   `handle_error` directly, bypassing `Application._handle` and its middlewares, and the
   `on_response_prepare` signal does not fire either (the request was never routed, so it has no
   `match_info`). `handle_error` is the one funnel for every answer aiohttp makes on its own
   (400 from the parser, 500 for an exception escaping the middlewares, 504 for a handler
   timeout), so overriding it in a `RequestHandler` subclass covers them all in one place.
   aiohttp has no option naming the protocol class (`Server.__call__` builds a `RequestHandler`),
   hence the small `Server` subclass, which the runner installs on the server it has just built.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import cast

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server
from faust.web import base, drivers
from faust.web.drivers import aiohttp as faust_aiohttp

# `faust.App(web="chat4all://")` selects this driver.
DRIVER_URL = "chat4all://"
MAX_DETAIL = 200


def error_body(status: int, message: str | None) -> dict[str, str]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    detail = " ".join((message or "").split())[:MAX_DETAIL]
    # A 500 tells the client nothing about the failure (no traceback, no exception text).
    if status >= 500 or not detail:
        return {"error": f"{status} {phrase}"}
    return {"error": f"{status} {phrase}: {detail}"}


class JsonErrorsRequestHandler(RequestHandler):
    """aiohttp's protocol, answering its own errors as `{"error": ...}`."""

    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None, message: str | None = None) -> web.StreamResponse:
        # aiohttp's own: logs, and raises if a response was already partly sent.
        super().handle_error(request, status, exc, message)
        response = web.json_response(error_body(status, message), status=status)
        response.force_close()  # like aiohttp: the connection's state is unknown after an error
        return response


class JsonErrorsServer(Server):
    def __call__(self) -> RequestHandler:
        return JsonErrorsRequestHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorsRunner(web.AppRunner):
    __slots__ = ()

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        # Same state, one method different: the protocol each new connection gets.
        server.__class__ = JsonErrorsServer
        return server


class Web(faust_aiohttp.Web):
    """Faust's aiohttp driver without Faust's built-in pages, with JSON protocol errors."""

    default_blueprints = ()
    production_blueprints = ()
    debug_blueprints = ()
    optional_blueprints = ()

    def __init__(self, app, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self._runner = JsonErrorsRunner(self.web_app, access_log=None)

    def route(self, pattern: str, handler, cors_options=None) -> None:
        """Faust routes HEAD to every view, also to a POST-only one, where HEAD then answers 405
        and a 405's `Allow` lists HEAD, which is not allowed there: HEAD only beside GET."""
        if cors_options or self.cors_options:
            return super().route(pattern, handler, cors_options)
        methods = set(handler.get_methods())
        if "GET" not in methods:
            methods.discard("HEAD")
        dispatch = self._wrap_into_asyncdef(handler)
        for method in sorted(methods):
            self.web_app.router.add_route(method, pattern, dispatch)
        return None


def aiohttp_app(driver: base.Web) -> web.Application:
    """The aiohttp application behind a Faust app's web driver (`app.web`, a view's `self.web`).

    Faust types `App.web` as its abstract `Web`, which has no `web_app`; every role runs the aiohttp
    driver (ours, `DRIVER_URL`, or Faust's own in tests), whose `web_app` this is."""
    return cast(faust_aiohttp.Web, driver).web_app


drivers.DRIVERS.aliases.setdefault("chat4all", f"{__name__}:Web")
