"""The infrastructure components of the local stack, described as data.

Each component says how it is launched (argv + environment, run by supervisord), which port it
serves on 127.0.0.1, how long it may take to become ready, and what usually went wrong when it
did not. Configs are rendered from the templates under deploy/ and monitoring/ into state/conf.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from chat4all_app.settings import Settings
from devstack import probes
from devstack.cluster import Cluster, recorded
from devstack.layout import Layout, port_of


class ComponentError(RuntimeError):
    """A component cannot be prepared or started; the message names it and its log."""


@dataclass(frozen=True)
class Component:
    name: str
    port: int
    argv: list[str]
    env: dict[str, str]
    ready_timeout_s: float
    likely_cause: str
    url: str
    probe: Callable[[Settings], bool]
    prepare: Callable[[], None] = field(default=lambda: None)
    # Infrastructure starts with supervisord; applications only after the schemas exist.
    autostart: bool = True
    # Chat4All services Prometheus scrapes (their /metrics), labelled with this service name.
    scrape_as: str | None = None
    # A second instance for scale-out and failover: configured, never started by `make up`
    # (`make ctl ARGS="start router-2"` or the experiments start it).
    spare: bool = False
    # The address it serves on: a node of a cluster has a loopback alias of its own.
    host: str = "127.0.0.1"


def _java() -> str:
    java = shutil.which("java")
    if not java:
        raise ComponentError("java not found on PATH: Kafka and Cassandra need Java 17")
    return java


def _render(template: Path, target: Path, **fields: object) -> Path:
    target.write_text(Template(template.read_text()).substitute({k: str(v) for k, v in fields.items()}))
    return target


def _lib(layout: Layout, name: str, version_key: str) -> Path:
    lib = layout.cache / f"{name}-{layout.versions[version_key]}" / "lib"
    if not (lib / ".complete").exists():
        raise ComponentError(f"{name} jars missing in {lib}: run `make install` (deploy/install.sh)")
    return lib


def _cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding.

    Never one starting with "-": StorageTool's argument parser takes `-t -abc...` for an option and
    the format fails (one fresh `make up` in 64 did)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _formatted_cluster_id(data_dirs: list[Path]) -> str | None:
    """The cluster id a node of this stack was already formatted with (a node re-created later
    must join the same cluster)."""
    for data in data_dirs:
        meta = data / "meta.properties"
        if meta.exists():
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
    return None


def kafka_nodes(layout: Layout, settings: Settings, cluster: Cluster) -> list[Component]:
    """One KRaft node (broker and controller) per host of `cluster`; three form one quorum."""
    port = port_of(settings.kafka_bootstrap_servers)
    lib = _lib(layout, "kafka", "KAFKA_VERSION")
    java = _java()
    names = [cluster.node_name("kafka", i) for i in range(1, cluster.nodes + 1)]
    data_dirs = [layout.data / name for name in names]
    if cluster.nodes == 1:  # a dynamic quorum of one, formatted --standalone
        quorum = f"controller.quorum.bootstrap.servers=127.0.0.1:{port + 1}"
    else:  # a static quorum of every node
        quorum = "controller.quorum.voters=" + ",".join(
            f"{i}@{host}:{port + 1}" for i, host in enumerate(cluster.hosts, 1))
    cluster_id: list[str] = []  # one id for every node formatted by this `make up`

    def node(index: int, host: str) -> Component:
        name, data = names[index - 1], data_dirs[index - 1]
        props = layout.conf / f"{name}.properties"
        logs = layout.logs if cluster.nodes == 1 else layout.logs / name  # server.log and friends

        def prepare() -> None:
            logs.mkdir(parents=True, exist_ok=True)
            _render(layout.repo / "deploy/kafka/server.properties", props, node_id=index, host=host,
                    quorum=quorum, port=port, controller_port=port + 1, data_dir=data,
                    replication_factor=cluster.replication_factor,
                    min_insync_replicas=cluster.min_insync_replicas)
            if (data / "meta.properties").exists():
                return
            # KRaft storage is formatted once with the cluster's id; re-runs keep the data.
            if not cluster_id:
                cluster_id.append(_formatted_cluster_id(data_dirs) or _cluster_id())
            data.mkdir(parents=True, exist_ok=True)
            cmd = [java, "-cp", f"{lib}/*", "kafka.tools.StorageTool", "format",
                   *(["--standalone"] if cluster.nodes == 1 else []),
                   "--ignore-formatted", "-t", cluster_id[0], "-c", str(props)]
            with open(layout.log(f"{name}-format"), "w") as out:
                if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                    raise ComponentError(
                        f"{name}: formatting KRaft storage failed; see {layout.log(f'{name}-format')}")

        return Component(
            name=name,
            port=port,
            host=host,
            argv=[java, "-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                  "-Djava.awt.headless=true",
                  f"-Dlog4j2.configurationFile={layout.repo / 'deploy/kafka/log4j2.properties'}",
                  f"-Dkafka.logs.dir={logs}",
                  "-cp", f"{lib}/*", "kafka.Kafka", str(props)],
            env={},
            ready_timeout_s=90 if cluster.nodes == 1 else 150,
            likely_cause=f"port {host}:{port}/{port + 1} already in use, or a corrupt KRaft log dir "
                         "(make clean)",
            url=f"PLAINTEXT://{host}:{port}",
            probe=lambda s: probes.kafka_ready(s, host, cluster.nodes),
            prepare=prepare,
        )

    return [node(i, host) for i, host in enumerate(cluster.hosts, 1)]


def _cassandra_jvm_options(layout: Layout, token: int) -> list[str]:
    """deploy/cassandra's JVM options, with this node's token (the file's is the single node's)."""
    text = (layout.repo / "deploy/cassandra/jvm17-server.options").read_text()
    options = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [f"-Dcassandra.initial_token={token}" if o.startswith("-Dcassandra.initial_token=") else o
            for o in options]


# Cassandra's idle-worker spinning, woken every few tens of µs with the default slack, is a large
# share of its CPU here; 1 ms lets the kernel batch those wake-ups (devstack/timer_slack.py says why
# and what it costs; results/timer-slack/latest.md measures it).
CASSANDRA_TIMER_SLACK_NS = 1_000_000


def cassandra_jmx_port(index: int) -> int:
    """Node `index`'s JMX port, for nodetool (devstack/nodetool.py): 7199, Cassandra's own, then
    7299 and 7399. JMX listens on the loopback address only (127.0.0.1), so the nodes of a cluster
    need a port each."""
    return 7199 + 100 * (index - 1)


def initial_token(index: int, nodes: int) -> int:
    """Node `index` (1-based) of `nodes`: evenly spaced Murmur3 tokens, so each owns an equal range
    (the single node keeps token 0, as it always had)."""
    return 0 if nodes == 1 else -(2**63) + (index - 1) * (2**64 // nodes)


def _cassandra_node_config(layout: Layout, host: str, target: Path) -> Path:
    """deploy/cassandra/cassandra.yaml for the node at `host`: its own addresses, 127.0.0.1 the
    seed. A new cluster holds no data, so its nodes join without streaming (auto_bootstrap off),
    which lets them start together; each has its own token (`initial_token`)."""
    text = (layout.repo / "deploy/cassandra/cassandra.yaml").read_text()
    for key in ("listen_address", "rpc_address"):
        text, n = re.subn(rf"^{key}: .*$", f"{key}: {host}", text, flags=re.M)
        if n != 1:
            raise ComponentError(f"deploy/cassandra/cassandra.yaml: expected one '{key}:' line")
    target.write_text(text + "\nauto_bootstrap: false\n")
    return target


def cassandra_nodes(layout: Layout, settings: Settings, cluster: Cluster) -> list[Component]:
    lib = _lib(layout, "cassandra", "CASSANDRA_VERSION")
    jamm = sorted(lib.glob("jamm-*.jar"))
    if not jamm:
        raise ComponentError(f"cassandra: jamm agent jar missing in {lib}: run `make install`")

    def node(index: int, host: str) -> Component:
        name = cluster.node_name("cassandra", index)
        storage = layout.data / name
        logs = layout.logs if cluster.nodes == 1 else layout.logs / name
        # Each node keeps deploy/cassandra's 1 GiB heap: three of them and the app fit this
        # machine's 24 GiB with room to spare.
        config = (layout.repo / "deploy/cassandra/cassandra.yaml" if cluster.nodes == 1
                  else layout.conf / f"{name}.yaml")

        def prepare() -> None:
            storage.mkdir(parents=True, exist_ok=True)
            logs.mkdir(parents=True, exist_ok=True)
            if cluster.nodes > 1:
                _cassandra_node_config(layout, host, config)

        return Component(
            name=name,
            port=settings.cassandra_port,
            host=host,
            argv=[str(layout.venv_bin / "python"), str(layout.repo / "devstack/timer_slack.py"),
                  str(CASSANDRA_TIMER_SLACK_NS),
                  _java(), *_cassandra_jvm_options(layout, initial_token(index, cluster.nodes)),
                  f"-javaagent:{jamm[0]}",
                  f"-Dcassandra.config=file://{config}",
                  f"-Dcassandra.storagedir={storage}",
                  f"-Dcassandra.logdir={logs}",
                  f"-Dcassandra.jmx.local.port={cassandra_jmx_port(index)}",
                  # A node of a new cluster need not wait 30 s for gossip to settle.
                  *([] if cluster.nodes == 1 else ["-Dcassandra.skip_wait_for_gossip_to_settle=0"]),
                  f"-Dlogback.configurationFile=file://{layout.repo / 'deploy/cassandra/logback.xml'}",
                  "-cp", f"{lib}/*", "org.apache.cassandra.service.CassandraDaemon"],
            env={},
            ready_timeout_s=180 if cluster.nodes == 1 else 300,
            likely_cause=f"ports {host}:7000/{settings.cassandra_port} in use, too little free memory for a "
                         "1 GB heap, or an unknown cassandra.yaml key",
            url=f"cql://{host}:{settings.cassandra_port}",
            probe=lambda s: probes.cassandra_ready(s, host, cluster.nodes),
            prepare=prepare,
        )

    return [node(i, host) for i, host in enumerate(cluster.hosts, 1)]


def s3_console_port(s3_port: int) -> int:
    """MinIO's web console listens next to its S3 API."""
    return s3_port + 1


