"""The committed results files, loaded into the template's context.

Every figure the report prints comes from here: results/bench, results/profile,
results/experiments/<name>, the newest results/loadtests/<run>/summary.json of each case, and the
settings' defaults (the configuration appendix). A missing file stops the build with its path and
the command that writes it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chat4all_app.settings import Settings, documentation
from devstack.layout import git_sha
from experiments.cases import CASES
from experiments.cluster_faults import CLUSTER_CASES

# In the order `make experiments` runs them, then `make experiments CLUSTER=3`. The alerts
# experiment is not a fault of the pipeline: the observability section shows it (ctx["alerts"]).
EXPERIMENTS = tuple(name for name in (*CASES, *CLUSTER_CASES) if name != "alerts")
# The k6 cases in the assignment's order (§2.2), then ours; the report shows the newest run of each.
LOADTEST_CASES = ("01-warmup", "02-baseline", "03-spike", "04-file-upload", "05-stress", "06-soak",
                  "07-capacity", "08-websocket")
# The live dashboards in Chromium (monitoring.live), captured during a load test and a failover.
LIVE_CAPTURES = {"load": "results/dashboards/live-load", "failover": "results/dashboards/live-failover"}
METRICS_SOURCE = Path(__file__).resolve().parent.parent / "chat4all_app" / "observability" / "metrics.py"
# Who exposes each section of chat4all_app/observability/metrics.py ("# --- <section> ---").
METRIC_SECTIONS = {"every process": "todos os processos", "api-service": "API",
                   "workers (router, connectors)": "router e connectors", "connectors": "connectors"}

# Settings shown in the configuration appendix, with their meaning in Portuguese.
CONFIG_ROWS = {
    "KAFKA_TOPIC_MESSAGES_PARTITIONS": "Partições do tópico de mensagens (limite de workers paralelos)",
    "KAFKA_REPLICATION_FACTOR": "Fator de replicação dos tópicos (nó único localmente)",
    "KAFKA_PUBLISH_TIMEOUT_S": "Espera máxima pelo ack do Kafka antes de responder 503 (s)",
    "CASSANDRA_REPLICATION_FACTOR": "Fator de replicação do keyspace",
    "ROUTER_BATCH_SIZE": "Eventos por lote do router (stream.take)",
    "BATCH_WITHIN_S": "Espera máxima para completar um lote (s)",
    "BROKER_SESSION_TIMEOUT_S": "Timeout de sessão do consumidor: detecção de worker morto (s)",
    "TABLE_STANDBY_REPLICAS": "Réplicas quentes das tabelas RocksDB em outro worker",
    "STALL_AFTER_S": "Partição com lag e sem progresso por este tempo reinicia o worker (s)",
    "CIRCUIT_FAIL_MAX": "Falhas consecutivas que abrem o circuit breaker de um canal",
    "CIRCUIT_RESET_S": "Tempo em OPEN antes da chamada de teste HALF_OPEN (s)",
    "FILE_MAX_BYTES": "Maior arquivo aceito (bytes)",
    "PROMETHEUS_SCRAPE_INTERVAL": "Intervalo de coleta do Prometheus local",
}


class ReportDataError(RuntimeError):
    """A results file the report needs is missing or unreadable."""


def read_json(root: Path, relative: str, how: str) -> dict[str, Any]:
    path = root / relative
    if not path.is_file():
        raise ReportDataError(f"{relative} is missing: {how}, then commit the results and re-run "
                              "`make report`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ReportDataError(f"{relative} is not valid JSON ({exc}): {how}") from exc


def loadtest_runs(root: Path) -> list[dict[str, Any]]:
    """Every run under results/loadtests with a summary.json, oldest first (dirs start with a UTC stamp)."""
    base = root / "results" / "loadtests"
    runs = []
    for summary in sorted(base.glob("*/summary.json")) if base.is_dir() else []:
        run = json.loads(summary.read_text())
        run["dir"] = summary.parent.relative_to(root).as_posix()
        run["charts"] = {p.stem: p for p in sorted(summary.parent.glob("*.png"))}
        runs.append(run)
    if not runs:
        raise ReportDataError("results/loadtests/<run>/summary.json is missing: run "
                              "`make loadtest CASE=02-baseline` (with the stack up)")
    return runs


def as_specified(run: dict[str, Any]) -> bool:
    """A run made with the case's own settings: no env override, no extra k6 argument. Runs from before
    overrides were recorded (None) were all made by `make loadtest(s)` with the defaults."""
    overrides = run.get("overrides")
    return overrides is None or not (overrides["env"] or overrides["k6_args"])


def newest_per_case(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{case: its newest run made as specified}, the assignment's cases first (LOADTEST_CASES), then
    any other. A shortened run (`make loadtest CASE=02-baseline DURATION=20s`) is never cited."""
    newest = {run["case"]: run for run in runs if as_specified(run)}  # runs are oldest first
    order = [c for c in LOADTEST_CASES if c in newest] + sorted(set(newest) - set(LOADTEST_CASES))
    return {case: newest[case] for case in order}


