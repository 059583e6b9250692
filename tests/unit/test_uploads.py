"""The rules of uploads and downloads (chat4all_app.files.uploads), on in-memory storage and S3."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest

from chat4all_app.errors import Forbidden, Invalid, NotFound, TooLarge
from chat4all_app.files.uploads import StartUpload, StreamedFile, Uploader, Uploads, completion_parts
from chat4all_app.messaging.membership import Membership
from chat4all_app.storage.files import FileRecord, Upload
from tests.unit.fakes import FakeConversations, FakeFiles, FakeObjects, conversation, file_of

ALICE, BOB, CAROL = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MAX_BYTES, PART = 100, 10


class World:
    def __init__(self):
        conversations = FakeConversations()
        self.conv = conversations.add(conversation(ALICE, BOB))
        self.files, self.s3 = FakeFiles(), FakeObjects()
        self.uploads = Uploads(Membership(conversations), self.files, self.s3, MAX_BYTES, PART)

    def alice(self) -> Uploader:
        """Alice, a member, as `may_upload` would have found her."""
        return Uploader(ALICE, self.conv.conversation_id)

    async def complete(self, user_id: uuid.UUID, upload_id: str, parts: list[tuple[int, str]]) -> FileRecord:
        """As the view does: ownership first, then the parts."""
        return await self.uploads.complete(await self.uploads.own_upload(user_id, upload_id), parts)

    def start(self, size: int, **changes) -> StartUpload:
        fields = dict(user_id=ALICE, conversation_id=self.conv.conversation_id, filename="a/b/cv.pdf",
                      size_bytes=size, content_type=None, url_ttl_s=60)
        return StartUpload(**(fields | changes))


@pytest.fixture
def world() -> World:
    return World()


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def nothing() -> None:
    pass


# --- streamed ----------------------------------------------------------------------------------

async def test_a_streamed_file_is_stored_and_recorded(world):
    file = await world.uploads.stream(
        StreamedFile(world.alice(), "C:\\docs\\cv.pdf", "application/pdf"),
        chunks(b"ab", b"c"), nothing)
    assert (file.filename, file.content_type, file.size_bytes) == ("cv.pdf", "application/pdf", 3)
    assert file.checksum == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    assert world.files.files == {file.file_id: file} and world.s3.objects[file.s3_key] == b"abc"


async def test_a_streamed_file_beyond_the_maximum_is_too_large(world):
    with pytest.raises(TooLarge, match=f"exceeds {MAX_BYTES} bytes"):
        await world.uploads.stream(StreamedFile(world.alice(), "f", None),
                                   chunks(b"x" * MAX_BYTES, b"x"), nothing)
    assert world.files.files == {}


async def test_a_request_refused_after_the_file_leaves_no_object(world):
    async def something_follows() -> None:
        raise Invalid("only two form fields")

    with pytest.raises(Invalid):
        await world.uploads.stream(StreamedFile(world.alice(), "f", None),
                                   chunks(b"abc"), something_follows)
    assert world.s3.objects == {} and world.files.files == {}


async def test_only_members_may_upload(world):
    assert await world.uploads.may_upload(ALICE, world.conv.conversation_id) == world.alice()
    with pytest.raises(Forbidden):
        await world.uploads.may_upload(CAROL, world.conv.conversation_id)
    with pytest.raises(NotFound):
        await world.uploads.may_upload(ALICE, uuid.uuid4())


@pytest.mark.parametrize(("filename", "content_type"), [("..", None), ("f", "text")])
async def test_a_streamed_file_is_refused_before_anything_is_stored(world, filename, content_type):
    with pytest.raises(Invalid):
        await world.uploads.stream(StreamedFile(world.alice(), filename, content_type),
                                   chunks(b"abc"), nothing)
    assert world.s3.objects == {}


# --- resumable ---------------------------------------------------------------------------------

async def test_a_resumable_upload_plans_parts_and_records_the_upload(world):
    plan = await world.uploads.start(world.start(25))
    assert (plan.part_size, plan.part_count, plan.size_bytes) == (PART, 3, 25)
    assert [(p["part_number"], p["size_bytes"]) for p in plan.parts] == [(1, 10), (2, 10), (3, 5)]
    upload = world.files.uploads[plan.upload_id]
    assert (upload.filename, upload.content_type, upload.uploader_id) == (
        "cv.pdf", "application/octet-stream", ALICE)


@pytest.mark.parametrize(("changes", "error"), [
    ({"size_bytes": MAX_BYTES + 1}, TooLarge), ({"size_bytes": -1}, Invalid),
    ({"filename": ""}, Invalid), ({"content_type": "no slash"}, Invalid), ({"user_id": CAROL}, Forbidden),
    ({"conversation_id": uuid.uuid4()}, NotFound)])
async def test_an_upload_is_refused_before_s3_is_asked(world, changes, error):
    with pytest.raises(error):
        await world.uploads.start(world.start(25, **changes))
    assert world.s3.multipart == {} and world.files.uploads == {}


async def test_progress_lists_stored_parts_and_urls_for_the_others(world):
    plan = await world.uploads.start(world.start(25))
    world.s3.put_part(plan.upload_id, 2, b"x" * 10)
    progress = await world.uploads.progress(ALICE, plan.upload_id, 60)
    assert [p.part_number for p in progress.stored_parts] == [2]
    assert [p["part_number"] for p in progress.plan.parts] == [1, 3]
    with pytest.raises(Forbidden):
        await world.uploads.progress(BOB, plan.upload_id, 60)
    with pytest.raises(NotFound):
        await world.uploads.progress(ALICE, "no-such-upload", 60)


async def test_an_upload_gone_from_s3_is_forgotten(world):
    plan = await world.uploads.start(world.start(25))
    del world.s3.multipart[plan.upload_id]
    with pytest.raises(NotFound, match="no longer exists in S3"):
        await world.uploads.progress(ALICE, plan.upload_id, 60)
    assert world.files.uploads == {}


async def upload_every_part(world: World, size: int,
                            sizes: Sequence[int]) -> tuple[str, list[tuple[int, str]]]:
    """Start an upload of `size` bytes and PUT parts of `sizes`: (upload_id, [(number, etag)])."""
    plan = await world.uploads.start(world.start(size))
    return plan.upload_id, [(n, world.s3.put_part(plan.upload_id, n, b"x" * length))
                            for n, length in enumerate(sizes, 1)]


async def test_completing_records_the_file_with_its_checksum(world):
    upload_id, parts = await upload_every_part(world, 25, [10, 10, 5])
    file = await world.complete(ALICE, upload_id, list(reversed(parts)))
    assert file.size_bytes == 25 and file.checksum == "sha256:" + hashlib.sha256(b"x" * 25).hexdigest()
    assert world.files.files == {file.file_id: file} and world.files.uploads == {}


async def test_parts_holding_another_size_than_announced_leave_no_object(world):
    upload_id, parts = await upload_every_part(world, 25, [10, 10, 4])
    with pytest.raises(Invalid, match="the parts hold 24 bytes, 25 were announced"):
        await world.complete(ALICE, upload_id, parts)
    assert world.s3.objects == {} and world.files.files == {} and world.files.uploads == {}


async def test_parts_s3_refuses_are_invalid(world):
    upload_id, parts = await upload_every_part(world, 25, [10, 10, 5])
    world.s3.refuses = True
    with pytest.raises(Invalid, match="S3 refused the parts"):
        await world.complete(ALICE, upload_id, parts)


async def test_only_the_uploader_completes_or_aborts(world):
    upload_id, parts = await upload_every_part(world, 25, [10, 10, 5])
    with pytest.raises(Forbidden):
        await world.complete(BOB, upload_id, parts)
    with pytest.raises(Forbidden):
        await world.uploads.abort(BOB, upload_id)
    await world.uploads.abort(ALICE, upload_id)
    assert world.s3.multipart == {} and world.files.uploads == {}
    with pytest.raises(NotFound):
        await world.complete(ALICE, upload_id, parts)


def planned(size: int) -> Upload:
    return Upload(uuid.uuid4(), uuid.uuid4(), ALICE, "f", "text/plain", size, "up", PART)


@pytest.mark.parametrize(("parts", "error"), [
    ([], "non-empty list"),
    ([(1, "a"), (2, "b")], "missing [3]"),
    ([(1, "a"), (2, "b"), (2, "c"), (3, "d")], "part 2 listed twice"),
    ([(1, "a"), (2, "b"), (3, "c"), (4, "d")], "unexpected [4]"),
    ([(0, "a"), (1, "a"), (2, "b"), (3, "c")], "unexpected [0]"),
])
def test_completion_parts_cover_the_plan_exactly_once(parts, error):
    with pytest.raises(Invalid) as refused:
        completion_parts(parts, planned(25))
    assert error in refused.value.message


def test_completion_parts_are_put_in_order():
    assert completion_parts([(3, "c"), (1, "a"), (2, "b")], planned(25)) == [(1, "a"), (2, "b"), (3, "c")]


# --- download ----------------------------------------------------------------------------------

async def test_a_download_is_for_members_only(world):
    f = file_of(world.conv.conversation_id, ALICE)
    world.files.files[f.file_id] = f
    download = await world.uploads.download(BOB, f.file_id, 60)
    assert download.file == f and download.url == f"https://s3/{f.s3_key}?download=cv.pdf&ttl=60"
    with pytest.raises(Forbidden):
        await world.uploads.download(CAROL, f.file_id, 60)
    with pytest.raises(NotFound):
        await world.uploads.download(BOB, uuid.uuid4(), 60)