def s3(layout: Layout, settings: Settings) -> Component:
    port = port_of(settings.s3_endpoint_url)
    data = layout.data / "s3"
    minio = layout.cache / "bin" / f"minio-{layout.versions['MINIO_VERSION']}"
    versitygw = layout.cache / "bin" / f"versitygw-{layout.versions['VERSITYGW_VERSION']}"
    if minio.exists():
        argv = [str(minio), "server", str(data), "--address", f"127.0.0.1:{port}",
                "--console-address", f"127.0.0.1:{s3_console_port(port)}", "--quiet"]
        env = {"MINIO_ROOT_USER": settings.s3_root_user,
               "MINIO_ROOT_PASSWORD": settings.s3_root_password,
               "MINIO_PROMETHEUS_AUTH_TYPE": "public",
               "MINIO_UPDATE": "off"}
    elif versitygw.exists():
        # install.sh builds it when MinIO's build fails, but it has no MinIO admin API, so the
        # application could not get its own bucket-limited key (bootstrap refuses it as well).
        raise ComponentError(
            f"s3: MinIO is not built (only versitygw, at {versitygw}); versitygw cannot give the "
            f"application a least-privilege key. Rebuild MinIO: see {layout.cache}/minio-build.log, "
            "then `make install`")
    else:
        raise ComponentError("s3: neither MinIO nor versitygw is in the cache: run `make install`")
    return Component(
        name="s3",
        port=port,
        argv=argv,
        env=env,
        ready_timeout_s=60,
        likely_cause=f"port {port}/{s3_console_port(port)} in use, or S3_ROOT_USER/S3_ROOT_PASSWORD not "
                     "accepted by MinIO",
        url=settings.s3_endpoint_url,
        probe=probes.s3_ready,
        prepare=lambda: data.mkdir(parents=True, exist_ok=True),
    )


