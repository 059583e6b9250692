"""python -m devstack up|down|ps|ctl|engine|urls — drive the local stack (see devstack/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chat4all_app.bootstrap.secrets import ensure_secrets, write_private
from chat4all_app.settings import Settings, SettingsError
from devstack import cluster as stack_size
from devstack import engine, nodetool, targets
from devstack.components import Component, ComponentError, applications, infrastructure
from devstack.layout import Layout
from devstack.probes import port_open
from devstack.supervisor import Supervisor, program_of, render_config
from devstack.topology import Topology, local

DEAD_STATES = {"FATAL", "EXITED", "STOPPED", "BACKOFF", "UNKNOWN"}
# Data directories of Kafka and Cassandra, one node or a cluster's: a state holds one size's data.
STORES = {stack_size.Cluster(n).node_name(c, i) for n in stack_size.SIZES
          for c in ("kafka", "cassandra") for i in range(1, n + 1)}


class StackError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log yet)"


def wait_ready(sup: Supervisor, layout: Layout, settings: Settings,
               components: list[Component]) -> None:
    """Poll every component's probe until all answer; fail fast if a process died."""
    started = time.monotonic()
    pending = {c.name: c for c in components}
    with ThreadPoolExecutor(max_workers=len(components)) as pool:
        while pending:
            states = sup.states()
            for name, comp in list(pending.items()):
                if states.get(name) in DEAD_STATES:
                    raise StackError(
                        f"{name} exited during startup (state {states.get(name)}). "
                        f"Likely cause: {comp.likely_cause}. See {layout.log(name)}; last lines:\n"
                        + tail(layout.log(name)))
            answers = dict(zip(pending, pool.map(lambda c: c.probe(settings), pending.values()),
                               strict=True))
            elapsed = time.monotonic() - started
            for name, ok in answers.items():
                comp = pending[name]
                if ok:
                    say(f"{name} ready after {elapsed:.1f}s")
                    del pending[name]
                elif elapsed > comp.ready_timeout_s:
                    raise StackError(
                        f"{name} did not become ready within {comp.ready_timeout_s:.0f}s. "
                        f"Likely cause: {comp.likely_cause}. See {layout.log(name)}; last lines:\n"
                        + tail(layout.log(name)))
            if pending:
                time.sleep(0.25)


def bootstrap(settings: Settings) -> None:
    from chat4all_app.bootstrap.bucket import S3SetupError, ensure_s3
    from chat4all_app.bootstrap.cassandra_schema import migrate
    from chat4all_app.bootstrap.kafka_topics import ensure_topics
    from chat4all_app.storage.cassandra import connect

    topics = asyncio.run(ensure_topics(settings))
    say("kafka topics: " + ", ".join(f"{t} ({s})" for t, s in topics.items()))
    cluster, session = connect(settings)
    try:
        applied = migrate(settings, session)
    finally:
        cluster.shutdown()
    say(f"cassandra keyspace {settings.cassandra_keyspace}: "
        + (f"applied {', '.join(applied)}" if applied else "up to date"))
    try:
        for what, state in asyncio.run(ensure_s3(settings)).items():
            say(f"s3 {what}: {state}")
    except S3SetupError as exc:
        raise StackError(f"s3: {exc}") from None


def up(layout: Layout, settings: Settings, size: stack_size.Cluster, started_file: Path | None) -> None:
    settings.require("s3_root_user", "s3_root_password")
    layout.make_dirs()
    stack_size.record(layout.state, size)
    components = infrastructure(layout, settings, size)
    apps = applications(layout, settings)
    for comp in components + apps:
        comp.prepare()
    sup = Supervisor(layout)
    # It holds the S3 root credentials (MinIO's environment): private from its first byte.
    write_private(sup.config, render_config(
        layout, {"infra": map(program_of, components), "app": map(program_of, apps)}))
    already = sup.running()
    if already:
        sup.reload(c.name for c in components)
    else:
        # A port someone else holds would make a probe answer for the wrong server.
        busy = [c for c in components + apps if port_open(c.port, c.host)]
        if busy:
            raise StackError("; ".join(
                f"{c.name}: port {c.host}:{c.port} is already in use by a process this stack did not start "
                f"(another `make up` from a different checkout? stop it with its `make down`)"
                for c in busy))
        say(f"starting supervisord (logs in {layout.logs})")
        sup.start()
    if started_file:
        started_file.write_text("0" if already else "1")
    wait_ready(sup, layout, settings, components)
    if already:  # a running Prometheus reads its (re-rendered) config only when told to
        urllib.request.urlopen(urllib.request.Request(
            settings.prometheus_url.rstrip("/") + "/-/reload", method="POST"), timeout=10).close()
    bootstrap(settings)
    states = sup.states()
    started = [app for app in apps if not app.spare]
    for app in started:
        if states.get(app.name) != "RUNNING":
            sup.ctl("start", app.name, check=False)
    # Once they are started, so a spare's state is settled; before wait_ready, so a process that
    # fails its start-up is scraped (and shows DOWN) all the same.
    targets.publish(layout, settings)
    wait_ready(sup, layout, settings, started)
    say("the stack is up:")
    for comp in components + started:
        say(f"  {comp.name:<20} {comp.url:<28} log {layout.log(comp.name)}")
    for spare in (app for app in apps if app.spare):
        say(f"  {spare.name:<20} {spare.url:<28} spare: make ctl ARGS=\"start {spare.name}\"")
    say(f"  {'s3 console':<20} {Topology.from_settings(settings).s3_console_url}")
    say(f"  {'live dashboards':<20} {settings.prometheus_url.rstrip('/')}/consoles/index.html")


