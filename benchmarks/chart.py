"""The end-to-end chart of a bench run: per repeat and step, accepted and DELIVERED per second, and
every consumer group's broker-side lag, over the step; the judged hold shaded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def per_second(t: Sequence[float], counts: Sequence[float]) -> tuple[list[float], list[float]]:
    """(t, rate) between consecutive samples of a counter."""
    out_t, out_v = [], []
    for i in range(1, len(t)):
        if t[i] > t[i - 1]:
            out_t.append(t[i])
            out_v.append(max(0.0, (counts[i] - counts[i - 1]) / (t[i] - t[i - 1])))
    return out_t, out_v


def draw(repeats: Sequence[Sequence[dict]], out: Path, title: str = "") -> Path | None:
    """`repeats`: per repeat its e2e steps (benchmarks.steps.run_step results). None if no step."""
    columns = max((len(steps) for steps in repeats), default=0)
    if columns == 0:
        return None
    fig, axes = plt.subplots(2 * len(repeats), columns, figsize=(4.2 * columns, 3.2 * len(repeats)),
                             squeeze=False, sharex="col")
    for i, steps in enumerate(repeats):
        for j in range(columns):
            rate_ax, lag_ax = axes[2 * i][j], axes[2 * i + 1][j]
            if j >= len(steps):
                rate_ax.axis("off")
                lag_ax.axis("off")
                continue
            step, series = steps[j], steps[j]["series"]
            t = series["t"]
            rate_ax.plot(*per_second(t, series["accepted"]), label="accepted/s", linewidth=0.9)
            rate_ax.plot(*per_second(t, series["delivered"]), label="DELIVERED/s", linewidth=1.2)
            rate_ax.axhline(step["offered_rps"], color="grey", linestyle=":", linewidth=0.8, label="offered")
            for group, values in series["lag"].items():
                points = [(x, v) for x, v in zip(t, values, strict=True) if v is not None]
                if points:
                    lag_ax.plot(*zip(*points, strict=True), label=group.removeprefix("chat4all-"),
                                linewidth=0.9)
            start, end = step["verdict"]["hold_s"]
            for ax in (rate_ax, lag_ax):
                ax.axvspan(start, end, color="tab:green", alpha=0.08)
                ax.grid(alpha=0.3)
            verdict = "sustained" if step["sustained"] else "NOT sustained"
            rate_ax.set_title(f"repeat {i + 1}: {step['offered_rps']:g}/s, {verdict}", fontsize=9)
            if j == 0:
                rate_ax.set_ylabel("msg/s")
                lag_ax.set_ylabel("group lag (broker)")
            lag_ax.set_xlabel("s since the load started")
            if i == 0 and j == 0:
                rate_ax.legend(fontsize=7, loc="lower right")
                lag_ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(title or "end to end per step (hold shaded)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
