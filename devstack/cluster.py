"""The local stack's size: Kafka and Cassandra as one node each (the default), or as clusters of three.

A cluster runs its nodes on loopback aliases, 127.0.0.1 to 127.0.0.3 (all inside 127.0.0.0/8, which
Linux routes to `lo` without configuration), each on the same ports as the single node: the way
Cassandra's ccm runs clusters on one machine. `make up CLUSTER=3` chooses it; the choice is recorded
in the state directory, so later `make up`, `make ps` and every tool reading `devstack.topology`
see the same stack. A state directory holds one size's data: switching needs `make clean` (or
another CHAT4ALL_STATE_DIR).

In a cluster every client gets every node (bootstrap lists, contact points), topics are created
with replication factor 3 and `min.insync.replicas` 2, and the keyspace with replication factor 3
(reads and writes at LOCAL_QUORUM, the settings' default): any one node may be lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chat4all_app.settings import Settings
from devstack.layout import port_of

SIZES = (1, 3)
RECORD = "cluster-size"


class ClusterError(RuntimeError):
    """A cluster size that is not offered, or one the state directory's data does not match."""


@dataclass(frozen=True)
class Cluster:
    nodes: int = 1

    def __post_init__(self) -> None:
        if self.nodes not in SIZES:
            raise ClusterError(f"CLUSTER={self.nodes}: the local stack runs 1 node or a cluster of 3")

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(f"127.0.0.{i}" for i in range(1, self.nodes + 1))

    def node_name(self, component: str, index: int) -> str:
        """"kafka" for the single node, "kafka-1".."kafka-3" in a cluster."""
        return component if self.nodes == 1 else f"{component}-{index}"

    @property
    def replication_factor(self) -> int:
        return self.nodes

    @property
    def min_insync_replicas(self) -> int:
        """A majority: acks=all then survives the loss of any one broker, never of two."""
        return self.nodes // 2 + 1

    def settings_env(self) -> dict[str, str]:
        """The settings every process of this stack needs (empty for one node: the defaults), on
        the default ports."""
        if self.nodes == 1:
            return {}
        defaults = Settings.from_env({})
        kafka_port, cassandra_port = port_of(defaults.kafka_bootstrap_servers), defaults.cassandra_port
        return {
            "KAFKA_BOOTSTRAP_SERVERS": ",".join(f"{h}:{kafka_port}" for h in self.hosts),
            "KAFKA_REPLICATION_FACTOR": str(self.replication_factor),
            "KAFKA_MIN_INSYNC_REPLICAS": str(self.min_insync_replicas),
            "CASSANDRA_HOSTS": ",".join(self.hosts),
            "CASSANDRA_PORT": str(cassandra_port),
            "CASSANDRA_REPLICATION_FACTOR": str(self.replication_factor),
        }


def recorded(state: Path) -> Cluster | None:
    """The size `make up` recorded in this state directory, None before the first `make up`."""
    try:
        return Cluster(int((state / RECORD).read_text().strip()))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ClusterError(f"{state / RECORD} does not hold a cluster size: {exc}") from None


def choose(state: Path, requested: str | None, has_data: bool) -> Cluster:
    """The size to run: `requested` (CLUSTER=…) if given, else the recorded one, else 1. A state
    directory with data keeps its size."""
    before = recorded(state)
    if not requested:
        return before or Cluster(1)
    try:
        wanted = Cluster(int(requested))
    except ValueError:
        raise ClusterError(f"CLUSTER={requested!r}: expected 1 or 3") from None
    if has_data and (before or Cluster(1)) != wanted:
        raise ClusterError(
            f"{state} holds the data of a {(before or Cluster(1)).nodes}-node stack; CLUSTER={wanted.nodes} "
            "needs its own: `make clean` first (deletes that data), or another CHAT4ALL_STATE_DIR")
    return wanted


def record(state: Path, cluster: Cluster) -> None:
    state.mkdir(parents=True, exist_ok=True)
    (state / RECORD).write_text(f"{cluster.nodes}\n")


def with_stack_settings(cluster: Cluster, environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` over the settings of a stack of this size: what its processes and tools read."""
    return {**cluster.settings_env(), **environ}
