"""The report's diagrams and charts: every label inside its box, nothing overlapping, fonts >= 7 pt
at the width the report prints them, labels in pt-BR."""

from __future__ import annotations

import dataclasses

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from chat4all_app.settings import Settings
from report import charts, diagrams
from tests.tools.figure_checks import printed_min_pt, texts

ENGLISH = ("accepted", "delivered", "seconds", "latency", "throughput", "reported", "measured", "each ")


@pytest.mark.parametrize("draw", [lambda s: diagrams.components_figure(s, 6), diagrams.sequence_figure],
                         ids=["components", "sequence"])
def test_diagrams_keep_labels_in_their_boxes_and_print_at_7pt(draw):
    fig = draw(Settings.from_env({}))
    assert diagrams.layout_problems(fig) == []
    assert printed_min_pt(fig, 0.9) >= 7.0


def test_a_long_topic_name_grows_its_box_instead_of_overflowing():
    settings = dataclasses.replace(Settings.from_env({}), topic_messages="chat4all.messages.v2",
                                   topic_channel_prefix="chat4all.ch.")
    problems = diagrams.layout_problems(diagrams.components_figure(settings, 6))
    assert not [p for p in problems if "overflows" in p]


def test_layout_problems_catch_text_outside_its_box():
    fig, ax = diagrams._canvas(3, 2)
    ax.add_patch(Rectangle((0.1, 0.1), 0.3, 0.2, gid="box-x"))
    ax.text(0.25, 0.2, "um rótulo bem mais largo que a caixa", ha="center", fontsize=8, gid="box-x")
    ax.text(2.0, 1.5, "pequeno", fontsize=5)
    problems = diagrams.layout_problems(fig, width_in=1.0)  # printed 1 in wide: 5 pt shrinks further
    assert any("overflows its box" in p for p in problems)
    assert any("smallest font 5" in p for p in problems)


def ctx() -> dict:
    steps = [{"offered_rps": r, "p95_ms": p, "served": s} for r, p, s in
             ((150, 20, True), (300, 120, True), (400, 3000, False))]
    return {"experiments": {"scale-workers": {"figures": {"t1_per_s": 31.0, "t2_per_s": 68.7, "ratio": 2.2}},
                            "scale-api": {"figures": {"rate_1_per_s": 347.0, "rate_2_per_s": 607.0,
                                                      "ratio": 1.75}}},
            "targets": {"t": {"own_workers_ratio": "≥ 1,80\N{MULTIPLICATION SIGN}",
                              "api": "≥ 1,70\N{MULTIPLICATION SIGN}"}},
            "scaling": {"worker_repeats": {1: [27.0, 35.0], 2: [68.0, 69.5]},
                        "api_phases": [{"processes": 1, "steps": steps}, {"processes": 2, "steps": steps}]}}


@pytest.mark.parametrize(("chart", "share"), [(charts.scaling, 0.86), (charts.api_latency, 0.76)])
def test_charts_print_at_7pt_in_pt_br(chart, share, monkeypatch, tmp_path):
    drawn: list[Figure] = []
    monkeypatch.setattr(charts, "save", lambda fig, out: drawn.append(fig) or out)
    chart(ctx(), tmp_path / "chart.png")
    (fig,) = drawn
    assert printed_min_pt(fig, share) >= 7.0
    words = " ".join(t.get_text() for t in texts(fig)).lower()
    assert not [w for w in ENGLISH if w in words]
