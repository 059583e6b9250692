"""The Markdown summary of results/bench/latest.json."""

from __future__ import annotations


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.1f}{unit}" if isinstance(value, float) else f"{value:,}{unit}"


def _quiet(r: dict) -> str:
    if r.get("quiet_machine") is None:  # results from before the machine was watched
        return "not recorded"
    return (f"{'yes' if r['quiet_machine'] else 'NO'} (others up to {r['others_cores_max']:.3f} cores, "
            f"steal up to {r['steal_pct_max']:.2f} %)")


def markdown(r: dict) -> str:
    rows = [
        ("Reference ceiling: bare aiohttp hello, max sustained", _fmt(r["baseline_hello_rps"], " req/s")),
        ("API POST /v1/messages, max sustained (errors < 0.1 %, P95 < 50 ms)",
         _fmt(r["api_max_rps"], " msg/s")),
        ("API P95 at that rate", _fmt(r["api_p95_ms_at_max"], " ms")),
        ("API / hello ratio", "n/a" if r["api_to_baseline_ratio"] is None
         else f"{r['api_to_baseline_ratio']:.3f}"),
        ("API P95 at 1,000 msg/s offered", _fmt(r["api_p95_ms_at_1000"], " ms")),
        ("End to end: offered", _fmt(r["e2e_offered_rps"], " msg/s")),
        ("End to end: DELIVERED", _fmt(r["e2e_delivered_per_s"], " msg/s")),
        ("Delivery latency P50 / P95 / P99",
         f"{_fmt(r['e2e_p50_ms'])} / {_fmt(r['e2e_p95_ms'])} / {_fmt(r['e2e_p99_ms'])} ms"),
        ("Error rate (end to end)", f"{(r['error_rate'] or 0):.3%}"),
        ("Lost messages (accepted, never delivered)", _fmt(r["lost_messages"])),
        ("Final consumer lag (max over repeats)", _fmt(r["e2e_final_lag"])),
        ("CPU per delivered message (every process, k6 included)",
         _fmt(r.get("cpu_ms_per_message"), " ms")),
        ("Quiet machine (others <= 5 % of a core in every repeat)", _quiet(r)),
    ]
    lines = [f"# Benchmark {r['timestamp']} ({r['git_sha'][:10]})", "",
             f"Medians over {r['repeats']} repeat(s); capacity steps of {r['step_seconds']:g} s, "
             f"end to end held {r['e2e_seconds']:g} s. All components on this machine.", "",
             "| Measure | Value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    last = r["runs"][-1]["e2e"]["processes"]
    lines += ["", "Processes during the last end-to-end run:", "", "| Process | CPU % | Peak RSS MiB |",
              "| --- | --- | --- |"]
    lines += [f"| {name} | {p['cpu_pct']} | {p['peak_rss_mib']} |" for name, p in sorted(last.items())]
    return "\n".join(lines) + "\n"
