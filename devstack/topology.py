"""Where the running stack listens: every address a tool or a test needs, in one place.

Derived, not declared: the addresses come from the settings (chat4all_app.settings, i.e. the same
values the processes are configured with, including the environment overrides CHAT4ALL_API_URL,
CHAT4ALL_LB_URL, PROMETHEUS_URL, CONNECTOR_<CHANNEL>_URL, PROVIDER_<CHANNEL>_URL,
KAFKA_BOOTSTRAP_SERVERS and S3_ENDPOINT_URL) and from devstack.components (the local stack's API
and router processes, which have no setting of their own). So pointing a tool at another
deployment (the compose check does) is one set of environment variables, honoured here.

    from devstack.topology import local
    local().api_url, local().connector_url("whatsapp"), local().routers[0].url

Shell scripts read the same through `python -m devstack urls --shell` (export lines to eval).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from chat4all_app.settings import Settings
from devstack.cluster import Cluster, recorded, with_stack_settings
from devstack.components import API_INSTANCES, ROUTER_INSTANCES, s3_console_port
from devstack.layout import Layout, port_of


@dataclass(frozen=True)
class Process:
    """One process of the local stack that serves HTTP (/health, /metrics) on 127.0.0.1."""

    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Topology:
    api_url: str  # what clients call: the API process locally, nginx in the compose deployment
    lb_url: str  # the local stack's nginx in front of every running API process
    apis: tuple[Process, ...]  # the API processes; the first is started by `make up`, the rest are spares
    routers: tuple[Process, ...]  # likewise the router workers
    connectors: Mapping[str, str]  # channel -> connector URL (its /health, /metrics, receipts webhook)
    providers: Mapping[str, str]  # channel -> provider URL (the mocks locally: /admin/config, /admin/ledger)
    prometheus_url: str
    alertmanager_url: str
    kafka_bootstrap: str
    s3_url: str
    s3_console_url: str  # MinIO's web console (local stack)

    @classmethod
    def from_settings(cls, settings: Settings) -> Topology:
        return cls(
            api_url=settings.api_url.rstrip("/"),
            lb_url=settings.lb_url.rstrip("/"),
            apis=tuple(Process(name, port) for name, port in API_INSTANCES),
            routers=tuple(Process(name, port) for name, port in ROUTER_INSTANCES),
            connectors={c: settings.connector_url(c).rstrip("/") for c in settings.channels},
            providers={c: settings.provider_url(c).rstrip("/") for c in settings.channels},
            prometheus_url=settings.prometheus_url.rstrip("/"),
            alertmanager_url=settings.alertmanager_url.rstrip("/"),
            kafka_bootstrap=settings.kafka_bootstrap_servers,
            s3_url=settings.s3_endpoint_url.rstrip("/"),
            s3_console_url=f"http://127.0.0.1:{s3_console_port(port_of(settings.s3_endpoint_url))}",
        )

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.connectors)

    def connector_url(self, channel: str) -> str:
        return self.connectors[channel]

    def provider_url(self, channel: str) -> str:
        return self.providers[channel]

    def process(self, name: str) -> Process:
        """An API or router process by its supervisor program name ("router-2")."""
        return next(p for p in (*self.apis, *self.routers) if p.name == name)

    def connector_port(self, channel: str) -> int:
        return port_of(self.connectors[channel])

    def environment(self) -> dict[str, str]:
        """NAME -> URL for shell scripts and k6: the settings' own variable names where the address
        is a setting (so a script that exports them configures every tool it starts), API_URL (the
        name k6 reads) and DEVSTACK_<PROCESS>_URL per local API/router process."""
        names = {"CHAT4ALL_API_URL": self.api_url, "API_URL": self.api_url,
                 "CHAT4ALL_LB_URL": self.lb_url, "PROMETHEUS_URL": self.prometheus_url,
                 "ALERTMANAGER_URL": self.alertmanager_url,
                 "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "S3_ENDPOINT_URL": self.s3_url,
                 "DEVSTACK_S3_CONSOLE_URL": self.s3_console_url}
        for channel in self.channels:
            names[f"CONNECTOR_{channel.upper()}_URL"] = self.connectors[channel]
            names[f"PROVIDER_{channel.upper()}_URL"] = self.providers[channel]
        for process in (*self.apis, *self.routers):
            names[f"DEVSTACK_{process.name.upper().replace('-', '_')}_URL"] = process.url
        return names


def local(environ: Mapping[str, str] | None = None) -> Topology:
    """The local stack's topology, with the environment's overrides (os.environ by default), for
    the size `make up` recorded (devstack/cluster.py: every node of a cluster)."""
    size = recorded(Layout.from_env().state) or Cluster(1)
    return Topology.from_settings(Settings.from_env(
        with_stack_settings(size, os.environ if environ is None else environ)))
