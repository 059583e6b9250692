"""The experiments' timeline chart: pt-BR labels (events translated at draw time), a gap where no
message was delivered, event badges that never overlap, legible at 80% of the report's width, and
a redraw from the committed latest.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from experiments import chart
from experiments.probe import Reading
from experiments.timeline import Timeline, has_latency
from tests.tools.figure_checks import overlapping, printed_min_pt, texts

REPO = Path(__file__).resolve().parents[2]
ENGLISH = ("accepted", "delivered", "seconds", "reported", "running", "latency", "throughput", "from the",
           "started", "restarted", "stopped", "load ", "done", "consumer")
# Events with nothing to translate.
NEUTRAL = {"/health 503"}


@pytest.mark.parametrize(("event", "label"), [
    ("router SIGKILL", "SIGKILL no router"),
    ("router restarted", "router reiniciado"),
    ("router-2 started", "router-2 iniciado"),
    ("load 100/s", "carga 100/s"),
    ("rebalance done: tables recovered", "rebalance concluído"),
    ("circuit OPEN", "circuito ABERTO"),
    ("connector-instagram SIGKILL: provoked", "SIGKILL no connector-instagram: provocado"),
    ("kafka-2 started (2 of 3 brokers)", "kafka-2 iniciado (2 de 3 brokers)"),
    ("200/s offered, 2 router worker(s) of 0.1 core, connectors paused",
     "200/s oferecidas, 2 worker(s) do router de 0,1 núcleo, connectors pausados"),
    ("failover: throughput, lag and latency", "failover: vazão, lag e latência de entrega"),
    ("something new", "something new"),  # unknown: as it is
])
def test_events_are_translated_at_draw_time(event, label):
    assert chart.event_label(event) == label


def test_every_committed_event_has_a_translation():
    events = {m["event"] for latest in (REPO / "results" / "experiments").glob("*/latest.json")
              for m in json.loads(latest.read_text())["timeline"]["marks"]}
    assert sorted(e for e in events - NEUTRAL if chart.event_label(e) == e) == []


def timeline(delivered: list[float], marks: list[tuple[float, str]] = ()) -> Timeline:
    """One reading a second; each delivery took 0.5 s."""
    tl = Timeline()
    tl.points = [(float(t), Reading(accepted=10.0 * t, delivered={"whatsapp": d}, latency_sum=0.5 * d,
                                    lag=5.0, router_group_lag=6.0)) for t, d in enumerate(delivered)]
    tl.marks = list(marks)
    return tl


def test_no_delivery_means_no_latency_a_gap_in_the_line():
    tl = timeline([0, 10, 20, 20, 20, 20, 30, 40])  # nothing delivered from t=3 to t=5
    latency = tl.mean_latency()
    assert [t for t, v in latency if math.isnan(v)] == [3.0, 4.0, 5.0]
    assert [v for _, v in latency if not math.isnan(v)] == [0.5] * 4
    fig = chart.figure(tl, "circuit-breaker: throughput, lag and latency")
    low = fig.axes[-1]
    (line,) = [ln for ln in low.get_lines() if ln.get_linestyle() != "--"][:1]
    assert sum(math.isnan(v) for v in line.get_ydata()) == 3  # a gap, not a line across it
    plt.close(fig)


def test_close_events_get_badges_that_never_overlap():
    marks = [(20.37, "provider in error mode"), (20.77, "circuit OPEN"), (50.36, "provider fixed"),
             (51.12, "circuit CLOSED"), (51.2, "accounted"), (0.0, "load 100/s")]
    fig = chart.figure(timeline([10.0 * t for t in range(72)], marks), "circuit-breaker", ("whatsapp",))
    badges = [t for t in fig.axes[0].texts]
    assert sorted(t.get_text() for t in badges) == [str(i) for i in range(1, 7)]
    assert overlapping(texts(fig)) == []  # badges, legends, list, labels
    entries = [t.get_text() for t in fig.legends[0].get_texts()]
    assert entries[0].startswith("1  carga 100/s (0,0")  # the list is in time order
    assert "circuito ABERTO (20,8\N{NO-BREAK SPACE}s)" in entries[2]
    plt.close(fig)


def test_levels_stagger_only_what_is_too_close():
    assert chart.levels([0, 1, 2, 10, 10.5, 30], gap=5) == [0, 1, 2, 0, 1, 0]


def test_labels_are_pt_br_and_print_at_7pt_at_80_percent():
    fig = chart.figure(timeline([10.0 * t for t in range(60)], [(20.0, "router SIGKILL")]),
                       "failover: throughput, lag and latency", ("whatsapp",))
    words = " ".join(t.get_text() for t in texts(fig)).lower()
    assert [w for w in ENGLISH if w in words] == []
    assert printed_min_pt(fig, 0.8) >= 7.0
    plt.close(fig)


def test_a_committed_result_redraws_from_its_latest_json(tmp_path):
    tl = timeline([0, 10, 20, 20, 30], [(1.0, "router SIGKILL")])
    data = tl.to_json()
    again = Timeline.from_json(json.loads(json.dumps(data)))
    assert again.marks == tl.marks
    assert [(t, r.delivered_total, r.latency_sum, r.lag) for t, r in again.points] == \
        [(t, r.delivered_total, r.latency_sum, r.lag) for t, r in tl.points]
    latest = tmp_path / "failover" / "latest.json"
    latest.parent.mkdir()
    latest.write_text(json.dumps({"name": "failover", "timeline": data}))
    assert chart.main([str(latest)]) == 0
    assert (latest.parent / "timeline.png").stat().st_size > 10_000
    # Results recorded before latency_sum: drawn without the latency panel, saying so.
    for point in data["points"]:
        del point["latency_sum"]
    assert not has_latency(data)
    old = Timeline.from_json(data)
    fig = chart.figure(old, "failover: vazão e lag", latency=False)
    assert len(fig.axes) == 3  # badges, throughput, lag
    plt.close(fig)
    latest.write_text(json.dumps({"name": "failover", "timeline": data}))
    assert chart.redraw(latest, tmp_path / "out.png") == tmp_path / "out.png"
    assert (tmp_path / "out.png").exists()


@pytest.mark.parametrize("latest", sorted((REPO / "results" / "experiments").glob("*/latest.json")),
                         ids=lambda p: p.parent.name)
def test_every_committed_chart_is_legible(latest):
    data = json.loads(latest.read_text())["timeline"]
    fig = chart.figure(Timeline.from_json(data), "x", latency=has_latency(data))
    found = texts(fig)
    assert overlapping(found) == []
    assert printed_min_pt(fig, 0.8) >= 7.0
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes[1:]:  # each legend inside its panel (latency: one series, no legend)
        if ax.get_legend() is None:
            continue
        legend, frame = ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)
        assert frame.x0 <= legend.x0 and legend.x1 <= frame.x1
    words = " ".join(t.get_text() for t in found)  # a status (DELIVERED) stays as it is
    assert [w for w in ENGLISH if w in words] == []
    plt.close(fig)
