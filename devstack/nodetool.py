"""Cassandra's nodetool against a node of the local stack (`python -m devstack nodetool [--node N] …`).

The stack installs Cassandra's jars, not its shell scripts: nodetool is the same class the script
runs (org.apache.cassandra.tools.NodeTool, in cassandra-all), over the node's local-only JMX port
(devstack/components.py: cassandra_jmx_port). What an operator of a real cluster reaches for:
`status`, `listpendinghints`, `repair`.
"""

from __future__ import annotations

import subprocess

from devstack.components import _java, _lib, cassandra_jmx_port
from devstack.layout import Layout


def module_access(layout: Layout) -> list[str]:
    """The server's --add-exports/--add-opens (Java 17): the tools load the same classes."""
    text = (layout.repo / "deploy/cassandra/jvm17-server.options").read_text()
    return [ln.strip() for ln in text.splitlines() if ln.strip().startswith("--add-")]


def argv(layout: Layout, node: int, *args: str) -> list[str]:
    lib = _lib(layout, "cassandra", "CASSANDRA_VERSION")
    return [_java(), "-Xmx128m", "-XX:+UseSerialGC", *module_access(layout), "-cp", f"{lib}/*",
            f"-Dlogback.configurationFile=file://{layout.repo / 'deploy/cassandra/logback-tools.xml'}",
            "org.apache.cassandra.tools.NodeTool", "-h", "127.0.0.1", "-p", str(cassandra_jmx_port(node)),
            *args]


def run(layout: Layout, node: int, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """nodetool's output; a call that outlasts `timeout` (JMX hung, a long repair) reads as exit 124."""
    command = argv(layout, node, *args)
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(command, 124, _text(exc.stdout), _text(exc.stderr) + "\ntimed out")


def _text(output: bytes | str | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def interactive(layout: Layout, node: int, *args: str) -> int:
    """nodetool for a person: its output as it comes, however long it takes (`repair`)."""
    return subprocess.run(argv(layout, node, *args)).returncode