def live_capture(root: Path, directory: str) -> dict[str, Any]:
    """A monitoring.live capture: its summary.json, with the path of each dashboard's screenshot."""
    summary = read_json(root, f"{directory}/summary.json",
                        "run `make loadtests` (it captures during 02-baseline) or `python -m monitoring.live "
                        f"--out {directory}` while traffic flows")
    summary["dir"] = directory
    summary["shots"] = {p.stem: p for p in sorted((root / directory).glob("*.png"))}
    return summary


def metric_list(source: Path = METRICS_SOURCE) -> list[dict[str, Any]]:
    """Every metric our processes expose, as Prometheus shows it (counters with `_total`), with its
    labels and the processes that expose it, read from the module that declares them."""
    from chat4all_app.observability import metrics

    declared = {m._name: m for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "_type")}
    out = []
    for header, body in re.findall(r"# --- (.+?) -+\n(.*?)(?=# --- |\Z)", source.read_text(), re.S):
        for kind, name in re.findall(r"\b(Counter|Gauge|Histogram)\(\s*\"([a-z_]+)\"", body):
            metric = declared[name]
            out.append({"name": name + ("_total" if kind == "Counter" else ""), "type": kind.lower(),
                        "labels": list(metric._labelnames), "where": METRIC_SECTIONS.get(header, header)})
    return out


def experiment(root: Path, name: str) -> dict[str, Any]:
    result = read_json(root, f"results/experiments/{name}/latest.json",
                       f"run `make experiment NAME={name}` (with the stack up)")
    result["timeline_png"] = root / "results" / "experiments" / name / "timeline.png"
    result["marks"] = result["timeline"]["marks"]  # faults and events; the readings are in the PNG
    del result["timeline"]
    return result


def log_excerpt(result: dict[str, Any], after: str, limit: int = 10) -> list[dict[str, Any]]:
    """Up to `limit` rebalance log lines from the first event mark containing `after` on, with every
    event mark of the experiment, in time order."""
    start = next((m["t"] for m in result["marks"] if after in m["event"]), None)
    lines = result["figures"]["rebalance_log"]
    lines = lines[-limit:] if start is None else [line for line in lines if line["t"] >= start][:limit]
    marks = [{"t": m["t"], "process": "evento", "message": m["event"]} for m in result["marks"]]
    return sorted(lines + marks, key=lambda line: line["t"])


def machine_cores(scale_workers: dict[str, Any]) -> int:
    """Cores of the machine the experiments ran on, as their regime states; else this machine's."""
    found = re.search(r"(\d+) cores", scale_workers["figures"].get("regime", ""))
    return int(found[1]) if found else (os.cpu_count() or 1)


def quota(result: dict[str, Any]) -> float:
    """The CPU quota per measured process, as the experiment's `regime` states it ("0.1 core")."""
    found = re.search(r"([\d.]+) core", result["figures"].get("regime", ""))
    if not found:
        raise ReportDataError(f"results/experiments/{result['name']}/latest.json: figures.regime names no "
                              "CPU quota (\"<n> core\"); re-run the experiment or update report/data.py")
    return float(found[1])


