"""Pure arithmetic about file sizes: multipart plans and the metric's size buckets."""

from __future__ import annotations

import math

MAX_PARTS = 10_000  # S3's limit per multipart upload

# files_uploaded_total{size_bucket}: upper bounds in bytes, readable labels.
SIZE_BUCKETS = ((100 * 1024, "le_100KiB"), (1024**2, "le_1MiB"), (10 * 1024**2, "le_10MiB"),
                (100 * 1024**2, "le_100MiB"), (1024**3, "le_1GiB"))


def size_bucket(size_bytes: int) -> str:
    for bound, label in SIZE_BUCKETS:
        if size_bytes <= bound:
            return label
    return "gt_1GiB"


def part_plan(size_bytes: int, min_part_bytes: int) -> tuple[int, int]:
    """(part_size, part_count) for a resumable upload: the configured part size, larger if the
    file would otherwise need more than S3's 10,000 parts. An empty file is one empty part."""
    part_size = max(min_part_bytes, math.ceil(size_bytes / MAX_PARTS))
    return part_size, max(1, math.ceil(size_bytes / part_size))



def part_lengths(size_bytes: int, part_size: int, numbers) -> dict[int, int]:
    """{part_number: its exact length} under a plan: every part is `part_size` bytes but the last
    (the remainder; 0 bytes for an empty file's single part)."""
    count = max(1, math.ceil(size_bytes / part_size))
    lengths = {}
    for n in numbers:
        if not 1 <= n <= count:
            raise ValueError(f"part {n} is outside 1..{count}")
        lengths[n] = min(part_size, size_bytes - (n - 1) * part_size)
    return lengths