def down(layout: Layout) -> None:
    sup = Supervisor(layout)
    if sup.shutdown():
        say("stopped every service and supervisord")
    else:
        say("nothing running")


def status_rows(status: str) -> list[tuple[str, str, str]]:
    """(program, STATE, detail) per line of `supervisorctl status`."""
    rows = []
    for line in status.splitlines():
        if parts := line.split(None, 2):
            name, state, detail = [*parts, "", ""][:3]
            rows.append((name, state, detail))
    return rows


def status_table(rows: list[tuple[str, str, str]], width: int) -> str:
    """supervisord's rows, names padded to `width`, states to the longest one's."""
    states = max((len(state) for _, state, _ in rows), default=0)
    return "".join(f"{name:<{width}}  {state:<{states}}  {detail}".rstrip() + "\n"
                   for name, state, detail in rows)


def probe_line(name: str, ok: bool, width: int) -> str:
    """One readiness probe's line (scripts/test-infrastructure.sh reads `<name> probe: ready`)."""
    return f"[devstack] {name:<{width}}  probe: {'ready' if ok else 'NOT READY'}"


def ps_width(rows: list[tuple[str, str, str]], probed: list[str]) -> int:
    """The name column: as wide as the longest program or probed name (kafka-1…, connector-instagram)."""
    return max(map(len, [*(name for name, _, _ in rows), *probed]), default=0)


def ps(layout: Layout, settings: Settings) -> int:
    sup = Supervisor(layout)
    if not sup.running():
        say("not running (make up starts it)")
        return 3
    rows = status_rows(sup.ctl("status", check=False).stdout)
    states = {name: state for name, state, _ in rows}
    # A spare instance is only expected (and probed) while someone started it.
    probed = [c for c in infrastructure(layout, settings) + applications(layout, settings)
              if not c.spare or states.get(c.name) == "RUNNING"]
    width = ps_width(rows, [c.name for c in probed])
    print(status_table(rows, width), end="", flush=True)
    not_ready = []
    for comp in probed:  # each line as its probe answers
        ok = comp.probe(settings)
        print(probe_line(comp.name, ok, width), flush=True)
        if not ok:
            not_ready.append(comp.name)
    return 1 if not_ready else 0


def urls(shell: bool) -> int:
    try:
        environment = local().environment()
    except SettingsError as exc:
        print(f"[devstack] ERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    for name, value in environment.items():
        print(f"export {name}={shlex.quote(value)}" if shell else f"{name:<26} {value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the stack (idempotent) and bootstrap schemas")
    p_up.add_argument("--started-file", type=Path,
                      help="write 1 there if this call started supervisord, else 0")
    sub.add_parser("down", help="stop every service and supervisord")
    sub.add_parser("ps", help="process states and readiness probes")
    p_ctl = sub.add_parser("ctl", help="pass arguments to supervisorctl, e.g. ctl stop kafka")
    p_ctl.add_argument("args", nargs=argparse.REMAINDER)
    p_nodetool = sub.add_parser("nodetool", help="Cassandra's nodetool on a node, e.g. nodetool status")
    p_nodetool.add_argument("--node", type=int, default=1, help="which Cassandra node (1 to 3; default 1)")
    p_nodetool.add_argument("args", nargs=argparse.REMAINDER)
    p_engine = sub.add_parser("engine", help="the compose check's private container engine: up|down|env")
    p_engine.add_argument("action", choices=["up", "down", "env"], nargs="?", default="up")
    p_urls = sub.add_parser("urls", help="where the stack listens (devstack/topology.py; overrides honoured)")
    p_urls.add_argument("--shell", action="store_true", help="as `export NAME=value` lines to eval")
    args = parser.parse_args(argv)

    if args.command == "urls":
        return urls(args.shell)
    layout = Layout.from_env()
    if args.command == "engine":
        try:
            return engine.main(args.action, layout)
        except engine.EngineError as exc:
            print(f"[engine] ERROR: {exc}", file=sys.stderr, flush=True)
            return 1
    try:
        if args.command == "up":
            # A non-empty exported secret replaces the file's (rotation): every process reads it.
            generated = ensure_secrets(layout.secrets, Settings.from_env({}).channels, os.environ)
            if generated:
                say(f"generated {', '.join(generated)} into {layout.secrets} (mode 0600)")
        # Every process supervisord starts inherits this, and reads its secrets from there.
        os.environ.setdefault("CHAT4ALL_SECRETS_FILE", str(layout.secrets))
        size = stack_size.choose(layout.state, os.environ.get("CLUSTER") if args.command == "up" else None,
                                 has_data=any((layout.data / n).exists() for n in STORES))
        # ... and the settings of the stack's size (bootstrap lists, contact points, replication).
        os.environ.update(stack_size.with_stack_settings(size, os.environ))
        settings = Settings.from_env()
        if args.command == "up":
            up(layout, settings, size, args.started_file)
        elif args.command == "down":
            down(layout)
        elif args.command == "ps":
            return ps(layout, settings)
        elif args.command == "nodetool":
            if not 1 <= args.node <= size.nodes:
                raise stack_size.ClusterError(
                    f"--node {args.node}: this stack has {size.nodes} Cassandra node(s)")
            return nodetool.interactive(layout, args.node, *args.args)
        elif args.command == "ctl":
            proc = Supervisor(layout).ctl(*args.args, check=False)
            print(proc.stdout + proc.stderr, end="")
            targets.after_ctl(layout, settings, args.args)  # a spare started or stopped
            return proc.returncode
    except (StackError, ComponentError, SettingsError, stack_size.ClusterError) as exc:
        print(f"[devstack] ERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
