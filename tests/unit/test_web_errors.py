"""Refusals become HTTP answers in one place (chat4all_app.web.errors.json_errors), checked through
the real middleware with aiohttp's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from chat4all_app import errors
from chat4all_app.auth.throttle import Throttled
from chat4all_app.web.errors import STATUS_OF_REFUSAL, json_errors, status_of

# The contract, written out: every kind of refusal and its status.
EXPECTED = {
    errors.Invalid: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.TooMany: 429,
    errors.Unavailable: 503,
}


def kinds_of_refusal() -> set[type[errors.Refused]]:
    found, todo = set(), [errors.Refused]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__ == errors.__name__:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_kind_of_refusal_has_its_status():
    assert kinds_of_refusal() == set(EXPECTED) == set(STATUS_OF_REFUSAL)
    for kind, status in EXPECTED.items():
        assert status_of(kind("why")) == status


class Unmapped(errors.Refused):
    """A refusal someone added without mapping it."""


def test_an_unmapped_refusal_has_no_status_and_a_subclass_inherits_its_parents():
    class Narrower(errors.NotFound):
        pass

    assert status_of(Unmapped("x")) is None
    assert status_of(Narrower("x")) == 404


@pytest.fixture
async def raising() -> AsyncIterator[Callable[[BaseException], Awaitable[TestClient]]]:
    """`raising(exc)`: a client of an app whose one route raises `exc` behind json_errors."""
    clients: list[TestClient] = []

    async def client_for(exc: BaseException) -> TestClient:
        async def handler(request: web.Request) -> web.Response:
            raise exc

        app = web.Application(middlewares=[json_errors])
        app.router.add_post("/", handler)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield client_for
    for client in clients:
        await client.close()


@pytest.mark.parametrize(("kind", "status"), sorted(EXPECTED.items(), key=lambda item: item[1]))
async def test_a_refusal_is_its_status_and_its_message(raising, kind, status):
    client = await raising(kind("'content' exceeds 10 bytes"))
    response = await client.post("/")
    assert response.status == status
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "'content' exceeds 10 bytes"}


async def test_a_throttled_login_is_429_with_retry_after(raising):
    response = await (await raising(Throttled("user:alice", 42))).post("/")
    assert response.status == 429
    assert response.headers["Retry-After"] == "42"
    assert await response.json() == {"error": "too many failed logins; try again in 42 s"}


@pytest.mark.parametrize("exc", [RuntimeError("secret internals: /var/lib/x"),
                                 ValueError("secret internals: /var/lib/x"),
                                 Unmapped("secret internals: /var/lib/x")])
async def test_a_bug_is_a_bare_500(raising, exc):
    response = await (await raising(exc)).post("/")
    assert response.status == 500
    body = await response.text()
    assert "secret" not in body
    assert await response.json() == {"error": "internal error"}


async def test_aiohttps_own_404_and_405_stay_json_with_allow(raising):
    client = await raising(RuntimeError())
    missing = await client.get("/nowhere")
    assert (missing.status, await missing.json()) == (404, {"error": "Not Found"})
    wrong = await client.get("/")
    assert wrong.status == 405 and wrong.headers["Allow"] == "POST"
    assert await wrong.json() == {"error": "Method Not Allowed"}
