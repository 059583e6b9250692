"""`make experiment NAME=<name>` / `make experiments` (python -m experiments NAME… | all [--fast]).

For each experiment: fresh senders, a timeline of the stack's counters every second, the case
itself (faults through the process supervisor, load from k6), then the exact accounting of the
run's messages, with whether the machine was quiet meanwhile (benchmarks/quiet.py, as for `make
bench`). Writes results/experiments/<name>/latest.json, summary.md and timeline.png, and keeps
each run's result as <name>/runs/<timestamp>.json (consecutive runs stay comparable).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import e2e, users
from benchmarks.quiet import LoadWatch
from devstack.cluster import SIZES, Cluster, recorded, with_stack_settings
from devstack.layout import REPO_DIR, Layout, git_sha
from devstack.probes import http_answers
from devstack.stack_client import Providers
from devstack.supervisor import Supervisor
from devstack.topology import Topology, local
from experiments import accounting, chart
from experiments.cases import CASES, CHANNELS, DESCRIPTIONS
from experiments.cluster_faults import CLUSTER_CASES, CLUSTER_DESCRIPTIONS
from experiments.run import Run
from experiments.timeline import Timeline

ALL_CASES = CASES | CLUSTER_CASES
HEALTHY_PROVIDER = {"mode": "up", "failure_rate": 0.0, "latency_ms": {"min": 1, "max": 5}}


def cluster_arg(result: dict) -> str:
    """What the experiment's command needs to run on the stack it ran on."""
    nodes = result.get("cluster_nodes", 1)
    return f" CLUSTER={nodes}" if nodes > 1 else ""


SHORT_JSON = 60  # a list or dict figure this short (compact JSON) stays in the figures table
ACCOUNTING_COLUMNS = {"accepted": "accepted (202)", "retried": "resends after 5xx", "abandoned": "abandoned",
                      "stored": "stored", "delivered": "delivered", "failed": "failed",
                      "duplicates": "duplicates", "out_of_order_recipients": "out of order", "exact": "exact"}


def table_text(text: str) -> str:
    """Plain text for a table cell: one line, `|` escaped (it would split the cell)."""
    return " ".join(text.splitlines()).replace("|", "\\|")


def code_span(text: str) -> str:
    """`text` as a code span in a table cell: fenced by more backticks than it holds, `|` escaped."""
    text = table_text(text)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def is_long(value: object) -> bool:
    """A figure too long for a table cell: a list of records (e.g. rebalance_log) or a list or dict
    whose compact JSON passes SHORT_JSON."""
    if is_scalar(value):
        return False
    records = isinstance(value, list) and any(isinstance(item, dict) for item in value)
    return records or len(json.dumps(value)) > SHORT_JSON


def record_table(records: list) -> list[str] | None:
    """A list of flat dicts (rebalance_log: t, process, message) as a table, one row per entry;
    None when an entry is not a flat dict."""
    if not all(isinstance(r, dict) and all(map(is_scalar, r.values())) for r in records):
        return None
    columns = list(dict.fromkeys(k for r in records for k in r))
    cell = lambda v: code_span(v) if isinstance(v, str) else json.dumps(v)  # noqa: E731
    return (["| " + " | ".join(table_text(str(c)) for c in columns) + " |",
             "| " + " | ".join("---" for _ in columns) + " |"]
            + ["| " + " | ".join(cell(r[c]) if c in r else "" for c in columns) + " |" for r in records])


def indented_json(value: object, indent: int = 0, key: str = "", width: int = 120) -> str:
    """JSON indented by two spaces a level, except that a list or dict that fits the line (with
    its `key`, a dict's entry) stays on one: each step of a phase is one line."""
    flat = json.dumps(value)
    if is_scalar(value) or not value or indent + len(key) + len(flat) <= width:
        return key + flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [pad + indented_json(v, indent + 2, f"{json.dumps(k)}: ", width) for k, v in value.items()]
        brackets = "{}"
    elif isinstance(value, list):
        items = [pad + indented_json(v, indent + 2, "", width) for v in value]
        brackets = "[]"
    else:
        return key + flat
    return f"{key}{brackets[0]}\n" + ",\n".join(items) + "\n" + " " * indent + brackets[1]


