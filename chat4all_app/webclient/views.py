"""GET / (302 to /app/) and the web client's files under /app/.

Only the files named in ASSETS are served, read from this package (so an installed wheel serves
what it shipped); any other /app/ path is our JSON 404. Every answer carries a strict
Content-Security-Policy: scripts, styles and fetches from this origin only, plus the WebSocket
(/v1/ws) on the same host, which 'self' does not cover in every browser.
"""

from __future__ import annotations

import re
from importlib import resources

import faust
import faust.web
from aiohttp import web

from chat4all_app.errors import NotFound

ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "live.js": "text/javascript; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",  # named in index.html, or the browser asks for /favicon.ico
}
# A Host header is the client's: only a plain host[:port] goes into the policy (no ';' or spaces).
PLAIN_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def policy(host: str | None) -> str:
    sockets = f" ws://{host} wss://{host}" if host and PLAIN_HOST.match(host) else ""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'{sockets}; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")


def headers(request: web.Request, content_type: str | None = None) -> dict[str, str]:
    # no-cache: the browser revalidates, so a new deployment's modules are never mixed with old ones.
    out = {"Cache-Control": "no-cache", "Content-Security-Policy": policy(request.host),
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    return out | ({"Content-Type": content_type} if content_type else {})


def asset(name: str) -> bytes:
    """The packaged file's bytes: a few KiB from the page cache, read per request so that an edit
    shows on reload during development."""
    if name not in ASSETS:
        raise NotFound(f"no such file: /app/{name}"[:200])
    return (resources.files(__package__) / "static" / name).read_bytes()


class ToApp(faust.web.View):
    async def get(self, request: web.Request) -> faust.web.Response:
        return self.bytes(b"", status=302, headers=headers(request) | {"Location": "/app/"})


class AppWithoutSlash(ToApp):
    """/app: the same redirect (Faust keeps one path per view class)."""


class Index(faust.web.View):
    async def get(self, request: web.Request) -> faust.web.Response:
        return self.bytes(asset("index.html"), headers=headers(request, ASSETS["index.html"]))


class Asset(faust.web.View):
    async def get(self, request: web.Request, name: str) -> faust.web.Response:
        body = asset(name)
        return self.bytes(body, headers=headers(request, ASSETS[name]))


def install(app: faust.App) -> None:
    app.page("/")(ToApp)
    app.page("/app")(AppWithoutSlash)
    app.page("/app/")(Index)
    app.page("/app/{name}")(Asset)
