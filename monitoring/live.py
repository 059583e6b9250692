"""The live dashboards as a person sees them: each console page in headless Chromium, checked and
screenshotted.

    python -m monitoring.live [--out results/dashboards/live] [--settle 4]

For every dashboard of monitoring/consoles it loads http://<prometheus>/consoles/<slug>.html,
waits for the graphs to draw, and records per panel whether it drew data: a graph needs at least
one series line, a value table at least one row, and no panel may show "Error loading data".
Writes <slug>.png and summary.json (with the git commit) and exits 1 if a panel drew nothing.
Run it while traffic flows (a load test, an experiment): an idle stack has empty rate panels.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from chat4all_app.settings import Settings
from devstack.layout import REPO_DIR, git_sha
from monitoring.panels import dashboards

OUT = REPO_DIR / "results" / "dashboards" / "live"
VIEWPORT = {"width": 1400, "height": 1000}

# Per panel: (title, kind, series or rows drawn, error text shown). A series line is one of
# Rickshaw's `path.path` elements with at least two points ("M x,y L x,y").
PANEL_STATES = """() => Array.from(document.querySelectorAll('.c4a-panel')).map(p => ({
  title: p.querySelector('h2').textContent,
  kind: p.classList.contains('c4a-graph') ? 'graph' : 'values',
  drawn: p.classList.contains('c4a-graph')
    ? Array.from(p.querySelectorAll('svg path.path'))
        .filter(x => (x.getAttribute('d') || '').includes('L')).length
    : Array.from(p.querySelectorAll('.c4a-table tr')).filter(r => r.textContent !== 'no data').length,
  error: /Error loading data|No data/.test(p.textContent)}))"""


# Every panel has drawn something: a line, a table, or an error (no fixed wait: a busy machine
# may take seconds to load three scripts and answer the queries).
ALL_DRAWN = """() => { const panels = document.querySelectorAll('.c4a-panel');
  return panels.length > 0 && Array.from(panels).every(p =>
    p.querySelector('svg path.path, .c4a-table') || /Error loading data|No data/.test(p.textContent)); }"""
DRAW_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class PanelState:
    dashboard: str
    title: str
    kind: str
    drawn: int
    error: bool

    @property
    def ok(self) -> bool:
        return self.drawn > 0 and not self.error


async def drawn(page: Page) -> None:
    """Until every panel drew something; a panel that never does is reported empty, not raised."""
    with contextlib.suppress(PlaywrightTimeout):
        await page.wait_for_function(ALL_DRAWN, timeout=DRAW_TIMEOUT_MS)


def console_url(prometheus_url: str, slug: str) -> str:
    return f"{prometheus_url.rstrip('/')}/consoles/{slug}.html"


async def capture(browser: Browser, url: str, slug: str, screenshot: Path,
                  settle_s: float) -> list[PanelState]:
    """Load one console page, let its queries answer, screenshot it, and read each panel's state."""
    page = await browser.new_page(viewport=VIEWPORT)
    try:
        await page.goto(url, wait_until="load")
        await drawn(page)
        await page.wait_for_timeout(settle_s * 1000)  # the last graphs' transitions
        await page.screenshot(path=str(screenshot), full_page=True)
        return [PanelState(slug, **state) for state in await page.evaluate(PANEL_STATES)]
    finally:
        await page.close()


async def capture_all(prometheus_url: str, out: Path, settle_s: float = 1.0,
                      executable: str = "/usr/bin/chromium") -> list[PanelState]:
    out.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        # --no-sandbox: Chromium refuses to run as root with its sandbox (CI runs as root).
        browser = await pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            states = []
            for slug in dashboards():
                states += await capture(browser, console_url(prometheus_url, slug), slug,
                                        out / f"{slug}.png", settle_s)
            return states
        finally:
            await browser.close()


async def refreshes(prometheus_url: str, slug: str, wait_s: float,
                    executable: str = "/usr/bin/chromium") -> tuple[int, int]:
    """Range queries the page sent until it had drawn, and by the next one it sent by itself
    (no reload) within `wait_s`: the second number is larger if the page refreshes."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport=VIEWPORT)
            sent: list[str] = []
            page.on("request", lambda request: sent.append(request.url)
                    if "/api/v1/query_range" in request.url else None)
            await page.goto(console_url(prometheus_url, slug), wait_until="load")
            await drawn(page)
            first = len(sent)
            with contextlib.suppress(PlaywrightTimeout):
                await page.wait_for_event("request", lambda r: "/api/v1/query_range" in r.url,
                                          timeout=wait_s * 1000)
            return first, len(sent)
        finally:
            await browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="directory of the PNGs and summary.json")
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds a page gets once every panel drew (animations)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    states = asyncio.run(capture_all(settings.prometheus_url, args.out, args.settle, settings.chromium_path))
    (args.out / "summary.json").write_text(json.dumps({
        "git_sha": git_sha(), "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "prometheus_url": settings.prometheus_url, "panels": [asdict(s) for s in states]}, indent=2) + "\n")
    for s in states:
        print(f"{'ok   ' if s.ok else 'EMPTY'} {s.dashboard:<18} {s.title:<45} {s.kind:<6} {s.drawn}")
    print(f"screenshots in {args.out}")
    return 0 if all(s.ok for s in states) else 1


if __name__ == "__main__":
    sys.exit(main())
