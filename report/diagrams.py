"""Diagrams as code (matplotlib): the components of the platform and the path of one message.

Labels come from the settings (topic names, partition counts), so a renamed topic shows here. The
axes span the whole figure in inches (1 data unit = 1 inch) and every box is sized from its text
as the renderer measures it, so no label overflows its box; the report prints each diagram at 90%
of its 17 cm text width, where the smallest font is still >= 7 pt (`layout_problems` checks both).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, count, pairwise
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.transforms import Bbox

from chat4all_app.settings import Settings
from report.charts import save
from report.fmt import TIMES

COLORS = {"edge": "#e8f1fb", "app": "#dcedc8", "kafka": "#fff3c4", "store": "#f8d9c4",
          "ext": "#eeeeee", "obs": "#e1d5f0"}
FONT = 7.6  # box text (pt)
SMALL = 7.4  # arrow labels, notes, the legend
PAD = 0.07  # inches between a box's text and its edge
REPORT_WIDTH_IN = 0.9 * 17 / 2.54  # the report shows a diagram at 90% of its 17 cm text width
MIN_PRINTED_PT = 7.0
_ids = count()


@dataclass(frozen=True)
class Box:
    left: float
    bottom: float
    right: float
    top: float

    @property
    def x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def y(self) -> float:
        return (self.bottom + self.top) / 2


def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure whose axes fill it, in inches."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def _extent(ax: Axes, text: str, size: float, bold: bool = False) -> tuple[float, float]:
    """(width, height) in inches of `text` as the renderer draws it."""
    fig = ax.figure
    probe = fig.text(0, 0, text, fontsize=size, weight="bold" if bold else "normal", linespacing=1.2)
    box = probe.get_window_extent(fig.canvas.get_renderer())
    probe.remove()
    return box.width / fig.dpi, box.height / fig.dpi


def _box(ax: Axes, x: float, y: float, text: str, kind: str, size: float = FONT, bold: bool = False,
         w: float = 0.0, h: float = 0.0) -> Box:
    """A rounded box centred on (x, y), at least w x h and never smaller than its text plus PAD."""
    tw, th = _extent(ax, text, size, bold)
    w, h = max(w, tw + 2 * PAD), max(h, th + 2 * PAD)
    gid = f"box{next(_ids)}"
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.05",
                                facecolor=COLORS[kind], edgecolor="#555555", linewidth=0.8, gid=gid))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, weight="bold" if bold else "normal",
            linespacing=1.2, gid=gid)
    return Box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _group(ax: Axes, box: Box, title: str) -> None:
    """A dashed frame around `box` (grown by PAD) titled at its top."""
    left, bottom, right, top = box.left - PAD, box.bottom - PAD, box.right + PAD, box.top + PAD
    gid = f"group{next(_ids)}"
    ax.add_patch(FancyBboxPatch((left, bottom), right - left, top - bottom,
                                boxstyle="round,pad=0,rounding_size=0.05", facecolor="white",
                                edgecolor="#777777", linestyle="--", linewidth=0.7, gid=gid, zorder=0.5))
    ax.text((left + right) / 2, top - 0.04, title, ha="center", va="top", fontsize=SMALL, style="italic",
            gid=gid)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str = "",
           dashed: bool = False, at: tuple[float, float] | None = None, rad: float = 0.0,
           color: str = "#333333", head: float = 8, width: float = 0.9, ha: str = "center",
           va: str = "center", size: float = SMALL) -> None:
    """An arrow from `start` to `end`; its label (if any) at `at` (default: the middle)."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=head, linewidth=width,
                                 color=color, linestyle=(0, (4, 3)) if dashed else "solid",
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))
    if label:
        mx, my = at or ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        ax.text(mx, my, label, ha=ha, va=va, fontsize=size, color=color, linespacing=1.2,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8, "alpha": 0.9})


def _stack(ax: Axes, x: float, top: float, texts: list[str], kind: str, width: float = 0.0,
           gap: float = 0.08) -> Box:
    """Boxes of one size (at least `width`) stacked downwards from `top`, centred on x; returns
    their bounds."""
    sizes = [_extent(ax, t, FONT) for t in texts]
    w = max(width, max(s[0] for s in sizes) + 2 * PAD)
    h = max(s[1] for s in sizes) + 2 * PAD
    boxes = [_box(ax, x, top - h / 2 - i * (h + gap), t, kind, w=w, h=h) for i, t in enumerate(texts)]
    return Box(boxes[0].left, boxes[-1].bottom, boxes[0].right, boxes[0].top)


