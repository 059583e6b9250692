import dataclasses
from pathlib import Path

import pytest

from chat4all_app.settings import Settings, SettingsError, documentation

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_point_at_the_local_stack():
    s = Settings.from_env({})
    assert s.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert s.cassandra_hosts == ("127.0.0.1",)
    assert s.s3_endpoint_url == "http://127.0.0.1:9000"


def test_env_values_are_parsed_to_the_field_types():
    s = Settings.from_env({
        "KAFKA_TOPIC_MESSAGES_PARTITIONS": "12",
        "CASSANDRA_HOSTS": "10.0.0.1, 10.0.0.2,",
        "CHAT4ALL_CHANNELS": "whatsapp,telegram",
    })
    assert s.topic_messages_partitions == 12
    assert s.cassandra_hosts == ("10.0.0.1", "10.0.0.2")
    assert s.channel_topic("telegram") == "chat4all.channel.telegram"


@pytest.mark.parametrize("env, message", [
    ({"CASSANDRA_PORT": "ninety"}, "CASSANDRA_PORT must be an integer"),
    ({"KAFKA_TOPIC_PARTITIONS": "0"}, "KAFKA_TOPIC_PARTITIONS must be >= 1"),
    ({"CASSANDRA_KEYSPACE": "drop table;"}, "CASSANDRA_KEYSPACE must be an identifier"),
    ({"CHAT4ALL_CHANNELS": " , "}, "at least one channel"),
])
def test_bad_values_are_rejected_with_the_variable_name(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_topic_partition_counts_cover_messages_status_updates_and_every_channel():
    counts = Settings.from_env({}).topic_partition_counts()
    assert counts == {
        "chat4all.messages": 6,
        "chat4all.status": 6,
        "chat4all.updates": 6,
        "chat4all.channel.whatsapp": 6,
        "chat4all.channel.instagram": 6,
        "chat4all.circuit.whatsapp": 1,
        "chat4all.circuit.instagram": 1,
        "chat4all.dlq": 1,
    }


def test_unknown_channel_is_an_error():
    with pytest.raises(SettingsError, match="unknown channel"):
        Settings.from_env({}).channel_topic("telegram")


def test_every_setting_is_documented_in_the_readme():
    text = README.read_text()
    assert len(documentation()) == len(dataclasses.fields(Settings))
    missing = [env for env, _, _ in documentation() if f"`{env}`" not in text]
    assert not missing, f"README.md does not document: {missing} (chat4all settings --markdown)"


GOOD = "x" * 32


@pytest.mark.parametrize("env, message", [
    ({}, "JWT_SECRET is not set"),
    ({"JWT_SECRET": "short"}, "JWT_SECRET is 5 bytes long; it needs at least 32"),
    ({"JWT_SECRET": "dev-only-insecure-secret-change-me"}, "JWT_SECRET is a well-known default"),
    ({"JWT_SECRET": GOOD, "S3_ACCESS_KEY": "minioadmin", "S3_SECRET_KEY": GOOD},
     "S3_ACCESS_KEY is a well-known default"),
    ({"JWT_SECRET": GOOD, "S3_ACCESS_KEY": "app", "S3_SECRET_KEY": "chat4all-secret"},
     "S3_SECRET_KEY is a well-known default"),
])
def test_a_process_refuses_missing_short_or_default_secrets(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env).require("jwt_secret", "s3_access_key", "s3_secret_key")


def test_random_secrets_of_32_bytes_are_accepted():
    Settings.from_env({"JWT_SECRET": GOOD, "S3_ACCESS_KEY": "app-abc", "S3_SECRET_KEY": GOOD}).require(
        "jwt_secret", "s3_access_key", "s3_secret_key")


def test_load_exits_with_a_message_naming_the_variable(monkeypatch):
    from chat4all_app.settings import load
    monkeypatch.delenv("CHAT4ALL_SECRETS_FILE", raising=False)
    monkeypatch.delenv("WEBHOOK_SECRET_WHATSAPP", raising=False)
    with pytest.raises(SystemExit, match="connector-whatsapp: configuration error: WEBHOOK_SECRET_WHATSAPP"):
        load("connector-whatsapp", "webhook_secret_whatsapp")


def test_secrets_come_from_the_secrets_file_and_the_environment_wins(tmp_path):
    path = tmp_path / "secrets.env"
    path.write_text("# comment\nJWT_SECRET=from-file-" + GOOD + "\nWEBHOOK_SECRET_WHATSAPP=w" + GOOD + "\n")
    s = Settings.from_env({"CHAT4ALL_SECRETS_FILE": str(path), "WEBHOOK_SECRET_WHATSAPP": "env" + GOOD})
    assert s.jwt_secret == "from-file-" + GOOD
    assert s.webhook_secret("whatsapp") == ("env" + GOOD).encode()
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.from_env({"CHAT4ALL_SECRETS_FILE": str(tmp_path / "missing")})


def test_environ_values_gives_the_variables_that_are_set(monkeypatch):
    from chat4all_app.settings import environ_values
    monkeypatch.setenv("CHAT4ALL_CHANNELS", "")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    assert environ_values(["CHAT4ALL_CHANNELS", "JWT_SECRET"]) == {"CHAT4ALL_CHANNELS": ""}


def test_the_heartbeat_monitor_reads_only_its_own_setting(monkeypatch):
    from chat4all_app.observability.heartbeat_monitor import logs_dir
    monkeypatch.setenv("CHAT4ALL_LOGS", "/var/log/chat4all")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")  # invalid, and none of the monitor's business
    assert logs_dir() == "/var/log/chat4all"


def test_min_insync_replicas_above_the_replication_factor_is_refused():
    with pytest.raises(SettingsError, match="no publish could succeed"):
        Settings.from_env({"KAFKA_MIN_INSYNC_REPLICAS": "2"})
    assert Settings.from_env({"KAFKA_REPLICATION_FACTOR": "3", "KAFKA_MIN_INSYNC_REPLICAS": "2"})


def test_an_unknown_consistency_level_is_refused():
    with pytest.raises(SettingsError, match="CASSANDRA_CONSISTENCY"):
        Settings.from_env({"CASSANDRA_CONSISTENCY": "EVERYONE"})
    assert Settings.from_env({}).cassandra_consistency == "LOCAL_QUORUM"
