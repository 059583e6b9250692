"""Every bad input is a 4xx with a JSON body, on every port we publish (issue 16, item 8).

Each case here answered 500 (or plain text, or Faust's own pages) before: a non-time UUID as a
message cursor, control characters in multipart headers, a nested multipart, Faust's built-in
routes, aiohttp's own parser errors, 405 without `Allow`; and "my conversations" cost one query
per conversation with no pagination.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.storage.conversations import conversations_page
from devstack.layout import port_of
from tests.integration.helpers import STACK
from tests.integration.raw_http import exchange, request_head

API, LB = STACK.process("api").port, port_of(STACK.lb_url)
APP_PORTS = {"api": API, "router": STACK.process("router").port,
             **{f"connector-{c}": STACK.connector_port(c) for c in STACK.channels}}
SPEC = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())


async def test_a_cursor_that_is_not_a_time_uuid_is_400(api):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    await api.send(alice, conv, "one")
    for path, params in [(f"/v1/conversations/{conv}/messages", {}),
                         ("/v1/messages", {"conversation_id": conv})]:
        for cursor in (str(uuid.uuid4()), "00000000-0000-0000-0000-000000000000", "garbage"):
            status, body = await api.call("GET", path, alice, params=params | {"cursor": cursor})
            assert status == 400, (path, cursor, body)
            assert "cursor" in body["error"]
        time_cursor = str(uuid.uuid1())  # a well-formed cursor still works
        status, body = await api.call("GET", path, alice, params=params | {"cursor": time_cursor})
        assert status == 200, body


def multipart(*parts: tuple[dict[str, str], bytes], boundary: str = "b0undary") -> tuple[bytes, dict]:
    out = b""
    for headers, payload in parts:
        out += f"--{boundary}\r\n".encode()
        out += b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers.items())
        out += b"\r\n" + payload + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def field(name: str, value: bytes, **extra: str) -> tuple[dict[str, str], bytes]:
    return {"Content-Disposition": f'form-data; name="{name}"', **extra}, value


def file_part(filename: str, payload: bytes = b"hello", name: str = "file",
              content_type: str = "text/plain") -> tuple[dict[str, str], bytes]:
    return {"Content-Disposition": f'form-data; name="{name}"; filename="{filename}"',
            "Content-Type": content_type}, payload


async def test_malformed_multipart_uploads_are_400(api):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    cid = conv.encode()
    nested, nested_headers = multipart(({"Content-Type": "text/plain"}, b"inner"), boundary="INNER")
    cases = {
        "control character in the filename": multipart(field("conversation_id", cid),
                                                       file_part("a\x01b.txt")),
        "control character in the first part's name": multipart(field("conv\x07ersation_id", cid)),
        "control character in the file part's name": multipart(field("conversation_id", cid),
                                                               file_part("a.txt", name="fi\x1ble")),
        "nested multipart as the file part": multipart(
            field("conversation_id", cid),
            ({"Content-Disposition": 'form-data; name="file"; filename="x.txt"',
              "Content-Type": nested_headers["Content-Type"].replace("form-data", "mixed")}, nested)),
        "nested multipart as the first part": multipart(
            ({"Content-Disposition": 'form-data; name="conversation_id"',
              "Content-Type": "multipart/mixed; boundary=INNER"}, nested)),
        "unknown Content-Transfer-Encoding": multipart(
            field("conversation_id", cid, **{"Content-Transfer-Encoding": "x-rot13"})),
        "a third form field after the file": multipart(field("conversation_id", cid),
                                                       file_part("a.txt"), field("extra", b"x")),
        "truncated body": (multipart(field("conversation_id", cid))[0][:60],
                           multipart()[1]),
        # Never buffered whole: a multi-megabyte id field is refused after its first kilobyte.
        "a huge conversation_id field": multipart(field("conversation_id", cid + b" " * 4_000_000),
                                                  file_part("a.txt")),
    }
    wrong = {}
    for case, (body, headers) in cases.items():
        status, answer = await api.call("POST", "/v1/files", alice, data=body, headers=headers)
        if not (400 <= status < 500 and answer.get("error")):
            wrong[case] = (status, answer)
    assert not wrong, wrong
    # The same upload, well-formed, is stored (the cases above fail for what they break only).
    body, headers = multipart(field("conversation_id", cid), file_part("a b.txt"))
    status, answer = await api.call("POST", "/v1/files", alice, data=body, headers=headers)
    assert status == 201, answer


FAUST_PAGES = ["/", "/router/", "/router/topics", "/router/chat4all-api/",
               "/router/chat4all-api/some-key/", "/table/", "/table/routed-messages/",
               "/table/routed-messages/k/", "/graph/", "/stats/", "/assignment/",
               "/performance/"]


@pytest.mark.parametrize("port", [*APP_PORTS.values(), LB], ids=[*APP_PORTS, "lb"])
async def test_faust_built_in_pages_are_not_served_on_any_published_port(api, port):
    web_client = port in (APP_PORTS["api"], LB)  # where `/` is the web client's address instead
    for path in FAUST_PAGES:
        async with api.http.get(f"http://127.0.0.1:{port}{path}", allow_redirects=False) as resp:
            if path == "/" and web_client:
                assert (resp.status, resp.headers["Location"]) == (302, "/app/"), (port, path)
                continue
            assert resp.status == 404, (port, path, await resp.text())
            assert resp.content_type == "application/json", (port, path)
            assert (await resp.json())["error"] == "Not Found"


def oversized_header() -> bytes:
    return request_head("GET", "/health", {"X-Padding": "a" * 10_000})


def bad_request_line() -> bytes:
    return b"GARBAGE / NOT-HTTP\r\n\r\n"


def bad_chunk() -> bytes:
    return request_head("POST", "/health", {"Transfer-Encoding": "chunked"}) + b"zz\r\nxx\r\n"


def long_uri() -> bytes:
    return request_head("GET", "/" + "a" * 20_000, {})


@pytest.mark.parametrize("raw, status", [(oversized_header, 400), (bad_request_line, 400),
                                         (bad_chunk, 400), (long_uri, 414)])
async def test_errors_nginx_answers_itself_are_json_too(raw, status):
    """The load balancer refuses these before any API process sees them: JSON, not its HTML."""
    answer = await exchange(LB, raw())
    assert answer.status == status, answer
    assert answer.json()["error"], answer


@pytest.mark.parametrize("port", APP_PORTS.values(), ids=APP_PORTS)
@pytest.mark.parametrize("raw", [oversized_header, bad_request_line, bad_chunk])
async def test_http_parser_errors_are_json(port, raw):
    answer = await exchange(port, raw())
    assert answer.status == 400, answer
    error = answer.json()["error"]
    assert error.startswith("400 Bad Request"), error


@pytest.mark.parametrize("port", APP_PORTS.values(), ids=APP_PORTS)
async def test_a_405_names_the_allowed_methods_on_every_port(api, port):
    async with api.http.post(f"http://127.0.0.1:{port}/health") as resp:
        assert resp.status == 405
        assert resp.content_type == "application/json"
        assert set(resp.headers["Allow"].split(",")) == {"GET", "HEAD"}


async def test_every_documented_path_answers_405_with_allow_for_other_methods(api):
    alice = await api.user()
    for template, ops in SPEC["paths"].items():
        path = template
        for name in ("conversation_id", "message_id", "file_id", "upload_id", "user_id"):
            path = path.replace("{" + name + "}", str(uuid.uuid4()))
        documented = {m.upper() for m in ops}
        allowed = documented | ({"HEAD"} if "GET" in documented else set())
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - documented:
            async with api.http.request(method, STACK.process("api").url + path,
                                        headers=alice.auth) as resp:
                assert resp.status == 405, (method, template)
                assert set(resp.headers["Allow"].split(",")) == allowed, (method, template)
                assert (await resp.json())["error"] == "Method Not Allowed"


# --- "My conversations": paginated, one query per page -------------------------------------------

class CountingStore(CassandraStore):
    """The real store, counting the queries it runs."""

    def __init__(self, settings):
        super().__init__(settings)
        self.queries: list[str] = []

    async def execute(self, cql, params=()):
        self.queries.append(cql)
        return await super().execute(cql, params)

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()


@pytest.fixture
async def counting_store(settings):
    store = CountingStore(settings)
    await store.start()
    yield store
    await store.stop()


async def all_pages(api, user, limit: int) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        status, body = await api.call("GET", "/v1/conversations", user, params=params)
        assert status == 200, body
        pages.append(body["conversations"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_conversations_are_listed_a_page_at_a_time_one_query_each(api, counting_store):
    alice, bob, carol = await api.user(), await api.user(), await api.user()
    created = {await api.conversation(alice, bob if i % 2 else carol) for i in range(23)}
    pages = await all_pages(api, alice, limit=5)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    listed = [c for p in pages for c in p]
    assert len(listed) == len(created) and {c["conversation_id"] for c in listed} == created
    with_bob = [c for c in listed if set(c["participant_ids"]) == {alice.user_id, bob.user_id}]
    with_carol = [c for c in listed if set(c["participant_ids"]) == {alice.user_id, carol.user_id}]
    assert (len(with_bob), len(with_carol)) == (11, 12)
    assert all(c["created_by"] == alice.user_id and c["created_at"] for c in listed)
    # The storage call behind it: exactly one Cassandra query per page.
    cursor, seen = None, []
    while True:
        before = len(counting_store.queries)
        page, cursor = await conversations_page(counting_store, uuid.UUID(alice.user_id), 10,
                                                uuid.UUID(cursor) if cursor else None)
        assert len(counting_store.queries) - before == 1, counting_store.queries[before:]
        seen += [str(c.conversation_id) for c in page]
        if cursor is None:
            break
    assert set(seen) == created and len(seen) == len(created)
    for params, error in [({"limit": "0"}, "between"), ({"limit": "501"}, "between"),
                          ({"limit": "x"}, "integer"), ({"cursor": "nope"}, "not a valid UUID")]:
        status, body = await api.call("GET", "/v1/conversations", alice, params=params)
        assert status == 400 and error in body["error"], (params, body)


async def test_conversations_stored_before_the_listing_columns_are_listed_and_completed(
        api, settings, counting_store):
    """A row written by the old code (no participants in conversations_by_user) is listed right,
    and completed on the way, so the next listing is one query again."""
    alice, bob = await api.user(), await api.user()
    conv_id, members = uuid.uuid4(), {uuid.UUID(alice.user_id), uuid.UUID(bob.user_id)}
    created_at = datetime.now(UTC).replace(microsecond=0)
    await counting_store.execute(
        "INSERT INTO conversations (conversation_id, name, participant_ids, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?)", (conv_id, "legacy", members, uuid.UUID(alice.user_id), created_at))
    for member in members:  # exactly what the code before migration 0005 wrote
        await counting_store.execute(
            "INSERT INTO conversations_by_user (user_id, conversation_id, name, created_at) "
            "VALUES (?, ?, ?, ?)", (member, conv_id, "legacy", created_at))
    new_conv = await api.conversation(alice, bob)
    for user in (alice, bob):
        status, body = await api.call("GET", "/v1/conversations", user)
        assert status == 200, body
        by_id = {c["conversation_id"]: c for c in body["conversations"]}
        assert set(by_id) == {str(conv_id), new_conv}
        legacy = by_id[str(conv_id)]
        assert legacy["name"] == "legacy" and legacy["created_by"] == alice.user_id
        assert set(legacy["participant_ids"]) == {alice.user_id, bob.user_id}
    rows = await counting_store.execute(
        "SELECT participant_ids, created_by FROM conversations_by_user WHERE user_id = ? "
        "AND conversation_id = ?", (uuid.UUID(alice.user_id), conv_id))
    assert set(rows[0].participant_ids) == members and str(rows[0].created_by) == alice.user_id
    before = len(counting_store.queries)
    page, _ = await conversations_page(counting_store, uuid.UUID(alice.user_id), 50, None)
    assert len(counting_store.queries) - before == 1 and len(page) == 2


async def test_a_username_with_a_trailing_newline_is_400(api):
    name = f"nl{uuid.uuid4().hex[:8]}\n"  # re.match with "$" accepted it, and stored it
    status, body = await api.call("POST", "/auth/register",
                                  json={"username": name, "password": "long-enough-1"})
    assert status == 400 and "username" in body["error"], body
