"""The web client at /app/ in Debian's Chromium, against the running stack: two people chat in two
browser contexts (text, live arrival, DELIVERED then READ ticks, a file), and the client's files
are served with their content types and a strict CSP, and the page fetches nothing elsewhere.

Screenshots of both pages are kept in results/webclient/ (and in the test's tmp dir on failure)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from yarl import URL

from benchmarks.upload import file_form
from chat4all_app.settings import Settings
from devstack.layout import REPO_DIR
from tests.integration.helpers import STACK, User

OUT = REPO_DIR / "results" / "webclient"
VIEWPORT = {"width": 1280, "height": 800}
LIVE_MS = 30_000  # a message through Kafka and the router, then the WebSocket
ASSETS = {"/app/": "text/html", "/app/app.js": "text/javascript", "/app/api.js": "text/javascript",
          "/app/live.js": "text/javascript", "/app/ui.js": "text/javascript", "/app/style.css": "text/css",
          "/app/icon.svg": "image/svg+xml"}

# Every data-status a message's <li> took after it was drawn, in order (the test's own observer,
# run through the DevTools protocol, which the page's CSP does not apply to).
WATCH_STATUSES = """() => {
  window.statusLog = [];
  new MutationObserver((records) => { for (const r of records) {
      window.statusLog.push([r.target.dataset.messageId, r.target.dataset.status]); } })
    .observe(document.getElementById('messages'),
             { subtree: true, attributes: true, attributeFilter: ['data-status'] });
}"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        # As monitoring/live.py: Debian's chromium; --no-sandbox as CI runs as root.
        browser = await pw.chromium.launch(executable_path=Settings.from_env().chromium_path,
                                           args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, base_url: str = STACK.api_url) -> Page:
    context = await browser.new_context(viewport=VIEWPORT, base_url=base_url)
    return await context.new_page()


async def log_in(page: Page, user: User) -> None:
    await page.goto("/")  # redirected to /app/
    await page.get_by_label("Username", exact=True).fill(user.username)
    await page.get_by_label("Password", exact=True).fill("pw-" + user.username)  # as Api.user registered it
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_test_id("me")).to_have_text(user.username)
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live", timeout=LIVE_MS)


def message(page: Page, text: str):
    return page.get_by_test_id("message").filter(has_text=text)


@contextlib.asynccontextmanager
async def screenshots(pages: dict[str, Page], tmp_path: Path, keep: Path | None = OUT):
    """Screenshots of every page: into `keep` at the end, into tmp_path if the test failed."""
    try:
        yield
    except BaseException:
        for name, page in pages.items():
            with contextlib.suppress(Exception):
                await page.screenshot(path=str(tmp_path / f"{name}-failure.png"), full_page=True)
        raise
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        for name, page in pages.items():
            await page.screenshot(path=str(keep / f"{name}.png"))


