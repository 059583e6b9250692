"""The local-stack tooling: supervisord config, failure messages, versions file."""

from pathlib import Path

import pytest
from supervisor.options import ServerOptions

from chat4all_app.settings import Settings, SettingsError
from devstack import __main__ as cli
from devstack.components import Component
from devstack.layout import Layout, read_versions
from devstack.supervisor import Program, render_config


def layout(tmp_path: Path) -> Layout:
    lay = Layout(repo=Path("."), cache=tmp_path / "cache", state=tmp_path / "state",
                 versions=read_versions())
    lay.make_dirs()
    return lay


def test_rendered_config_is_accepted_by_supervisord_itself(tmp_path):
    lay = layout(tmp_path)
    programs = [Program("kafka", ["java", "-cp", "lib/*", "kafka.Kafka", "x y.properties"],
                        {"PCT": "100%"}, group="infra")]
    conf = lay.conf / "supervisord.conf"
    conf.write_text(render_config(lay, {"infra": programs}))
    opts = ServerOptions()
    opts.realize(args=["-c", str(conf)])
    (group,) = opts.process_group_configs
    (proc,) = group.process_configs
    assert group.name == "kafka"  # addressable by bare name: `supervisorctl stop kafka`
    assert proc.name == "kafka"
    # argv survives quoting, '%' survives supervisord's own expansion
    assert proc.command == "java -cp 'lib/*' kafka.Kafka 'x y.properties'"
    assert proc.environment == {"PCT": "100%"}
    assert proc.autorestart is False
    assert proc.priority == 100  # infrastructure starts first and stops last
    assert proc.stdout_logfile == str(lay.log("kafka"))


class DeadSupervisor:
    def states(self):
        return {"cassandra": "FATAL"}


def test_a_dead_component_fails_fast_naming_itself_its_log_and_the_cause(tmp_path):
    lay = layout(tmp_path)
    lay.log("cassandra").write_text("line 1\nERROR port 9042 in use\n")
    comp = Component(name="cassandra", port=9042, argv=[], env={}, ready_timeout_s=600,
                     likely_cause="ports 7000/9042 in use", url="cql://x", probe=lambda s: False)
    with pytest.raises(cli.StackError) as err:
        cli.wait_ready(DeadSupervisor(), lay, Settings.from_env({}), [comp])
    text = str(err.value)
    assert "cassandra exited during startup (state FATAL)" in text
    assert str(lay.log("cassandra")) in text
    assert "ports 7000/9042 in use" in text
    assert "ERROR port 9042 in use" in text


def test_a_silent_component_times_out_with_the_same_explanation(tmp_path):
    lay = layout(tmp_path)

    class Starting:
        def states(self):
            return {"kafka": "RUNNING"}

    comp = Component(name="kafka", port=1, argv=[], env={}, ready_timeout_s=0.3,
                     likely_cause="port busy", url="x", probe=lambda s: False)
    with pytest.raises(cli.StackError, match=r"kafka did not become ready within 0s.*port busy"):
        cli.wait_ready(Starting(), lay, Settings.from_env({}), [comp])


def test_every_pinned_version_is_exact():
    versions = read_versions()
    for key in ("KAFKA_VERSION", "CASSANDRA_VERSION", "MINIO_VERSION", "PROMETHEUS_DEB_VERSION"):
        assert versions[key] and not any(c in versions[key] for c in "*<>^~"), key
    assert versions["CASSANDRA_VERSION"].startswith("5.0.")


def test_kafka_cluster_ids_are_valid_and_never_look_like_an_option():
    from devstack.components import _cluster_id
    ids = {_cluster_id() for _ in range(2000)}  # a leading "-" would show up ~31 times
    assert len(ids) == 2000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)


@pytest.mark.parametrize("nice", [0, 10])
def test_the_pipeline_workers_run_niced_and_the_api_does_not(nice):
    from devstack.components import applications

    layout = Layout(Path("/repo"), Path("/cache"), Path("/state"), read_versions())
    argv = {c.name: c.argv for c in applications(layout, Settings(worker_nice=nice))}
    prefix = ["nice", "-n", str(nice)] if nice else []
    for name in ("router", "router-2", "connector-whatsapp", "connector-instagram"):
        assert argv[name][:len(prefix)] == prefix and argv[name][len(prefix)].endswith("/faust"), argv[name]
    for name in ("api", "api-2", "mock-whatsapp"):
        assert argv[name][0] != "nice", argv[name]


def test_worker_nice_must_be_a_nice_value():
    with pytest.raises(SettingsError, match=r"WORKER_NICE must be 0\.\.19"):
        Settings(worker_nice=20).validate()
