"""make bench's CPU per delivered message counts every process and k6, and nothing when nothing arrived."""

from __future__ import annotations

import pytest

from benchmarks.e2e import cpu_per_message


def test_every_process_and_k6_count_per_delivered_message():
    processes = {"api": {"cpu_s": 2.0}, "router": {"cpu_s": 1.5}, "kafka": {"cpu_s": 0.5}}
    figures = cpu_per_message(processes, k6_cpu_s=1.0, delivered=1000)
    assert figures["cpu_ms_per_message"] == pytest.approx(5.0)
    assert figures["cpu_ms_per_message_by_process"] == {"api": 2.0, "k6": 1.0, "kafka": 0.5, "router": 1.5}


def test_nothing_delivered_gives_no_figure_rather_than_a_division_by_zero():
    assert cpu_per_message({"api": {"cpu_s": 2.0}}, 1.0, 0) == {
        "cpu_ms_per_message": None, "cpu_ms_per_message_by_process": {}}
