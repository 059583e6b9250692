"""`chat4all`: the command line for people and for the stack's init steps."""

from __future__ import annotations

import asyncio
import sys

import click

from chat4all_app import __version__
from chat4all_app.settings import Settings, SettingsError, documentation


@click.group()
@click.version_option(__version__, prog_name="chat4all")
def main() -> None:
    """Chat4All command line."""


@main.command()
@click.option("--markdown", is_flag=True, help="Print the README's Markdown table.")
def settings(markdown: bool) -> None:
    """List every setting: environment variable, default, meaning."""
    rows = documentation()
    if markdown:
        click.echo("| Variable | Default | Meaning |")
        click.echo("| --- | --- | --- |")
        for env, default, doc in rows:
            click.echo(f"| `{env}` | `{default}` | {doc} |")
        return
    for env, default, doc in rows:
        click.echo(f"{env}={default}\n    {doc}")


@main.command()
@click.option("--only", type=click.Choice(["kafka", "cassandra", "s3"]), multiple=True,
              help="Bootstrap only these (repeatable). Default: all.")
def migrate(only: tuple[str, ...]) -> None:
    """Create Kafka topics, apply Cassandra migrations, create the S3 bucket (idempotent)."""
    from chat4all_app.bootstrap.bucket import ensure_bucket
    from chat4all_app.bootstrap.cassandra_schema import connect
    from chat4all_app.bootstrap.cassandra_schema import migrate as migrate_cassandra
    from chat4all_app.bootstrap.topics import ensure_topics

    try:
        cfg = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    parts = set(only or ("kafka", "cassandra", "s3"))
    if "kafka" in parts:
        for topic, state in asyncio.run(ensure_topics(cfg)).items():
            click.echo(f"kafka topic {topic}: {state}")
    if "cassandra" in parts:
        cluster, session = connect(cfg)
        try:
            applied = migrate_cassandra(cfg, session)
        finally:
            cluster.shutdown()
        click.echo(f"cassandra keyspace {cfg.cassandra_keyspace}: "
                   + (f"applied {', '.join(applied)}" if applied else "up to date"))
    if "s3" in parts:
        click.echo(f"s3 bucket {cfg.s3_bucket}: {asyncio.run(ensure_bucket(cfg))}")


if __name__ == "__main__":
    sys.exit(main())