def figure_section(name: str, value: list | dict) -> list[str]:
    """A long figure after the summary: a table of its entries, or its indented JSON."""
    lines = [f"## Figure `{name}` ({len(value)} entries)", ""]
    table = record_table(value) if isinstance(value, list) else None
    if table is None:
        text = indented_json(value)
        fence = "`" * max(3, max(map(len, re.findall("`+", text)), default=0) + 1)
        table = [f"{fence}json", text, fence]
    return lines + table + [""]


def markdown(name: str, result: dict) -> str:
    lines = [f"# Experiment `{name}` ({result['timestamp']}, {result['git_sha'][:10]})", "",
             f"`make experiment NAME={name}{cluster_arg(result)}`"
             f"{' (fast variant)' if result['fast'] else ''}; chart: [timeline.png](timeline.png).", ""]
    if machine := result.get("machine"):
        lines += [f"Machine {'quiet' if machine['quiet'] else 'NOT quiet'} during the run: other processes "
                  f"used {machine['others_cores']:.3f} cores, steal {machine['steal_pct']:.2f} %.", ""]
    long = {k: v for k, v in result["figures"].items() if is_long(v)}
    lines += ["| Figure | Value |", "| --- | --- |"]
    lines += [f"| {table_text(k)} | " + (f"{len(v)} entries: section `{table_text(k)}` below" if k in long
                                          else code_span(json.dumps(v))) + " |"
              for k, v in result["figures"].items()]
    acc = result["accounting"]
    # A column a run's version did not record yet (resends, abandoned) is n/a, not 0.
    lines += ["", "Accounting of this run's messages:", "",
              "| " + " | ".join(ACCOUNTING_COLUMNS.values()) + " |",
              "| " + " | ".join("---" for _ in ACCOUNTING_COLUMNS) + " |",
              "| " + " | ".join(str(acc.get(k, "n/a")) for k in ACCOUNTING_COLUMNS) + " |", "",
              "Checks:", ""]
    lines += [f"- [{'x' if ok else ' '}] {check}" for check, ok in result["checks"].items()]
    lines += ["", "Faults and events:", ""]
    lines += [f"- t = {m['t']:.1f} s: {m['event']}" for m in result["timeline"]["marks"]]
    if long:
        lines.append("")
        for k, v in long.items():
            lines += figure_section(k, v)
        lines.pop()  # the last section's blank line
    return "\n".join(lines) + "\n"


def heal_providers(topology: Topology) -> None:
    for channel in topology.channels:
        Providers(topology).configure(channel, **HEALTHY_PROVIDER)


def restart_everything(x: Run, cluster: Cluster) -> None:
    """Leave the stack whole for the next experiment: start whatever a case stopped."""
    nodes = [cluster.node_name(c, i) for c in ("kafka", "cassandra") for i in range(1, cluster.nodes + 1)]
    for program in (*nodes, "connector-whatsapp", "connector-instagram"):
        x.ctl("start", program)


SINGLE_NODE = Cluster(1)


