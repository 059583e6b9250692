"""Browser screenshots of the live dashboards, cut to the panels the report discusses.

monitoring.live captures whole pages; a page grows with its panels (Component Health ends with the
live-push panels, empty without WebSocket traffic), so the report keeps the top rows of a page, in
pixels from the top as the page lays them out (the rows have fixed heights).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def top(screenshot: Path, height_px: int, out: Path) -> Path:
    """The first `height_px` rows of `screenshot` (all of it if shorter), written to `out`."""
    with Image.open(screenshot) as image:
        image.crop((0, 0, image.width, min(height_px, image.height))).save(out)
    return out
