"""GET /health: the role's report, 200 when UP and 503 when a dependency is DOWN."""

from __future__ import annotations

import faust

from chat4all_app.observability.health import UP
from chat4all_app.observability.reports import Report


def install(app: faust.App, report: Report) -> None:
    @app.page("/health")
    class Health(faust.web.View):
        async def get(self, request):
            body = await report()
            return self.json(body, status=200 if body["status"] == UP else 503)
