"""Charts from the committed results: throughput vs instances, and the API's latency knee.

Sized for the width the report prints them at (`scaling` at 86%, `api_latency` at 76% of the 17 cm
text width): the figure is about that wide in inches, so its fonts print at about their size (>= 7 pt).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from report.fmt import num, ratio

STYLE = {"font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9, "xtick.labelsize": 8.5,
         "ytick.labelsize": 8.5, "legend.fontsize": 8}


def _instances(ax: Axes, title: str, ylabel: str, one: float, two: float, repeats: dict[int, list[float]],
               target: str, measured: float) -> None:
    """Bars of the mean rate at 1 and 2 instances, each repetition as a dot, the ideal 2x dashed."""
    bars = ax.bar([1, 2], [one, two], width=0.55, color=["#9ecae1", "#3182bd"],
                  label="medido (média)" if repeats else "medido")
    ax.bar_label(bars, [num(one, 1), num(two, 1)], label_type="center", fontsize=8.5, color="black",
                 bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.8})
    for n, values in repeats.items():
        ax.scatter([n] * len(values), values, color="black", s=12, zorder=3,
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
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(6.0, 3.3), layout="constrained")
        _instances(left, "Workers do router\n(cota de CPU cada)", "mensagens roteadas/s", sw["t1_per_s"],
                   sw["t2_per_s"], ctx["scaling"]["worker_repeats"],
                   _target(t, "own_workers_ratio", "workers", "seed_workers_ratio"), sw["ratio"])
        _instances(right, "Processos da API\natrás do nginx", "taxa máxima servida (msg/s)",
                   sa["rate_1_per_s"], sa["rate_2_per_s"], {},
                   _target(t, "own_api_ratio", "api", "seed_api_ratio"), sa["ratio"])
        return save(fig, out)


def _target(t: dict[str, str], *keys: str) -> str:
    """The first of `keys` the criteria define: our own target, else the assignment's."""
    return next(t[k] for k in keys if k in t)


def api_latency(ctx: dict[str, Any], out: Path) -> Path:
    """P95 per offered rate step of scale-api, per number of API processes; unserved steps hollow."""
    with plt.rc_context(STYLE | {"font.size": 8.5, "axes.labelsize": 8.5, "xtick.labelsize": 8,
                                 "ytick.labelsize": 8}):
        fig, ax = plt.subplots(figsize=(5.4, 2.7), layout="constrained")
        handles = []
        for phase, color in zip(ctx["scaling"]["api_phases"], ("#9ecae1", "#3182bd"), strict=False):
            steps = phase["steps"]
            n = phase["processes"]
            label = f"{n} {'processo' if n == 1 else 'processos'} de API"
            handles += ax.plot([s["offered_rps"] for s in steps], [s["p95_ms"] for s in steps], color=color,
                               marker="o", markersize=5, label=label)
            refused = [s for s in steps if not s["served"]]
            ax.scatter([s["offered_rps"] for s in refused], [s["p95_ms"] for s in refused], s=30,
                       facecolor="white", edgecolor=color, linewidths=1.2, zorder=3)
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=5, markerfacecolor="white",
                              markeredgecolor="#555555", label="vazado: degrau não servido"))
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: num(v, 0)))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("taxa oferecida (msg/s, modelo aberto)")
        ax.set_ylabel("P95 (ms, escala log)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(handles=handles, loc="upper left")
        return save(fig, out)


def save(fig: plt.Figure, out: Path) -> Path:
    """The figure as a 200 dpi PNG, cropped to its contents (charts and diagrams alike)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=200, bbox_inches="tight", pad_inches=0.03)
    plt.close(fig)
    return out
