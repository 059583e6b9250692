"""scripts/test-infrastructure.sh without a stack: `python -m devstack urls|ps` answered by a stand-in
(`ps` in its real layout, rendered by devstack's own functions) and every service's HTTP endpoint
by one local server, so its verdicts, its table and its exit codes are checked here; the real
stack's run is tests/integration/test_infrastructure_script.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devstack.__main__ import probe_line, ps_width, status_rows, status_table
from devstack.layout import REPO_DIR

SCRIPT = REPO_DIR / "scripts" / "test-infrastructure.sh"
UP = {"status": "UP"}
COMPONENTS = {"kafka": {"status": "UP", "latency_ms": 3.1}, "cassandra": {"status": "UP", "latency_ms": 2.0}}
# path -> (status, JSON body); every service lives under its own prefix on the one server.
HEALTHY = {
    "/api/health": (200, {"status": "UP", "timestamp": "2025-11-26T10:30:45Z",
                          "components": {**COMPONENTS, "s3": {"status": "UP", "latency_ms": 4}}}),
    "/lb/health": (200, {"status": "UP"}),
    "/lb/nginx-health": (200, None),
    "/router/health": (200, {"status": "UP", "consumer_lag": 3, "messages_processed_last_minute": 120,
                             "components": COMPONENTS}),
    "/cw/health": (200, {"status": "UP", "channel": "whatsapp", "circuit_breaker": "CLOSED",
                         "consumer_lag": 0, "components": COMPONENTS}),
    "/ci/health": (200, {"status": "UP", "channel": "instagram", "circuit_breaker": "OPEN",
                         "consumer_lag": 0, "components": COMPONENTS}),
    "/pw/health": (200, {"status": "UP", "channel": "whatsapp", "mode": "up"}),
    "/pi/health": (200, {"status": "UP", "channel": "instagram", "mode": "error"}),
    "/prom/-/ready": (200, None),
    "/prom/api/v1/query": (200, {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"job": "chat4all", "process": "api"}, "value": [1, "1"]},
        {"metric": {"job": "chat4all", "process": "router"}, "value": [1, "1"]},
        {"metric": {"job": "minio"}, "value": [1, "1"]}]}}),
    "/am/-/ready": (200, None),
    "/receiver/health": (200, UP),
    "/s3/minio/health/live": (200, None),
    "/console/": (200, None),
}
PROGRAMS = ["alert-receiver", "alertmanager", "api", "api-2", "cassandra", "connector-instagram",
            "connector-whatsapp", "kafka", "lb", "mock-instagram", "mock-whatsapp", "prometheus",
            "router", "router-2", "s3"]
SPARES = {"api-2", "router-2"}
# devstack.components' order: infrastructure, then the applications.
PROBED = ["kafka", "cassandra", "s3", "prometheus", "alertmanager", "alert-receiver", "lb",
          "mock-whatsapp", "mock-instagram", "api", "router", "connector-whatsapp", "connector-instagram"]


class Server:
    def __init__(self) -> None:
        self.routes = dict(HEALTHY)
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = routes.get(self.path.split("?")[0], (404, {"error": "not found"}))
                raw = b"ok\n" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.http.shutdown()


def ps_output(states: dict[str, str], probes: dict[str, bool]) -> str:
    """What `python -m devstack ps` prints, by devstack's own functions: supervisorctl's status,
    then one probe line per probed service (a spare only while it runs)."""
    detail = {n: "pid 42, uptime 0:10:00" if states[n] == "RUNNING" else "Not started" for n in PROGRAMS}
    rows = status_rows("".join(f"{n:<33}{states[n]:<10}{detail[n]}\n" for n in PROGRAMS))
    width = ps_width(rows, list(probes))
    return status_table(rows, width) + "".join(probe_line(n, ok, width) + "\n" for n, ok in probes.items())


def run(tmp_path: Path, server: Server, *, states: dict[str, str] | None = None,
        probes: dict[str, bool] | None = None, ps_rc: int | None = None) -> subprocess.CompletedProcess:
    states = {n: "STOPPED" if n in SPARES else "RUNNING" for n in PROGRAMS} | (states or {})
    probes = {n: True for n in PROBED} | (probes or {})
    urls = {"CHAT4ALL_API_URL": "/api", "CHAT4ALL_LB_URL": "/lb", "PROMETHEUS_URL": "/prom",
            "ALERTMANAGER_URL": "/am", "KAFKA_BOOTSTRAP_SERVERS": None, "S3_ENDPOINT_URL": "/s3",
            "DEVSTACK_S3_CONSOLE_URL": "/console", "CONNECTOR_WHATSAPP_URL": "/cw",
            "PROVIDER_WHATSAPP_URL": "/pw", "CONNECTOR_INSTAGRAM_URL": "/ci", "PROVIDER_INSTAGRAM_URL": "/pi",
            "DEVSTACK_API_URL": "/api", "DEVSTACK_API_2_URL": "/api2", "DEVSTACK_ROUTER_URL": "/router",
            "DEVSTACK_ROUTER_2_URL": "/router2"}
    exports = "".join(f"export {k}={'127.0.0.1:9092' if v is None else server.url + v}\n"
                      for k, v in urls.items())
    (tmp_path / "urls").write_text(exports)
    (tmp_path / "ps").write_text(ps_output(states, probes))
    rc = ps_rc if ps_rc is not None else (0 if all(probes.values()) else 1)
    fake = tmp_path / "python"
    fake.write_text(f"""#!/usr/bin/env bash
