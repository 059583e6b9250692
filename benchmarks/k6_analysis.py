"""Summarise one k6 run (scripts/run-loadtest.sh's result directory) into tables and charts.

    python -m benchmarks.k6_analysis RESULT_DIR [--raw FILE] [--bucket SECONDS]

Reads RESULT_DIR/raw.ndjson (k6 ``--out json``; also .ndjson.gz) line by line — only the
per-request numbers it needs are kept, in compact arrays — plus k6-summary.json (thresholds) and
pipeline.json (accepted vs delivered) when present, and writes:

- summary.json / summary.md: duration, requests (total, failed, error rate, req/s), latency
  (avg, P50, P90, P95, P99, max) overall and per `endpoint` tag, POST /v1/messages throughput
  (msg/s, msg/min), iterations, dropped iterations, thresholds, pipeline accounting;
- latency.png: P50/P95/P99 per time bucket, one panel per endpoint;
- throughput.png: requests/s per endpoint per time bucket, with the active VUs.

Requests made by setup() (registrations, logins: group "::setup", no scenario tag) are counted
in the totals but kept out of the latency and throughput figures, which describe the load.
Percentiles interpolate linearly between closest ranks, like k6's own summary.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import itertools
import json
import math
import os
import sys
from array import array
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.accounting import k6_summary
from benchmarks.push_summary import markdown as push_markdown
from benchmarks.push_summary import push_figures
from benchmarks.resources import summarize as summarize_resources
from devstack.layout import git_sha

try:
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is in the venv
    _loads = json.loads

MESSAGES_ENDPOINT = "POST /v1/messages"
WANTED = {"http_reqs", "http_req_duration", "http_req_failed", "iterations", "dropped_iterations", "vus"}
PERCENTILES = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}


# ------------------------------------------------------------------------------------- parsing

_epoch_cache: dict[tuple[str, str], float] = {}


def parse_time(s: str) -> float:
    """RFC 3339 with up to nanoseconds ("2026-11-24T20:52:15.161233399Z") -> epoch seconds."""
    base, rest = s[:19], s[19:]
    frac = 0.0
    if rest.startswith("."):
        end = 1
        while end < len(rest) and rest[end].isdigit():
            end += 1
        frac = float("0" + rest[:end])
        rest = rest[end:]
    tz = rest or "Z"
    key = (base, tz)
    epoch = _epoch_cache.get(key)
    if epoch is None:
        if len(_epoch_cache) > 100_000:
            _epoch_cache.clear()
        epoch = datetime.fromisoformat(base + ("+00:00" if tz in ("Z", "z") else tz)).timestamp()
        _epoch_cache[key] = epoch
    return epoch + frac


def open_raw(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def iter_points(path: Path):
    """(metric, epoch, value, tags) for every Point of a metric in WANTED, streamed."""
    prefix = b'{"metric":"'
    with open_raw(path) as fh:
        for line in fh:
            if line.startswith(prefix):  # k6 writes Points as {"metric":"<name>","type":"Point",...}
                name = line[len(prefix): line.index(b'"', len(prefix))].decode()
                if name not in WANTED:
                    continue
            elif b'"Point"' not in line:
                continue
            obj = _loads(line)
            if obj.get("type") != "Point" or obj.get("metric") not in WANTED:
                continue
            data = obj["data"]
            yield obj["metric"], parse_time(data["time"]), float(data["value"]), data.get("tags") or {}


# ------------------------------------------------------------------------------------- numbers

def percentile(sorted_values, pct: float) -> float | None:
    """k6's percentile: linear interpolation at rank pct/100 * (n - 1) of the sorted values."""
    n = len(sorted_values)
    if n == 0:
        return None
    if n == 1:
        return float(sorted_values[0])
    rank = pct / 100.0 * (n - 1)
    lo, hi = math.floor(rank), math.ceil(rank)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo))


def latency_stats(values) -> dict[str, float | None]:
    import numpy as np

    arr = np.sort(np.frombuffer(values, dtype=np.float64)) if len(values) else np.array([])
    out: dict[str, float | None] = {
        "avg_ms": float(arr.mean()) if arr.size else None,
        "min_ms": float(arr[0]) if arr.size else None,
        "max_ms": float(arr[-1]) if arr.size else None,
    }
    for key, pct in PERCENTILES.items():
        out[f"{key}_ms"] = percentile(arr, pct)
    return out