def scaling(sw: dict[str, Any], sa: dict[str, Any]) -> dict[str, Any]:
    """Derived figures of the scale-out experiments (each from the phases they recorded)."""
    phases = sw["figures"]["phases"]
    repeats: dict[int, list[float]] = {}  # routed/s of each repetition, by number of workers
    for p in phases:
        repeats.setdefault(p["workers"], []).append(p["routed_per_s"])
    rows = []
    for i, p in enumerate(phases, 1):
        by_instance = p["messages_processed_per_s_by_instance"]
        rows.append({"repeat": i, "workers": p["workers"], "routed": p["routed_per_s"],
                     "delivered": p["delivered_per_s"], "by_instance": by_instance,
                     "throttled": sum(p["quota_throttled_s"].values())})
    api_rows = [{"processes": p["api_processes"], "max_rps": p["max_sustained_rps"],
                 "by_instance": p["accepted_per_s_by_instance_all_steps"],
                 "steps": p["steps"]} for p in sa["figures"]["phases"]]
    two_api = api_rows[-1]["by_instance"]
    spread = max((max(g) - min(g)) / (sum(g) / len(g)) for g in repeats.values() if sum(g))
    # The smaller share of the work, across the phases with two workers (per-instance counters).
    shares = [min(p["by_instance"].values()) / sum(p["by_instance"].values())
              for p in rows
              if p["workers"] == 2 and len(p["by_instance"]) == 2 and sum(p["by_instance"].values())]
    return {"worker_phases": rows, "worker_repeats": repeats, "worker_spread": spread,
            "any_delivered": any(p["delivered_per_s"] > 0 for p in phases),
            "worker_quota": quota(sw), "api_quota": quota(sa),
            "api_phases": api_rows, "worker_min_share": min(shares) if shares else None,
            "api_share_min": min(two_api.values()) / sum(two_api.values())}


def config(settings: Settings) -> dict[str, Any]:
    defaults = {env: default for env, default, _ in documentation()}
    unknown = sorted(set(CONFIG_ROWS) - set(defaults))
    if unknown:
        raise ReportDataError(f"report/data.py CONFIG_ROWS names settings that do not exist: {unknown}")
    rows = [{"env": env, "default": defaults[env], "meaning": meaning}
            for env, meaning in CONFIG_ROWS.items()]
    topics = settings.topic_partition_counts()
    return {"rows": rows, "topics": topics}


def utc(stamp: str) -> str:
    """An ISO 8601 time with any offset -> "2026-11-24T22:16:17+00:00"."""
    return datetime.fromisoformat(stamp).astimezone(UTC).isoformat(timespec="seconds")


def last_commit(root: Path, path: str) -> dict[str, str]:
    """{"when", "sha"} of the last commit that changed `path` (for files that record no git_sha)."""
    done = subprocess.run(["git", "log", "-1", "--format=%h,%cI", "--", path], cwd=root,
                          capture_output=True, text=True)
    sha, _, when = done.stdout.strip().partition(",")
    return {"when": utc(when), "sha": sha} if sha else {"when": "—", "sha": "não versionado"}


def provenance(root: Path, files: dict[str, dict[str, Any] | None]) -> list[dict[str, str]]:
    """Date and commit of each results file ({path: its content, None for a directory}): those it
    records (`timestamp`, `git_sha`: when and where it was measured), else those of the last commit
    that changed it."""
    rows = [{"source": source, "when": utc(measured_at(content)), "sha": content["git_sha"][:10]}
            if content and "git_sha" in content else {"source": source, **last_commit(root, source)}
            for source, content in files.items()]
    return merged_experiments(rows)


def measured_at(content: dict[str, Any]) -> str:
    """When a result was measured: the end of its load window (a k6 summary, whose `timestamp` says
    when it was analysed), or its `timestamp`."""
    window = content.get("window")
    if isinstance(window, dict) and window.get("end"):
        return window["end"]
    return content.get("timestamp") or content["captured_at"]  # a live dashboards capture


