"""The experiment's PNG: throughput, consumer lag and delivery latency over time, events marked.

In pt-BR, like the report that shows it, and sized for it: 6 in wide with 8-10 pt fonts, so they
print at >= 7 pt with the figure at 80-100% of the 17 cm text width. The experiments name their
events in English (the console and latest.json keep them so); `event_label` translates them when
drawing and leaves an unknown one as it is. Each event is a numbered badge above the panels, on
staggered rows so that close events never overlap, listed under the chart with its time. An
interval without deliveries has no latency: a gap, not a line to the next delivery.

Every committed chart redraws from its latest.json, without running the experiment again:

    python -m experiments.chart              # every results/experiments/*/latest.json
    python -m experiments.chart results/experiments/failover/latest.json --out /tmp/charts
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from devstack.layout import REPO_DIR
from experiments.timeline import Timeline, has_latency

WIDTH = 6.0  # inches: fonts print at >= 0.89 x their size at 80% of 17 cm
TICKS, LABELS, LEGEND, TITLE = 8.5, 9.0, 8.0, 10.0  # pt
PLOT_WIDTH = WIDTH - 0.85  # inches left for the data beside the y labels (to space the badges)
BADGE = 0.3  # inches between two badges on one row
WRAP = 46  # characters per line of the event list (two columns)


def _comma(number: str) -> str:
    return number.replace(".", ",")


Rule = tuple[str, str | Callable[[re.Match[str]], str]]
# (English event as a full match, pt-BR): the first rule that matches wins, so specific rules come
# before the general ones. Templates may use \1...; a function gets the match.
RULES: list[Rule] = [
    (r"(.+): throughput, lag and latency", r"\1: vazão, lag e latência de entrega"),
    (r"accounted", "contabilizado"),
    # Alerting: "<fault>: provoked/fixed", "<alerts> FIRING/RESOLVED".
    (r"(.+): provoked", lambda m: f"{event_label(m[1])}: provocado"),
    (r"(.+): fixed", lambda m: f"{event_label(m[1])}: corrigido"),
    (r"(.+) FIRING", r"\1: disparando"),
    (r"(.+) RESOLVED", r"\1: resolvido"),
    (r"(\S+) provider errors", r"erros do provedor \1"),
    (r"Kafka stopped, requests keep coming", "Kafka parado, requisições continuam"),
    (r"quiet check done", "verificação em repouso concluída"),
    (r"poison record published", "registro inválido (poison) publicado"),
    (r"(\S+) receipts late \((.+)\)", r"recibos do \1 atrasados (\2)"),
    (r"(\S+) receipts on time", r"recibos do \1 em dia"),
    # Processes killed, stopped, started.
    (r"SIGKILL (\S+) \(leads (\d+) of (\d+) partitions\)", r"SIGKILL no \1 (líder de \2 de \3 partições)"),
    (r"SIGKILL (\S+) and (\S+)", r"SIGKILL no \1 e no \2"),
    (r"SIGKILL (\S+)", r"SIGKILL no \1"),
    (r"(\S+) SIGKILL", r"SIGKILL no \1"),
    (r"(\S+) started \((\d+) of (\d+) brokers\)", r"\1 iniciado (\2 de \3 brokers)"),
    (r"(\S+) started", r"\1 iniciado"),
    (r"(\S+) restarted", r"\1 reiniciado"),
    (r"(\S+) stopped", r"\1 parado"),
    (r"(\S+) paused \(API tier measured alone\)", r"\1 pausado (API medida sozinha)"),
    (r"(\S+) resumed", r"\1 retomado"),
    (r"restart (\S+)", r"reinício do \1"),
    (r"(\S+) restart", r"reinício do \1"),
    (r"(\S+) back \(supervisor\)", r"\1 de volta (supervisor)"),
    (r"api healthy", "API saudável"),
    (r"accepting again", "aceitando de novo"),
    # Clusters.
    (r"new leaders for all its partitions", "novos líderes para todas as suas partições"),
    (r"every replica in sync again", "todas as réplicas em sincronia de novo"),
    (r"(\S+) UN again", r"\1 UN de novo"),
    (r"hints replayed", "hints reaplicados"),
    (r"preview repair: in sync", "repair (prévia): em sincronia"),
    (r"preview repair: (.+)", r"repair (prévia): \1"),
    (r"nodetool repair --full: exit (\d+)", r"nodetool repair --full: saída \1"),
    (r"(\S+): cluster whole again", r"\1: cluster completo de novo"),
    (r"(\S+): NOT whole again", r"\1: cluster NÃO completo de novo"),
    (r"roll done", "reinício em sequência concluído"),
    # Circuit breaker, store-and-forward.
    (r"provider in error mode", "provedor em modo de erro"),
    (r"provider fixed", "provedor corrigido"),
    (r"circuit OPEN", "circuito ABERTO"),
    (r"circuit CLOSED", "circuito FECHADO"),
    (r"all DELIVERED", "todas em DELIVERED"),
    # Scaling and failover.
    (r"load (\S+)", r"carga \1"),
    (r"rebalance done: tables recovered", "rebalance concluído"),
    (r"workers idle \(standby replay done\)", "workers ociosos (replay do standby concluído)"),
    (r"(\d+)/s offered, (\d+) router worker\(s\) of ([\d.]+) core, connectors paused",
     lambda m: f"{m[1]}/s oferecidas, {m[2]} worker(s) do router de {_comma(m[3])} núcleo, "
               "connectors pausados"),
    (r"quota lifted, connectors resumed: drain", "cota removida, connectors retomados: drenagem"),
    (r"rate steps via nginx, (\d+) API process\(es\) of ([\d.]+) core",
     lambda m: f"degraus de taxa via nginx, {m[1]} processo(s) de API de {_comma(m[2])} núcleo"),
]
_RULES = [(re.compile(pattern), to) for pattern, to in RULES]


def event_label(text: str) -> str:
    """An experiment's event (or chart title) in pt-BR; an unknown one as it is."""
    for pattern, to in _RULES:
        if match := pattern.fullmatch(text):
            return to(match) if callable(to) else match.expand(to)
    return text