async def test_two_people_chat_live_with_ticks_and_a_file(api, browser, tmp_path):
    alice, bob = await api.user("web-alice"), await api.user("web-bob")
    a, b = await new_page(browser), await new_page(browser)
    async with screenshots({"alice": a, "bob": b}, tmp_path):
        await log_in(a, alice)
        await log_in(b, bob)

        # Alice starts the conversation by Bob's username and writes first.
        await a.get_by_label("New chat with").fill(bob.username)
        await a.get_by_role("button", name="Start").click()
        await expect(a.get_by_test_id("chat-title")).to_have_text(bob.username)
        await a.evaluate(WATCH_STATUSES)
        first = f"hello bob {uuid.uuid4().hex[:6]}"
        await a.get_by_label("Message", exact=True).fill(first)
        await a.get_by_role("button", name="Send").click()
        await expect(message(a, first)).to_have_attribute("data-mine", "true")

        # Bob, who never reloads, sees the new conversation with one unread message, opens it.
        conversation = b.get_by_test_id("conversation")
        await expect(conversation.get_by_test_id("unread")).to_have_text("1", timeout=LIVE_MS)
        # Bob's browser never learned Alice's name: it asks GET /v1/users/{id}, and shows her
        # username, not "user 1a2b3c4d", as the conversation's title and as the message's sender.
        await expect(conversation.locator(".title")).to_have_text(alice.username)
        await conversation.click()
        await expect(message(b, first)).to_have_attribute("data-mine", "false")
        await expect(message(b, first).get_by_test_id("sender")).to_have_text(alice.username)
        await expect(b.get_by_test_id("chat-title")).to_have_text(alice.username)
        await expect(message(a, first)).to_have_attribute("data-status", "READ", timeout=LIVE_MS)

        # With the conversation open on both sides: a new message arrives live and is read live.
        second = f"are you there? {uuid.uuid4().hex[:6]}"
        await a.get_by_label("Message", exact=True).fill(second)
        await a.keyboard.press("Enter")
        await expect(message(b, second)).to_be_visible(timeout=LIVE_MS)
        sent = message(a, second)
        await expect(sent).to_have_attribute("data-status", "READ", timeout=LIVE_MS)
        await expect(sent.get_by_test_id("ticks")).to_have_text("✓✓")
        await expect(sent.get_by_test_id("ticks")).to_have_class("ticks read")
        second_id = await sent.get_attribute("data-message-id")
        seen = [status for mid, status in await a.evaluate("window.statusLog") if mid == second_id]
        assert "DELIVERED" in seen and seen.index("DELIVERED") < seen.index("READ"), seen
        assert seen == sorted(seen, key=["SENDING", "ACCEPTED", "PENDING", "SENT", "DELIVERED",
                                         "READ"].index), f"a tick moved backwards: {seen}"

        # Bob sends a small file; Alice sees its name, and its link downloads the same bytes.
        content = f"notes for alice {uuid.uuid4().hex}\n".encode()
        await b.get_by_label("Attach a file").set_input_files(
            files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": content}])
        link = a.get_by_test_id("file-link").filter(has_text="notes.txt")
        await expect(link).to_be_visible(timeout=LIVE_MS)
        await expect(link).to_have_attribute("data-ready", "true")
        async with api.http.get(await link.get_attribute("href")) as resp:
            assert resp.status == 200 and await resp.read() == content
        await expect(b.get_by_test_id("message").filter(has_text="notes.txt")).to_have_attribute(
            "data-status", "READ", timeout=LIVE_MS)

        # No message twice, on either side.
        for page in (a, b):
            ids = await page.get_by_test_id("message").evaluate_all(
                "items => items.map(li => li.dataset.messageId)")
            assert len(ids) == len(set(ids)) == 3, ids

    # A phone-sized window: the open conversation alone, with a way back to the list.
    async with screenshots({"bob-narrow": b}, tmp_path):
        await b.set_viewport_size({"width": 390, "height": 800})
        await expect(b.get_by_test_id("conversations")).to_be_hidden()
        await expect(message(b, second)).to_be_visible()


async def test_the_client_files_are_served_with_types_and_a_strict_policy(api):
    async with api.http.get(STACK.api_url + "/", allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == "/app/"
    for path, content_type in ASSETS.items():
        async with api.http.get(STACK.api_url + path) as resp:
            assert resp.status == 200, path
            assert resp.content_type == content_type, path
            assert resp.headers["Cache-Control"] == "no-cache", path
            policy = resp.headers["Content-Security-Policy"]
            assert "default-src 'self'" in policy and "script-src 'self';" in policy, policy
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy
            host = URL(STACK.api_url).raw_authority
            assert f"connect-src 'self' ws://{host} wss://{host}" in policy, policy
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
    # Sent as written (encoded=True): the client would otherwise resolve the dot segments itself.
    for raw in ("/app/../x", "/app/..%2fpyproject.toml", "/app/%2e%2e/views.py", "/app/nope.js",
                "/app/views.py", "/app/__init__.py", "/app/index.html/x", "/app/.%2e/.%2e/README.md"):
        async with api.http.get(URL(STACK.api_url + raw, encoded=True)) as resp:
            assert resp.status == 404, (raw, resp.status)
            assert resp.content_type == "application/json", raw
            assert "error" in await resp.json(), raw


@pytest.mark.parametrize("base_url", [STACK.api_url, STACK.lb_url], ids=["api", "lb"])
async def test_the_page_fetches_nothing_outside_its_origin(api, browser, tmp_path, base_url):
    """A whole session (log in, list, open a conversation with a file, send), straight from the API
    and through nginx: every request and the WebSocket go to the page's own origin, and the console
    reports no error (no CSP violation)."""
    alice, bob = await api.user("web-origin"), await api.user("web-origin")
    conversation = await api.conversation(bob, alice)
    form = file_form(conversation, b"same origin", "same-origin.txt", "text/plain")
    status, file = await api.call("POST", "/v1/files", bob, data=form)
    assert status == 201, file
    await api.send(bob, conversation, "a file for you", file_id=file["file_id"])
    page = await new_page(browser, base_url)
    requests, sockets, errors = [], [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    async with screenshots({"origin": page}, tmp_path, keep=None):
        await log_in(page, alice)
        await page.get_by_test_id("conversation").click()
        await expect(page.get_by_test_id("file-link")).to_have_attribute("data-ready", "true",
                                                                          timeout=LIVE_MS)
        await page.get_by_label("Message", exact=True).fill("thanks")
        await page.keyboard.press("Enter")
        await expect(message(page, "thanks")).to_have_attribute("data-status", "DELIVERED", timeout=LIVE_MS)
    origin = URL(base_url)
    assert requests and sockets
    assert [u for u in requests if URL(u).origin() != origin.origin()] == []
    assert sockets == [f"ws://{origin.raw_authority}/v1/ws"]
    assert errors == []
