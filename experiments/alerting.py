"""The alerts fire for real, and resolve: each class of monitoring/alerts.yml provoked on the
running stack under load, watched in Alertmanager (its API) and at the webhook receiver.

    make experiment NAME=alerts        # about 23 minutes: the rules' own windows set the pace

Provocations, in this order (the slow ones overlap):
- a poison record on chat4all.messages       -> DeadLetterGrowing (resolves 10 min later)
- the Instagram provider answering errors    -> CircuitBreakerOpen, ConsumerLagHigh (Instagram)
- the WhatsApp provider's receipts late 7 s  -> DeliveryLatencyP95High (whatsapp)
- connector-instagram SIGKILLed              -> ServiceDown, until restarted
- Kafka stopped, with a burst of requests     -> ApiErrorBudgetFastBurn (the API answers 503)
  (until the alert fires: its 1 h window holds whatever the stack served in the last hour, so
  the 5xx it takes to pass 1.44 % depend on what ran before)
Before any of it, 90 s of load must raise nothing. HeartbeatMissing has no provocation: a
process that stops its timers while still answering scrapes cannot be made without a fault
injected into the code; monitoring/alerts.test.yml covers it.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import yaml
from aiokafka import AIOKafkaProducer

from benchmarks import users
from devstack.layout import REPO_DIR
from experiments.run import Run

POLL_S = 2.0
# Alertmanager notifies a new alert after group_wait (5 s) and a resolution at the group's next
# flush (group_interval, 30 s; monitoring/alertmanager.yml): a fault is held this long once its
# alert fires, and the watch keeps polling this long at the end, so both notifications are seen.
NOTIFY_S = 40.0
RULES = {rule["alert"] for group in yaml.safe_load((REPO_DIR / "monitoring/alerts.yml").read_text())["groups"]
         for rule in group["rules"] if "alert" in rule}
# The mock provider's defaults (chat4all_app/mocks/provider.py Config), restored at the end.
PROVIDER_DEFAULTS = {"mode": "up", "latency_ms": {"min": 1.0, "max": 5.0}, "receipt_delay_ms": 10.0}


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return orjson.loads(resp.read())


@dataclass(frozen=True)
class Matcher:
    """An alert of one name whose labels include these."""

    alertname: str
    labels: tuple[tuple[str, str], ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        return labels.get("alertname") == self.alertname and all(labels.get(k) == v for k, v in self.labels)

    def __str__(self) -> str:
        return self.alertname + "".join(f" {k}={v}" for k, v in self.labels)


@dataclass
class AlertWatch:
    """Polls Alertmanager's active alerts and the receiver's notifications on a thread."""

    alertmanager_url: str
    receiver_url: str
    now: Callable[[], float]  # seconds on the experiment's timeline
    # (when, the labels of every alert Alertmanager had active then)
    active: list[tuple[float, list[dict[str, str]]]] = field(default_factory=list)
    # The receiver's notifications, each with the time this watch first saw it.
    notifications: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> AlertWatch:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            t = self.now()
            try:
                alerts = _get(f"{self.alertmanager_url}/api/v2/alerts?active=true&inhibited=false")
                self.active.append((t, [a["labels"] for a in alerts]))
                # Only what is new since the last poll (the receiver numbers its notifications).
                last = self.notifications[-1]["seq"] if self.notifications else 0
                received = _get(f"{self.receiver_url}/alerts?after={last}")["alerts"]
                self.notifications += [n | {"seen_at": t} for n in received]
            except OSError:
                pass  # a poll missed is a poll missed: the next one counts
            self._stop.wait(POLL_S)

    def firing(self, m: Matcher) -> bool:
        return bool(self.active) and any(m.matches(labels) for labels in self.active[-1][1])

    def names(self) -> set[str]:
        return {labels["alertname"] for _, alerts in self.active for labels in alerts}

    def first_active(self, m: Matcher, since: float) -> float | None:
        return next((t for t, alerts in self.active
                     if t >= since and any(m.matches(a) for a in alerts)), None)

    def first_inactive(self, m: Matcher, since: float) -> float | None:
        return next((t for t, alerts in self.active if t >= since and not any(m.matches(a) for a in alerts)),
                    None)

    def notified(self, m: Matcher, status: str, since: float) -> float | None:
        return next((n["seen_at"] for n in self.notifications
                     if n["status"] == status and n["seen_at"] >= since and m.matches(n["labels"])), None)


async def _requests_while(api_url: str, sender: dict, going: threading.Event,
                          concurrency: int = 200) -> Counter:
    """POST messages as `sender` with `concurrency` in flight while `going` is set; the statuses.
    A sender of its own: none of these is in the run's accounting."""
    statuses: Counter = Counter()
    headers = {"Authorization": f"Bearer {sender['token']}"}
    body = {"conversation_id": sender["conversation_id"], "content": "during the outage"}

    async def client(http: aiohttp.ClientSession) -> None:
        while going.is_set():
            try:
                async with http.post(f"{api_url}/v1/messages", json=body, headers=headers) as resp:
                    statuses[resp.status] += 1
            except (aiohttp.ClientError, TimeoutError):
                statuses["error"] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    return statuses


async def _publish_poison(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"\x00\xff not json " + uuid.uuid4().bytes,
                                     key=str(uuid.uuid4()).encode())
    finally:
        await producer.stop()