def run_one(topology: Topology, name: str, fast: bool, out_root: Path,
            cluster: Cluster = SINGLE_NODE) -> dict:
    print(f"[experiment] {name}{' (fast)' if fast else ''}", flush=True)
    heal_providers(topology)
    e2e.wait_drained(topology, 300)
    with tempfile.TemporaryDirectory() as tmp:
        senders = users.create(topology.api_url, 8 if fast else 20)
        users_file = Path(tmp) / "users.json"
        users_file.write_text(json.dumps(senders))
        # The stack (everything under supervisord, including what the case starts) and this process
        # are the run; anything else using CPU makes it noisy.
        supervisord = Supervisor(Layout.from_env()).pid()
        with Timeline() as timeline, LoadWatch(roots=[supervisord] if supervisord else []) as watch:
            x = Run(senders, users_file, timeline, fast)
            try:
                figures = ALL_CASES[name](x)
            finally:
                heal_providers(topology)
                restart_everything(x, cluster)
            # Still on the timeline: the drain shows.
            acc = accounting.account(topology, senders, x.accepted, **x.resends)
            timeline.mark("accounted")
    checks = figures.pop("checks") | {"exact accounting (accepted == stored == delivered, 0 duplicates, "
                                      "0 abandoned)": acc["exact"], "provider order == acceptance order":
                                      acc["out_of_order_recipients"] == 0}
    result = {"name": name, "fast": fast, "cluster_nodes": cluster.nodes, "figures": figures,
              "accounting": acc, "checks": checks,
              "passed": all(checks.values()), "timeline": timeline.to_json(),
              "machine": watch.result.as_dict(),
              "git_sha": git_sha(), "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}
    out = out_root / name
    (out / "runs").mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    stamp = result["timestamp"].replace(":", "").replace("+0000", "Z")
    (out / "runs" / f"{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(name, result))
    chart.draw(timeline, f"{name}: throughput, lag and latency", out / "timeline.png", CHANNELS.get(name, ()))
    print(markdown(name, result), flush=True)
    return result


USAGE = ("usage: make experiment NAME=<name> [FAST=1] [CLUSTER=3]  (python -m experiments <name>...)\n"
         "       make experiments [FAST=1] [CLUSTER=3]  (python -m experiments all: every experiment\n"
         "       for the running stack's size)")


def catalogue() -> str:
    """The usage line and every experiment's name with its one-line description."""
    groups: dict[str, tuple[Mapping[str, object], dict[str, str]]] = {
        "on the one-node stack (`make up`)": (CASES, DESCRIPTIONS),
        "on the replicated stack (`make up CLUSTER=3`)": (CLUSTER_CASES, CLUSTER_DESCRIPTIONS)}
    width = max(map(len, ALL_CASES))
    lines = [USAGE]
    for title, (cases, descriptions) in groups.items():
        lines += ["", f"Experiments {title}:"]
        lines += [f"  {name:<{width}}  {descriptions.get(name, '')}".rstrip() for name in cases]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments",
                                     description="Chat4All fault experiments (needs `make up`).")
    parser.add_argument("names", nargs="*",
                        help=f"'all' (for the stack's size) or some of: {', '.join(CASES)}; "
                        f"on `make up CLUSTER=3`: {', '.join(CLUSTER_CASES)}")
    parser.add_argument("--cluster", type=int, choices=SIZES,
                        help="the size the running stack must have (make experiment … CLUSTER=3)")
    parser.add_argument("--fast", action="store_true", help="seconds-long variants (used by the tests)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "results" / "experiments")
    args = parser.parse_args(argv)
    if not args.names:
        print(catalogue(), file=sys.stderr)
        return 2
    unknown = [] if args.names == ["all"] else [n for n in args.names if n not in ALL_CASES]
    if unknown:
        print(f"unknown experiment(s): {', '.join(unknown)}"
              f"{' (`all` runs every experiment, alone)' if 'all' in unknown else ''}\n\n{catalogue()}",
              file=sys.stderr)
        return 2
    layout = Layout.from_env()
    cluster = recorded(layout.state) or Cluster(1)
    if args.cluster and args.cluster != cluster.nodes:
        parser.error(f"CLUSTER={args.cluster}, but the stack in {layout.state} has {cluster.nodes} node(s) "
                     f"of Kafka and Cassandra: `make up CLUSTER={args.cluster}` first "
                     "(README: A replicated backbone)")
    cases = CLUSTER_CASES if cluster.nodes > 1 else CASES
    names = list(cases) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in cases]
    if unknown:
        other = "`make up` (one node)" if cluster.nodes > 1 else "`make up CLUSTER=3`"
        parser.error(f"unknown experiment(s) {unknown} for this {cluster.nodes}-node stack; choose from "
                     f"{', '.join(cases)} (the others need {other})")
    # Every client of the experiment (its settings, the timeline's lag reader) gets every node.
    os.environ.update(with_stack_settings(cluster, os.environ))
    topology = local()
    if not http_answers(topology.apis[0].port, "/health"):
        parser.error(f"the API does not answer at {topology.apis[0].url}: run `make up` first")
    results = [run_one(topology, name, args.fast, args.out, cluster) for name in names]
    failed = [r["name"] for r in results if not r["passed"]]
    print(f"[experiment] {len(results) - len(failed)}/{len(results)} passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
