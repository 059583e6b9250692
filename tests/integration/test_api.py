"""The HTTP API against the running stack: auth, authorization and every kind of bad input."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.helpers import STACK, forged


async def test_register_login_and_duplicate_username(api):
    user = await api.user()
    status, body = await api.call("POST", "/auth/register",
                                  json={"username": user.username, "password": "whatever1"})
    assert (status, body["error"]) == (409, f"username {user.username!r} is already taken")
    # Failed logins count per client address (throttling): these count under an address of
    # their own, not under 127.0.0.1, where every test logs in (127.0.0.1 is a trusted proxy).
    elsewhere = {"X-Real-IP": f"198.18.{uuid.uuid4().int % 256}.{uuid.uuid4().int % 254 + 1}"}
    status, body = await api.call("POST", "/auth/token", headers=elsewhere,
                                  json={"username": user.username, "password": "wrong-password"})
    assert status == 401 and "invalid username or password" in body["error"]
    status, body = await api.call("POST", "/auth/token", headers=elsewhere,
                                  json={"username": "nobody-" + uuid.uuid4().hex, "password": "x"})
    assert status == 401


async def test_password_is_stored_as_an_argon2_hash(api, settings):
    from chat4all_app.storage.cassandra import connect
    user = await api.user()
    cluster, session = connect(settings)
    try:
        row = session.execute(
            f"SELECT password_hash FROM {settings.cassandra_keyspace}.users_by_username "
            "WHERE username = %s", (user.username,)).one()
    finally:
        cluster.shutdown()
    assert row.password_hash.startswith("$argon2id$")
    assert "pw-" + user.username not in row.password_hash


async def test_conversations_list_only_the_callers(api):
    alice, bob, carol = await api.user("alice"), await api.user("bob"), await api.user("carol")
    conv = await api.conversation(alice, bob)
    for member in (alice, bob):
        status, body = await api.call("GET", "/v1/conversations", member)
        assert status == 200
        assert [c["conversation_id"] for c in body["conversations"]] == [conv]
        assert set(body["conversations"][0]["participant_ids"]) == {alice.user_id, bob.user_id}
    status, body = await api.call("GET", "/v1/conversations", carol)
    assert (status, body) == (200, {"conversations": [], "next_cursor": None})


async def test_non_members_get_403_reading_or_posting(api):
    alice, bob, eve = await api.user(), await api.user(), await api.user("eve")
    conv = await api.conversation(alice, bob)
    sent = await api.send(alice, conv, "secret")
    for method, path, payload in [
        ("POST", "/v1/messages", {"conversation_id": conv, "content": "intrusion"}),
        ("GET", f"/v1/conversations/{conv}/messages", None),
        ("GET", f"/v1/messages?conversation_id={conv}", None),
    ]:
        status, body = await api.call(method, path, eve, json=payload)
        assert status == 403, (path, body)
        assert "not a member" in body["error"]
    path = f"/v1/messages/{sent['message_id']}"

    async def stored():
        return (await api.call("GET", path, alice))[0] == 200

    assert await api.wait_for(stored)
    status, body = await api.call("GET", path, eve)
    assert status == 403, body


@pytest.mark.parametrize("headers, error", [
    ({}, "missing bearer token"),
    ({"Authorization": "Basic abc"}, "missing bearer token"),
    ({"Authorization": "Bearer not-a-jwt"}, "invalid token"),
    ({"Authorization": "Bearer " + forged(str(uuid.uuid4()))}, "invalid token"),
])
async def test_requests_without_a_valid_token_get_401(api, headers, error):
    status, body = await api.call("GET", "/v1/conversations", headers=headers)
    assert status == 401 and error in body["error"]


async def test_expired_token_gets_401(api, settings):
    token = forged(str(uuid.uuid4()), secret=settings.jwt_secret, exp_delta=-10)
    status, body = await api.call("GET", "/v1/conversations",
                                  headers={"Authorization": f"Bearer {token}"})
    assert status == 401 and "expired" in body["error"]


async def test_bad_message_input_gets_a_clear_4xx(api, settings):
    alice, bob = await api.user(), await api.user()
    conv = await api.conversation(alice, bob)
    big = "x" * (settings.max_content_bytes + 1)
    cases = [
        ({"data": b"{not json"}, 400, "not valid JSON"),
        ({"json": ["a", "list"]}, 400, "must be a JSON object"),
        ({"json": {"content": "hi"}}, 400, "'conversation_id' is required"),
        ({"json": {"conversation_id": "nope", "content": "hi"}}, 400, "not a valid UUID"),
        ({"json": {"conversation_id": 42, "content": "hi"}}, 400, "must be a UUID string"),
        ({"json": {"conversation_id": conv}}, 400, "'content' is required"),
        ({"json": {"conversation_id": conv, "content": 7}}, 400, "'content' is required"),
        ({"json": {"conversation_id": conv, "content": big}}, 413, "exceeds"),
        ({"json": {"conversation_id": str(uuid.uuid4()), "content": "hi"}}, 404, "not found"),
        ({"json": {"conversation_id": conv, "content": "hi", "message_id": "x"}}, 400, "message_id"),
        ({"json": {"conversation_id": conv, "content": "hi", "recipient_id": "sms:+55"}}, 400,
         "unknown channel"),
        ({"json": {"conversation_id": conv, "content": "hi", "recipient_id": "whatsapp:"}}, 400,
         "empty address"),
        ({"json": {"conversation_id": conv, "content": "hi", "recipient_id": str(uuid.uuid4())}},
         400, "not a member"),
        ({"data": b"x" * 70_000}, 413, "larger than"),
    ]
    for kwargs, want_status, want_error in cases:
        status, body = await api.call("POST", "/v1/messages", alice, **kwargs)
        assert status == want_status, (kwargs.get("json"), body)
        assert want_error in body["error"], (kwargs.get("json"), body)


async def test_bad_conversation_and_listing_input(api):
    alice = await api.user()
    cases = [
        ("POST", "/v1/conversations", {"participant_ids": []}, 400, "non-empty list"),
        ("POST", "/v1/conversations", {"participant_ids": "abc"}, 400, "non-empty list"),
        ("POST", "/v1/conversations", {"participant_ids": ["zz"]}, 400, "not a valid UUID"),
        ("POST", "/v1/conversations", {"participant_ids": [str(uuid.uuid4())]}, 400, "unknown user"),
        ("GET", "/v1/conversations/not-a-uuid/messages", None, 400, "not a valid UUID"),
        ("GET", f"/v1/conversations/{uuid.uuid4()}/messages", None, 404, "not found"),
        ("GET", "/v1/messages/not-a-uuid", None, 400, "not a valid UUID"),
        ("GET", f"/v1/messages/{uuid.uuid4()}", None, 404, "not found"),
        ("DELETE", "/v1/conversations", None, 405, "Method Not Allowed"),
        ("GET", "/v1/nothing-here", None, 404, "Not Found"),
    ]
    for method, path, payload, want_status, want_error in cases:
        status, body = await api.call(method, path, alice, json=payload)
        assert status == want_status, (path, body)
        assert want_error in body["error"], (path, body)
    conv = await api.conversation(alice, await api.user())
    for params, error in [({"limit": "0"}, "between"), ({"limit": "x"}, "integer"),
                          ({"cursor": "bad"}, "not a valid UUID")]:
        status, body = await api.call("GET", f"/v1/conversations/{conv}/messages", alice,
                                      params=params)
        assert status == 400 and error in body["error"]


async def test_bad_registration_input(api):
    for payload, error in [
        ({"username": "ab", "password": "longenough"}, "(3-64)"),
        ({"username": "has space", "password": "longenough"}, "letters, digits"),
        ({"username": "okname", "password": "short"}, "8..256"),
        ({"username": "okname", "password": 12345678}, "must be a string"),
        ({"username": "okname" + uuid.uuid4().hex[:6], "password": "longenough", "email": "x"},
         "e-mail"),
    ]:
        status, body = await api.call("POST", "/auth/register", json=payload)
        assert status == 400 and error in body["error"], (payload, body)


async def test_faust_table_views_are_not_served(api):
    status, _ = await api.call("GET", "/table/routed-messages")
    assert status == 404
    async with api.http.get(f"{STACK.process('router').url}/table/routed-messages") as resp:
        assert resp.status == 404
