"""The Markdown summary of results/bench/latest.json."""

from __future__ import annotations


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.1f}{unit}" if isinstance(value, float) else f"{value:,}{unit}"


def _ratio(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _spread(r: dict, key: str, unit: str = "", fmt=None) -> str:
    """The median, then [min to max, n=…] when there is more than one value."""
    show = fmt or _fmt
    found = r.get("spread", {}).get(key)
    if not found:
        return show(r.get(key)) + ("" if r.get(key) is None else unit)
    text = show(found["median"]) + unit
    if found["n"] > 1:
        text += f" [{show(found['min'])} to {show(found['max'])}, n={found['n']}]"
    return text


def _quiet(r: dict) -> str:
    if r.get("quiet_machine") is None:  # results from before the machine was watched
        return "not recorded"
    text = (f"{'yes' if r['quiet_machine'] else 'NO'} (others up to {r['others_cores_max']:.3f} cores, "
            f"steal up to {r['steal_pct_max']:.2f} %)")
    if r.get("invalid_repeats"):
        text += f"; invalid repeat(s): {', '.join(map(str, r['invalid_repeats']))}"
    return text


def _yes(value) -> str:
    return "n/a" if value is None else ("yes" if value else "NO")


def markdown(r: dict) -> str:
    rows = [
        ("Reference ceiling: bare aiohttp hello, max sustained", _spread(r, "baseline_hello_rps", " req/s")),
        ("API POST /v1/messages, max sustained, workers running (errors < 0.1 %, dropped < 0.1 %, "
         "P95 < 50 ms)", _spread(r, "api_max_rps", " msg/s")),
        ("API, max sustained, workers paused (SIGSTOP)", _spread(r, "api_max_rps_isolated", " msg/s")),
        ("API P95 at that rate (workers running)", _spread(r, "api_p95_ms_at_max", " ms")),
        ("API / hello ratio, workers running (`api_to_baseline_ratio`, median of pairs)",
         _spread(r, "api_to_baseline_ratio", fmt=_ratio)),
        ("API / hello ratio, workers paused (`api_to_baseline_ratio_isolated`)",
         _spread(r, "api_to_baseline_ratio_isolated", fmt=_ratio)),
        ("API P95 at 1,000 msg/s offered", _spread(r, "api_p95_ms_at_1000", " ms")),
        ("End to end: highest sustained step (`e2e_sustained_per_s`)",
         _spread(r, "e2e_sustained_per_s", " msg/s")),
        ("End to end, highest step every repeat ran: offered", _fmt(r["e2e_offered_rps"], " msg/s")),
        ("… DELIVERED over the hold (least-squares slope)", _spread(r, "e2e_delivered_per_s", " msg/s")),
        ("… delivery latency P50 / P95 / P99",
         f"{_fmt(r['e2e_p50_ms'])} / {_fmt(r['e2e_p95_ms'])} / {_fmt(r['e2e_p99_ms'])} ms"),
        ("… drain after the load", _spread(r, "e2e_drain_s", " s")),
        ("… error rate", "n/a" if r["error_rate"] is None else f"{r['error_rate']:.3%}"),
        ("… CPU per delivered message (every process, k6 included)", _spread(r, "cpu_ms_per_message", " ms")),
        ("… Kafka produce requests/s vs records/s",
         f"{_fmt(r.get('kafka_produce_requests_per_s'))} vs {_fmt(r.get('kafka_records_per_s'))} "
         f"({_fmt(r.get('kafka_records_per_produce_request'))} records per request)"),
        ("Lost messages (accepted, never delivered; every step)", _fmt(r["lost_messages"])),
        ("Final consumer lag (max over steps)", _fmt(r["e2e_final_lag"])),
        ("Proof of delivery per message id (every step)", _yes(r.get("proof_ok"))),
        ("Quiet machine (others <= 5 % of a core in every repeat)", _quiet(r)),
    ]
    sha = r["git_sha"][:10] + (" + uncommitted changes" if r.get("git_dirty") else "")
    lines = [f"# Benchmark {r['timestamp']} ({sha})", "",
             f"Medians over {r['repeats']} repeat(s), [min to max, n] where there is more than one value; "
             f"{r.get('pairs_per_repeat', 1)} capacity pair(s) per repeat, steps of {r['step_seconds']:g} s "
             f"(first {r.get('step_discard_s', 0):g} s discarded); end to end in steps "
             f"{', '.join(f'{x:g}' for x in r.get('e2e_steps_offered', []))} msg/s, each "
             f"{r.get('e2e_warmup_s', 0):g} s warm-up + {r['e2e_seconds']:g} s hold. All components on "
             f"this machine. {priorities(r)}", "", "| Measure | Value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += _steps(r) + _repeats(r) + _cpu(r)
    lines += ["", "Chart: [latest-e2e.png](latest-e2e.png) (DELIVERED/s and group lag per step)."]
    return "\n".join(lines) + "\n"


def priorities(r: dict) -> str:
    """Which processes ran at a lower CPU priority (issue 18 asks that it be said with the figures)."""
    niced = {name: n for name, n in (r.get("nice_by_process") or {}).items() if n}
    if "nice_by_process" not in r:
        return "CPU priorities not recorded."
    if not niced:
        return "Every process at the same CPU priority."
    groups: dict[int, list[str]] = {}
    for name, n in sorted(niced.items()):
        groups.setdefault(n, []).append(name)
    return ("Lower CPU priority (WORKER_NICE): " + "; ".join(f"nice {n}: {', '.join(names)}"
                                                             for n, names in sorted(groups.items()))
            + "; every other process at 0.")


def _steps(r: dict) -> list[str]:
    steps = r.get("e2e_by_step") or {}
    if not steps:
        return []
    med = lambda s: None if s is None else s["median"]  # noqa: E731
    out = ["", "End-to-end steps (medians over the repeats that ran each step):", "",
           "| Offered msg/s | Ran | Sustained | DELIVERED/s | Drain s | P50 ms | CPU ms/msg | "
           "Produce req/s | Records/s | Records/req | Proof |", "| --- " * 11 + "|"]
    for rate, s in steps.items():
        cells = [med(s[k]) for k in ("delivered_per_s", "drain_s", "p50_ms", "cpu_ms_per_message",
                                     "kafka_produce_requests_per_s", "kafka_records_per_s",
                                     "kafka_records_per_produce_request")]
        out.append(f"| {rate} | {s['runs']} | {s['sustained']} | "
                   + " | ".join(_fmt(c) for c in cells) + f" | {_yes(s['proof_ok'])} |")
    return out


def _repeats(r: dict) -> list[str]:
    out = ["", "| Repeat | Quiet | A/H running | A/H paused | Sustained e2e | Steps |", "| --- " * 6 + "|"]
    for i, run in enumerate(r.get("runs", []), 1):
        pairs = run.get("pairs", [])
        steps = ", ".join(f"{s['offered_rps']:g}{'' if s['sustained'] else ' (not sustained)'}"
                          for s in run.get("e2e_steps", []))
        out.append(f"| {i} | {_yes(run['machine']['quiet'])} | "
                   f"{', '.join(_ratio(p['ratio']) for p in pairs)} | "
                   f"{', '.join(_ratio(p['ratio_isolated']) for p in pairs)} | "
                   f"{_fmt(run.get('e2e_sustained_per_s'))} | {steps} |")
    return out


def _cpu(r: dict) -> list[str]:
    by_process = r.get("cpu_ms_per_message_by_process") or {}
    if not by_process:
        return []
    out = ["", f"CPU ms per delivered message by process at {_fmt(r['e2e_offered_rps'])} msg/s offered:", "",
           "| Process | CPU ms/msg |", "| --- | --- |"]
    return out + [f"| {name} | {_fmt(v)} |" for name, v in by_process.items()]
