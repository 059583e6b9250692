"""devstack/topology.py: every address derived from the settings and the components, the
environment's overrides honoured, and the same addresses for shell scripts (`devstack urls`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chat4all_app.settings import Settings
from devstack.components import API_INSTANCES, ROUTER_INSTANCES
from devstack.layout import port_of
from devstack.topology import local

REPO = Path(__file__).resolve().parents[2]
# Only the addresses' own variables, so a developer's environment cannot change the expectations.
ADDRESS_VARIABLES = ("CHAT4ALL_API_URL", "CHAT4ALL_LB_URL", "PROMETHEUS_URL", "KAFKA_BOOTSTRAP_SERVERS",
                     "S3_ENDPOINT_URL", "CHAT4ALL_CHANNELS", "CHAT4ALL_SECRETS_FILE")


def clean_environment(**overrides: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items()
            if k not in ADDRESS_VARIABLES and not k.startswith(("CONNECTOR_", "PROVIDER_"))}
    return kept | overrides


def test_the_local_topology_is_the_settings_and_the_components() -> None:
    settings = Settings.from_env({})
    topology = local({})
    assert topology.api_url == settings.api_url and topology.lb_url == settings.lb_url
    assert topology.prometheus_url == settings.prometheus_url
    assert topology.kafka_bootstrap == settings.kafka_bootstrap_servers
    assert topology.s3_url == settings.s3_endpoint_url
    assert [(p.name, p.port) for p in topology.apis] == list(API_INSTANCES)
    assert [(p.name, p.port) for p in topology.routers] == list(ROUTER_INSTANCES)
    assert topology.channels == settings.channels
    for channel in settings.channels:
        assert topology.connector_url(channel) == settings.connector_url(channel)
        assert topology.provider_url(channel) == settings.provider_url(channel)
        assert topology.connector_port(channel) == port_of(settings.connector_url(channel))
    assert topology.process("router-2").url == f"http://127.0.0.1:{dict(ROUTER_INSTANCES)['router-2']}"
    # The API clients call is the first API process, the one `make up` starts.
    assert topology.apis[0].url == topology.api_url
    assert port_of(topology.s3_console_url) == port_of(topology.s3_url) + 1


def test_overrides_in_the_environment_are_honoured_and_trailing_slashes_dropped() -> None:
    topology = local({"CHAT4ALL_API_URL": "http://api.example:28080/", "PROMETHEUS_URL": "http://p:29090",
                      "PROVIDER_WHATSAPP_URL": "http://mock:29101", "CONNECTOR_INSTAGRAM_URL": "http://c:28084"})
    assert topology.api_url == "http://api.example:28080"
    assert topology.prometheus_url == "http://p:29090"
    assert topology.provider_url("whatsapp") == "http://mock:29101"
    assert topology.connector_url("instagram") == "http://c:28084"
    assert topology.environment()["API_URL"] == "http://api.example:28080"  # what k6 reads


def test_urls_shell_prints_exports_a_shell_can_eval() -> None:
    env = clean_environment(CHAT4ALL_API_URL="http://127.0.0.1:28080", PROMETHEUS_URL="http://h:1/x y")
    proc = subprocess.run([sys.executable, "-m", "devstack", "urls", "--shell"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert all(line.startswith("export ") for line in proc.stdout.splitlines())
    script = proc.stdout + 'printf "%s|%s|%s|%s" "$API_URL" "$PROMETHEUS_URL" "$DEVSTACK_ROUTER_2_URL" ' \
                           '"$PROVIDER_INSTAGRAM_URL"'
    shell = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    expected = local(env)
    assert shell.stdout == (f"http://127.0.0.1:28080|http://h:1/x y|{expected.process('router-2').url}|"
                            f"{expected.provider_url('instagram')}")
