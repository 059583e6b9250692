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
            click.echo(f"| `{env}` | {f'`{default}`' if default else '(none)'} | {doc} |")
        return
    for env, default, doc in rows:
        click.echo(f"{env}={default}\n    {doc}")


@main.command()
@click.option("--only", type=click.Choice(["kafka", "cassandra", "s3"]), multiple=True,
              help="Bootstrap only these (repeatable). Default: all.")
def migrate(only: tuple[str, ...]) -> None:
    """Create Kafka topics, apply Cassandra migrations, create the S3 bucket and the application's
    bucket-only S3 key with the root credentials (idempotent; a changed S3_SECRET_KEY is applied)."""
    from chat4all_app.bootstrap.bucket import S3SetupError, ensure_s3
    from chat4all_app.bootstrap.cassandra_schema import migrate as migrate_cassandra
    from chat4all_app.bootstrap.kafka_topics import ensure_topics
    from chat4all_app.storage.cassandra import connect

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
        try:
            for what, state in asyncio.run(ensure_s3(cfg)).items():
                click.echo(f"s3 {what}: {state}")
        except (S3SetupError, SettingsError) as exc:
            raise click.ClickException(f"s3: {exc}") from exc


@main.command("init-secrets")
@click.argument("path", type=click.Path(dir_okay=False))
def init_secrets(path: str) -> None:
    """Generate the deployment's missing secrets into PATH (mode 0600); keep existing ones, take
    non-empty values from the environment (rotation). The compose deployment's secrets-init job."""
    from pathlib import Path

    from chat4all_app.bootstrap.secrets import ensure_secrets, generators
    from chat4all_app.settings import SECRETS, environ_values

    try:
        # Only the channel list: the secrets file this creates may not exist yet.
        channels = Settings.from_env(environ_values(["CHAT4ALL_CHANNELS"])).channels
        # A value given in the environment is checked before it is written: a short or well-known
        # one fails here, naming the variable, not later in every process that reads it.
        given = {k: v for k, v in environ_values(name.upper() for name in SECRETS).items() if v}
        Settings.from_env(given).require(*(k.lower() for k in given))
    except SettingsError as exc:
        raise click.ClickException(f"refusing to write {path}: {exc}") from exc
    generated = ensure_secrets(Path(path), channels, environ_values(generators(channels)))
    click.echo(f"{path}: " + (f"generated {', '.join(generated)}" if generated else "complete"))


@main.command()
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1),
              help="Show the newest N dead letters.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def dlq(limit: int, as_json: bool) -> None:
    """List the dead-letter topic: events no agent could process, where they came from and why.

    Reads Kafka directly (joins no consumer group, commits nothing)."""
    import json

    from chat4all_app.dead_letters import read

    letters = asyncio.run(read(_settings(), limit))
    for letter in letters:
        row = letter.as_json()
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        source = row["source"]
        click.echo(f"#{row['offset']} {row['at']} {row['reason']} from {source['topic']}"
                   f"[{source['partition']}]@{source['offset']} by {row['group']}/{row['agent']}"
                   f" correlation_id={row['correlation_id'] or '-'}")
        click.echo(f"    {row['detail']}")
        click.echo(f"    {row['size']} bytes: {row['preview']}")
    if not as_json:
        click.echo(f"{len(letters)} dead letter(s) shown", err=True)


# --- the API client ----------------------------------------------------------------------------

def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _client(authenticated: bool = True):
    from chat4all_app.client.http import Client, TokenStore

    cfg = _settings()
    saved = TokenStore(cfg.cli_config_dir).load() if authenticated else None
    if authenticated and not saved:
        raise click.ClickException("not logged in: run `chat4all login USERNAME` first")
    return Client(saved.get("api_url", cfg.api_url) if saved else cfg.api_url,
                  saved["access_token"] if saved else None)


def _call(client, method: str, path: str, body=None, params=None, headers=None):
    from chat4all_app.client.http import ApiError

    try:
        return client.call(method, path, body, params, headers)
    except ApiError as exc:
        raise click.ClickException(f"{exc.message} (HTTP {exc.status})") from None


def _show(data) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@main.command()
@click.argument("username")
@click.password_option()
@click.option("--email", default=None)
def register(username: str, password: str, email: str | None) -> None:
    """Create an account."""
    _show(_call(_client(False), "POST", "/auth/register",
                {"username": username, "password": password, "email": email}))


