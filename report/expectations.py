"""The assignment's expected metrics of each k6 case (§2.2, "Métricas esperadas"), next to what the
newest committed run of the case measured.

An expectation is met, not met, or (ok None) an observation the assignment asks for without a
target ("qual componente falha primeiro"). A case without a committed run has no rows: the
template says so.
"""

from __future__ import annotations

from typing import Any

from report.fmt import integer, num, pct

FILES = "POST /v1/files"
TOP_BAND = "768-1024 KiB"  # the uploads closest to 1 MB (loadtests/lib/chat4all.js sizeBand)
DRIFT_MAX = 0.15  # "latência não aumenta mais de 15 %"
MEMORY_GROWTH_MAX = 0.10  # "memory usage estável": none of our services grows more than this over the run
# Our processes, where a leak of our code would show; Kafka and Cassandra (JVMs with a capped heap that
# grows towards its limit as they warm up), MinIO, Prometheus and nginx manage their own memory.
OUR_SERVICES = ("api", "router", "connector-whatsapp", "connector-instagram")


def signed(fraction: float) -> str:
    """0.2 -> "+20,0 %", -0.08 -> "-8,0 %"."""
    return ("+" if fraction > 0 else "") + pct(fraction, 1)


def row(expected: str, measured: str, ok: bool | None) -> dict[str, Any]:
    return {"expected": expected, "measured": measured, "ok": ok}


def fivexx(run: dict[str, Any]) -> int:
    return sum(n for ep in run["endpoints"].values() for status, n in ep["statuses"].items()
               if status.startswith("5"))


def growth(p: dict[str, Any]) -> float | None:
    first, last = p["rss_first_third_mib"], p["rss_last_third_mib"]
    return last / first - 1 if first and last else None


def warmup(run: dict[str, Any]) -> list[dict[str, Any]]:
    per_min, o = run["messages"]["msg_per_min"], run["overall"]
    return [row("Throughput: ~50 mensagens/minuto", f"{integer(per_min)} msg/min", 40 <= per_min <= 60),
            row("P95 latency < 100ms", f"{num(o['p95_ms'])} ms", o["p95_ms"] < 100),
            row("Error rate = 0%", pct(o["error_rate"]), o["error_rate"] == 0)]


def baseline(run: dict[str, Any]) -> list[dict[str, Any]]:
    per_min, o = run["messages"]["msg_per_min"], run["overall"]
    return [row("Throughput: 500-600 mensagens/minuto (8-10 msg/s)",
                f"{integer(per_min)} msg/min ({num(run['messages']['msg_per_s'])} msg/s)",
                500 <= per_min <= 600),
            row("P95 latency < 200ms", f"{num(o['p95_ms'])} ms", o["p95_ms"] < 200),
            row("Error rate < 0.5%", pct(o["error_rate"]), o["error_rate"] < 0.005)]


def spike(run: dict[str, Any]) -> list[dict[str, Any]]:
    lag = (run.get("resources") or {}).get("lag") or {}
    final = (run.get("pipeline") or {}).get("final_lag")
    n5xx = fivexx(run)
    recovered = final == 0 and lag.get("max") is not None
    return [row("Sistema não retorna 5xx durante spike", f"{integer(n5xx)} respostas 5xx", n5xx == 0),
            row("Consumer lag aumenta temporariamente mas se recupera",
                f"máximo {integer(lag['max'])} (mediana {integer(lag['median'])}), 0 ao fim da drenagem"
                if recovered else f"máximo {lag.get('max')}, ao fim {final}", recovered),
            row("P99 latency < 500ms durante pico", f"{num(run['overall']['p99_ms'])} ms",
                run["overall"]["p99_ms"] < 500)]


def files(run: dict[str, Any]) -> list[dict[str, Any]]:
    ep = run["endpoints"][FILES]
    per_min = ep["req_per_s"] * 60
    top = run["size_bands"][FILES][TOP_BAND]
    return [row("50-100 uploads/minuto sustentáveis", f"{integer(per_min)} uploads/min",
                50 <= per_min <= 100 and ep["error_rate"] == 0),
            row("Latência de upload < 2 segundos (1MB)",
                f"P95 {num(top['p95_ms'], 0)} ms, máx. {num(top['max_ms'], 0)} ms "
                f"({integer(top['requests'])} arquivos de 768 KiB a 1 MiB)", top["p95_ms"] < 2000),
            row("Zero timeouts", f"{integer(ep['failed'])} falhas em {integer(ep['requests'])}",
                ep["failed"] == 0)]


