"""Diagrams as code (matplotlib): the components of the platform and the path of one message.

Labels come from the settings (topic names, partition counts), so a renamed topic shows here.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from chat4all_app.settings import Settings
from report.charts import save
from report.fmt import TIMES

COLORS = {"edge": "#e8f1fb", "app": "#dcedc8", "kafka": "#fff3c4", "store": "#f8d9c4",
          "ext": "#eeeeee", "obs": "#e1d5f0"}
FONT = 6.3


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, kind: str,
         size: float = FONT, bold: bool = False) -> tuple[float, float, float, float]:
    """A rounded box centred on (x, y); returns its (left, bottom, right, top)."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor=COLORS[kind], edgecolor="#555555", linewidth=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, weight="bold" if bold else "normal",
            linespacing=1.25)
    return x - w / 2, y - h / 2, x + w / 2, y + h / 2


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str = "",
           dashed: bool = False, offset: tuple[float, float] = (0, 0.17), rad: float = 0.0,
           color: str = "#333333", head: float = 9, width: float = 0.9, shrink: float = 1,
           size: float = FONT - 1.2, va: str = "center") -> None:
    """An arrow from `start` to `end`, its label (if any) at the middle moved by `offset`; `va`
    aligns the label to that point, `shrink` keeps the ends off the boxes (points)."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=head, linewidth=width,
                                 color=color, linestyle=(0, (4, 3)) if dashed else "solid",
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=shrink, shrinkB=shrink))
    if label:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, label, ha="center", va=va, fontsize=size, color=color,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85})


def components(settings: Settings, dashboards: int, out: Path) -> Path:
    """Component diagram: clients, nginx, API, Kafka topics, router, connectors, providers, stores,
    Prometheus and Grafana (with its number of `dashboards`), with the direction of every flow."""
    fig, ax = plt.subplots(figsize=(6.6, 5.3))
    ax.set_xlim(0, 18)
    ax.set_ylim(0, 12.8)
    ax.axis("off")
    channels = settings.channels[:2]
    # Edge: clients -> nginx -> API.
    _box(ax, 1.2, 6.2, 2.2, 1.3, "Clientes\n(CLI, k6)", "ext")
    _box(ax, 3.75, 6.2, 2.1, 1.3, "nginx (lb)\nround robin", "edge")
    _box(ax, 6.4, 6.2, 2.4, 1.5, f"API {TIMES} N\nFaust web\nJWT, validação", "app")
    _arrow(ax, (2.3, 6.2), (2.7, 6.2))
    _arrow(ax, (4.8, 6.2), (5.2, 6.2))
    # Kafka topics (yellow), the router and the connectors around them.
    _box(ax, 9.75, 6.2, 3.2, 1.5, f"{settings.topic_messages}\n"
         f"{settings.topic_messages_partitions} partições,\nchave conversation_id", "kafka")
    _box(ax, 13.15, 6.2, 2.6, 1.5, f"router {TIMES} N\ndedupe, grava,\nencaminha,\naplica status", "app")
    _box(ax, 13.0, 9.4, 3.7, 1.2, f"{settings.topic_channel_prefix}<canal>\n"
         f"{settings.topic_partitions} partições cada", "kafka")
    _box(ax, 13.15, 3.0, 3.0, 1.2, f"{settings.topic_status}\n{settings.topic_partitions} partições",
         "kafka")
    _group(ax, 15.25, 7.75, 2.65, 2.75, "connectors")
    for i, channel in enumerate(channels):
        _box(ax, 16.57, 9.55 - i * 1.1, 2.35, 0.9, f"connector-\n{channel}", "app", size=FONT - 0.6)
    _group(ax, 15.25, 1.55, 2.65, 2.75, "provedores")
    for i, channel in enumerate(channels):
        _box(ax, 16.57, 3.35 - i * 1.1, 2.35, 0.9, f"mock-{channel}\n(HTTP)", "ext", size=FONT - 0.6)
    _arrow(ax, (7.6, 6.2), (8.15, 6.2))
    ax.text(7.9, 7.35, "produce\nacks=all", ha="center", fontsize=FONT - 1.2)
    _arrow(ax, (11.35, 6.2), (11.85, 6.2))
    _arrow(ax, (13.15, 6.95), (13.15, 8.8), "encaminha", offset=(0, 0))
    _arrow(ax, (14.85, 9.4), (15.3, 9.4))
    _arrow(ax, (17.25, 7.75), (17.25, 4.3))
    _arrow(ax, (15.95, 4.3), (15.95, 7.75), dashed=True)
    ax.text(16.6, 6.05, "envio com\ncircuit\nbreaker\n\nrecibos\n(webhook)", ha="center", va="center",
            fontsize=FONT - 1.3, linespacing=1.2)
    _arrow(ax, (15.3, 7.8), (14.3, 3.6), "SENT,\nDELIVERED", offset=(0.25, -0.4))
    _arrow(ax, (13.15, 3.6), (13.15, 5.45), "status", offset=(-0.55, 0))
    # Stores.
    _box(ax, 9.75, 1.9, 3.6, 1.5, "Cassandra\nmessages, messages_by_id,\nusers, conversations,\nfiles",
         "store", size=FONT - 0.6)
    _box(ax, 6.4, 1.9, 2.4, 1.5, "MinIO (S3)\nbucket privado\n(arquivos)", "store")
    _arrow(ax, (12.0, 5.45), (11.2, 2.65), "grava", offset=(0.35, 0.1))
    _arrow(ax, (7.2, 5.45), (8.4, 2.65), "lê", offset=(0.25, 0))
    _arrow(ax, (6.4, 5.45), (6.4, 2.65), "multipart", offset=(-0.75, 0))
    # Observability.
    _box(ax, 4.7, 11.6, 2.8, 1.2, "Prometheus\nscrape de /metrics", "obs")
    _box(ax, 1.2, 11.6, 2.2, 1.2, f"Grafana\n{dashboards} dashboards", "obs")
    _arrow(ax, (2.3, 11.6), (3.3, 11.6), "PromQL", offset=(0, 0.35))
    for target in ((6.4, 6.95), (12.2, 6.95), (15.3, 10.5)):
        _arrow(ax, (6.1, 11.1), target, dashed=True, color="#6a4c93")
    ax.text(7.0, 12.2, "scrape de /metrics de cada processo (api, router, connectors), do MinIO e do\n"
            "próprio Prometheus; /health e heartbeats em cada serviço", fontsize=FONT - 1.3,
            color="#6a4c93", va="center")
    legend = [("app", "processos Chat4All (Faust)"), ("kafka", "tópicos Kafka"),
              ("store", "armazenamento"), ("obs", "observabilidade"), ("ext", "externos")]
    left = 0.1
    for kind, text in legend:
        ax.add_patch(FancyBboxPatch((left, 0.0), 0.35, 0.35, boxstyle="square,pad=0",
                                    facecolor=COLORS[kind], edgecolor="#555555", linewidth=0.6))
        ax.text(left + 0.5, 0.17, text, fontsize=FONT - 1, va="center")
        left += 1.0 + 0.16 * len(text)
    return save(fig, out)


def _group(ax: Axes, x: float, y: float, w: float, h: float, title: str) -> None:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor="white", edgecolor="#777777", linestyle="--", linewidth=0.7))
    ax.text(x + w / 2, y + h - 0.28, title, ha="center", va="center", fontsize=FONT - 0.8, style="italic")


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
    x = {name: 0.95 + i * 2.35 for i, name in enumerate(SEQUENCE)}
    row = 0.42
    height = 1.2 + row * len(flow)
    fig, ax = plt.subplots(figsize=(6.6, 0.4 + 0.225 * len(flow)))
    ax.set_xlim(0, x[SEQUENCE[-1]] + 0.95)
    ax.set_ylim(-0.1, height)
    ax.axis("off")
    top = height - 0.35
    for name, px in x.items():
        kind = "kafka" if name == "Kafka" else "store" if name == "Cassandra" else (
            "ext" if name in ("Cliente", "Provedor") else "app")
        _box(ax, px, top, 1.85, 0.55, name, kind, size=FONT, bold=True)
        ax.plot([px, px], [top - 0.3, 0.0], color="#888888", linewidth=0.7, linestyle=(0, (3, 3)))
    for i, (src, dst, label, reply) in enumerate(flow.values(), 1):
        y = top - 0.55 - (i - 0.5) * row
        if src == dst:
            _box(ax, x[src] + 1.15, y + 0.05, 4.6, 0.34, f"{i}. {label}", "ext", size=FONT - 0.4)
        else:
            _arrow(ax, (x[src], y), (x[dst], y), f"{i}. {label}", dashed=reply, offset=(0, 0.05), head=7,
                   width=0.8, shrink=0, size=FONT - 0.4, va="bottom")
    return save(fig, out), {key: i for i, key in enumerate(flow, 1)}
