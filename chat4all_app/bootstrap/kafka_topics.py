"""Create Chat4All's Kafka topics with explicit partition counts."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from chat4all_app.settings import Settings
from chat4all_app.tables.state import changelog_partitions

# Dead letters wait for a person (`chat4all dlq`): keep them a month, not Kafka's default week.
DLQ_RETENTION_MS = 30 * 24 * 3600 * 1000


class TopicMismatch(RuntimeError):
    """A topic exists with a partition count other than the configured one."""


async def ensure_topics(settings: Settings) -> dict[str, str]:
    """Create missing topics; return {topic: "created" | "exists"}.

    An existing topic with a different partition count is an error, not something to "fix":
    adding partitions silently re-maps conversation keys, breaking per-conversation order.
    """
    changelogs = changelog_partitions(settings)
    wanted = settings.topic_partition_counts() | changelogs
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        existing = await _partition_counts(admin, list(wanted))
        missing = [
            NewTopic(name, num_partitions=n, replication_factor=settings.kafka_replication_factor,
                     topic_configs=_configs(settings, name, changelogs))
            for name, n in wanted.items()
            if name not in existing
        ]
        if missing:
            await admin.create_topics(missing)
        wrong = {t: (existing[t], wanted[t]) for t in existing if existing[t] != wanted[t]}
        if wrong:
            detail = ", ".join(f"{t} has {have} partitions, want {want}"
                               for t, (have, want) in wrong.items())
            raise TopicMismatch(f"topic partition counts differ from the settings: {detail}")
        return {name: ("exists" if name in existing else "created") for name in wanted}
    finally:
        await admin.close()


def _configs(settings: Settings, name: str, changelogs: dict[str, int]) -> dict[str, str]:
    durable = {"min.insync.replicas": str(settings.kafka_min_insync_replicas)}
    if name == settings.topic_dlq:
        return durable | {"retention.ms": str(DLQ_RETENTION_MS)}
    if name in changelogs:  # as Faust makes a changelog: only the latest value of a key matters
        return durable | {"cleanup.policy": "compact"}
    return durable


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    present = set(await admin.list_topics()) & set(names)
    if not present:
        return {}
    described = await admin.describe_topics(sorted(present))
    return {d["topic"]: len(d["partitions"]) for d in described}