def prometheus(layout: Layout, settings: Settings) -> Component:
    port = port_of(settings.prometheus_url)
    root = layout.prometheus_root
    binary = root / "usr/bin/prometheus"
    if not binary.exists():
        raise ComponentError(f"prometheus: {binary} missing: run `make install`")
    config = layout.conf / "prometheus.yml"
    s3_port = port_of(settings.s3_endpoint_url)
    monitoring = layout.repo / "monitoring"

    def prepare() -> None:
        _render(monitoring / "prometheus.yml", config, prometheus_port=port,
                s3_port=s3_port, targets_dir=layout.state / "prometheus-targets",
                scrape_interval=settings.prometheus_scrape_interval,
                rules_file=monitoring / "alerts.yml",
                alertmanager_port=port_of(settings.alertmanager_url))

    argv = [str(binary), f"--config.file={config}",
            f"--storage.tsdb.path={layout.data / 'prometheus'}",
            f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=7d",
            # Links it hands out (the alerts' runbook_url: {{ $externalURL }}/consoles/...).
            f"--web.external-url={settings.prometheus_url.rstrip('/')}",
            # Debian's binary reads its UI from /usr/share/prometheus/web unless told otherwise
            # (without this flag /graph answers 500); its static/ links resolve in the same tree.
            f"--web.local-assets={root / 'usr/share/prometheus/web'}/",
            # The live dashboards (http://127.0.0.1:9090/consoles/index.html), generated from the
            # Grafana dashboards by monitoring/consoles.py.
            f"--web.console.templates={monitoring / 'consoles'}",
            f"--web.console.libraries={monitoring / 'console_libraries'}"]
    return Component(
        name="prometheus",
        port=port,
        argv=argv,
        env={},
        ready_timeout_s=60,
        likely_cause=f"port {port} in use, or a syntax error in monitoring/prometheus.yml or "
                     "monitoring/alerts.yml",
        url=settings.prometheus_url,
        probe=probes.prometheus_ready,
        prepare=prepare,
    )


