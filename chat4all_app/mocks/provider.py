"""A stand-in for an external messaging provider (WhatsApp/Instagram-style), as a real HTTP server.

    python -m chat4all_app.mocks.provider --channel whatsapp --port 9101

POST /v1/messages {message_id, to, content, callback_url}
    Like real provider APIs it honours an idempotency key (the message_id): a repeated call
    returns the first result and delivers nothing new. After the configured latency it posts a
    delivery receipt to callback_url (retrying until the webhook answers 2xx). Receipts that
    fall due together go in one webhook call `{"receipts": [...]}` (up to receipt_batch_max,
    gathered for up to receipt_batch_ms), as real providers group status updates.
    A recipient starting with "invalid" is refused with 400 (a permanent error).
    Every webhook call is signed like WhatsApp Cloud API's: `X-Hub-Signature-256: sha256=<hex
    HMAC-SHA256 of the raw body>` with the channel's WEBHOOK_SECRET_<CHANNEL>.
POST /admin/config {latency_ms: {min, max}, failure_rate, mode: up|error|timeout, receipt_delay_ms,
                    receipt_batch_max, receipt_batch_ms}
GET  /admin/config, GET /admin/ledger -> {"received": {id: n}, "attempts": {id: n}, "order": {...},
                                         "receipt_batches": [size, ...]}
POST /admin/reset  clears the ledger (config is kept).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import orjson
from aiohttp import ClientSession, ClientTimeout, web

from chat4all_app.connectors import webhook_signature
from chat4all_app.settings import load

MODES = ("up", "error", "timeout")


@dataclass
class Config:
    latency_min_ms: float = 1.0
    latency_max_ms: float = 5.0
    failure_rate: float = 0.0
    mode: str = "up"
    receipt_delay_ms: float = 10.0
    receipt_batch_max: int = 100
    receipt_batch_ms: float = 20.0

    def update(self, body: dict) -> None:
        latency = body.get("latency_ms", {})
        if not isinstance(latency, dict):
            raise ValueError("'latency_ms' must be an object {min, max}")
        lo = float(latency.get("min", self.latency_min_ms))
        hi = float(latency.get("max", self.latency_max_ms))
        rate = float(body.get("failure_rate", self.failure_rate))
        mode = body.get("mode", self.mode)
        delay = float(body.get("receipt_delay_ms", self.receipt_delay_ms))
        batch_max = int(body.get("receipt_batch_max", self.receipt_batch_max))
        batch_ms = float(body.get("receipt_batch_ms", self.receipt_batch_ms))
        if not 0 <= lo <= hi or not 0 <= rate <= 1 or mode not in MODES or delay < 0:
            raise ValueError(f"need 0 <= min <= max, 0 <= failure_rate <= 1, mode in {MODES}")
        if not 1 <= batch_max <= 500 or batch_ms < 0:
            raise ValueError("need 1 <= receipt_batch_max <= 500 and receipt_batch_ms >= 0")
        self.latency_min_ms, self.latency_max_ms = lo, hi
        self.failure_rate, self.mode, self.receipt_delay_ms = rate, mode, delay
        self.receipt_batch_max, self.receipt_batch_ms = batch_max, batch_ms


@dataclass
class Ledger:
    received: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    results: dict[str, dict] = field(default_factory=dict)
    # Per recipient, the message ids in the order they were delivered (order checks).
    order: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # Sizes of the receipt batches the webhooks accepted (how well receipts are grouped).
    receipt_batches: list[int] = field(default_factory=list)


class ReceiptQueue:
    """Receipts for one webhook URL: each falls due `receipt_delay_ms` after its send; what is
    due goes out in batches, retried (in order) until the webhook answers."""

    def __init__(self, url: str, http: ClientSession, config: Config, secret: bytes,
                 delivered: Callable[[int], None]):
        self.url, self.http, self.config, self.delivered = url, http, config, delivered
        self.secret = secret
        self.pending: deque[tuple[float, dict]] = deque()  # (due, receipt), due times ascending
        self.wakeup = asyncio.Event()

    def put(self, due: float, receipt: dict) -> None:
        self.pending.append((due, receipt))
        self.wakeup.set()

    async def flush_forever(self) -> None:
        while True:
            if not self.pending:
                self.wakeup.clear()
                await self.wakeup.wait()
            wait = self.pending[0][0] - time.monotonic()
            await asyncio.sleep(max(wait, 0) + self.config.receipt_batch_ms / 1000)
            now = time.monotonic()
            batch: list[dict] = []
            while self.pending and self.pending[0][0] <= now and len(batch) < self.config.receipt_batch_max:
                batch.append({**self.pending.popleft()[1], "at": time.time()})
            if batch:
                await self.deliver(batch)

    async def deliver(self, batch: list[dict]) -> None:
        body = orjson.dumps({"receipts": batch})
        headers = {"Content-Type": "application/json",
                   webhook_signature.HEADER: webhook_signature.sign(self.secret, body)}
        delay = 0.2
        for _ in range(60):  # a real provider retries its webhooks for a while
            try:
                async with self.http.post(self.url, data=body, headers=headers) as resp:
                    if resp.status < 300:
                        self.delivered(len(batch))
                    if resp.status < 300 or resp.status in (400, 404):
                        return
            except Exception:
                pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)


class Provider:
    def __init__(self, channel: str, webhook_secret: bytes):
        self.channel = channel
        self.webhook_secret = webhook_secret
        self.config = Config()
        self.ledger = Ledger()
        self.http: ClientSession | None = None
        self.tasks: set[asyncio.Task] = set()
        self.queues: dict[str, ReceiptQueue] = {}

    async def send(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            message_id, to = str(body["message_id"]), str(body["to"])
            content, callback = body["content"], body.get("callback_url")
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "need JSON with message_id, to, content"}, status=400)
        self.ledger.attempts[message_id] += 1
        cfg = self.config
        await asyncio.sleep(random.uniform(cfg.latency_min_ms, cfg.latency_max_ms) / 1000)
        if cfg.mode == "timeout":
            await asyncio.sleep(3600)  # the caller's timeout fires first
        if cfg.mode == "error" or random.random() < cfg.failure_rate:
            return web.json_response({"error": "provider unavailable"}, status=503)
        if message_id in self.ledger.results:  # idempotent replay: same answer, no new delivery
            return web.json_response(self.ledger.results[message_id])
        if to.startswith("invalid"):
            return web.json_response({"error": f"invalid recipient {to!r}"}, status=400)
        result = {"provider_message_id": f"{self.channel}-{uuid.uuid4().hex}", "status": "accepted",
                  "message_id": message_id, "content_length": len(content)}
        self.ledger.results[message_id] = result
        self.ledger.received[message_id] += 1
        self.ledger.order[to].append(message_id)
        if callback:
            # Like real providers' webhooks, echo the caller's correlation id.
            cid = request.headers.get("X-Correlation-ID")
            self.receipts(callback).put(time.monotonic() + cfg.receipt_delay_ms / 1000,
                                        {"message_id": message_id, "status": "DELIVERED",
                                         **({"correlation_id": cid} if cid else {})})
        return web.json_response(result)

    def receipts(self, url: str) -> ReceiptQueue:
        queue = self.queues.get(url)
        if queue is None:
            queue = self.queues[url] = ReceiptQueue(url, self.session(), self.config, self.webhook_secret,
                                                    lambda n: self.ledger.receipt_batches.append(n))
            self.tasks.add(asyncio.create_task(queue.flush_forever()))
        return queue

    def session(self) -> ClientSession:
        """The HTTP client, created on startup: requests are served only after it."""
        if self.http is None:
            raise RuntimeError("the mock provider is not started")
        return self.http

    async def get_config(self, request: web.Request) -> web.Response:
        return web.json_response(asdict(self.config))

    async def set_config(self, request: web.Request) -> web.Response:
        try:
            self.config.update(await request.json())
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(asdict(self.config))

    async def get_ledger(self, request: web.Request) -> web.Response:
        return web.json_response({"received": self.ledger.received, "attempts": self.ledger.attempts,
                                  "order": self.ledger.order,
                                  "receipt_batches": self.ledger.receipt_batches})

    async def reset(self, request: web.Request) -> web.Response:
        self.ledger = Ledger()
        return web.json_response({"reset": True})

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "UP", "channel": self.channel, "mode": self.config.mode})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/messages", self.send)
        app.router.add_get("/admin/config", self.get_config)
        app.router.add_post("/admin/config", self.set_config)
        app.router.add_get("/admin/ledger", self.get_ledger)
        app.router.add_post("/admin/reset", self.reset)
        app.router.add_get("/health", self.health)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)
        return app

    async def _start(self, _app: web.Application) -> None:
        self.http = ClientSession(timeout=ClientTimeout(total=5))

    async def _stop(self, _app: web.Application) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.http is not None:
            await self.http.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    settings = load(f"mock-{args.channel}", f"webhook_secret_{args.channel}")
    web.run_app(Provider(args.channel, settings.webhook_secret(args.channel)).app(),
                host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
