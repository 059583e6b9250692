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


# The seed's "didactic" targets (docs: peers' rescaling of the architecture's requirements).
SEED = {
    "msg_per_min": Target("≥", 500, msg_min),
    "p95_ms": Target("<", 200, ms),
    "spike_p99_ms": Target("<", 500, ms),
    "error_rate": Target("<", 0.01, pct),
    "scale_ratio": Target("≥", 1.6, ratio),
    "failover_s": Target("<", 30, seconds),
    "zero": Target("=", 0, count),
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


def row(label: str, target: Target, measured: Any, source: str, note: str = "",
        failed_if_none: str = "") -> dict[str, Any]:
    """One criterion. A None measurement is "not measured", or a failure if `failed_if_none` says why."""
    if measured is None:
        return {"label": label, "target": target.text(), "measured": failed_if_none or note or
                "sem resultado commitado", "ok": False if failed_if_none else None, "source": source}
    return {"label": label, "target": target.text(), "measured": target.show(measured),
            "ok": bool(OPS[target.op](measured, target.value)), "source": source}


def all_checks(ex: dict[str, Any]) -> bool:
    return ex["checks_passed"] == ex["checks_total"]


def checks_row(label: str, ex: dict[str, Any], detail: str) -> dict[str, Any]:
    return {"label": label, "target": "todas as verificações do experimento",
            "measured": f"{ex['checks_passed']}/{ex['checks_total']} verificações; {detail}",
            "ok": all_checks(ex), "source": ex["name"]}


def seed_criteria(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    ex, totals = ctx["ex"], ctx["totals"]
    by_case = {run["case"]: run for run in ctx["loadtests"]}
    base = by_case.get("02-baseline")
    spike = by_case.get("03-spike")
    base_src = "k6 02-baseline"
    opened = ex["circuit_breaker"]["figures"]["open_after_s"]  # None: it did not happen in time
    forwarded = ex["store_and_forward"]["figures"]["delivered_after_restart_s"]
    pipeline = (base or {}).get("pipeline") or {"lost": 0, "duplicates": 0}  # a run may lack its accounting
    lost = totals["lost"] + ctx["bench"]["lost_messages"] + pipeline["lost"]
    dup = totals["duplicates"] + pipeline["duplicates"]
    return [
        row("Vazão sustentada no teste de carga baseline", SEED["msg_per_min"],
            base and base["messages"]["msg_per_min"], base_src),
        row("Latência P95 de POST /v1/messages (cliente → API → Kafka)", SEED["p95_ms"],
            base and base["overall"]["p95_ms"], base_src),
        row("Latência P99 em picos (caso 03-spike)", SEED["spike_p99_ms"],
            spike and spike["overall"]["p99_ms"],
            "k6 03-spike"),
        row("Taxa de erros no teste de carga", SEED["error_rate"],
            base and base["overall"]["error_rate"], base_src),
        row("Escala horizontal: 1 → 2 workers do router", SEED["scale_ratio"],
            ex["scale_workers"]["figures"]["ratio"], "scale-workers"),
        row("Escala horizontal: 1 → 2 processos da API", SEED["scale_ratio"],
            ex["scale_api"]["figures"]["ratio"], "scale-api"),
        row("Failover: recuperação após SIGKILL de um worker", SEED["failover_s"],
            ex["failover"]["figures"]["recovery_s"], "failover", failed_if_none="não se recuperou"),
        row("Mensagens aceitas (202) e perdidas, todos os experimentos", SEED["zero"], lost,
            "experimentos, bench, k6"),
        row("Duplicatas no provedor (effectively-once)", SEED["zero"], dup,
            "experimentos, k6"),
        row("Destinatários com ordem trocada no provedor", SEED["zero"], totals["out_of_order"],
            "todos os experimentos"),
        row("Detecção de falha: /health 503 com o Kafka parado", SEED["detection_s"],
            ex["health_detection"]["figures"]["detection_s"], "health-detection",
            failed_if_none="não detectou no tempo limite"),
        row("Isolamento: vazão do WhatsApp com o connector do Instagram parado", SEED["isolation"],
            ex["connector_isolation"]["figures"]["whatsapp_ratio"], "connector-isolation"),
        checks_row("Circuit breaker: abre, falha rápido, fecha após a correção", ex["circuit_breaker"],
                   f"aberto após {seconds(opened)}" if opened is not None else "não abriu"),
        checks_row("Store-and-forward: destinatário offline recebe tudo depois", ex["store_and_forward"],
                   f"entregues {seconds(forwarded)} após o restart" if forwarded is not None
                   else "não entregues após o restart"),
        row("Arquivos grandes: upload de um arquivo no limite (streaming ao S3, SHA-256 conferido)",
            SEED["file_gib"], ctx["upload"]["size_mib"] / 1024, "results/bench/upload.json"),
    ]


def own_targets(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    bench, ex = ctx["bench"], ctx["ex"]
    return [
        row(f"Ponta a ponta: entregues por segundo a {num(bench['e2e_offered_rps'], 0)} msg/s oferecidas",
            OWN["e2e_per_s"], bench["e2e_delivered_per_s"], "bench"),
        row("Lag final dos consumidores após a carga", OWN["final_lag"], bench["e2e_final_lag"],
            "bench"),
        row(f"API: P95 a {integer(bench['runs'][-1]['api_at_1000']['offered_rps'])} msg/s oferecidas",
            OWN["api_p95_at_1000"], bench["api_p95_ms_at_1000"], "bench"),
        row("API / servidor aiohttp mínimo (capacidade)", OWN["api_hello_ratio"],
            bench["api_to_baseline_ratio"], "bench"),
        row("Escala: 1 → 2 workers do router", OWN["workers_ratio"], ex["scale_workers"]["figures"]["ratio"],
            "scale-workers"),
        row("Escala: 1 → 2 processos da API", OWN["api_ratio"], ex["scale_api"]["figures"]["ratio"],
            "scale-api"),
        row("Failover: recuperação", OWN["failover_s"], ex["failover"]["figures"]["recovery_s"],
            "failover", failed_if_none="não se recuperou"),
    ]


def targets(ctx: dict[str, Any]) -> dict[str, Any]:
    """{"seed": [rows], "own": [rows], "t": {name: "≥ 1,80x"}, "v": {name: 1.8}} for the template."""
    text = {f"seed_{k}": t.text() for k, t in SEED.items()} | {f"own_{k}": t.text() for k, t in OWN.items()}
    value = {f"seed_{k}": t.value for k, t in SEED.items()} | {f"own_{k}": t.value for k, t in OWN.items()}
    return {"seed": seed_criteria(ctx), "own": own_targets(ctx), "t": text, "v": value}