def alertmanager(layout: Layout, settings: Settings) -> Component:
    """Alertmanager (Debian package) routing Prometheus' alerts to the alert receiver."""
    port = port_of(settings.alertmanager_url)
    binary = layout.alertmanager_root / "usr/bin/prometheus-alertmanager"
    if not binary.exists():
        raise ComponentError(f"alertmanager: {binary} missing: run `make install`")
    config = layout.conf / "alertmanager.yml"
    data = layout.data / "alertmanager"

    def prepare() -> None:
        data.mkdir(parents=True, exist_ok=True)
        _render(layout.repo / "monitoring/alertmanager.yml", config,
                receiver_url=settings.alert_receiver_url.rstrip("/"))

    return Component(
        name="alertmanager",
        port=port,
        argv=[str(binary), f"--config.file={config}", f"--storage.path={data}",
              f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={settings.alertmanager_url}",
              # One instance: no gossip port (it would listen on 0.0.0.0:9094).
              "--cluster.listen-address="],
        env={},
        ready_timeout_s=30,
        likely_cause=f"port {port} in use, or a syntax error in monitoring/alertmanager.yml",
        url=settings.alertmanager_url,
        probe=lambda _settings: probes.http_answers(port, "/-/ready"),
        prepare=prepare,
    )


def alert_receiver(layout: Layout, settings: Settings) -> Component:
    """The webhook Alertmanager notifies: one JSON log line per alert (state/logs/alert-receiver.log)."""
    port = port_of(settings.alert_receiver_url)
    return Component(
        name="alert-receiver",
        port=port,
        argv=[str(layout.venv_bin / "python"), "-m", "chat4all_app.observability.alert_receiver",
              "--host", "127.0.0.1", "--port", str(port)],
        env={"PYTHONUNBUFFERED": "1", "INSTANCE_ID": "alert-receiver"},
        ready_timeout_s=30,
        likely_cause=f"port {port} in use",
        url=settings.alert_receiver_url,
        probe=lambda _settings: probes.http_answers(port, "/health"),
    )


# API processes behind the load balancer: the one `make up` starts and the spare (name, port).
API_INSTANCES = (("api", 8080), ("api-2", 8086))
ROUTER_INSTANCES = (("router", 8082), ("router-2", 8085))


def load_balancer(layout: Layout, settings: Settings) -> Component:
    """nginx (Debian package) round-robin over every API process; a stopped one is skipped."""
    port = port_of(settings.lb_url)
    binary = layout.cache / f"nginx-{layout.versions['NGINX_DEB_VERSION']}" / "usr/sbin/nginx"
    if not binary.exists():
        raise ComponentError(f"nginx: {binary} missing: run `make install`")
    config = layout.conf / "nginx.conf"
    temp = layout.data / "nginx"
    servers = "\n".join(f"        server 127.0.0.1:{api_port} max_fails=1 fail_timeout=5s;"
                        for _, api_port in API_INSTANCES)

    def prepare() -> None:
        temp.mkdir(parents=True, exist_ok=True)
        _render(layout.repo / "deploy/nginx/nginx.conf", config, port=port, run_dir=layout.run,
                temp_dir=temp, upstream_servers=servers)

    return Component(
        name="lb",
        port=port,
        # -e: errors before the config is read go to stderr too (the default path is /var/log).
        argv=[str(binary), "-p", str(layout.state), "-c", str(config), "-e", "stderr"],
        env={},
        ready_timeout_s=20,
        likely_cause=f"port {port} in use, or an error in deploy/nginx/nginx.conf",
        url=settings.lb_url,
        probe=lambda _settings: probes.http_answers(port, "/nginx-health"),
        prepare=prepare,
    )