@main.command()
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True)
def login(username: str, password: str) -> None:
    """Log in and keep the access token for the other commands."""
    import jwt

    from chat4all_app.client.http import TokenStore

    cfg = _settings()
    token = _call(_client(False), "POST", "/auth/token",
                  {"username": username, "password": password})["access_token"]
    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    TokenStore(cfg.cli_config_dir).save({"access_token": token, "user_id": user_id,
                                         "username": username, "api_url": cfg.api_url})
    click.echo(f"logged in as {username} ({user_id})")


@main.command()
@click.option("--create", "participants", multiple=True, metavar="USER_ID",
              help="Create a conversation with these users (repeatable) instead of listing.")
@click.option("--name", default=None, help="Name of the new conversation.")
def conversations(participants: tuple[str, ...], name: str | None) -> None:
    """List your conversations, or create one with --create USER_ID."""
    client = _client()
    if participants:
        _show(_call(client, "POST", "/v1/conversations",
                    {"participant_ids": list(participants), "name": name}))
    else:  # every page: the API pages its listing (next_cursor)
        listed, cursor = [], None
        while True:
            page = _call(client, "GET", "/v1/conversations",
                         params={"limit": 500, **({"cursor": cursor} if cursor else {})})
            listed += page["conversations"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        _show({"conversations": listed})


@main.command()
@click.argument("conversation_id")
@click.argument("content")
@click.option("--to", "recipient_id", default=None,
              help="whatsapp:<number>, instagram:<user> or a member's user id.")
@click.option("--message-id", default=None, help="Idempotency key (UUID) to retry safely.")
@click.option("--file", "file_id", default=None, help="Attach a file_id uploaded to this conversation.")
@click.option("--correlation-id", default=None,
              help="X-Correlation-ID to find this message in every service's log.")
def send(conversation_id: str, content: str, recipient_id: str | None, message_id: str | None,
         file_id: str | None, correlation_id: str | None) -> None:
    """Send a message (prints the 202 answer)."""
    body = {"conversation_id": conversation_id, "content": content}
    body |= {k: v for k, v in {"recipient_id": recipient_id, "message_id": message_id,
                               "file_id": file_id}.items() if v}
    headers = {"X-Correlation-ID": correlation_id} if correlation_id else None
    _show(_call(_client(), "POST", "/v1/messages", body, headers=headers))


@main.command()
@click.argument("conversation_id")
@click.option("--limit", default=50, show_default=True)
@click.option("--cursor", default=None)
def messages(conversation_id: str, limit: int, cursor: str | None) -> None:
    """List a conversation's messages in order, with their status."""
    _show(_call(_client(), "GET", f"/v1/conversations/{conversation_id}/messages",
                params={"limit": limit, "cursor": cursor}))


@main.command()
@click.argument("message_id")
def status(message_id: str) -> None:
    """Show one message and its status history."""
    _show(_call(_client(), "GET", f"/v1/messages/{message_id}"))


@main.command()
@click.argument("conversation_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--resumable-from", default="64MiB", show_default=True,
              help="Files at least this large go through the resumable (presigned multipart) path.")
def upload(conversation_id: str, path: str, resumable_from: str) -> None:
    """Upload a file; a large one resumes where it stopped when run again."""
    from pathlib import Path

    from chat4all_app.client.http import ApiError
    from chat4all_app.client.uploads import UploadJournal
    from chat4all_app.client.uploads import upload as do_upload

    threshold = _bytes(resumable_from)
    try:
        _show(do_upload(_client(), UploadJournal(_settings().cli_config_dir), conversation_id,
                        Path(path), threshold, report=lambda line: click.echo(line, err=True)))
    except ApiError as exc:
        raise click.ClickException(f"{exc.message} (HTTP {exc.status})") from None


@main.command(name="file")
@click.argument("file_id")
@click.option("--expires-in", default=None, type=int, help="URL lifetime in seconds.")
def file_info(file_id: str, expires_in: int | None) -> None:
    """Show a file's metadata and a presigned download URL."""
    _show(_call(_client(), "GET", f"/v1/files/{file_id}", params={"expires_in": expires_in}))


def _bytes(text: str) -> int:
    units = {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "b": 1}
    lowered = text.strip().lower()
    for unit, factor in units.items():
        if lowered.endswith(unit) and lowered[: -len(unit)].strip().isdigit():
            return int(lowered[: -len(unit)]) * factor
    if lowered.isdigit():
        return int(lowered)
    raise click.BadParameter(f"not a size: {text!r} (e.g. 64MiB, 500000)")


if __name__ == "__main__":
    sys.exit(main())