def levels(times: Sequence[float], gap: float) -> list[int]:
    """A row for each of `times` (ascending) such that two on one row are >= gap apart: the lowest
    row whose last one is far enough, else a new row."""
    last: list[float] = []
    rows = []
    for t in times:
        row = next((i for i, prev in enumerate(last) if t - prev >= gap), len(last))
        last[row:row + 1] = [t]
        rows.append(row)
    return rows


def _entries(marks: list[tuple[float, str]]) -> list[str]:
    """The event list: "n  label (t s)", wrapped for two columns under the label (figure spaces
    are as wide as a digit; a no-break space keeps "12,5 s" on one line)."""
    digits = len(str(len(marks)))
    return ["\n".join(textwrap.wrap(f"{i:\N{FIGURE SPACE}>{digits}}  {event_label(label)} "
                                    f"({_comma(f'{t:.1f}')}\N{NO-BREAK SPACE}s)", WRAP,
                                    subsequent_indent="\N{FIGURE SPACE}" * digits + "  "))
            for i, (t, label) in enumerate(marks, 1)]


def _number(value: float, _position: object = None) -> str:
    """A tick in pt-BR: 12.000, 2,5."""
    text = f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0")
    return text.translate(str.maketrans(",.", ".,"))


def _plot_gaps(ax: Axes, points: list[tuple[float, float]], **style) -> None:
    """A line with gaps at NaN; a value alone between gaps still shows (as a dot)."""
    if not points:
        return
    ts, vs = zip(*points, strict=True)
    ax.plot(ts, vs, **style)
    padded = [math.nan, *vs, math.nan]
    alone = [(t, v) for i, (t, v) in enumerate(points, 1)
             if not math.isnan(v) and math.isnan(padded[i - 1]) and math.isnan(padded[i + 1])]
    if alone:
        ax.plot(*zip(*alone, strict=True), linestyle="none", marker="o", markersize=2.5,
                color=style.get("color"))


