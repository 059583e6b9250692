"""Charts from the committed results: throughput vs instances, and the API's latency knee."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from report.fmt import num, ratio

plt.rcParams.update({"font.size": 7.5, "axes.titlesize": 8, "legend.fontsize": 6.5})


def _instances(ax: Axes, title: str, ylabel: str, one: float, two: float, repeats: dict[int, list[float]],
               target: str, measured: float) -> None:
    """Bars of the mean rate at 1 and 2 instances, each repetition as a dot, the ideal 2x dashed."""
    bars = ax.bar([1, 2], [one, two], width=0.55, color=["#9ecae1", "#3182bd"],
                  label="medido (média)" if repeats else "medido")
    ax.bar_label(bars, [num(one, 1), num(two, 1)], label_type="center", fontsize=7, color="black",
                 bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.8})
    for n, values in repeats.items():
        ax.scatter([n] * len(values), values, color="black", s=10, zorder=3,
                   label="cada repetição" if n == 1 else None)
    ax.plot([0.6, 2.4], [one * 0.6, one * 2.4], linestyle="--", color="#de2d26", linewidth=1,
            label="ideal (linear)")
    ax.set_xticks([1, 2], ["1 instância", "2 instâncias"])
    ax.set_xlim(0.4, 2.6)
    ax.set_ylim(0, max(one * 2.4, two, *(v for vs in repeats.values() for v in vs)) * 1.12)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\nrazão {ratio(measured)} (meta {target})")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left")


def scaling(ctx: dict[str, Any], out: Path) -> Path:
    sw = ctx["experiments"]["scale-workers"]["figures"]
    sa = ctx["experiments"]["scale-api"]["figures"]
    t = ctx["targets"]["t"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(6.6, 2.9), layout="constrained")
    _instances(left, "Workers do router (cota de CPU cada)", "mensagens roteadas/s", sw["t1_per_s"],
               sw["t2_per_s"], ctx["scaling"]["worker_repeats"], t["own_workers_ratio"], sw["ratio"])
    _instances(right, "Processos da API atrás do nginx", "taxa máxima servida (msg/s)", sa["rate_1_per_s"],
               sa["rate_2_per_s"], {}, t["own_api_ratio"], sa["ratio"])
    return save(fig, out)


def api_latency(ctx: dict[str, Any], out: Path) -> Path:
    """P95 per offered rate step of scale-api, per number of API processes; unserved steps hollow."""
    fig, ax = plt.subplots(figsize=(6.6, 2.5), layout="constrained")
    for phase, color in zip(ctx["scaling"]["api_phases"], ("#9ecae1", "#3182bd"), strict=False):
        steps = phase["steps"]
        label = f"{phase['processes']} processo(s) de API"
        ax.plot([s["offered_rps"] for s in steps], [s["p95_ms"] for s in steps], color=color, label=label)
        served = [s for s in steps if s["served"]]
        refused = [s for s in steps if not s["served"]]
        ax.scatter([s["offered_rps"] for s in served], [s["p95_ms"] for s in served], color=color, zorder=3)
        ax.scatter([s["offered_rps"] for s in refused], [s["p95_ms"] for s in refused], facecolor="white",
                   edgecolor=color, zorder=3, label=f"{label}: degrau não servido")
    ax.set_yscale("log")
    ax.set_xlabel("taxa oferecida (msg/s, modelo aberto)")
    ax.set_ylabel("P95 (ms, escala log)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left")
    return save(fig, out)


def save(fig: plt.Figure, out: Path) -> Path:
    """The figure as a 200 dpi PNG, cropped to its contents (charts and diagrams alike)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=200, bbox_inches="tight", pad_inches=0.03)
    plt.close(fig)
    return out
