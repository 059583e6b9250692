"""The one place where Chat4All reads its configuration.

Every setting is an environment variable with a documented default, declared once below as data.
`Settings.from_env()` parses and validates them; `chat4all settings` prints the table the README
documents. Nothing else in chat4all_app reads `os.environ`: code that needs only some variables,
not the full validated settings, reads them through `environ_values()` — `chat4all init-secrets`
(which also takes the secrets only the deployment uses) and the heartbeat monitor (CHAT4ALL_LOGS
alone, so no other setting can stop it).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """An environment variable holds a value its setting cannot accept."""


# Levels that make sense for one datacenter (the driver's names).
CONSISTENCY_LEVELS = ("ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "ALL")


def setting(env: str, default: Any, doc: str) -> Any:
    """Declare a field backed by environment variable `env`."""
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class Settings:
    # --- Kafka -------------------------------------------------------------------------------
    kafka_bootstrap_servers: str = setting(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "Kafka bootstrap servers (host:port,...)."
    )
    kafka_replication_factor: int = setting(
        "KAFKA_REPLICATION_FACTOR", 1, "Replication factor of the topics Chat4All creates."
    )
    kafka_min_insync_replicas: int = setting(
        "KAFKA_MIN_INSYNC_REPLICAS", 1,
        "min.insync.replicas of the topics Chat4All creates: with acks=all, a publish fails (503) "
        "rather than be acknowledged by fewer replicas.",
    )
    topic_messages: str = setting(
        "KAFKA_TOPIC_MESSAGES", "chat4all.messages", "Accepted messages, keyed by conversation_id."
    )
    topic_messages_partitions: int = setting(
        "KAFKA_TOPIC_MESSAGES_PARTITIONS", 6, "Partitions of the messages topic (>= workers)."
    )
    topic_status: str = setting(
        "KAFKA_TOPIC_STATUS", "chat4all.status", "Delivery-status events, keyed by conversation_id."
    )
    topic_updates: str = setting(
        "KAFKA_TOPIC_UPDATES", "chat4all.updates",
        "What conversations' members see live (a message stored, a status applied), keyed by "
        "conversation_id: every API process follows it to push over WebSocket.",
    )
    topic_dlq: str = setting(
        "KAFKA_TOPIC_DLQ", "chat4all.dlq",
        "Dead letters: events no agent can ever process, original bytes plus why (`chat4all dlq`).",
    )
    topic_channel_prefix: str = setting(
        "KAFKA_TOPIC_CHANNEL_PREFIX",
        "chat4all.channel.",
        "Prefix of the per-channel topics (prefix + channel name).",
    )
    topic_partitions: int = setting(
        "KAFKA_TOPIC_PARTITIONS", 6, "Partitions of the status, updates and channel topics."
    )
    channels: tuple[str, ...] = setting(
        "CHAT4ALL_CHANNELS", ("whatsapp", "instagram"), "External channels (comma-separated)."
    )
    # --- Cassandra ---------------------------------------------------------------------------
    cassandra_hosts: tuple[str, ...] = setting(
        "CASSANDRA_HOSTS", ("127.0.0.1",), "Cassandra contact points (comma-separated)."
    )
    cassandra_port: int = setting("CASSANDRA_PORT", 9042, "Cassandra native (CQL) port.")
    cassandra_keyspace: str = setting("CASSANDRA_KEYSPACE", "chat4all", "Keyspace of all tables.")
    cassandra_replication_factor: int = setting(
        "CASSANDRA_REPLICATION_FACTOR", 1, "SimpleStrategy replication factor of the keyspace."
    )
    cassandra_consistency: str = setting(
        "CASSANDRA_CONSISTENCY", "LOCAL_QUORUM",
        "Consistency level of every read and write (message-id claims use LOCAL_SERIAL).",
    )
    cassandra_local_dc: str = setting(
        "CASSANDRA_LOCAL_DC", "datacenter1", "Datacenter the driver treats as local."
    )
    # --- S3 ----------------------------------------------------------------------------------
    s3_endpoint_url: str = setting(
        "S3_ENDPOINT_URL", "http://127.0.0.1:9000", "S3 API endpoint (MinIO locally)."
    )
    s3_access_key: str = setting(
        "S3_ACCESS_KEY", "", "The application's own S3 access key, limited to the bucket (required)."
    )
    s3_secret_key: str = setting(
        "S3_SECRET_KEY", "", "Secret of S3_ACCESS_KEY (required, 32..40 characters)."
    )
    s3_root_user: str = setting(
        "S3_ROOT_USER", "", "S3 (MinIO) root user: only for starting MinIO and `chat4all migrate`."
    )
    s3_root_password: str = setting(
        "S3_ROOT_PASSWORD", "", "S3 (MinIO) root password (>= 32 characters); never used by services."
    )
    s3_region: str = setting("S3_REGION", "us-east-1", "S3 region used for request signing.")
    s3_bucket: str = setting("S3_BUCKET", "chat4all-files", "Private bucket holding file binaries.")
    s3_public_url: str = setting(
        "S3_PUBLIC_URL", "", "S3 endpoint as clients reach it, for presigned URLs (empty: S3_ENDPOINT_URL)."
    )
    file_max_bytes: int = setting(
        "FILE_MAX_BYTES", 2 * 1024**3, "Largest file accepted, streamed or resumable (413 beyond)."
    )
    file_part_bytes: int = setting(
        "FILE_PART_BYTES", 8 * 1024**2, "S3 multipart part size (>= 5 MiB): the API's buffer per upload."
    )
    file_url_ttl_s: int = setting(
        "FILE_URL_TTL_S", 3600, "Lifetime of presigned download and part-upload URLs (seconds)."
    )
    # --- Observability -----------------------------------------------------------------------
    prometheus_url: str = setting(
        "PROMETHEUS_URL", "http://127.0.0.1:9090", "Prometheus server (queried by tests/reports)."
    )
    alertmanager_url: str = setting(
        "ALERTMANAGER_URL", "http://127.0.0.1:9095",
        "Alertmanager: Prometheus sends it the alerts of monitoring/alerts.yml (API at /api/v2/alerts).",
    )
    alert_receiver_url: str = setting(
        "ALERT_RECEIVER_URL", "http://127.0.0.1:9097",
        "The webhook receiver Alertmanager notifies: it logs every notification as a JSON line.",
    )
    chromium_path: str = setting(
        "CHROMIUM_PATH", "/usr/bin/chromium",
        "Headless browser of the live-dashboard screenshots and browser tests (Debian's chromium).",
    )
    prometheus_scrape_interval: str = setting(
        "PROMETHEUS_SCRAPE_INTERVAL", "5s",
        "Scrape interval of the local stack's Prometheus (monitoring/prometheus.compose.yml uses 15s).",
    )
    log_level: str = setting("LOG_LEVEL", "INFO", "Lowest level written to the JSON logs.")
    instance_id: str = setting(
        "INSTANCE_ID", "", "This process's name in logs and heartbeats (empty: <hostname>-<pid>)."
    )
    logs_dir: str = setting(
        "CHAT4ALL_LOGS", "state/logs",
        "Directory of the local stack's log files, which the heartbeat monitor follows.",
    )
    heartbeat_interval_s: float = setting(
        "HEARTBEAT_INTERVAL_S", 30.0, "How often every service logs its heartbeat record."
    )
    health_timeout_s: float = setting(
        "HEALTH_TIMEOUT_S", 2.0, "Longest a /health probe of one dependency may take before it counts DOWN."
    )

    # --- API ---------------------------------------------------------------------------------
    jwt_secret: str = setting(
        "JWT_SECRET", "", "HS256 key for access tokens (required, >= 32 bytes, random)."
    )
    jwt_ttl_s: int = setting("JWT_TTL_S", 3600, "Access-token lifetime in seconds.")
    max_content_bytes: int = setting(
        "MAX_CONTENT_BYTES", 10240, "Largest message content accepted (UTF-8 bytes)."
    )
    kafka_publish_timeout_s: float = setting(
        "KAFKA_PUBLISH_TIMEOUT_S", 10.0, "How long the API waits for Kafka's ack before a 503."
    )
    login_max_failures_per_user: int = setting(
        "LOGIN_MAX_FAILURES_PER_USER", 5,
        "Failed logins for one username within LOGIN_WINDOW_S before /auth/token answers 429.",
    )
    login_max_failures_per_address: int = setting(
        "LOGIN_MAX_FAILURES_PER_ADDRESS", 20,
        "Failed logins from one client address within LOGIN_WINDOW_S before /auth/token answers 429.",
    )
    login_window_s: int = setting(
        "LOGIN_WINDOW_S", 900, "Sliding window (seconds) in which failed logins count."
    )
    trusted_proxies: tuple[str, ...] = setting(
        "TRUSTED_PROXIES", ("127.0.0.1",),
        "Peers (addresses, CIDR networks or host names, comma-separated) whose X-Real-IP / "
        "X-Forwarded-For names the client; empty: trust none. 127.0.0.1: the local stack's nginx.",
    )
    ws_max_connections_per_user: int = setting(
        "WS_MAX_CONNECTIONS_PER_USER", 5,
        "WebSocket connections one user may hold open on one API process; one more is refused (4029).",
    )
    ws_send_queue: int = setting(
        "WS_SEND_QUEUE", 2000,
        "Frames a WebSocket connection may have waiting to be sent; a client that falls further "
        "behind is disconnected (close code 4008) instead of growing the API's memory.",
    )
    ws_auth_timeout_s: float = setting(
        "WS_AUTH_TIMEOUT_S", 5.0,
        "How long a WebSocket without an Authorization header may take to send its auth frame.",
    )
    ws_replay_max: int = setting(
        "WS_REPLAY_MAX", 50_000,
        "Most updates a reconnecting client's cursor may be behind; further back it gets a reset "
        "frame and reloads by REST.",
    )
    # --- Workers -----------------------------------------------------------------------------
    router_batch_size: int = setting(
        "ROUTER_BATCH_SIZE", 500, "Events the router takes per batch (stream.take)."
    )
    batch_within_s: float = setting(
        "BATCH_WITHIN_S", 0.05, "Longest wait to fill a batch before processing it anyway."
    )
    producer_linger_s: float = setting(
        "WORKER_PRODUCER_LINGER_S", 0.005,
        "How long a worker's Kafka producer waits to put more records (forwards, status events, "
        "table changelogs) into one produce request. Workers await a batch's acks, so a batch takes "
        "up to this much longer.",
    )
    broker_session_timeout_s: float = setting(
        "BROKER_SESSION_TIMEOUT_S", 6.0,
        "Consumer session timeout: how fast a dead worker is noticed (Kafka's minimum is 6 s).",
    )
    broker_commit_interval_s: float = setting(
        "BROKER_COMMIT_INTERVAL_S", 0.5,
        "How often workers commit processed offsets. The consumer lag Kafka reports includes what "
        "was processed but not yet committed: at 270 events/s Faust's 2.8 s default alone is ~380.",
    )
    broker_heartbeat_interval_s: float = setting(
        "BROKER_HEARTBEAT_INTERVAL_S", 1.5, "Consumer heartbeat interval (at most a third of the timeout)."
    )
    table_standby_replicas: int = setting(
        "TABLE_STANDBY_REPLICAS", 1,
        "Hot copies of each table partition on other workers of the role: failover without replay.",
    )
    stall_check_interval_s: float = setting(
        "STALL_CHECK_INTERVAL_S", 5.0, "How often a worker compares its partitions' lag and progress."
    )
    stall_after_s: float = setting(
        "STALL_AFTER_S", 10.0,
        "A partition with lag and no progress for this long is sought back to its committed offset; "
        "still stalled after as long again, it restarts the worker."
    )
    recovery_limit_s: float = setting(
        "RECOVERY_LIMIT_S", 180.0,
        "A worker rebalancing or recovering tables this long while Kafka answers restarts in place.",
    )
    worker_nice: int = setting(
        "WORKER_NICE", 10,
        "Nice value `make up` starts the Faust workers (router, connectors) with, so the API keeps the "
        "CPU when they compete and ingest holds while the pipeline catches up; 0: same priority.",
    )

    # --- Connectors ----------------------------------------------------------------------------
    provider_whatsapp_url: str = setting(
        "PROVIDER_WHATSAPP_URL", "http://127.0.0.1:9101", "WhatsApp provider API (the mock locally)."
    )
    provider_instagram_url: str = setting(
        "PROVIDER_INSTAGRAM_URL", "http://127.0.0.1:9102", "Instagram provider API (the mock locally)."
    )
    connector_whatsapp_url: str = setting(
        "CONNECTOR_WHATSAPP_URL", "http://127.0.0.1:8083",
        "Public base URL of the WhatsApp connector (providers post receipts to it).",
    )
    connector_instagram_url: str = setting(
        "CONNECTOR_INSTAGRAM_URL", "http://127.0.0.1:8084",
        "Public base URL of the Instagram connector (providers post receipts to it).",
    )
    webhook_secret_whatsapp: str = setting(
        "WEBHOOK_SECRET_WHATSAPP", "",
        "HMAC-SHA256 key the WhatsApp provider signs its webhooks with (required, >= 32 bytes).",
    )
    webhook_secret_instagram: str = setting(
        "WEBHOOK_SECRET_INSTAGRAM", "",
        "HMAC-SHA256 key the Instagram provider signs its webhooks with (required, >= 32 bytes).",
    )
    webhook_clock_skew_s: float = setting(
        "WEBHOOK_CLOCK_SKEW_S", 60.0,
        "How far a receipt's `at` may lie before the message's acceptance or after now (400 beyond).",
    )
    provider_timeout_s: float = setting(
        "PROVIDER_TIMEOUT_S", 5.0, "Timeout of one provider API call (counts as a failure)."
    )
    circuit_fail_max: int = setting(
        "CIRCUIT_FAIL_MAX", 3, "Consecutive provider failures that open a channel's circuit."
    )
    circuit_reset_s: float = setting(
        "CIRCUIT_RESET_S", 5.0, "Seconds an open circuit waits before a half-open trial call."
    )
    connector_batch_size: int = setting(
        "CONNECTOR_BATCH_SIZE", 200, "Events a connector takes per batch (sent concurrently "
        "across conversations, in order within one)."
    )

    def provider_url(self, channel: str) -> str:
        self.channel_topic(channel)  # validates the channel
        return getattr(self, f"provider_{channel}_url")

    def connector_url(self, channel: str) -> str:
        self.channel_topic(channel)
        return getattr(self, f"connector_{channel}_url")

    def webhook_secret_name(self, channel: str) -> str:
        """The setting holding `channel`'s webhook secret (for `require`)."""
        self.channel_topic(channel)
        return f"webhook_secret_{channel}"

    def webhook_secret(self, channel: str) -> bytes:
        return getattr(self, self.webhook_secret_name(channel)).encode()

    # --- Command line (chat4all) --------------------------------------------------------------
    api_url: str = setting("CHAT4ALL_API_URL", "http://127.0.0.1:8080", "API the `chat4all` CLI talks to.")
    lb_url: str = setting(
        "CHAT4ALL_LB_URL", "http://127.0.0.1:8088",
        "nginx in front of every running API process (local stack; `make experiment NAME=scale-api`).",
    )
    cli_config_dir: str = setting(
        "CHAT4ALL_CONFIG_DIR", "~/.config/chat4all", "Where `chat4all login` keeps the access token."
    )
    secrets_file: str = setting(
        "CHAT4ALL_SECRETS_FILE", "",
        "KEY=VALUE file (mode 0600) filling secrets the environment leaves unset; `make up` "
        "generates state/secrets.env.",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        secrets_file = environ.get("CHAT4ALL_SECRETS_FILE")
        if secrets_file:  # a non-empty value in the environment wins over the file
            environ = {**read_secrets_file(secrets_file), **{k: v for k, v in environ.items() if v}}
        values = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is not None:
                values[f.name] = _parse(f, raw)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        for name in ("topic_messages_partitions", "topic_partitions", "kafka_replication_factor",
                     "kafka_min_insync_replicas", "cassandra_replication_factor"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{_env(name)} must be >= 1, got {getattr(self, name)}")
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise SettingsError(
                f"KAFKA_MIN_INSYNC_REPLICAS ({self.kafka_min_insync_replicas}) exceeds "
                f"KAFKA_REPLICATION_FACTOR ({self.kafka_replication_factor}): no publish could succeed")
        if self.cassandra_consistency not in CONSISTENCY_LEVELS:
            raise SettingsError(f"CASSANDRA_CONSISTENCY must be one of {', '.join(CONSISTENCY_LEVELS)}, "
                                f"got {self.cassandra_consistency!r}")
        if not 0 <= self.worker_nice <= 19:
            raise SettingsError(f"WORKER_NICE must be 0..19, got {self.worker_nice}")
        if not self.cassandra_keyspace.isidentifier():
            raise SettingsError(f"CASSANDRA_KEYSPACE must be an identifier: {self.cassandra_keyspace!r}")
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(
                f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {self.log_level!r}")
        if not self.channels:
            raise SettingsError("CHAT4ALL_CHANNELS must name at least one channel")
        if not 5 * 1024**2 <= self.file_part_bytes <= 5 * 1024**3:
            raise SettingsError(f"FILE_PART_BYTES must be 5 MiB..5 GiB, got {self.file_part_bytes}")
        if self.file_max_bytes > self.file_part_bytes * 10_000:
            raise SettingsError("FILE_MAX_BYTES needs more than 10000 parts of FILE_PART_BYTES (S3 limit)")
        for name in ("login_max_failures_per_user", "login_max_failures_per_address", "login_window_s"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{_env(name)} must be >= 1, got {getattr(self, name)}")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                if not _HOST_NAME.fullmatch(proxy):
                    raise SettingsError(
                        f"TRUSTED_PROXIES: {proxy!r} is not an address, network or host name") from None

    def require(self, *names: str) -> None:
        """Refuse to run without these secrets: unset, too short, or a well-known default value.

        Called by each process for the secrets it uses, so the CLI or a router needs none of the
        API's or a connector's."""
        for name in names:
            env, value = _env(name), getattr(self, name)
            kind = SECRETS[name]
            if not value:
                raise SettingsError(
                    f"{env} is not set. `make up` generates it into state/secrets.env; elsewhere set "
                    f"it (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`).")
            if value.lower() in KNOWN_DEFAULTS:
                raise SettingsError(f"{env} is a well-known default value; set a random one")
            if kind == "secret" and len(value.encode()) < MIN_SECRET_BYTES:
                raise SettingsError(
                    f"{env} is {len(value.encode())} bytes long; it needs at least {MIN_SECRET_BYTES}")

    def channel_topic(self, channel: str) -> str:
        if channel not in self.channels:
            raise SettingsError(f"unknown channel {channel!r}; configured: {', '.join(self.channels)}")
        return f"{self.topic_channel_prefix}{channel}"

    def circuit_topic(self, channel: str) -> str:
        """A channel's circuit-state changes (the connector's breaker table is rebuilt from it)."""
        self.channel_topic(channel)  # the same check: a configured channel
        return f"chat4all.circuit.{channel}"

    def topic_partition_counts(self) -> dict[str, int]:
        """Every topic Chat4All declares, with its explicit partition count."""
        counts = {self.topic_messages: self.topic_messages_partitions,
                  self.topic_status: self.topic_partitions,
                  self.topic_updates: self.topic_partitions}
        counts.update({self.channel_topic(c): self.topic_partitions for c in self.channels})
        # One partition each, so the breaker table's one key has one home. Created here, not by the
        # connector at start-up: a topic made moments before the consumer group's first rebalance
        # can be missing from its metadata, and Faust's assignor then leaves it unassigned until
        # the next rebalance — the circuit's changes were not remembered across a restart.
        counts.update({self.circuit_topic(c): 1 for c in self.channels})
        counts[self.topic_dlq] = 1  # rare events: one partition keeps them in arrival order
        return counts


# Values published in this project's history, tutorials or vendor docs: never accepted as secrets.
KNOWN_DEFAULTS = frozenset({
    "dev-only-insecure-secret-change-me", "chat4all", "chat4all-secret", "minioadmin", "minio",
    "minio123", "changeme", "change-me", "secret", "password", "admin",
})
MIN_SECRET_BYTES = 32
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")  # a TRUSTED_PROXIES entry may name a host
# Settings holding credentials: "secret" values must be long and random, "id" values (S3 access
# keys, which appear in every presigned URL) only must not be well-known.
SECRETS = {"jwt_secret": "secret", "webhook_secret_whatsapp": "secret",
           "webhook_secret_instagram": "secret", "s3_access_key": "id", "s3_secret_key": "secret",
           "s3_root_user": "id", "s3_root_password": "secret"}


def read_secrets_file(path: str) -> dict[str, str]:
    """KEY=VALUE lines (blank lines and # comments ignored)."""
    try:
        text = Path(path).expanduser().read_text()
    except OSError as exc:
        raise SettingsError(f"CHAT4ALL_SECRETS_FILE {path!r} cannot be read: {exc.strerror}") from None
    pairs = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            pairs[key.strip()] = value.strip()
    return pairs


def environ_values(names: Iterable[str]) -> dict[str, str]:
    """These environment variables, those that are set (empty values included)."""
    return {name: os.environ[name] for name in names if name in os.environ}


def load(process: str, *required: str) -> Settings:
    """The settings of a long-running process, which refuses to start without its secrets."""
    try:
        settings = Settings.from_env()
        settings.require(*required)
    except SettingsError as exc:
        raise SystemExit(f"{process}: configuration error: {exc}") from None
    return settings


def _env(name: str) -> str:
    return {f.name: f.metadata["env"] for f in dataclasses.fields(Settings)}[name]


def _parse(f: dataclasses.Field, raw: str) -> Any:
    env = f.metadata["env"]
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{env} must be an integer, got {raw!r}") from None
    if kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"{env} must be a number, got {raw!r}") from None
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise SettingsError(f"{env} must be a boolean (true/false), got {raw!r}")
        return lowered in {"1", "true", "yes", "on"}
    if kind.startswith("tuple"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def documentation() -> list[tuple[str, str, str]]:
    """(env var, default, description) for every setting, in declaration order."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = ",".join(f.default) if isinstance(f.default, tuple) else str(f.default)
        rows.append((f.metadata["env"], default, f.metadata["doc"]))
    return rows
