"""The experiment's PNG: throughput, consumer lag and delivery latency over time, faults marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from experiments.timeline import Timeline


def draw(timeline: Timeline, title: str, out: Path, channels: tuple[str, ...] = ()) -> None:
    fig, (top, mid, low) = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    top.plot(*zip(*timeline.series(lambda r: r.accepted), strict=True), label="accepted/s")
    top.plot(*zip(*timeline.series(lambda r: r.delivered_total), strict=True), label="delivered/s")
    for channel in channels:
        points = timeline.series(lambda r, c=channel: r.delivered.get(c, 0.0))
        top.plot(*zip(*points, strict=True), label=f"delivered/s {channel}", linewidth=0.8)
    top.set_ylabel("msg/s")
    top.legend(loc="upper right", fontsize=8)
    mid.plot([t for t, _ in timeline.points], [r.lag for _, r in timeline.points], color="tab:red",
             label="reported by the running workers")
    group = [(t, r.router_group_lag) for t, r in timeline.points if r.router_group_lag is not None]
    if group:  # the broker's view also counts the partitions of a worker that is dead
        mid.plot(*zip(*group, strict=True), color="tab:orange", linewidth=0.9,
                 label="router group, from the broker")
    mid.legend(loc="upper right", fontsize=8)
    mid.set_ylabel("consumer lag")
    latency = timeline.mean_latency()
    if latency:
        low.plot([t for t, _ in latency], [v * 1000 for _, v in latency], color="tab:purple")
    low.set_ylabel("mean delivery\nlatency (ms)")
    low.set_xlabel("seconds since the experiment started")
    for axis in (top, mid, low):
        axis.grid(alpha=0.3)
        for t, label in timeline.marks:
            axis.axvline(t, color="black", linestyle="--", linewidth=0.8)
            if axis is top:
                axis.annotate(label, (t, axis.get_ylim()[1]), rotation=90, fontsize=7, va="top",
                              ha="right")
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
