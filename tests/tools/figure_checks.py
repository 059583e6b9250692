"""What makes a figure hard to read once printed: fonts below 7 pt at the printed width, labels
that overlap. Shared by the report's and the experiments' figure tests."""

from __future__ import annotations

from itertools import combinations

from matplotlib.figure import Figure
from matplotlib.text import Text

TEXT_WIDTH_IN = 17 / 2.54  # the report's text width (A4, 2 cm margins)


def texts(fig: Figure) -> list[Text]:
    """Every non-empty text the figure draws (tick labels, legends, annotations), recorded while
    drawing: a tick label outside the axis' view or on a hidden axis is not drawn, so not listed."""
    renderer = fig.canvas.get_renderer()
    drawn: dict[int, Text] = {}
    draw_text = renderer.draw_text

    def record(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None and s.strip():
            drawn[id(mtext)] = mtext
        return draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    renderer.draw_text = record
    try:
        fig.draw(renderer)
    finally:
        del renderer.draw_text
    return list(drawn.values())


def printed_min_pt(fig: Figure, share: float) -> float:
    """The smallest font, in points, once the figure (cropped to its contents, as saved) is printed
    `share` of the text width wide."""
    found = texts(fig)
    width = fig.get_tightbbox(fig.canvas.get_renderer()).width  # inches
    return min(t.get_fontsize() for t in found) * share * TEXT_WIDTH_IN / width


def overlapping(found: list[Text]) -> list[tuple[str, str]]:
    renderer = found[0].figure.canvas.get_renderer() if found else None
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in found]
    return [(a, b) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)]
