"""The Grafana dashboards work: every panel's PromQL returns data from the real Prometheus once
real traffic flowed (to a recipient with a WebSocket open, for the live-push panels), the committed
JSON is what the code generates, only real metric names are used, the PNG renderer draws every
panel, and the live console pages draw every panel in a real browser and keep refreshing."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from benchmarks.upload import file_form
from chat4all_app.settings import Settings
from devstack.layout import Layout
from devstack.stack_client import AsyncProviders, Prometheus
from monitoring import consoles, live
from monitoring.panels import dashboards, panel_queries, panels, slug
from tests.integration.helpers import STACK, Api, User, delivered
from tests.integration.live_client import Socket, connect
from tests.promql import declared_series, metric_names

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = STACK.prometheus_url
SCRAPE_INTERVAL_S = 5.0  # monitoring/prometheus.yml


async def instant(http: aiohttp.ClientSession, expr: str) -> dict:
    async with http.get(f"{PROMETHEUS}/api/v1/query", params={"query": expr}) as resp:
        return await resp.json()


async def scraped_after(moment: float, scrapes: int = 2) -> None:
    """Wait until Prometheus scraped every Chat4All process `scrapes` times after `moment`.

    A rate over [1m] needs two samples that differ; a series a burst of traffic created needs a
    sample after it too. Polls the targets' last scrape time rather than sleeping a fixed time."""
    target = moment + (scrapes - 1) * SCRAPE_INTERVAL_S
    scraped = await asyncio.to_thread(Prometheus(PROMETHEUS).wait_fresh, 'up{job="chat4all"}', target,
                                      10 * SCRAPE_INTERVAL_S * scrapes)
    if scraped is None or scraped < target:
        raise TimeoutError(f"Prometheus did not scrape the chat4all targets after {moment}")


async def wave(api: Api, http: aiohttp.ClientSession, size: int,
               pair: tuple[User, User] | None = None) -> None:
    """Ordinary traffic: internal and external messages delivered, one file, one bad request.
    Between `pair` (sender, recipient) if given, else two new users."""
    alice, bob = pair or (await api.user("dash"), await api.user("dash"))
    internal, external = await api.conversation(alice, bob), await api.conversation(alice, bob)
    for i in range(size):
        await api.send(alice, internal, f"internal {i}")
        await api.send(alice, external, f"wa {i}", recipient_id="whatsapp:+5511999990000")
        await api.send(alice, external, f"ig {i}", recipient_id="instagram:@dashboards")
    status, _ = await api.call("POST", "/v1/messages", alice, json={"conversation_id": internal})
    assert status == 400  # a rejection: messages_rejected_total{reason="validation"}
    status, body = await api.call("POST", "/v1/files", alice, data=file_form(internal, b"dashboard"))
    assert status == 201, body
    assert await delivered(api, bob, internal, size)
    assert await delivered(api, bob, external, 2 * size)


class Listener:
    """A sender and a recipient whose WebSocket stays open, read by a task of its own (a client
    that reads keeps up: the server never drops it as slow)."""

    def __init__(self, sender: User, recipient: User, socket: Socket):
        self.pair, self.socket = (sender, recipient), socket
        self.reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.socket.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.socket.frames.append(msg.json())

    async def has(self, prefix: str, count: int) -> bool:
        """At least `count` message frames arrived whose content starts with `prefix`."""
        return sum(1 for f in self.socket.frames if f.get("type") == "message"
                   and f["message"]["content"].startswith(prefix)) >= count


@pytest.fixture(scope="module")
async def listener() -> AsyncIterator[Listener]:
    """The waves' recipient with a WebSocket open until this module's checks end: the Live push
    panels have a connection, pushes and push latencies to show."""
    async with aiohttp.ClientSession() as http:
        api = Api(http)
        sender, recipient = await api.user("dash"), await api.user("dash")
        live = Listener(sender, recipient, await connect(http, api.base, recipient))
        try:
            yield live
        finally:
            await live.socket.ws.close()
            live.reading.cancel()
            await asyncio.gather(live.reading, return_exceptions=True)