def merged_experiments(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Experiment results measured at one commit share a row, "results/experiments/{a, b}/latest.json",
    dated by the last of them."""
    pattern = re.compile(r"results/experiments/([^/]+)/latest\.json")
    out: list[dict[str, str]] = []
    by_sha: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = pattern.fullmatch(row["source"])
        if not name:
            out.append(row)
            continue
        if row["sha"] not in by_sha:
            by_sha[row["sha"]] = {"names": [], "when": row["when"], "sha": row["sha"]}
            out.append(by_sha[row["sha"]])  # placed where its first experiment was
        group = by_sha[row["sha"]]
        group["names"].append(name[1])
        group["when"] = max(group["when"], row["when"])

    def source(names: list[str]) -> str:
        joined = names[0] if len(names) == 1 else "{" + ", ".join(names) + "}"
        return f"results/experiments/{joined}/latest.json"

    return [{"source": source(r["names"]), "when": r["when"], "sha": r["sha"]} if "names" in r else r
            for r in out]


def baseline_options(root: Path) -> str:
    """The options block of loadtests/02-baseline.js (Appendix D): what k6 runs, as committed."""
    text = (root / "loadtests" / "02-baseline.js").read_text()
    found = re.search(r"^export const options = .*?^\}\);$", text, re.S | re.M)
    if not found:
        raise ReportDataError("loadtests/02-baseline.js has no `export const options = ...});` block: "
                              "update report/data.py baseline_options")
    return "\n".join(line for line in text.splitlines() if line.startswith("const ")) + "\n\n" + found[0]


def compose_healthcheck(root: Path) -> dict[str, Any]:
    """The long-running services' healthcheck in docker-compose.yml (`x-faust-health`), in seconds."""
    import yaml

    check = yaml.safe_load((root / "docker-compose.yml").read_text()).get("x-faust-health")
    if not check:
        raise ReportDataError("docker-compose.yml has no x-faust-health healthcheck: update report/data.py")

    def seconds(text: str) -> float:
        return float(text.removesuffix("s"))

    interval, retries, timeout = seconds(check["interval"]), int(check["retries"]), seconds(check["timeout"])
    # Unhealthy after `retries` failed checks in a row, each up to `timeout`, `interval` apart.
    return {"interval_s": interval, "retries": retries, "timeout_s": timeout,
            "worst_s": retries * (interval + timeout)}


def load(root: Path) -> dict[str, Any]:
    """The template context: every results file, plus the figures derived from them."""
    backlog = read_json(root, "results/backlog/latest.json",
                        "run `python -m benchmarks.backlog --messages 6000 --repeats 3 --timeout 180 "
                        "--out results/backlog/latest.md` (with the stack up)")
    profile = read_json(root, "results/profile/latest.json",
                        "run `make profile RATE=200 SECONDS=35 HZ=0` (with the stack up)")
    runs = loadtest_runs(root)
    loadtests = newest_per_case(runs)
    upload = read_json(root, "results/bench/upload.json",
                       "run `python -m benchmarks.upload --size-mib 2048 --repeats 1 "
                       "--out results/bench/upload.json` (with the stack up)")
    experiments = {name: experiment(root, name) for name in EXPERIMENTS}
    alerts = experiment(root, "alerts")
    live = {key: live_capture(root, directory) for key, directory in LIVE_CAPTURES.items()}
    logs = read_json(root, "results/logs/latest.json",
                     "run `python -m monitoring.log_audit` after a load test")
    settings = Settings()
    accounting = [r["accounting"] for r in experiments.values()]
    cores = machine_cores(experiments["scale-workers"])
    profile_total_ms = sum(v["cpu_ms_per_msg"] for v in profile["processes"].values())
    files = {"results/backlog/latest.json": backlog, "results/bench/upload.json": upload,
             "results/profile/latest.json": profile}
    files |= {f"{run['dir']}/summary.json": run for run in loadtests.values()}
    files |= {f"results/experiments/{name}/latest.json": r for name, r in experiments.items()}
    files["results/experiments/alerts/latest.json"] = alerts
    files |= {f"{c['dir']}/summary.json": c for c in live.values()}
    files["results/logs/latest.json"] = logs
    return {
        "generated": {"date": datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC"),
                      "sha": git_sha(10) or "desconhecido"},
        "backlog": backlog,
        "baseline_script": baseline_options(root),
        "compose_health": compose_healthcheck(root),
        # Screenshots of Grafana itself, if one was ever captured (Grafana's image is not available here).
        "grafana_captures": len(list((root / "results" / "dashboards" / "grafana").glob("*.png"))),
        "profile": profile,
        "profile_total_ms": profile_total_ms,
        "upload": upload,
        "loadtests": loadtests,
        "experiments": experiments,
        "alerts": alerts,
        "live": live,
        "logs": logs,
        "metrics": metric_list(),
        "totals": {"accepted": sum(a["accepted"] for a in accounting),
                   "lost": sum(a["lost"] for a in accounting),
                   "duplicates": sum(a["duplicates"] for a in accounting),
                   "out_of_order": sum(a["out_of_order_recipients"] for a in accounting),
                   "inexact": [n for n, r in experiments.items() if not r["accounting"]["exact"]],
                   "stored_over_accepted": [n for n, r in experiments.items()
                                            if r["accounting"]["stored"] > r["accounting"]["accepted"]],
                   "checks_failed": sum(not ok for r in experiments.values() for ok in r["checks"].values()),
                   "checks_total": sum(len(r["checks"]) for r in experiments.values())},
        "failover_log": log_excerpt(experiments["failover"], "SIGKILL", limit=8),
        "scaling": scaling(experiments["scale-workers"], experiments["scale-api"]),
        "machine_cores": cores,
        "settings": settings,
        "config": config(settings),
        "provenance": provenance(root, files),
    }
