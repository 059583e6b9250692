"""The Kafka broker's own counts of produce requests and records, read over JMX around a step, so the
producers' batching shows: records per produce request.

Read from the broker's MBeans (attribute `Count` of each meter):
- `kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Produce,version=*`: produce
  requests as received on the wire (summed over versions);
- `kafka.server:type=BrokerTopicMetrics,name=TotalProduceRequestsPerSec[,topic=T]`: appends, one per
  topic-partition of a produce request (a request carrying 3 partitions counts 3);
- `kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec[,topic=T]`: records appended.
The totals include the broker's own internal writes (offset commits to __consumer_offsets); the
per-topic figures tell the API's ingest topic apart.

How: benchmarks/MBeanCounters.java, run by the JDK that runs Kafka, attaches to the broker's JVM
(same user) and asks it for its local JMX connector: no JMX port has to be opened when the stack
starts, nothing is reachable by other users, and a broker started before this existed works too.
Each reading starts a JVM (about 0.5 s of CPU once compiled), so readings are taken only around a
step, never inside its measured window. Unavailable (no JDK, attach refused, broker down): None,
with the reason in `BrokerCounters.problem`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).with_name("MBeanCounters.java")
PRODUCE_REQUESTS = "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Produce,*"
APPENDS = "kafka.server:type=BrokerTopicMetrics,name=TotalProduceRequestsPerSec,*"
RECORDS = "kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec,*"


@dataclass(frozen=True)
class Counters:
    produce_requests: float
    appends: float  # per topic-partition
    records: float
    by_topic: dict[str, dict[str, float]] = field(default_factory=dict)  # topic -> {appends, records}


def _properties(name: str) -> tuple[str, dict[str, str]]:
    domain, _, props = name.partition(":")
    return domain, dict(p.split("=", 1) for p in props.split(",") if "=" in p)


def parse(raw: dict[str, float]) -> Counters:
    """MBeanCounters' output ({object name: Count}) -> totals and per-topic figures."""
    requests = appends = records = 0.0
    by_topic: dict[str, dict[str, float]] = defaultdict(lambda: {"appends": 0.0, "records": 0.0})
    for name, value in raw.items():
        domain, props = _properties(name)
        kind, topic = props.get("name"), props.get("topic")
        if domain == "kafka.network" and kind == "RequestsPerSec" and props.get("request") == "Produce":
            requests += value
        elif domain == "kafka.server" and kind in ("TotalProduceRequestsPerSec", "MessagesInPerSec"):
            key = "appends" if kind == "TotalProduceRequestsPerSec" else "records"
            if topic is None:
                if key == "appends":
                    appends += value
                else:
                    records += value
            else:
                by_topic[topic][key] += value
    return Counters(requests, appends, records, dict(by_topic))


def _per(a: float, b: float) -> float | None:
    return round(a / b, 2) if b > 0 else None


def delta(before: Counters | None, after: Counters | None, seconds: float) -> dict:
    """What the broker counted between two readings, per second and per request; all None if a
    reading is missing."""
    if before is None or after is None or seconds <= 0:
        return {"produce_requests": None, "records": None, "produce_requests_per_s": None,
                "records_per_s": None, "records_per_produce_request": None, "appends": None,
                "records_per_append": None, "by_topic": {}, "seconds": round(seconds, 1)}
    requests = after.produce_requests - before.produce_requests
    appends = after.appends - before.appends
    records = after.records - before.records
    topics = {}
    for topic, now in sorted(after.by_topic.items()):
        then = before.by_topic.get(topic, {"appends": 0.0, "records": 0.0})
        a, r = now["appends"] - then["appends"], now["records"] - then["records"]
        if a or r:
            topics[topic] = {"appends": int(a), "records": int(r), "records_per_append": _per(r, a)}
    return {"produce_requests": int(requests), "records": int(records),
            "produce_requests_per_s": round(requests / seconds, 1),
            "records_per_s": round(records / seconds, 1),
            "records_per_produce_request": _per(records, requests), "appends": int(appends),
            "records_per_append": _per(records, appends), "by_topic": topics, "seconds": round(seconds, 1)}


class BrokerCounters:
    """`read()` -> Counters or None. Compiles the helper once (javac), else runs it from source."""

    def __init__(self, broker_pid: Callable[[], int | None]):
        """`broker_pid`: looked up at every reading (the broker may have been restarted)."""
        self.broker_pid = broker_pid
        self.problem: str | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-jmx-")
        self._cmd = self._command()

    def _command(self) -> list[str] | None:
        java = shutil.which("java")
        if java is None:
            self.problem = "java not found on PATH"
            return None
        javac = shutil.which("javac")
        if javac and subprocess.run([javac, "-d", self._tmp.name, str(SOURCE)],
                                    capture_output=True).returncode == 0:
            return [java, "-cp", self._tmp.name, "MBeanCounters"]
        return [java, str(SOURCE)]  # the source launcher compiles it in memory, each time

    def read(self) -> Counters | None:
        if self._cmd is None:
            return None
        pid = self.broker_pid()
        if pid is None:
            self.problem = "no running kafka process"
            return None
        try:
            proc = subprocess.run([*self._cmd, str(pid), "Count", PRODUCE_REQUESTS, APPENDS, RECORDS],
                                  capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.problem = f"MBeanCounters: {exc}"
            return None
        if proc.returncode != 0:
            self.problem = f"MBeanCounters exited {proc.returncode}: {proc.stderr.strip()[-500:]}"
            return None
        try:
            return parse(json.loads(proc.stdout))
        except ValueError as exc:
            self.problem = f"MBeanCounters printed no JSON: {exc}"
            return None

    def close(self) -> None:
        self._tmp.cleanup()
