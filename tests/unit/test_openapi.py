"""docs/openapi.json documents exactly the routes and methods the API serves."""

import json
from pathlib import Path

SPEC = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())


def served_routes() -> set[tuple[str, str]]:
    from chat4all_app.roles.api import app

    routes = set()
    for route in app.web.web_app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith(("/auth", "/v1")) and route.method not in ("HEAD", "OPTIONS", "*"):
            routes.add((path, route.method.lower()))
    return routes


def documented_routes() -> set[tuple[str, str]]:
    return {(path, method) for path, ops in SPEC["paths"].items() for method in ops}


def test_every_served_route_is_documented_and_vice_versa():
    served = served_routes()
    assert served, "no API routes found"
    assert served == documented_routes()


def test_every_response_is_json_and_errors_use_the_error_schema():
    for ops in SPEC["paths"].values():
        for op in ops.values():
            for code, response in op["responses"].items():
                schema = response["content"]["application/json"]["schema"]["$ref"]
                assert (schema == "#/components/schemas/Error") == (int(code) >= 400), (code, op)