def stress(run: dict[str, Any]) -> list[dict[str, Any]]:
    steps = run.get("stages") or []
    below = []
    for s in steps:  # the steps before the first one past 1 % errors
        if s["error_rate"] > 0.01:
            break
        below.append(s)
    best = max(below, key=lambda s: s["req_per_s"]) if below else None
    slow = next((s for s in steps if s["p95_ms"] >= 200), None)
    resources = run.get("resources") or {}
    hot = resources.get("first_hot_s") or {}
    first_hot = next(iter(hot.items()), None)
    return [
        row("Throughput máximo sustentável antes de error rate > 1%",
            (f"{num(best['req_per_s'])} req/s com {best['vus']} VUs"
             + (" (nenhum degrau passou de 1 %)" if len(below) == len(steps) else ""))
            if best else "sem degraus", None),
        row("Qual componente falha primeiro (API, Kafka, Cassandra, Worker)?",
            f"a latência da API passa de 200 ms (P95) com {slow['vus']} VUs" if slow
            else "nenhum: P95 < 200 ms e erros < 1 % em todos os degraus", None),
        row("CPU/Memory de qual container chega a 80% primeiro?",
            (f"{first_hot[0]}, {num(first_hot[1], 0)} s após o início, em "
             f"{resources['hot_samples'][first_hot[0]]} de {resources['samples']} amostras de 5 s"
             + (f"; depois {', '.join(list(hot)[1:])}" if len(hot) > 1 else "; nenhum outro"))
            if first_hot else "nenhum processo chegou a 80 % de um núcleo", None),
    ]


def soak(run: dict[str, Any]) -> list[dict[str, Any]]:
    d = run["drift"]
    processes = (run.get("resources") or {}).get("processes") or {}
    gone = (run.get("resources") or {}).get("gone", [])
    growths = {n: g for n, p in processes.items() if (g := growth(p)) is not None}
    ours = {n: g for n, g in growths.items() if n.removesuffix("-2") in OUR_SERVICES}
    others = {n: g for n, g in growths.items() if n not in ours}
    worst = max(ours, key=ours.__getitem__) if ours else None
    other = max(others, key=others.__getitem__) if others else None
    return [
        row("Latência não aumenta mais de 15% ao longo de 15 min",
            f"P50 {num(d['first_third']['p50_ms'])} → {num(d['last_third']['p50_ms'])} ms "
            f"({signed(d['p50_change'])}); P95 {num(d['first_third']['p95_ms'])} → "
            f"{num(d['last_third']['p95_ms'])} ms ({signed(d['p95_change'])}), primeiro contra último "
            "terço",
            d["p50_change"] <= DRIFT_MAX and d["p95_change"] <= DRIFT_MAX),
        row("Memory usage estável",
            (f"memória residente, último contra primeiro terço: nos nossos serviços, no máximo {worst} "
             f"{signed(ours[worst])}" + (f"; nos de terceiros (heap limitado por -Xmx e afins), no máximo "
                                         f"{other} {signed(others[other])}" if other else ""))
            if worst else "sem amostras",
            ours[worst] <= MEMORY_GROWTH_MAX if worst else None),
        row("Zero crashes",
            (f"{len(processes) - len(gone)} de {len(processes)} processos vivos em todas as amostras"
             + (f" (saíram: {', '.join(gone)})" if gone else "")) if processes else "sem amostras",
            bool(processes) and not gone),
    ]


CASES = {"01-warmup": warmup, "02-baseline": baseline, "03-spike": spike, "04-file-upload": files,
         "05-stress": stress, "06-soak": soak}


def expectations(loadtests: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """{case: [rows]} for every assignment case with a committed run."""
    return {case: rows(loadtests[case]) for case, rows in CASES.items() if case in loadtests}