def rate(count: float, duration_s: float | None) -> float | None:
    return count / duration_s if duration_s and duration_s > 0 else None


def r3(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


class Aggregate:
    """Everything the report needs, accumulated point by point."""

    def __init__(self):
        self.http_reqs = 0  # every http_reqs point (setup included)
        self.requests: Counter[tuple[str, str]] = Counter()  # (phase, endpoint) -> requests
        self.failed: Counter[tuple[str, str]] = Counter()
        self.statuses: dict[str, Counter[str]] = defaultdict(Counter)  # load endpoint -> status
        self.durations: dict[str, array] = defaultdict(lambda: array("d"))  # load endpoint
        # (load endpoint, size_band tag) -> durations: uploads by file size (04-file-upload)
        self.band_durations: dict[tuple[str, str], array] = defaultdict(lambda: array("d"))
        self.times: dict[str, array] = defaultdict(lambda: array("d"))  # parallel to durations
        self.req_times: dict[str, array] = defaultdict(lambda: array("d"))  # load http_reqs times
        self.first: float | None = None
        self.last: float | None = None
        self.iterations = 0.0
        self.dropped = 0.0
        self.dropped_times = array("d")
        self.failed_times = array("d")  # load requests that failed
        self.vus: list[tuple[float, float]] = []

    @staticmethod
    def phase(tags: dict) -> str:
        if tags.get("scenario"):
            return "load"
        group = tags.get("group", "")
        return "setup" if group.startswith("::setup") else ("teardown" if group.startswith("::teardown")
                                                            else "other")

    def add(self, metric: str, t: float, value: float, tags: dict) -> None:
        if metric == "vus":
            self.vus.append((t, value))
            return
        if metric == "iterations":
            self.iterations += value
            return
        if metric == "dropped_iterations":
            self.dropped += value
            self.dropped_times.append(t)
            return
        phase = self.phase(tags)
        endpoint = tags.get("endpoint") or tags.get("name") or "(untagged)"
        if metric == "http_reqs":
            self.http_reqs += 1
            self.requests[(phase, endpoint)] += 1
            if phase == "load":
                self.statuses[endpoint][tags.get("status", "?")] += 1
                self.req_times[endpoint].append(t)
                self.first = t if self.first is None else min(self.first, t)
                self.last = t if self.last is None else max(self.last, t)
        elif metric == "http_req_failed":
            if value:
                self.failed[(phase, endpoint)] += 1
                if phase == "load":
                    self.failed_times.append(t)
        elif metric == "http_req_duration" and phase == "load":
            self.durations[endpoint].append(value)
            self.times[endpoint].append(t)
            if tags.get("size_band"):
                self.band_durations[(endpoint, tags["size_band"])].append(value)


def read(path: Path) -> Aggregate:
    agg = Aggregate()
    for point in iter_points(path):
        agg.add(*point)
    return agg


def endpoint_row(agg: Aggregate, endpoint: str, duration_s: float | None) -> dict[str, Any]:
    reqs, failed = agg.requests[("load", endpoint)], agg.failed[("load", endpoint)]
    return {"requests": reqs, "failed": failed, "error_rate": reqs and failed / reqs,
            "req_per_s": r3(rate(reqs, duration_s)),
            **{k: r3(v) for k, v in latency_stats(agg.durations[endpoint]).items()},
            "statuses": dict(sorted(agg.statuses[endpoint].items()))}


def summarize(agg: Aggregate) -> dict[str, Any]:
    duration = (agg.last - agg.first) if agg.first is not None else None
    endpoints = sorted({ep for (phase, ep) in agg.requests if phase == "load"})
    load_reqs = sum(n for (phase, _), n in agg.requests.items() if phase == "load")
    load_failed = sum(n for (phase, _), n in agg.failed.items() if phase == "load")
    all_durations = array("d")
    for ep in endpoints:
        all_durations.extend(agg.durations[ep])
    overall = {"requests": load_reqs, "failed": load_failed,
               "error_rate": load_reqs and load_failed / load_reqs,
               "req_per_s": r3(rate(load_reqs, duration)),
               **{k: r3(v) for k, v in latency_stats(all_durations).items()}}
    posted = agg.requests[("load", MESSAGES_ENDPOINT)]
    accepted = agg.statuses[MESSAGES_ENDPOINT].get("202", 0)
    msg_s = rate(accepted, duration)
    other = {}
    for (phase, ep), n in sorted(agg.requests.items()):
        if phase != "load":
            other.setdefault(phase, {})[ep] = {"requests": n, "failed": agg.failed[(phase, ep)]}
    return {
        "window": {
            "start": datetime.fromtimestamp(agg.first, UTC).isoformat() if agg.first else None,
            "end": datetime.fromtimestamp(agg.last, UTC).isoformat() if agg.last else None,
            "duration_s": r3(duration),
        },
        "requests": {"total": agg.http_reqs, "failed": sum(agg.failed.values()), "load": load_reqs,
                     "other_phases": sum(n for (p, _), n in agg.requests.items() if p != "load")},
        "overall": overall,
        "endpoints": {ep: endpoint_row(agg, ep, duration) for ep in endpoints},
        "other_phases": other,
        "messages": {"posted": posted, "accepted": accepted, "msg_per_s": r3(msg_s),
                     "msg_per_min": r3(msg_s * 60 if msg_s is not None else None)},
        "size_bands": size_bands(agg),
        "stages": stages(agg),
        "drift": drift(agg),
        "iterations": int(agg.iterations),
        "dropped_iterations": int(agg.dropped),
        "max_vus": int(max((v for _, v in agg.vus), default=0)),
    }


def size_bands(agg: Aggregate) -> dict[str, dict[str, dict[str, Any]]]:
    """{endpoint: {size band: requests and latency}} of the requests tagged with a size_band."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (endpoint, band), values in sorted(agg.band_durations.items()):
        out.setdefault(endpoint, {})[band] = {"requests": len(values),
                                              **{k: r3(v) for k, v in latency_stats(values).items()}}
    return out


def stages(agg: Aggregate, min_s: float = 10.0) -> list[dict[str, Any]]:
    """The load per VU level held at least `min_s` (k6's `vus` samples): a staircase's steps (05-stress),
    each with its requests, errors, rate and latency; ramps between levels are left out."""
    samples = sorted(agg.vus)
    if len(samples) < 2:
        return []
    times = [t for t, _ in samples]

    def level_at(t: float) -> int:
        return int(samples[max(0, bisect.bisect_right(times, t) - 1)][1])

    held: Counter[int] = Counter()
    for (t0, level), (t1, _) in itertools.pairwise(samples):
        held[int(level)] += t1 - t0
    durations: dict[int, array] = defaultdict(lambda: array("d"))
    for endpoint, ts in agg.times.items():
        for t, value in zip(ts, agg.durations[endpoint], strict=True):
            durations[level_at(t)].append(value)
    failed = Counter(level_at(t) for t in agg.failed_times)
    out = []
    for level in sorted(held):
        if held[level] < min_s or not durations[level]:
            continue
        n, stats = len(durations[level]), latency_stats(durations[level])
        out.append({"vus": level, "seconds": r3(held[level]), "requests": n, "failed": failed[level],
                    "error_rate": r3(failed[level] / n), "req_per_s": r3(n / held[level]),
                    **{k: r3(stats[k]) for k in ("p50_ms", "p95_ms", "p99_ms")}})
    return out


def drift(agg: Aggregate) -> dict[str, Any] | None:
    """Latency of the load's first third against its last third (every load endpoint): does it grow
    over a long run? (06-soak: "latência não aumenta mais de 15 %")."""
    if agg.first is None or agg.last is None or agg.last <= agg.first:
        return None
    third = (agg.last - agg.first) / 3
    early, late = array("d"), array("d")
    for endpoint, times in agg.times.items():
        for t, value in zip(times, agg.durations[endpoint], strict=True):
            if t <= agg.first + third:
                early.append(value)
            elif t >= agg.last - third:
                late.append(value)
    if not early or not late:
        return None
    first, last = latency_stats(early), latency_stats(late)

    def change(key: str) -> float | None:
        a, b = first[key], last[key]
        return r3(b / a - 1) if a and b is not None else None

    return {"third_s": r3(third),
            "first_third": {"requests": len(early), "p50_ms": r3(first["p50_ms"]),
                            "p95_ms": r3(first["p95_ms"])},
            "last_third": {"requests": len(late), "p50_ms": r3(last["p50_ms"]),
                           "p95_ms": r3(last["p95_ms"])},
            "p50_change": change("p50_ms"), "p95_change": change("p95_ms")}


# ------------------------------------------------------------------------------------- extras

def resources(path: Path, window: dict[str, Any]) -> dict[str, Any] | None:
    """CPU, memory and lag over the load window, from the sampler's resources.json (if it ran)."""
    if not path.is_file() or not window["start"]:
        return None
    start, end = (datetime.fromisoformat(window[k]).timestamp() for k in ("start", "end"))
    return summarize_resources(json.loads(path.read_text()), start, end)


def thresholds(summary_path: Path) -> dict[str, dict[str, str]]:
    """From --summary-export: {metric: {expression: "passed" | "crossed"}}."""
    if not summary_path.exists():
        return {}
    metrics = json.loads(summary_path.read_text()).get("metrics", {})
    return {name: {expr: "crossed" if crossed else "passed" for expr, crossed in m["thresholds"].items()}
            for name, m in sorted(metrics.items()) if m.get("thresholds")}


def pipeline(path: Path) -> dict | None:
    if not path.exists():
        return None
    report = json.loads(path.read_text())
    return {k: report.get(k) for k in ("accepted", "delivered", "lost", "duplicates", "final_lag",
                                        "drain", "run", "global", "k6_exit_code")}


# ------------------------------------------------------------------------------------- charts

def bucket_series(times: array, values: array | None, t0: float, bucket_s: float):
    """(bucket start offsets, counts, {p50,p95,p99: per-bucket values}) with numpy."""
    import numpy as np

    t = np.frombuffer(times, dtype=np.float64)
    idx = np.floor((t - t0) / bucket_s).astype(np.int64)
    n_buckets = int(idx.max()) + 1 if idx.size else 0
    counts = np.bincount(idx, minlength=n_buckets) if idx.size else np.array([])
    pcts: dict[str, Any] = {}
    if values is not None and idx.size:
        v = np.frombuffer(values, dtype=np.float64)
        order = np.lexsort((v, idx))
        idx_s, v_s = idx[order], v[order]
        bounds = np.searchsorted(idx_s, np.arange(n_buckets + 1))
        for key in ("p50", "p95", "p99"):
            pcts[key] = np.array([percentile(v_s[bounds[b]:bounds[b + 1]], PERCENTILES[key])
                                  if bounds[b + 1] > bounds[b] else np.nan for b in range(n_buckets)])
    return np.arange(n_buckets) * bucket_s, counts, pcts


def charts(agg: Aggregate, out: Path, bucket_s: float, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    endpoints = sorted(agg.durations)
    t0 = agg.first or 0.0
    p95_slo = float(os.environ.get("P95_MS", "200"))

    fig, axes = plt.subplots(max(1, len(endpoints)), 1, figsize=(11, 3.4 * max(1, len(endpoints))),
                             squeeze=False, sharex=True)
    for ax, ep in zip(axes[:, 0], endpoints or ["(no requests)"], strict=False):
        if ep in agg.durations:
            x, _, pcts = bucket_series(agg.times[ep], agg.durations[ep], t0, bucket_s)
            for key, style in (("p50", "-"), ("p95", "-"), ("p99", ":")):
                ax.plot(x, pcts[key], style, label=key.upper(), linewidth=1.4)
            ax.axhline(p95_slo, color="red", linestyle="--", linewidth=0.8, label=f"{p95_slo:g} ms")
        ax.set_title(ep, fontsize=10)
        ax.set_ylabel("latency (ms)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel(f"seconds since the first request ({bucket_s:g} s buckets)")
    fig.suptitle(f"{title}: latency per {bucket_s:g} s")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(11, 4.5))
    for ep in sorted(agg.req_times):
        x, counts, _ = bucket_series(agg.req_times[ep], None, t0, bucket_s)
        ax.plot(x, counts / bucket_s, label=ep, linewidth=1.4)
    if agg.dropped_times:
        x, counts, _ = bucket_series(agg.dropped_times, None, t0, bucket_s)
        ax.plot(x, counts / bucket_s, color="red", linestyle=":", label="dropped iterations/s")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("requests/s")
    ax.set_xlabel(f"seconds since the first request ({bucket_s:g} s buckets)")
    ax.grid(alpha=0.3)
    if agg.vus:
        ax2 = ax.twinx()
        ax2.plot([t - t0 for t, _ in agg.vus], [v for _, v in agg.vus], color="gray", alpha=0.5,
                 linewidth=1, label="VUs")
        ax2.set_ylabel("active VUs")
        ax2.set_ylim(bottom=0)
        ax2.legend(loc="upper left", fontsize=8)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"{title}: throughput per endpoint")
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------------- report

def fmt(x: Any, digits: int = 1) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def markdown(s: dict) -> str:
    lines = [f"# Load test {s['case']}", "",
             f"Window {s['window']['start']} → {s['window']['end']} "
             f"({fmt(s['window']['duration_s'])} s of load), buckets of {s['bucket_s']:g} s. "
             f"Raw samples: `{s['raw']}`.", "",
             "## Results", "",
             "| | requests | failed | error rate | req/s | P50 ms | P95 ms | P99 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def row(label: str, r: dict) -> str:
        return (f"| {label} | {fmt(r['requests'])} | {fmt(r['failed'])} | {r['error_rate']:.2%} | "
                f"{fmt(r['req_per_s'])} | {fmt(r['p50_ms'])} | {fmt(r['p95_ms'])} | {fmt(r['p99_ms'])} | "
                f"{fmt(r['max_ms'])} |")

    lines.append(row("**all load**", s["overall"]))
    for ep, r in s["endpoints"].items():
        lines.append(row(f"`{ep}`", r))
    m = s["messages"]
    lines += ["",
              f"- Messages: {fmt(m['posted'])} posted, {fmt(m['accepted'])} accepted (202) → "
              f"**{fmt(m['msg_per_s'])} msg/s** ({fmt(m['msg_per_min'], 0)} msg/min).",
              "- Status codes: " + "; ".join(
                  f"`{ep}` " + ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
                  for ep, r in s["endpoints"].items()),
              f"- Requests in total (setup included): {fmt(s['requests']['total'])}, "
              f"failed {fmt(s['requests']['failed'])}; iterations {fmt(s['iterations'])}, "
              f"dropped iterations {fmt(s['dropped_iterations'])}, max VUs {fmt(s['max_vus'])}."]
    for phase, eps in s["other_phases"].items():
        lines.append(f"- {phase}: " + ", ".join(f"`{ep}` {v['requests']} ({v['failed']} failed)"
                                               for ep, v in eps.items()))
    if s["thresholds"]:
        lines += ["", "## Thresholds", ""]
        for metric, exprs in s["thresholds"].items():
            for expr, state in exprs.items():
                lines.append(f"- {'✓' if state == 'passed' else '✗'} `{metric}` `{expr}`")
    p = s.get("pipeline")
    if p:
        lines += ["", "## Pipeline", "",
                  f"- Accepted (202 seen by k6): **{fmt(p['accepted'])}**; "
                  f"delivered: **{fmt(p['delivered'])}**; lost: **{fmt(p['lost'])}**; "
                  f"duplicates at providers: {fmt(p['duplicates'])}.",
                  f"- Consumer lag after the run: {fmt(p['final_lag'])} "
                  f"(drained: {p['drain']['drained'] if p.get('drain') else '-'}, "
                  f"waited {fmt(p['drain']['waited_s'] if p.get('drain') else None)} s)."]
        run = p.get("run")
        if run:
            lines.append(f"- This run's {run['conversations']} conversations: {fmt(run['stored'])} stored; "
                         f"delivered {json.dumps(run['delivered'])}; "
                         f"statuses {json.dumps(run['by_status'])}; "
                         f"failed {run['failed']}, pending {run['pending']}.")
        g = p.get("global")
        if g:
            lines.append(f"- Stack-wide deltas (include other traffic): accepted "
                         f"{fmt(g.get('messages_accepted'), 0)}, provider ledgers "
                         f"{json.dumps(g.get('provider_messages'))}, internal delivered "
                         f"{fmt(g.get('internal_delivered'), 0)}.")
    if s.get("push"):
        lines += push_markdown(s["push"])
    lines += bands_markdown(s.get("size_bands") or {}) + stages_markdown(s.get("stages") or [])
    lines += drift_markdown(s.get("drift"))
    lines += resources_markdown(s.get("resources"))
    lines += ["", f"Code: `{s.get('git_sha')}`."]
    lines += ["", "## Charts", "", "![latency](latency.png)", "", "![throughput](throughput.png)", ""]
    return "\n".join(lines)


def bands_markdown(bands: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    lines = []
    for endpoint, rows in bands.items():
        lines += ["", f"## `{endpoint}` by size", "",
                  "| size | requests | P50 ms | P95 ms | P99 ms | max ms |", "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {band} | {fmt(r['requests'])} | {fmt(r['p50_ms'])} | {fmt(r['p95_ms'])} | "
                  f"{fmt(r['p99_ms'])} | {fmt(r['max_ms'])} |" for band, r in rows.items()]
    return lines


def stages_markdown(rows: list[dict[str, Any]]) -> list[str]:
    if len(rows) < 2:
        return []
    lines = ["", "## By VU level", "", "| VUs | held s | requests | failed | error rate | req/s | P50 ms | "
             "P95 ms | P99 ms |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['vus']} | {fmt(r['seconds'], 0)} | {fmt(r['requests'])} | {fmt(r['failed'])} | "
              f"{r['error_rate']:.2%} | {fmt(r['req_per_s'])} | {fmt(r['p50_ms'])} | {fmt(r['p95_ms'])} | "
              f"{fmt(r['p99_ms'])} |" for r in rows]
    return lines


def drift_markdown(d: dict[str, Any] | None) -> list[str]:
    if not d:
        return []
    first, last = d["first_third"], d["last_third"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:+.1%}"

    return ["", "## Latency over time", "",
            f"- First third of the load ({fmt(d['third_s'], 0)} s, {fmt(first['requests'])} requests): "
            f"P50 {fmt(first['p50_ms'])} ms, P95 {fmt(first['p95_ms'])} ms.",
            f"- Last third ({fmt(last['requests'])} requests): P50 {fmt(last['p50_ms'])} ms, "
            f"P95 {fmt(last['p95_ms'])} ms.",
            f"- Change: P50 {pct(d['p50_change'])}, P95 {pct(d['p95_change'])}."]


def resources_markdown(r: dict[str, Any] | None) -> list[str]:
    if not r:
        return []
    lag = r["lag"]
    lines = ["", "## Resources during the load", "",
             f"Sampled every {fmt(r['interval_s'], 0)} s from /proc ({fmt(r['samples'])} samples in the "
             "window); CPU in % of one core, as `docker stats` shows a container.", "",
             "| process | CPU mean % | CPU P95 % | CPU max % | RSS first third MiB | RSS last third MiB "
             "| RSS max MiB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {name} | {fmt(p['cpu_mean_pct'])} | {fmt(p['cpu_p95_pct'])} | {fmt(p['cpu_max_pct'])} | "
              f"{fmt(p['rss_first_third_mib'])} | {fmt(p['rss_last_third_mib'])} | {fmt(p['rss_max_mib'])} |"
              for name, p in r["processes"].items()]
    lines += ["", f"- Consumer lag (`{lag['query']}`, {fmt(lag['samples'])} samples): "
                  f"median {fmt(lag['median'])}, P95 {fmt(lag['p95'])}, max {fmt(lag['max'])}"
                  + (f" (Prometheus: {lag['error']})" if lag.get("error") else "") + "."]
    hot = r.get("first_hot_s") or {}
    lines.append(f"- First sample at or above {fmt(r.get('hot_pct'), 0)} % of a core: "
                 + (", ".join(f"{name} at {fmt(t, 0)} s ({r['hot_samples'][name]} of {fmt(r['samples'])} "
                              "samples)" for name, t in hot.items()) or "none") + ".")
    return lines


def analyze(result_dir: Path, raw: Path | None = None, bucket_s: float | None = None) -> dict:
    raw = raw or next((p for p in (result_dir / "raw.ndjson", result_dir / "raw.ndjson.gz") if p.exists()),
                      result_dir / "raw.ndjson")
    agg = read(raw)
    summary = summarize(agg)
    duration = summary["window"]["duration_s"] or 0
    bucket_s = bucket_s or (1.0 if duration <= 600 else 5.0)
    name = result_dir.resolve().name
    case = name[17:] if len(name) > 17 and name[8] == "T" and name[15] == "Z" else name
    summary = {"version": 1, "case": case, "result_dir": str(result_dir), "raw": raw.name,
               "bucket_s": bucket_s, **summary,
               "thresholds": thresholds(result_dir / "k6-summary.json"),
               "pipeline": pipeline(result_dir / "pipeline.json")}
    summary["thresholds_ok"] = all(v == "passed" for e in summary["thresholds"].values() for v in e.values())
    summary["push"] = push_figures(k6_summary(result_dir))
    # None: a run from before overrides.json was recorded (scripts/run-loadtest.sh writes it).
    overrides = result_dir / "overrides.json"
    summary["overrides"] = json.loads(overrides.read_text()) if overrides.is_file() else None
    summary["resources"] = resources(result_dir / "resources.json", summary["window"])
    # The code that measured: an earlier analysis of this run (made right after it) recorded it.
    earlier = result_dir / "summary.json"
    measured_sha = json.loads(earlier.read_text()).get("git_sha") if earlier.is_file() else None
    summary["git_sha"] = measured_sha or git_sha()
    summary["analysed_sha"] = git_sha()
    summary["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    (result_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    (result_dir / "summary.md").write_text(markdown(summary))
    charts(agg, result_dir, bucket_s, case)
    return summary


def missing_input(result_dir: Path, raw: Path | None) -> str | None:
    """Why the analysis cannot run (checked before parsing anything), or None."""
    if not result_dir.is_dir():
        return (f"{result_dir} is not a directory: pass a run directory written by `make loadtest CASE=...` "
                "(results/loadtests/<stamp>-<case>/)")
    candidates = [raw] if raw else [result_dir / "raw.ndjson", result_dir / "raw.ndjson.gz"]
    if not any(p.is_file() for p in candidates):
        names = " or ".join(str(p) for p in candidates)
        return f"no k6 samples: {names} does not exist (k6 --out json=...; raw files are not committed)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("result_dir", type=Path)
    parser.add_argument("--raw", type=Path, help="k6 --out json file (default RESULT_DIR/raw.ndjson)")
    parser.add_argument("--bucket", type=float, help="chart bucket in seconds (default 1, 5 beyond 10 min)")
    args = parser.parse_args(argv)
    problem = missing_input(args.result_dir, args.raw)
    if problem:
        print(f"[analyze] ERROR: {problem}", file=sys.stderr)
        return 2
    s = analyze(args.result_dir, args.raw, args.bucket)
    o, m = s["overall"], s["messages"]
    print(f"[analyze] {s['case']}: {o['requests']} requests in {s['window']['duration_s']} s "
          f"({o['req_per_s']} req/s), {m['msg_per_s']} msg/s, P50/P95/P99 {o['p50_ms']}/{o['p95_ms']}/"
          f"{o['p99_ms']} ms, error rate {o['error_rate']:.2%} -> {args.result_dir}/summary.md")
    push = s.get("push")
    if push:
        lat = push["latency_ms"]
        print(f"[analyze] push: {push['connected']} sockets, {push['received']}/"
              f"{push['expected_pushes']} pushes received, {push['missed']} missed, "
              f"{push['duplicated']} duplicated, accepted -> pushed P50/P95/P99 "
              f"{lat['med']}/{lat['p(95)']}/{lat['p(99)']} ms")
    p = s.get("pipeline")
    if p:
        print(f"[analyze] pipeline: accepted {p['accepted']}, delivered {p['delivered']}, lost {p['lost']}, "
              f"final lag {p['final_lag']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