def infrastructure(layout: Layout, settings: Settings, cluster: Cluster | None = None) -> list[Component]:
    """Every infrastructure process; Kafka and Cassandra as one node each or as `cluster` (by
    default the size `make up` recorded in the state directory)."""
    cluster = cluster or recorded(layout.state) or Cluster(1)
    return [*kafka_nodes(layout, settings, cluster), *cassandra_nodes(layout, settings, cluster),
            s3(layout, settings), prometheus(layout, settings), alertmanager(layout, settings),
            alert_receiver(layout, settings), load_balancer(layout, settings)]


# --- Chat4All's own processes ----------------------------------------------------------------
def faust_worker(layout: Layout, name: str, module: str, port: int, service: str,
                 spare: bool = False, nice: int = 0) -> Component:
    """A Faust worker; each gets its own --datadir (RocksDB allows one process per directory).
    `nice` > 0 lowers its CPU priority (`nice` execs the worker: same pid, signals unchanged)."""
    datadir = layout.data / "faust" / name
    niced = ["nice", "-n", str(nice)] if nice else []
    return Component(
        name=name,
        port=port,
        # --quiet: no console banner; everything else is a JSON log line (observability.logs).
        # --loop uvloop: less event-loop overhead per event (compare with `make bench`).
        argv=[*niced, str(layout.venv_bin / "faust"), "-A", module, "--datadir", str(datadir),
              "--loglevel", "info", "--quiet", "--loop", "uvloop",
              "worker", "--web-port", str(port), "--web-bind", "127.0.0.1", "--web-host", "127.0.0.1"],
        env={"PYTHONUNBUFFERED": "1", "INSTANCE_ID": name,
             "CHAT4ALL_SECRETS_FILE": str(layout.secrets)},
        ready_timeout_s=90,
        likely_cause="a Python error at start-up (read the log), or the web port is in use",
        url=f"http://127.0.0.1:{port}",
        probe=lambda _settings: probes.http_answers(port),
        prepare=lambda: datadir.mkdir(parents=True, exist_ok=True),
        autostart=False,
        scrape_as=service,
        spare=spare,
    )


def provider_mock(layout: Layout, channel: str, port: int) -> Component:
    """The external provider's stand-in: a real HTTP server (chat4all_app.mocks.provider)."""
    return Component(
        name=f"mock-{channel}",
        port=port,
        argv=[str(layout.venv_bin / "python"), "-m", "chat4all_app.mocks.provider",
              "--channel", channel, "--port", str(port)],
        env={"PYTHONUNBUFFERED": "1", "CHAT4ALL_SECRETS_FILE": str(layout.secrets)},
        ready_timeout_s=30,
        likely_cause="the port is in use",
        url=f"http://127.0.0.1:{port}",
        probe=lambda _settings: probes.http_answers(port, "/health"),
        autostart=False,
    )


def applications(layout: Layout, settings: Settings) -> list[Component]:
    mocks = [provider_mock(layout, c, port_of(settings.provider_url(c))) for c in settings.channels]
    workers = [faust_worker(layout, name, "chat4all_app.roles.api", port, "api", spare=i > 0)
               for i, (name, port) in enumerate(API_INSTANCES)]
    # The pipeline's workers yield the CPU to the API (WORKER_NICE): see README § Benchmark.
    nice = settings.worker_nice
    workers += [faust_worker(layout, name, "chat4all_app.roles.router", port, "router", spare=i > 0,
                             nice=nice)
                for i, (name, port) in enumerate(ROUTER_INSTANCES)]
    workers += [
        faust_worker(layout, f"connector-{c}", f"chat4all_app.roles.connector_{c}",
                     port_of(settings.connector_url(c)), f"connector-{c}", nice=nice)
        for c in settings.channels
    ]
    return mocks + workers


def prometheus_targets(apps: list[Component]) -> list[dict]:
    """file_sd entries for Prometheus: one per scraped process (`instance` = its address)."""
    return [{"targets": [f"127.0.0.1:{c.port}"], "labels": {"service": c.scrape_as, "process": c.name}}
            for c in apps if c.scrape_as]