def alerts(x: Run) -> dict:
    settings = x.settings
    rate, total = 20, 23 * 60
    watch = AlertWatch(settings.alertmanager_url.rstrip("/"), settings.alert_receiver_url.rstrip("/"),
                       x.timeline.now)
    provoked: dict[str, tuple[Matcher, float, float | None]] = {}  # name -> (alert, provoked, fixed)

    def provoke(name: str, matchers: list[Matcher], start: Callable[[], object],
                fix: Callable[[], object], fire_timeout: float, resolve_timeout: float) -> None:
        """Provoke, wait until every alert fires, fix, wait until none is active any more."""
        t_on = x.timeline.mark(f"{name}: provoked")
        start()
        t_fire = x.wait_for(lambda: all(watch.firing(m) for m in matchers), fire_timeout, every=1.0)
        if t_fire is not None:
            x.timeline.mark(" + ".join(m.alertname for m in matchers) + " FIRING")
            x.until(t_fire + NOTIFY_S)
        t_fix = x.timeline.mark(f"{name}: fixed")
        fix()
        if x.wait_for(lambda: not any(watch.firing(m) for m in matchers), resolve_timeout, every=1.0):
            x.timeline.mark(" + ".join(m.alertname for m in matchers) + " RESOLVED")
        for m in matchers:
            provoked[str(m)] = (m, t_on, t_fix)

    def record(m: Matcher, t_on: float, t_fix: float | None) -> dict:
        fired = watch.first_active(m, t_on)
        resolved = watch.first_inactive(m, fired) if fired is not None else None
        return {"provoked_at_s": round(t_on, 1),
                "firing_after_s": None if fired is None else round(fired - t_on, 1),
                "notified_firing_after_s": _after(watch.notified(m, "firing", t_on), t_on),
                "fixed_at_s": None if t_fix is None else round(t_fix, 1),
                "resolved_after_fix_s": _after(resolved, t_fix),
                "notified_resolved_after_fix_s": _after(watch.notified(m, "resolved", t_fix or t_on), t_fix)}

    # RETRY_S: k6 resends what the Kafka stop refuses until it is back (up to 4 minutes here).
    load = x.load(rate, total, ADDRESSES="per-conversation", RETRY_S="400")
    burst_sender = users.create(x.topology.api_url, 1)[0]
    burst: Counter = Counter()
    try:
        with watch:
            x.until(90)
            quiet = sorted(watch.names() & RULES)  # not a test's synthetic alert still active
            x.timeline.mark("quiet check done")

            dead = Matcher("DeadLetterGrowing", (("service", "router"),))
            t_poison = x.timeline.mark("poison record published")
            asyncio.run(_publish_poison(settings.kafka_bootstrap_servers, settings.topic_messages))

            t_late = x.timeline.mark("whatsapp receipts late (7 s)")
            x.providers.configure("whatsapp", receipt_delay_ms=7000)

            breaker = Matcher("CircuitBreakerOpen", (("channel", "instagram"),))
            lag = Matcher("ConsumerLagHigh", (("service", "connector-instagram"),))
            provoke("instagram provider errors", [breaker, lag],
                    lambda: x.providers.configure("instagram", mode="error"),
                    lambda: x.providers.configure("instagram", mode="up"),
                    fire_timeout=180, resolve_timeout=300)

            down = Matcher("ServiceDown", (("service", "connector-instagram"),))
            provoke("connector-instagram SIGKILL", [down],
                    lambda: x.ctl("signal", "KILL", "connector-instagram"),
                    lambda: x.ctl("start", "connector-instagram"),
                    fire_timeout=180, resolve_timeout=240)

            latency = Matcher("DeliveryLatencyP95High", (("channel", "whatsapp"),))
            x.wait_for(lambda: watch.firing(latency), max(0.0, t_late + 660 - x.timeline.now()), every=1.0)
            t_fix_late = x.timeline.mark("whatsapp receipts on time")
            x.providers.configure("whatsapp", receipt_delay_ms=PROVIDER_DEFAULTS["receipt_delay_ms"])
            x.wait_for(lambda: not watch.firing(latency), 420, every=1.0)
            provoked[str(latency)] = (latency, t_late, t_fix_late)

            burn = Matcher("ApiErrorBudgetFastBurn")
            going = threading.Event()

            def outage() -> None:
                x.ctl("stop", "kafka")
                going.set()
                threading.Thread(target=lambda: burst.update(asyncio.run(_requests_while(
                    x.topology.api_url, burst_sender, going))), daemon=True).start()

            def recovery() -> None:
                going.clear()
                x.ctl("start", "kafka")

            provoke("Kafka stopped, requests keep coming", [burn], outage, recovery,
                    fire_timeout=240, resolve_timeout=480)

            x.wait_for(lambda: not watch.firing(dead), max(0.0, t_poison + 780 - x.timeline.now()), every=2.0)
            # A poison record is a one-off: nothing to fix, its resolution counts from the record.
            provoked[str(dead)] = (dead, t_poison, t_poison)
            x.until(x.timeline.now() + NOTIFY_S)  # the last resolutions' notifications
        # From what the watch saw over the whole run (a resolution is notified up to 30 s late).
        classes = {name: record(*args) for name, args in provoked.items()}
    finally:
        for channel in ("whatsapp", "instagram"):
            x.providers.configure(channel, **PROVIDER_DEFAULTS)
        x.ctl("start", "connector-instagram")
        x.ctl("start", "kafka")
    load.result()
    return {"offered_rps": rate, "alerts_during_quiet_load": quiet, "classes": classes,
            "requests_during_the_kafka_stop": {str(k): v for k, v in burst.items()},
            "notifications_received": len(watch.notifications),
            "checks": {"no alert on a healthy stack under load (first 90 s)": not quiet}
            | {f"{name} fired and resolved": c["firing_after_s"] is not None
               and c["resolved_after_fix_s"] is not None for name, c in classes.items()}
            | {f"{name}: the receiver was notified of both": c["notified_firing_after_s"] is not None
               and c["notified_resolved_after_fix_s"] is not None for name, c in classes.items()}}


def _after(t: float | None, since: float | None) -> float | None:
    return None if t is None or since is None else round(t - since, 1)
