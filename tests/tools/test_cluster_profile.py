"""devstack/cluster.py and the cluster's components: sizes, what every process is told, and each
node's configuration (tests/cluster starts a real one)."""

from pathlib import Path

import pytest

from chat4all_app.settings import Settings
from devstack import cluster as size
from devstack.components import Component, cassandra_nodes, initial_token, kafka_nodes
from devstack.layout import REPO_DIR, Layout, read_versions


def test_one_node_needs_no_settings_and_three_get_every_node_and_a_majority():
    assert size.Cluster(1).settings_env() == {}
    env = size.Cluster(3).settings_env()
    settings = Settings.from_env(env)
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092,127.0.0.2:9092,127.0.0.3:9092"
    assert settings.cassandra_hosts == ("127.0.0.1", "127.0.0.2", "127.0.0.3")
    assert (settings.kafka_replication_factor, settings.kafka_min_insync_replicas,
            settings.cassandra_replication_factor) == (3, 2, 3)


def test_only_one_node_or_three_are_offered():
    with pytest.raises(size.ClusterError, match="1 node or a cluster of 3"):
        size.Cluster(2)


def test_the_recorded_size_is_kept_and_data_of_another_size_is_refused(tmp_path):
    assert size.choose(tmp_path, None, has_data=False) == size.Cluster(1)
    size.record(tmp_path, size.choose(tmp_path, "3", has_data=False))
    assert size.recorded(tmp_path) == size.Cluster(3)
    assert size.choose(tmp_path, None, has_data=True) == size.Cluster(3)  # `make up` again
    with pytest.raises(size.ClusterError, match="make clean"):
        size.choose(tmp_path, "1", has_data=True)
    with pytest.raises(size.ClusterError, match="expected 1 or 3"):
        size.choose(tmp_path, "three", has_data=False)


def test_an_explicit_setting_wins_over_the_stacks():
    env = size.with_stack_settings(size.Cluster(3), {"CASSANDRA_HOSTS": "10.0.0.9"})
    assert env["CASSANDRA_HOSTS"] == "10.0.0.9" and env["KAFKA_REPLICATION_FACTOR"] == "3"


def installed_layout(tmp_path: Path) -> Layout:
    """A layout whose cache has the jars' marker files, so the components can be described."""
    lay = Layout(repo=REPO_DIR, cache=tmp_path / "cache", state=tmp_path / "state", versions=read_versions())
    for name, key in (("kafka", "KAFKA_VERSION"), ("cassandra", "CASSANDRA_VERSION")):
        lib = lay.cache / f"{name}-{lay.versions[key]}" / "lib"
        lib.mkdir(parents=True)
        (lib / ".complete").touch()
    (lay.cache / f"cassandra-{lay.versions['CASSANDRA_VERSION']}" / "lib" / "jamm-0.4.0.jar").touch()
    lay.make_dirs()
    return lay


def properties(comp: Component, lay: Layout) -> dict[str, str]:
    text = (lay.conf / f"{comp.name}.properties").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def test_three_kafka_nodes_form_one_static_quorum_each_on_its_own_address(tmp_path):
    lay = installed_layout(tmp_path)
    nodes = kafka_nodes(lay, Settings.from_env({}), size.Cluster(3))
    assert [(n.name, n.host) for n in nodes] == [("kafka-1", "127.0.0.1"), ("kafka-2", "127.0.0.2"),
                                                ("kafka-3", "127.0.0.3")]
    for i, node in enumerate(nodes, 1):
        (lay.data / node.name).mkdir(parents=True)
        (lay.data / node.name / "meta.properties").touch()  # formatted: prepare() only renders
        node.prepare()
        props = properties(node, lay)
        assert props["node.id"] == str(i)
        assert props["controller.quorum.voters"] == "1@127.0.0.1:9093,2@127.0.0.2:9093,3@127.0.0.3:9093"
        assert props["listeners"] == f"PLAINTEXT://127.0.0.{i}:9092,CONTROLLER://127.0.0.{i}:9093"
        assert props["default.replication.factor"] == props["offsets.topic.replication.factor"] == "3"
        assert props["min.insync.replicas"] == "2"
        assert props["log.dirs"] == str(lay.data / node.name)


def test_the_single_kafka_node_keeps_its_name_data_and_standalone_quorum(tmp_path):
    lay = installed_layout(tmp_path)
    (node,) = kafka_nodes(lay, Settings.from_env({}), size.Cluster(1))
    (lay.data / "kafka").mkdir(parents=True)
    (lay.data / "kafka" / "meta.properties").touch()
    node.prepare()
    props = properties(node, lay)
    assert node.name == "kafka" and props["log.dirs"] == str(lay.data / "kafka")
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert props["min.insync.replicas"] == "1" and props["default.replication.factor"] == "1"


def test_three_cassandra_nodes_have_their_own_address_token_and_storage(tmp_path):
    lay = installed_layout(tmp_path)
    nodes = cassandra_nodes(lay, Settings.from_env({}), size.Cluster(3))
    tokens = []
    for i, node in enumerate(nodes, 1):
        node.prepare()
        yaml = (lay.conf / f"cassandra-{i}.yaml").read_text()
        assert f"\nlisten_address: 127.0.0.{i}\n" in yaml and f"\nrpc_address: 127.0.0.{i}\n" in yaml
        assert "auto_bootstrap: false" in yaml and '"127.0.0.1:7000"' in yaml  # node 1 is the seed
        token = [a for a in node.argv if a.startswith("-Dcassandra.initial_token=")]
        assert len(token) == 1
        tokens.append(int(token[0].split("=")[1]))
        assert f"-Dcassandra.storagedir={lay.data / node.name}" in node.argv
    assert tokens == [initial_token(i, 3) for i in (1, 2, 3)] and len(set(tokens)) == 3
    assert tokens[1] - tokens[0] == tokens[2] - tokens[1]  # equal ranges
    (single,) = cassandra_nodes(lay, Settings.from_env({}), size.Cluster(1))
    assert "-Dcassandra.initial_token=0" in single.argv and single.name == "cassandra"