def components(settings: Settings, dashboards: int, out: Path) -> Path:
    """Component diagram: clients, nginx, API, Kafka topics, router, connectors, providers, stores,
    Prometheus and Grafana (with its number of `dashboards`), with the direction of every flow."""
    return save(components_figure(settings, dashboards), out)


def components_figure(settings: Settings, dashboards: int) -> Figure:
    """The component diagram, for `components` to save (and the tests to measure)."""
    fig, ax = _canvas(6.3, 4.75)
    channels = settings.channels[:2]
    # The main row, left to right: clients -> nginx -> API -> messages topic -> router.
    row = [("Clientes\n(CLI, k6)", "ext"), ("nginx (lb)\nround robin", "edge"),
           (f"API {TIMES} N\nFaust web\nJWT, validação", "app"),
           (f"{settings.topic_messages}\n{settings.topic_messages_partitions} partições,\nchave:\n"
            "conversation_id", "kafka"),
           (f"router {TIMES} N\ndedupe, grava,\nencaminha,\naplica status", "app")]
    sizes = [_extent(ax, text, FONT) for text, _ in row]
    height = max(h for _, h in sizes) + 2 * PAD
    y, left = 2.45, 0.02
    boxes = []
    for (text, kind), (w, _) in zip(row, sizes, strict=True):
        boxes.append(_box(ax, left + w / 2 + PAD, y, text, kind, h=height))
        left = boxes[-1].right + 0.2
    _, _, api, messages, router = boxes
    for a, b in pairwise(boxes):
        _arrow(ax, (a.right, y), (b.left, y))
    ax.text((api.right + messages.left) / 2, api.top + 0.05, "produce\nacks=all", ha="center", va="bottom",
            fontsize=SMALL, linespacing=1.2)
    # The channels' side, in the right column: connectors above, the providers below.
    column = (router.right + 0.25 + ax.get_xlim()[1]) / 2
    inner = ax.get_xlim()[1] - (router.right + 0.25) - 2 * PAD  # the boxes' width
    connectors = _stack(ax, column, 4.05, [f"connector-\n{c}" for c in channels], "app", width=inner)
    _group(ax, Box(connectors.left, connectors.bottom, connectors.right, connectors.top + 0.17), "connectors")
    providers = _stack(ax, column, 1.6, [f"mock-\n{c}\n(HTTP)" for c in channels], "ext", width=inner)
    _group(ax, Box(providers.left, providers.bottom, providers.right, providers.top + 0.17), "provedores")
    low, high = providers.top + 0.17 + PAD, connectors.bottom - PAD
    _arrow(ax, (connectors.right - 0.03, high), (connectors.right - 0.03, low))
    _arrow(ax, (connectors.left + 0.03, low), (connectors.left + 0.03, high), dashed=True)
    ax.text(connectors.right - 0.08, high - 0.06, "envio com\ncircuit\nbreaker", ha="right", va="top",
            fontsize=SMALL, linespacing=1.2)
    ax.text(connectors.left + 0.08, low + 0.06, "recibos\n(webhook)", ha="left", va="bottom",
            fontsize=SMALL, linespacing=1.2)
    # The channel topics above the router, the status topic below it.
    text = f"{settings.topic_channel_prefix}<canal>\n{settings.topic_partitions} partições cada"
    w, _ = _extent(ax, text, FONT)
    channel = _box(ax, min(router.x, connectors.left - PAD - 0.25 - w / 2 - PAD), 3.72, text, "kafka")
    _arrow(ax, (router.x, router.top), (router.x, channel.bottom), "encaminha")
    _arrow(ax, (channel.right, channel.y), (connectors.left - PAD, channel.y))
    status = _box(ax, router.x, 0.95, f"{settings.topic_status}\n{settings.topic_partitions} partições",
                  "kafka")
    _arrow(ax, (router.x, status.top), (router.x, router.bottom), "status",
           at=(router.x - 0.05, (status.top + router.bottom) / 2), ha="right")
    _arrow(ax, (connectors.left - PAD, connectors.bottom + 0.1), (status.right - 0.1, status.top),
           "SENT,\nDELIVERED", at=(connectors.left - PAD - 0.06, 1.75), ha="right")
    # Stores: MinIO below the API, Cassandra between it and the status topic.
    minio = _box(ax, api.x - 0.1, 0.95, "MinIO (S3)\nbucket privado\n(arquivos)", "store")
    _arrow(ax, (minio.x, api.bottom), (minio.x, minio.top), "multipart")
    cassandra = _box(ax, (minio.right + status.left) / 2, 0.95,
                     "Cassandra\nmessages,\nmessages_by_id,\nusers, conversations,\nfiles", "store")
    _arrow(ax, (router.left + 0.12, router.bottom), (cassandra.right - 0.2, cassandra.top), "grava")
    _arrow(ax, (api.right - 0.12, api.bottom), (cassandra.left + 0.2, cassandra.top), "lê")
    # Observability: Grafana queries Prometheus, which scrapes every process.
    text = f"Grafana\n{dashboards} dashboards"
    grafana = _box(ax, 0.02 + _extent(ax, text, FONT)[0] / 2 + PAD, 4.45, text, "obs")
    w, _ = _extent(ax, "scrape de /metrics", FONT)
    prometheus = _box(ax, grafana.right + 0.45 + w / 2 + PAD, 4.45, "Prometheus\nscrape de /metrics", "obs")
    _arrow(ax, (grafana.right, grafana.y), (prometheus.left, prometheus.y), "PromQL",
           at=((prometheus.left + grafana.right) / 2, grafana.y + 0.05), va="bottom")
    for target in ((api.x, api.top), (router.left + 0.15, router.top),
                   (connectors.left - PAD, connectors.top)):
        _arrow(ax, (prometheus.x, prometheus.bottom), target, dashed=True, color="#6a4c93")
    ax.text(prometheus.right + 0.15, prometheus.top, "scrape de /metrics de cada processo (api,\nrouter, "
            "connectors), do MinIO e do próprio\nPrometheus; /health e heartbeats em cada serviço",
            fontsize=SMALL, color="#6a4c93", va="top", linespacing=1.2)
    legend = [("app", "processos Chat4All (Faust)"), ("kafka", "tópicos Kafka"),
              ("store", "armazenamento"), ("obs", "observabilidade"), ("ext", "externos")]
    ax.legend(handles=[Patch(facecolor=COLORS[k], edgecolor="#555555", label=t) for k, t in legend],
              loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=SMALL, frameon=False,
              handlelength=1.2, columnspacing=1.2, borderaxespad=0.1)
    return fig


