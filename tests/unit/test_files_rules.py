"""Pure rules of the files feature: multipart plans, size buckets, names and content types."""

import pytest

from chat4all_app.errors import Invalid
from chat4all_app.files.sizing import MAX_PARTS, part_lengths, part_plan, size_bucket
from chat4all_app.files.uploads import clean_filename, content_type_of

MiB = 1024 * 1024


@pytest.mark.parametrize(("size", "plan"), [
    (0, (8 * MiB, 1)), (1, (8 * MiB, 1)), (8 * MiB, (8 * MiB, 1)), (8 * MiB + 1, (8 * MiB, 2)),
    (2 * 1024**3, (8 * MiB, 256)),
])
def test_part_plan_uses_the_configured_part_size(size, plan):
    assert part_plan(size, 8 * MiB) == plan


def test_part_plan_grows_parts_to_stay_within_s3s_part_limit():
    size = 200 * 1024**3
    part_size, count = part_plan(size, 8 * MiB)
    assert count <= MAX_PARTS and part_size * count >= size and part_size > 8 * MiB


def test_part_lengths_are_the_exact_bytes_each_presigned_put_must_carry():
    assert part_lengths(20 * MiB + 3, 8 * MiB, [1, 2, 3]) == {1: 8 * MiB, 2: 8 * MiB, 3: 4 * MiB + 3}
    assert part_lengths(16 * MiB, 8 * MiB, [2]) == {2: 8 * MiB}
    assert part_lengths(0, 8 * MiB, [1]) == {1: 0}  # an empty file is one empty part
    with pytest.raises(ValueError):
        part_lengths(16 * MiB, 8 * MiB, [3])


@pytest.mark.parametrize(("size", "bucket"), [
    (0, "le_100KiB"), (100 * 1024, "le_100KiB"), (100 * 1024 + 1, "le_1MiB"), (5 * MiB, "le_10MiB"),
    (100 * MiB, "le_100MiB"), (1024**3, "le_1GiB"), (2 * 1024**3, "gt_1GiB"),
])
def test_size_buckets(size, bucket):
    assert size_bucket(size) == bucket


def test_file_names_keep_the_last_path_component_only():
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("C:\\Users\\me\\cv.pdf") == "cv.pdf"
    for bad in ("", "   ", "..", "dir/", 'a"b', "bell\x07", "x" * 256, None):
        with pytest.raises(Invalid):
            clean_filename(bad)


def test_content_types_are_type_slash_subtype():
    assert content_type_of(None) == "application/octet-stream"
    assert content_type_of("text/plain; charset=utf-8") == "text/plain; charset=utf-8"
    for bad in ("text", "no slash", "text/plain\r\nX-Evil: 1", "a/" + "b" * 300):
        with pytest.raises(Invalid):
            content_type_of(bad)
