"""GET /metrics in Prometheus text format."""

from __future__ import annotations

import faust
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


def install(app: faust.App) -> None:
    @app.page("/metrics")
    class Metrics(faust.web.View):
        async def get(self, request):
            return web.Response(body=generate_latest(REGISTRY),
                                headers={"Content-Type": CONTENT_TYPE_LATEST})