SEQUENCE = ("Cliente", "API", "Kafka", "Router", "Cassandra", "Connector", "Provedor")


def steps(settings: Settings) -> dict[str, tuple[str, str, str, bool]]:
    """{key: (from, to, label, dashed reply)} of one message, in order; from == to: a note. The
    report's prose refers to a step by its key (its number is its position)."""
    ch = settings.channels[0]
    return {
        "post": ("Cliente", "API", "POST /v1/messages (JWT)", False),
        "produce": ("API", "Kafka", f"produce {settings.topic_messages}, acks=all", False),
        "ack": ("Kafka", "API", "ack", True),
        "accepted": ("API", "Cliente", "202 (só após o ack)", True),
        "batch": ("Kafka", "Router", "lote (take_events)", False),
        "dedupe": ("Router", "Router", "dedupe: message_id na tabela routed?", False),
        "insert": ("Router", "Cassandra", "INSERT em lote, PENDING", False),
        "forward": ("Router", "Kafka", f"produce {settings.topic_channel_prefix}{ch}", False),
        "channel_batch": ("Kafka", "Connector", "lote do canal, em ordem por conversa", False),
        "send": ("Connector", "Provedor", "POST (breaker, idempotência)", False),
        "sent_reply": ("Provedor", "Connector", "200", True),
        "sent": ("Connector", "Kafka", f"status SENT em {settings.topic_status}", False),
        "webhook": ("Provedor", "Connector", "webhook: DELIVERED", False),
        "delivered": ("Connector", "Kafka", "status DELIVERED", False),
        "status_events": ("Kafka", "Router", "eventos de status", False),
        "status_update": ("Router", "Cassandra", "UPDATE status (só avança)", False),
    }


