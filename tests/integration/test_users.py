"""GET /v1/users?username=NAME: finding someone by exact username, for members only."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.helpers import forged


async def test_finds_a_user_by_exact_username_showing_only_id_and_name(api):
    caller, other = await api.user("finder"), await api.user("found")
    status, body = await api.call("GET", "/v1/users", caller, params={"username": other.username})
    assert status == 200, body
    assert body == {"user_id": other.user_id, "username": other.username}  # exactly two keys
    assert len(body) == 2


async def test_an_unknown_or_differently_spelled_name_is_404(api):
    caller = await api.user("finder")
    for name in (f"nobody-{uuid.uuid4().hex[:10]}", caller.username.upper(), "x" * 64):
        status, body = await api.call("GET", "/v1/users", caller, params={"username": name})
        assert status == 404 and "error" in body, (name, status, body)


@pytest.mark.parametrize("params", [None, {"username": ""}, {"username": "x" * 65},
                                    {"other": "alice"}])
async def test_a_missing_empty_or_too_long_name_is_400(api, params):
    caller = await api.user("finder")
    status, body = await api.call("GET", "/v1/users", caller, params=params)
    assert status == 400 and "username" in body["error"], (status, body)


async def test_needs_a_valid_token(api):
    other = await api.user("found")
    status, body = await api.call("GET", "/v1/users", params={"username": other.username})
    assert status == 401 and "error" in body
    status, body = await api.call("GET", "/v1/users", headers={
        "Authorization": f"Bearer {forged(other.user_id)}"}, params={"username": other.username})
    assert status == 401 and "error" in body


# --- GET /v1/users/{user_id}: a user id to its username -----------------------------------------
async def test_names_a_user_by_id_showing_only_id_and_name(api):
    caller, other = await api.user("namer"), await api.user("named")
    for _ in range(2):  # the second answer comes from the cache: the same
        status, body = await api.call("GET", f"/v1/users/{other.user_id}", caller)
        assert status == 200, body
        assert body == {"user_id": other.user_id, "username": other.username}
    status, body = await api.call("GET", f"/v1/users/{caller.user_id}", caller)
    assert (status, body) == (200, {"user_id": caller.user_id, "username": caller.username})


async def test_an_unknown_id_is_404_and_a_malformed_one_400(api):
    caller = await api.user("namer")
    unknown = str(uuid.uuid4())
    for _ in range(2):  # a miss is not cached as anything
        status, body = await api.call("GET", f"/v1/users/{unknown}", caller)
        assert status == 404 and "error" in body, (status, body)
    for bad in ("not-a-uuid", "1234", caller.user_id + "0"):
        status, body = await api.call("GET", f"/v1/users/{bad}", caller)
        assert status == 400 and "user_id" in body["error"], (bad, status, body)


async def test_naming_by_id_needs_a_valid_token(api):
    other = await api.user("named")
    status, body = await api.call("GET", f"/v1/users/{other.user_id}")
    assert status == 401 and "error" in body
    status, body = await api.call("GET", f"/v1/users/{other.user_id}", headers={
        "Authorization": f"Bearer {forged(other.user_id)}"})
    assert status == 401 and "error" in body
    status, body = await api.call("GET", "/v1/users/not-a-uuid")
    assert status == 401 and "error" in body  # who asks is checked before what is asked