@pytest.fixture(scope="module")
async def traffic(listener: Listener) -> None:
    """Two waves of traffic, each scraped: series the first wave creates have a sample before the
    second wave moves them, so even rates and quantiles of brand-new series have data. Each wave's
    messages are pushed to the listener's socket before the scrape."""
    async with aiohttp.ClientSession() as http:
        api = Api(http)
        for channel in ("whatsapp", "instagram"):  # whatever an earlier test left configured
            await AsyncProviders(STACK, http).configure(channel, mode="up", failure_rate=0.0)
        await wave(api, http, 3, listener.pair)
        assert await api.wait_for(lambda: listener.has("internal ", 3), timeout=30)
        await scraped_after(time.time(), scrapes=1)
        await wave(api, http, 3, listener.pair)
        assert await api.wait_for(lambda: listener.has("internal ", 6), timeout=30)
        await scraped_after(time.time(), scrapes=2)


def has_number(body: dict) -> bool:
    """A successful instant query with at least one series whose value is a number (not NaN,
    which is what a quantile of zero rates gives)."""
    return body.get("status") == "success" and any(
        math.isfinite(float(r["value"][1])) for r in body["data"]["result"])


async def test_every_panel_query_returns_data_after_traffic(traffic):
    queries = panel_queries()
    assert len(queries) >= 20
    async with aiohttp.ClientSession() as http:
        answers = await asyncio.gather(*(instant(http, q.expr) for q in queries))
    failed = [f"{q.dashboard} / {q.panel}: {q.expr} -> {body.get('error') or body['data']['result']}"
              for q, body in zip(queries, answers, strict=True) if not has_number(body)]
    assert not failed, "panels without data:\n" + "\n".join(failed)


def test_committed_dashboards_are_what_the_code_generates():
    proc = subprocess.run([sys.executable, "-m", "monitoring.dashboards", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert {p.stem for p in (REPO / "monitoring/grafana/dashboards").glob("*.json")} == {
        "system-overview", "component-health", "infrastructure", "business"}


def test_dashboards_use_only_declared_or_standard_metrics():
    declared = declared_series()
    assert "http_requests_total" in declared and "kafka_publish_duration_seconds_bucket" in declared
    assert metric_names('sum by (le) (rate(a_bucket{x="y"}[1m])) / clamp_min(b, 1e-9) or on() '
                        "vector(0)") == {"a_bucket", "b"}
    unknown = {(q.panel, name) for q in panel_queries() for name in metric_names(q.expr)
               if name not in declared and name != "up" and not name.startswith("process_")}
    assert not unknown


async def test_renderer_draws_every_panel(traffic, tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitoring.render", "--prometheus", PROMETHEUS,
        "--minutes", "5", "--out", str(tmp_path), cwd=REPO, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode == 0, err.decode()
    expected = [tmp_path / board_slug / f"{slug(panel['title'])}.png"
                for board_slug, board in dashboards().items() for panel in panels(board)]
    expected += [tmp_path / f"{board_slug}.png" for board_slug in dashboards()]
    missing = [p for p in expected if not p.is_file() or p.stat().st_size < 1000]
    assert not missing
    assert set(out.decode().split()) == {str(p) for p in expected}
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in expected)


async def test_the_live_dashboards_draw_every_panel_in_chromium_while_messages_flow(traffic, listener):
    """Each console page (Prometheus' /consoles, made from the Grafana JSON) in Debian's Chromium,
    loaded while a wave of messages flows: every panel drew a line or a row, none an error.
    The screenshots stay in state/screenshots/live-dashboards."""
    out = Layout.from_env().state / "screenshots" / "live-dashboards"
    async with aiohttp.ClientSession() as http:
        flowing = asyncio.create_task(wave(Api(http), http, 3, listener.pair))
        states = await live.capture_all(PROMETHEUS, out, executable=Settings.from_env().chromium_path)
        await flowing
    expected = [(board_slug, panel["title"]) for board_slug, board in dashboards().items()
                for panel in panels(board)]
    assert [(s.dashboard, s.title) for s in states] == expected
    empty = [s for s in states if not s.ok]
    assert not empty, f"panels that drew nothing: {empty}"
    assert all((out / f"{board_slug}.png").stat().st_size > 20_000 for board_slug in dashboards())


async def test_a_live_dashboard_queries_prometheus_again_by_itself():
    first, later = await live.refreshes(PROMETHEUS, "system-overview", wait_s=consoles.REFRESH_S + 10,
                                        executable=Settings.from_env().chromium_path)
    assert first >= 2  # its two graphs drew once on load
    assert later > first  # and it queried again by itself, without a reload
