"""The seed's acceptance criteria and our stricter targets, each next to its measured value.

A target is data here (not prose), the measured value comes from the context (report/data.py),
and the outcome is computed: a criterion without a committed measurement is "not measured",
never passed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from report.fmt import integer, num, pct, ratio

OPS: dict[str, Callable[[Any, Any], bool]] = {"≥": operator.ge, "≤": operator.le, "<": operator.lt,
                                              "=": operator.eq}


@dataclass(frozen=True)
class Target:
    op: str
    value: float
    show: Callable[[Any], str]  # formats both the target and the measured value

    def text(self) -> str:
        return f"{self.op} {self.show(self.value)}"


def msg_min(v: Any) -> str:
    return f"{integer(v)} msg/min"


def msg_s(v: Any) -> str:
    return f"{num(v, 1)} msg/s"


def ms(v: Any) -> str:
    return f"{num(v, 1)} ms"


def seconds(v: Any) -> str:
    return f"{num(v, 1)} s"


def count(v: Any) -> str:
    return integer(v)


def gib(v: Any) -> str:
    return f"{num(v, 0)} GiB"


# The seed's "didactic" targets (docs: peers' rescaling of the architecture's requirements), one per
# criterion: the key of a target is the key of its criterion's outcome (targets()["ok"]).
SEED = {
    "msg_per_min": Target("≥", 500, msg_min),
    "p95_ms": Target("<", 200, ms),
    "spike_p99_ms": Target("<", 500, ms),
    "error_rate": Target("<", 0.01, pct),
    "workers_ratio": Target("≥", 1.6, ratio),
    "api_ratio": Target("≥", 1.6, ratio),
    "failover_s": Target("<", 30, seconds),
    "lost": Target("=", 0, count),
    "duplicates": Target("=", 0, count),
    "out_of_order": Target("=", 0, count),
    "detection_s": Target("≤", 60, seconds),
    "isolation": Target("≥", 0.9, ratio),
    "file_gib": Target("≥", 2, gib),
}
# Ours, stricter (issues 6 and 7): the architecture's own load test and faster failover.
OWN = {
    "e2e_per_s": Target("≥", 500, msg_s),
    "api_p95_at_1000": Target("<", 50, ms),
    "api_hello_ratio": Target("≥", 0.4, lambda v: num(v, 3)),
    "workers_ratio": Target("≥", 1.8, ratio),
    "api_ratio": Target("≥", 1.7, ratio),
    "failover_s": Target("≤", 10, seconds),
    "final_lag": Target("=", 0, count),
}
TARGETS = {f"seed_{k}": t for k, t in SEED.items()} | {f"own_{k}": t for k, t in OWN.items()}


def row(key: str, label: str, measured: Any, source: str, failed_if_none: str = "") -> dict[str, Any]:
    """The criterion of TARGETS[key]. A None measurement is "not measured", or a failure if
    `failed_if_none` says why."""
    target = TARGETS[key]
    if measured is None:
        return {"key": key, "label": label, "target": target.text(),
                "measured": failed_if_none or "sem resultado commitado",
                "ok": False if failed_if_none else None, "source": source}
    return {"key": key, "label": label, "target": target.text(), "measured": target.show(measured),
            "ok": bool(OPS[target.op](measured, target.value)), "source": source}


def checks_row(key: str, label: str, ex: dict[str, Any], detail: str) -> dict[str, Any]:
    """A criterion met when every check of the experiment passed (its `passed` field)."""
    checks = ex["checks"].values()
    return {"key": key, "label": label, "target": "todas as verificações do experimento",
            "measured": f"{sum(checks)}/{len(checks)} verificações; {detail}",
            "ok": ex["passed"], "source": ex["name"]}


def seed_criteria(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    ex, totals = ctx["experiments"], ctx["totals"]
    base = ctx["loadtests"].get("02-baseline")
    spike = ctx["loadtests"].get("03-spike")
    base_src = "k6 02-baseline"
    opened = ex["circuit-breaker"]["figures"]["open_after_s"]  # None: it did not happen in time
    forwarded = ex["store-and-forward"]["figures"]["delivered_after_restart_s"]
    pipeline = (base or {}).get("pipeline") or {"lost": 0, "duplicates": 0}  # a run may lack its accounting
    lost = totals["lost"] + ctx["bench"]["lost_messages"] + pipeline["lost"]
    dup = totals["duplicates"] + pipeline["duplicates"]
    return [
        row("seed_msg_per_min", "Vazão sustentada no teste de carga baseline",
            base and base["messages"]["msg_per_min"], base_src),
        row("seed_p95_ms", "Latência P95 de POST /v1/messages (cliente → API → Kafka)",
            base and base["overall"]["p95_ms"], base_src),
        row("seed_spike_p99_ms", "Latência P99 em picos (caso 03-spike)",
            spike and spike["overall"]["p99_ms"], "k6 03-spike"),
        row("seed_error_rate", "Taxa de erros no teste de carga",
            base and base["overall"]["error_rate"], base_src),
        row("seed_workers_ratio", "Escala horizontal: 1 → 2 workers do router",
            ex["scale-workers"]["figures"]["ratio"], "scale-workers"),
        row("seed_api_ratio", "Escala horizontal: 1 → 2 processos da API",
            ex["scale-api"]["figures"]["ratio"], "scale-api"),
        row("seed_failover_s", "Failover: recuperação após SIGKILL de um worker",
            ex["failover"]["figures"]["recovery_s"], "failover", failed_if_none="não se recuperou"),
        row("seed_lost", "Mensagens aceitas (202) e perdidas, todos os experimentos", lost,
            "experimentos, bench, k6"),
        row("seed_duplicates", "Duplicatas no provedor (effectively-once)", dup, "experimentos, k6"),
        row("seed_out_of_order", "Destinatários com ordem trocada no provedor", totals["out_of_order"],
            "todos os experimentos"),
        row("seed_detection_s", "Detecção de falha: /health 503 com o Kafka parado",
            ex["health-detection"]["figures"]["detection_s"], "health-detection",
            failed_if_none="não detectou no tempo limite"),
        row("seed_isolation", "Isolamento: vazão do WhatsApp com o connector do Instagram parado",
            ex["connector-isolation"]["figures"]["whatsapp_ratio"], "connector-isolation"),
        checks_row("seed_circuit_breaker", "Circuit breaker: abre, falha rápido, fecha após a correção",
                   ex["circuit-breaker"],
                   f"aberto após {seconds(opened)}" if opened is not None else "não abriu"),
        checks_row("seed_store_and_forward", "Store-and-forward: destinatário offline recebe tudo depois",
                   ex["store-and-forward"],
                   f"entregues {seconds(forwarded)} após o restart" if forwarded is not None
                   else "não entregues após o restart"),
        row("seed_file_gib",
            "Arquivos grandes: upload de um arquivo no limite (streaming ao S3, SHA-256 conferido)",
            ctx["upload"]["size_mib"] / 1024, "results/bench/upload.json"),
    ]


def own_targets(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    bench, ex = ctx["bench"], ctx["experiments"]
    return [
        row("own_e2e_per_s",
            f"Ponta a ponta: entregues por segundo a {num(bench['e2e_offered_rps'], 0)} msg/s oferecidas",
            bench["e2e_delivered_per_s"], "bench"),
        row("own_final_lag", "Lag final dos consumidores após a carga", bench["e2e_final_lag"], "bench"),
        row("own_api_p95_at_1000",
            f"API: P95 a {integer(bench['runs'][-1]['api_at_1000']['offered_rps'])} msg/s oferecidas",
            bench["api_p95_ms_at_1000"], "bench"),
        row("own_api_hello_ratio", "API / servidor aiohttp mínimo (capacidade)",
            bench["api_to_baseline_ratio"], "bench"),
        row("own_workers_ratio", "Escala: 1 → 2 workers do router", ex["scale-workers"]["figures"]["ratio"],
            "scale-workers"),
        row("own_api_ratio", "Escala: 1 → 2 processos da API", ex["scale-api"]["figures"]["ratio"],
            "scale-api"),
        row("own_failover_s", "Failover: recuperação", ex["failover"]["figures"]["recovery_s"],
            "failover", failed_if_none="não se recuperou"),
    ]


def targets(ctx: dict[str, Any]) -> dict[str, Any]:
    """{"seed": [rows], "own": [rows], "t": {key: "≥ 1,80x"}, "ok": {key: True/False/None}}: the
    template prints `t` and branches on `ok` (each row's outcome), never comparing values itself."""
    rows = {"seed": seed_criteria(ctx), "own": own_targets(ctx)}
    return rows | {"t": {key: t.text() for key, t in TARGETS.items()},
                   "ok": {r["key"]: r["ok"] for r in rows["seed"] + rows["own"]}}
