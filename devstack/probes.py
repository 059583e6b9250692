"""Readiness probes: each asks the real server a real question and never sleeps a fixed time."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import urllib.error
import urllib.request

from chat4all_app.settings import Settings
from devstack.layout import port_of


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def kafka_ready(settings: Settings, host: str = "127.0.0.1", nodes: int = 1) -> bool:
    """The broker at `host` answers a metadata request, the cluster lists all `nodes` brokers, and
    every partition has all its replicas in sync (a cluster is formed, not merely started)."""
    port = port_of(settings.kafka_bootstrap_servers)
    # Cheap check first: aiokafka logs every refused connection.
    if not port_open(port, host):
        return False
    from aiokafka.admin import AIOKafkaAdminClient

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    async def ask() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=f"{host}:{port}", request_timeout_ms=3000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            if len(cluster.get("brokers") or ()) < nodes:
                return False
            if nodes == 1:
                return True
            topics = await admin.list_topics()
            described = await admin.describe_topics(topics) if topics else []
            return all(len(p["isr"]) == len(p["replicas"]) for t in described for p in t["partitions"])
        finally:
            await admin.close()

    try:
        return asyncio.run(asyncio.wait_for(ask(), 10))
    except Exception:
        return False


def cassandra_ready(settings: Settings, host: str = "127.0.0.1", nodes: int = 1) -> bool:
    """The node at `host` answers `SELECT release_version FROM system.local` itself, and (in a
    cluster) the driver finds all `nodes` nodes and reaches each (`nodetool status`'s UN)."""
    if not port_open(settings.cassandra_port, host):  # cheap check first: the driver is noisy
        return False
    from cassandra.cluster import Cluster

    logging.getLogger("cassandra").setLevel(logging.CRITICAL)
    cluster = None
    try:
        cluster = Cluster([host], port=settings.cassandra_port, protocol_version=5, connect_timeout=3)
        session = cluster.connect()
        # The driver opens its pools to the other nodes in the background: a formed ring may take
        # a moment to look whole from a fresh connection.
        deadline = time.monotonic() + 3
        while True:
            try:
                node = next((h for h in cluster.metadata.all_hosts() if h.address == host), None)
                row = session.execute("SELECT release_version FROM system.local", host=node).one()
                found = cluster.metadata.all_hosts()
                if row and row.release_version and len(found) == nodes and all(h.is_up for h in found):
                    return True
            except Exception:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
    except Exception:
        return False
    finally:
        if cluster is not None:
            cluster.shutdown()


def s3_ready(settings: Settings) -> bool:
    """A ListBuckets call signed with the root credentials succeeds (MinIO and versitygw alike;
    the application's key may not list buckets, and does not exist before the bootstrap)."""
    if not port_open(port_of(settings.s3_endpoint_url)):
        return False
    from chat4all_app.files.s3 import s3_client

    async def ask() -> bool:
        async with s3_client(settings, root=True) as s3:
            await s3.list_buckets()
            return True

    try:
        return asyncio.run(asyncio.wait_for(ask(), 10))
    except Exception:
        return False


def prometheus_ready(settings: Settings) -> bool:
    try:
        with urllib.request.urlopen(f"{settings.prometheus_url}/-/ready", timeout=3) as resp:
            return resp.status == 200
    except Exception:
        return False


def http_answers(port: int, path: str = "/") -> bool:
    """The process's web server answers HTTP at all (any status): it is up and serving."""
    if not port_open(port):
        return False
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3):
            return True
    except urllib.error.HTTPError:
        return True
    except Exception:
        return False


def kafka_formed(settings: Settings, hosts: tuple[str, ...]) -> bool:
    """Every broker of the cluster answers, and every partition's replicas are all in sync."""
    return all(kafka_ready(settings, h, len(hosts)) for h in hosts)


def cassandra_formed(settings: Settings, hosts: tuple[str, ...]) -> bool:
    """Every Cassandra node answers and sees the whole ring up (`nodetool status`: all UN)."""
    return all(cassandra_ready(settings, h, len(hosts)) for h in hosts)