if [[ $1 == -m && $2 == devstack ]]; then
  case $3 in
    urls) cat {tmp_path}/urls ;;
    ps) cat {tmp_path}/ps; exit {rc} ;;
  esac
  exit 0
fi
exec {sys.executable} "$@"
""")
    fake.chmod(0o755)
    env = os.environ | {"PYTHON": str(fake), "CHAT4ALL_STATE_DIR": str(tmp_path / "state"),
                        "ALERT_RECEIVER_URL": server.url + "/receiver", "HEALTH_TIMEOUT": "3"}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def table(out: str) -> dict[str, list[str]]:
    """SERVICE -> [ADDRESS, STATUS, DETAIL], checking that every line's columns start where the
    header's do."""
    lines = [ln for ln in out.splitlines() if not ln.startswith("[test-infrastructure]")]
    header = lines[0]
    assert header.split() == ["SERVICE", "ADDRESS", "STATUS", "DETAIL"], out
    starts = [header.index(h) for h in ("ADDRESS", "STATUS", "DETAIL")]
    rows = {}
    for line in lines[1:]:
        assert all(line[s - 1] == " " for s in starts) and line[starts[0]] != " ", line
        cells = [line[a:b].strip() for a, b in zip([0, *starts], [*starts, None], strict=True)]
        rows[cells[0]] = cells[1:]
    return rows


def test_every_service_healthy_exits_0_with_one_aligned_line_each(tmp_path, server):
    out = run(tmp_path, server)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = table(out.stdout)
    assert set(rows) == set(PROGRAMS) | {"s3-console"}, out.stdout
    assert all(rows[n][1] == "UP" for n in rows if n not in SPARES), out.stdout
    assert rows["api-2"][1] == rows["router-2"][1] == "SPARE", out.stdout
    assert 'make ctl ARGS="start router-2"' in rows["router-2"][2]
    assert rows["api"][0] == f"{server.url}/api/health"
    assert "kafka UP 3.1ms" in rows["api"][2] and "s3 UP 4ms" in rows["api"][2]
    assert "lag 3" in rows["router"][2] and "120 processed/min" in rows["router"][2]
    assert "circuit OPEN" in rows["connector-instagram"][2]  # open circuit: still UP (store-and-forward)
    assert rows["kafka"][:2] == ["127.0.0.1:9092", "UP"]
    assert rows["cassandra"][0] == "127.0.0.1:9042"
    assert rows["prometheus"][2] == "targets up 3/3"
    assert rows["lb"][0].endswith("/lb/nginx-health") and "/health through it: HTTP 200" in rows["lb"][2]
    assert "all 14 services healthy" in out.stdout  # 13 probed services and the MinIO console


def test_a_stopped_service_fails_and_is_named(tmp_path, server):
    del server.routes["/router/health"]  # nothing answers any more: 404 here, as a dead port would fail
    out = run(tmp_path, server, states={"router": "EXITED"}, probes={"router": False})
    assert out.returncode == 1, out.stdout + out.stderr
    rows = table(out.stdout)
    assert rows["router"][1] == "DOWN" and "process EXITED" in rows["router"][2], out.stdout
    assert "NOT HEALTHY: router (1 of 14 services" in out.stderr


def test_a_503_health_names_the_component_down(tmp_path, server):
    kafka_down = {"status": "DOWN", "latency_ms": 2000, "error": "timed out"}
    server.routes["/api/health"] = (503, {"status": "DOWN", "components": {
        "kafka": kafka_down, "cassandra": COMPONENTS["cassandra"]}})
    server.routes["/router/health"] = (200, {"status": "DOWN"})  # not UP: not healthy, whatever the code
    out = run(tmp_path, server)
    assert out.returncode == 1
    rows = table(out.stdout)
    assert rows["api"][1] == "DOWN"
    assert rows["api"][2].startswith("HTTP 503: status DOWN, kafka DOWN (timed out)"), rows["api"]
    assert rows["router"][1] == "DOWN"
    assert "NOT HEALTHY: api router" in out.stderr


def test_a_started_spare_is_checked_like_the_others(tmp_path, server):
    server.routes["/router2/health"] = (200, {"status": "UP", "consumer_lag": 0, "components": COMPONENTS})
    out = run(tmp_path, server, states={"router-2": "RUNNING"}, probes={"router-2": True})
    assert out.returncode == 0, out.stdout + out.stderr
    assert table(out.stdout)["router-2"][1] == "UP"


def test_no_stack_says_make_up(tmp_path, server):
    out = run(tmp_path, server, ps_rc=3)
    assert out.returncode == 2
    assert "not running" in out.stderr and "make up" in out.stderr