def sequence(settings: Settings, out: Path) -> tuple[Path, dict[str, int]]:
    """Sequence diagram of one message to an external channel, from POST to DELIVERED; returns the
    PNG and the number the diagram gives each step ({key: number})."""
    flow = steps(settings)
    return save(sequence_figure(settings), out), {key: i for i, key in enumerate(flow, 1)}


def sequence_figure(settings: Settings) -> Figure:
    """The sequence diagram, for `sequence` to save (and the tests to measure)."""
    flow = steps(settings)
    width, row = 6.3, 0.25
    fig, ax = _canvas(width, 0.5 + row * len(flow) + 0.12)
    step = (width - 0.04) / len(SEQUENCE)
    x = {name: 0.02 + step * (i + 0.5) for i, name in enumerate(SEQUENCE)}
    top = 0.5 + row * len(flow) + 0.12 - 0.22
    for name, px in x.items():
        kind = "kafka" if name == "Kafka" else "store" if name == "Cassandra" else (
            "ext" if name in ("Cliente", "Provedor") else "app")
        box = _box(ax, px, top, name, kind, bold=True, w=step - 0.1)
        ax.plot([px, px], [box.bottom, 0.0], color="#888888", linewidth=0.7, linestyle=(0, (3, 3)),
                zorder=0.5)
    first = top - 0.22
    for i, (src, dst, label, reply) in enumerate(flow.values(), 1):
        y = first - (i - 0.5) * row
        text = f"{i}. {label}"
        tw, _ = _extent(ax, text, FONT)
        if src == dst:  # a note, from the lifeline to the right
            _box(ax, x[src] - 0.15 + (tw + 2 * PAD) / 2, y + 0.02, text, "ext")
            continue
        # The label sits above the arrow, at its middle, but never past the figure's edges.
        mid = (x[src] + x[dst]) / 2
        mid = min(max(mid, 0.04 + tw / 2), width - 0.04 - tw / 2)
        _arrow(ax, (x[src], y - 0.07), (x[dst], y - 0.07), text, dashed=reply, at=(mid, y - 0.04), head=7,
               width=0.8, va="bottom", size=FONT)
    return fig


def layout_problems(fig: Figure, width_in: float = REPORT_WIDTH_IN,
                    min_pt: float = MIN_PRINTED_PT) -> list[str]:
    """What would make the diagram hard to read once printed `width_in` wide: a box's text that
    leaves its box, texts that overlap each other or another box, boxes that overlap, a font below
    `min_pt` at that width."""
    fig.canvas.draw()  # places the legend's texts
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend()
    texts = [t for t in [*ax.texts, *fig.texts, *(legend.get_texts() if legend else [])]
             if t.get_visible() and t.get_text().strip()]
    frames = {p.get_gid(): p.get_window_extent(renderer) for p in ax.patches if p.get_gid()}
    boxes = {gid: frame for gid, frame in frames.items() if gid.startswith("box")}  # not groups
    extent = {id(t): t.get_window_extent(renderer) for t in texts}
    problems = []
    for t in texts:
        own = frames.get(t.get_gid())
        if own is not None and not _inside(extent[id(t)], own):
            problems.append(f"{t.get_text()!r} overflows its box")
        for gid, other in boxes.items():
            if gid != t.get_gid() and extent[id(t)].overlaps(other):
                problems.append(f"{t.get_text()!r} overlaps box {gid}")
    for a, b in combinations(texts, 2):
        if extent[id(a)].overlaps(extent[id(b)]):
            problems.append(f"{a.get_text()!r} overlaps {b.get_text()!r}")
    for (ga, a), (gb, b) in combinations(boxes.items(), 2):
        if a.overlaps(b):
            problems.append(f"boxes {ga} and {gb} overlap")
    printed = width_in / (fig.get_tightbbox(renderer).width)  # tightbbox: inches
    smallest = min(t.get_fontsize() for t in texts)
    if smallest * printed < min_pt:
        problems.append(f"smallest font {smallest} pt prints at {smallest * printed:.1f} pt (< {min_pt})")
    return problems


def _inside(inner: Bbox, outer: Bbox) -> bool:
    return (inner.x0 >= outer.x0 and inner.x1 <= outer.x1 and inner.y0 >= outer.y0
            and inner.y1 <= outer.y1)