def figure(timeline: Timeline, title: str, channels: tuple[str, ...] = (), latency: bool = True) -> Figure:
    """The chart: a row of numbered event badges, then throughput, lag and (if recorded) latency
    panels sharing the time axis, then the numbered list of events."""
    marks = sorted(timeline.marks, key=lambda mark: mark[0])  # stable: same-time events keep their order
    end = max([t for t, _ in timeline.points] + [t for t, _ in marks] + [1.0])
    start = min([0.0] + [t for t, _ in timeline.points] + [t for t, _ in marks])
    span = (end - start) * 1.02
    rows = levels([t for t, _ in marks], BADGE / PLOT_WIDTH * span)
    n_rows = max(rows, default=0) + 1
    entries = _entries(marks)
    half = math.ceil(len(entries) / 2)
    list_lines = max((sum(e.count("\n") + 1 for e in column) for column in (entries[:half], entries[half:])),
                     default=0)
    panels = 3 if latency else 2
    badge_h, panel_h = 0.12 + 0.2 * n_rows, 1.3
    height = 0.35 + badge_h + panels * panel_h + 0.45 + 0.16 * list_lines + 0.15
    fig = plt.figure(figsize=(WIDTH, height), layout="constrained")
    grid = fig.add_gridspec(1 + panels, 1, height_ratios=[badge_h] + [panel_h] * panels)
    events = fig.add_subplot(grid[0])
    axes = [fig.add_subplot(grid[i + 1], sharex=events) for i in range(panels)]
    top, mid = axes[0], axes[1]

    for value, label in ((lambda r: r.accepted, "aceitas/s"), (lambda r: r.delivered_total, "entregues/s")):
        top.plot(*zip(*timeline.series(value), strict=True), label=label, linewidth=1.1)
    for channel in channels:
        points = timeline.series(lambda r, c=channel: r.delivered.get(c, 0.0))
        top.plot(*zip(*points, strict=True), label=f"entregues/s {channel}", linewidth=0.8)
    top.set_ylabel("msg/s")
    mid.plot([t for t, _ in timeline.points], [r.lag for _, r in timeline.points], color="tab:red",
             linewidth=1.1, label="informado pelos workers em execução")
    group = [(t, r.router_group_lag) for t, r in timeline.points if r.router_group_lag is not None]
    if group:  # the broker's view also counts the partitions of a worker that is dead
        mid.plot(*zip(*group, strict=True), color="tab:orange", linewidth=0.9,
                 label="grupo do router, lido no broker")
    mid.set_ylabel("lag do consumidor\n(mensagens)")
    if latency:
        low = axes[2]
        _plot_gaps(low, [(t, v * 1000) for t, v in timeline.mean_latency()], color="tab:purple",
                   linewidth=1.1)
        low.set_ylabel("latência de entrega\nmédia (ms)")
        low.set_ylim(bottom=0)
    for ax in (top, mid):
        ax.set_ylim(0, max(ax.get_ylim()[1], 1) * 1.3)  # room for the legend above the lines
        n = len(ax.get_lines())
        ax.legend(loc="upper left", ncol=n if n <= 3 else 2, fontsize=LEGEND, framealpha=0.85,
                  borderaxespad=0.3, columnspacing=1.2, handlelength=1.5)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=TICKS)
        ax.yaxis.set_major_formatter(FuncFormatter(_number))
        ax.xaxis.set_major_formatter(FuncFormatter(_number))
        ax.yaxis.label.set_size(LABELS)
        for t, _ in marks:
            ax.axvline(t, color="black", linestyle="--", linewidth=0.7)
        if ax is not axes[-1]:
            ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("segundos desde o início do experimento", fontsize=LABELS)
    axes[-1].set_xlim(start - 0.01 * span, end + 0.01 * span)

    events.set_ylim(-0.7, n_rows - 0.4)
    events.axis("off")
    for i, ((t, _), row) in enumerate(zip(marks, rows, strict=True), 1):
        events.plot([t, t], [-0.7, row], color="black", linestyle="--", linewidth=0.7)
        events.text(t, row, str(i), ha="center", va="center", fontsize=LEGEND, zorder=3,
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "black",
                          "linewidth": 0.7})
    if entries:
        fig.legend([Line2D([], [], linestyle="none")] * len(entries), entries, loc="outside lower center",
                   ncol=2 if len(entries) > 1 else 1, fontsize=LEGEND, frameon=False, handlelength=0,
                   handletextpad=0, columnspacing=2.0, alignment="left", title="eventos",
                   title_fontsize=LEGEND)
    fig.suptitle(event_label(title), fontsize=TITLE)
    return fig


def draw(timeline: Timeline, title: str, out: Path, channels: tuple[str, ...] = (),
         latency: bool = True) -> None:
    fig = figure(timeline, title, channels, latency)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=200)
    plt.close(fig)


def redraw(latest: Path, out: Path | None = None) -> Path:
    """The chart of a committed result (results/experiments/<name>/latest.json), drawn again from the
    readings it holds; by default over the timeline.png beside it."""
    from experiments.cases import CHANNELS  # the cases import the stack's clients: only here

    result = json.loads(latest.read_text())
    name, data = result["name"], result["timeline"]
    latency = has_latency(data)
    title = (f"{name}: vazão, lag e latência de entrega" if latency
             else f"{name}: vazão e lag (latência não gravada nesta execução)")
    out = out or latest.parent / "timeline.png"
    draw(Timeline.from_json(data), title, out, CHANNELS.get(name, ()), latency)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.chart",
                                     description="Redraw the experiments' charts from their latest.json "
                                     "(no stack needed).")
    parser.add_argument("results", nargs="*", type=Path,
                        help="latest.json files (default: results/experiments/*/latest.json)")
    parser.add_argument("--out", type=Path, help="write <dir>/<experiment>.png instead of the timeline.png "
                        "beside each latest.json")
    args = parser.parse_args(argv)
    results = args.results or sorted((REPO_DIR / "results" / "experiments").glob("*/latest.json"))
    if not results:
        parser.error("no latest.json found")
    for latest in results:
        out = args.out / f"{latest.parent.name}.png" if args.out else None
        print(redraw(latest, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
