"""`chat4all`: the command line for people and for the stack's init steps."""

from __future__ import annotations

import asyncio
import sys
from functools import partial

import click

from chat4all_app import __version__
from chat4all_app.client import render
from chat4all_app.client.output import emit, output_options
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


def _api_url(saved: dict | None) -> str:
    """CHAT4ALL_API_URL when set (pointing one command elsewhere), else the API `login` used."""
    from chat4all_app.settings import environ_values

    cfg = _settings()
    if environ_values(["CHAT4ALL_API_URL"]).get("CHAT4ALL_API_URL") or not saved:
        return cfg.api_url
    return saved.get("api_url") or cfg.api_url


def _client(authenticated: bool = True):
    from chat4all_app.client.http import Client, TokenStore

    saved = TokenStore(_settings().cli_config_dir).load() if authenticated else None
    if authenticated and not saved:
        raise click.ClickException("not logged in: run `chat4all login USERNAME` first")
    return Client(_api_url(saved), saved["access_token"] if saved else None)


def _me() -> str | None:
    """The logged-in user's id (login keeps it beside the token)."""
    from chat4all_app.client.http import TokenStore

    return (TokenStore(_settings().cli_config_dir).load() or {}).get("user_id")


def _failed(client, exc: Exception) -> click.ClickException:
    from chat4all_app.client.errors import explain, unreachable
    from chat4all_app.client.http import ApiError

    if isinstance(exc, ApiError):
        return click.ClickException(explain(exc, client.base_url, client.token is not None))
    return click.ClickException(unreachable(client.base_url, exc))  # the connection broke mid-way


def _call(client, method: str, path: str, body=None, params=None, headers=None):
    from chat4all_app.client.http import ApiError

    try:
        return client.call(method, path, body, params, headers)
    except (ApiError, OSError) as exc:  # OSError: a timeout or reset after the request went out
        raise _failed(client, exc) from None


def _lookup(client):
    """username -> user id, through GET /v1/users."""
    return lambda name: _call(client, "GET", "/v1/users", params={"username": name})["user_id"]


def _names(client) -> render.Names:
    """user id -> username, through GET /v1/users/{id}, for human output: each id asked once per
    command run (a username never changes), and only when a line shows it; None (the id is shown)
    for a channel address, an unknown id, or when the API does not answer."""
    from chat4all_app.client.http import ApiError
    from chat4all_app.client.people import is_uuid

    known: dict[str, str | None] = {}

    def name(user_id: str) -> str | None:
        if user_id not in known:
            try:
                known[user_id] = (client.call("GET", f"/v1/users/{user_id}")["username"]
                                  if is_uuid(user_id) else None)
            except (ApiError, OSError, KeyError, TypeError):
                known[user_id] = None
        return known[user_id]

    return name


@main.command()
@click.argument("username")
@click.password_option(help="The new account's password (8..256 characters); asked twice if not given.")
@click.option("--email", default=None, help="E-mail address of the account (optional).")
@output_options
def register(username: str, password: str, email: str | None, human: bool) -> None:
    """Create an account called USERNAME (3..64 letters, digits, '_', '.', '-')."""
    emit(_call(_client(False), "POST", "/auth/register",
               {"username": username, "password": password, "email": email}), human, render.user)


@main.command()
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, help="USERNAME's password; asked if not given.")
def login(username: str, password: str) -> None:
    """Log in as USERNAME and keep the access token (and the API's URL) for the other commands."""
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
@click.option("--create", "participants", multiple=True, metavar="USER",
              help="Create a conversation with this user, a username or a user id (repeatable), "
                   "instead of listing.")
@click.option("--name", default=None, help="Name of the new conversation.")
@output_options
def conversations(participants: tuple[str, ...], name: str | None, human: bool) -> None:
    """List your conversations, or create one with --create USER (a username or a user id)."""
    from chat4all_app.client.people import user_id_of

    client = _client()
    if participants:
        ids = [user_id_of(p, _lookup(client)) for p in participants]
        emit(_call(client, "POST", "/v1/conversations", {"participant_ids": ids, "name": name}),
             human, render.conversation)
        return
    listed, cursor = [], None  # every page: the API pages its listing (next_cursor)
    while True:
        page = _call(client, "GET", "/v1/conversations",
                     params={"limit": 500, **({"cursor": cursor} if cursor else {})})
        listed += page["conversations"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    emit({"conversations": listed}, human, render.conversations)


@main.command()
@click.argument("conversation_id")
@click.argument("content")
@click.option("--to", "recipient", default=None, metavar="RECIPIENT",
              help="whatsapp:<number>, instagram:<user>, or a member by username or user id.")
@click.option("--message-id", default=None, help="Idempotency key (UUID) to retry safely.")
@click.option("--file", "file_id", default=None, help="Attach a file_id uploaded to this conversation.")
@click.option("--correlation-id", default=None,
              help="X-Correlation-ID to find this message in every service's log.")
@output_options
def send(conversation_id: str, content: str, recipient: str | None, message_id: str | None,
         file_id: str | None, correlation_id: str | None, human: bool) -> None:
    """Send CONTENT to conversation CONVERSATION_ID (prints the 202 answer: ACCEPTED)."""
    from chat4all_app.client.people import recipient_of

    client = _client()
    recipient_id = recipient_of(recipient, _lookup(client)) if recipient else None
    body = {"conversation_id": conversation_id, "content": content}
    body |= {k: v for k, v in {"recipient_id": recipient_id, "message_id": message_id,
                               "file_id": file_id}.items() if v}
    headers = {"X-Correlation-ID": correlation_id} if correlation_id else None
    emit(_call(client, "POST", "/v1/messages", body, headers=headers), human, render.accepted)


@main.command()
@click.argument("conversation_id")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500),
              help="Messages per page (1..500).")
@click.option("--cursor", default=None, help="Continue after this page (the previous next_cursor).")
@output_options
def messages(conversation_id: str, limit: int, cursor: str | None, human: bool) -> None:
    """List conversation CONVERSATION_ID's messages in order, with their status."""
    client = _client()
    emit(_call(client, "GET", f"/v1/conversations/{conversation_id}/messages",
               params={"limit": limit, "cursor": cursor}), human,
         partial(render.messages, me=_me(), names=_names(client)))


@main.command()
@click.argument("message_id")
@output_options
def status(message_id: str, human: bool) -> None:
    """Show message MESSAGE_ID and its status history."""
    client = _client()
    emit(_call(client, "GET", f"/v1/messages/{message_id}"), human,
         partial(render.message, me=_me(), names=_names(client)))


@main.command()
@click.argument("message_id")
@output_options
def read(message_id: str, human: bool) -> None:
    """Mark message MESSAGE_ID as READ: you are its recipient and it is DELIVERED."""
    emit(_call(_client(), "POST", f"/v1/messages/{message_id}/read"), human, render.marked_read)


@main.command()
@click.argument("conversation", required=False)
@click.option("--count", type=click.IntRange(min=1), default=None, metavar="N",
              help="Exit (status 0) after N messages and status changes: for scripts and tests.")
@click.option("--timeout", "idle_timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Exit with status 1 if nothing arrives for SECONDS "
                                      "(default: wait forever).")
@output_options
def watch(conversation: str | None, count: int | None, idle_timeout: float | None,
          human: bool) -> None:
    """Follow new messages and status changes live (GET /v1/ws), in all your conversations or
    only in CONVERSATION (a conversation id): one line per event, or one JSON frame per line.

    Reconnects by itself, without missing anything, when the connection drops; Ctrl-C stops."""
    import json

    from chat4all_app.client import live
    from chat4all_app.client.errors import explain
    from chat4all_app.client.http import ApiError, Client
    from chat4all_app.client.people import is_uuid

    if conversation is not None and not is_uuid(conversation):
        raise click.BadParameter(f"{conversation!r} is not a conversation id (a UUID)",
                                 param_hint="CONVERSATION")
    client = _client()
    line = partial(render.live, me=_me(), names=_names(Client(client.base_url, client.token, timeout=5)))

    def show(frame: dict) -> None:
        if human:
            emit(frame, True, line)
        else:
            click.echo(json.dumps(frame, ensure_ascii=False))

    watcher = live.Watcher(client.base_url, client.token, show, lambda text: click.echo(text, err=True),
                           conversation=conversation, count=count, idle_s=idle_timeout)
    try:
        asyncio.run(watcher.run())
    except KeyboardInterrupt:
        return  # Ctrl-C: the way to stop, not an error
    except BrokenPipeError:  # the reader went away (`| head`): nobody to tell
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    except live.Expired:
        raise click.ClickException(explain(ApiError(401, "token refused"), client.base_url, True)) from None
    except (live.Stopped, live.Idle) as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("conversation_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--resumable-from", default="64MiB", show_default=True,
              help="Files at least this large go through the resumable (presigned multipart) path.")
@output_options
def upload(conversation_id: str, path: str, resumable_from: str, human: bool) -> None:
    """Upload the file at PATH to conversation CONVERSATION_ID; a large one resumes where it
    stopped when run again."""
    from pathlib import Path

    from chat4all_app.client.http import ApiError
    from chat4all_app.client.uploads import UploadJournal
    from chat4all_app.client.uploads import upload as do_upload

    threshold = _bytes(resumable_from)
    client = _client()
    try:
        stored = do_upload(client, UploadJournal(_settings().cli_config_dir), conversation_id,
                           Path(path), threshold, report=lambda line: click.echo(line, err=True))
    except (ApiError, OSError) as exc:
        raise _failed(client, exc) from None
    emit(stored, human, render.file)


@main.command(name="file")
@click.argument("file_id")
@click.option("--expires-in", default=None, type=int, help="URL lifetime in seconds.")
@output_options
def file_info(file_id: str, expires_in: int | None, human: bool) -> None:
    """Show file FILE_ID's metadata and a presigned download URL."""
    emit(_call(_client(), "GET", f"/v1/files/{file_id}", params={"expires_in": expires_in}),
         human, render.file)


# --- reading the stack directly ----------------------------------------------------------------

@main.command()
@click.option("--channel", default=None, help="Only this channel (e.g. whatsapp). Default: every channel.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="List at most N messages per channel, the longest waiting first (counts are complete).")
@output_options
def pending(channel: str | None, limit: int, human: bool) -> None:
    """Messages still PENDING on their channel, per channel with counts: the assignment's
    `SELECT message_id, recipient_id, status, timestamp FROM messages WHERE status = 'PENDING'`.

    Reads Cassandra directly (CASSANDRA_HOSTS, CASSANDRA_PORT, CASSANDRA_KEYSPACE), no login."""
    from cassandra import DriverException
    from cassandra.cluster import NoHostAvailable

    from chat4all_app.storage.cassandra import connect
    from chat4all_app.storage.pending import backlogs, scan_messages

    cfg = _settings()
    if channel is not None and channel not in cfg.channels:
        raise click.BadParameter(f"{channel!r} is not a configured channel ({', '.join(cfg.channels)})",
                                 param_hint="--channel")
    where = f"{','.join(cfg.cassandra_hosts)}:{cfg.cassandra_port}"
    try:
        cluster, session = connect(cfg)
    except (NoHostAvailable, OSError) as exc:
        raise click.ClickException(f"cannot reach Cassandra at {where}: {exc} (is the stack up? `make up`)"
                                   ) from None
    try:
        found = backlogs(scan_messages(session, cfg.cassandra_keyspace), cfg.channels, channel, limit)
    except DriverException as exc:
        raise click.ClickException(f"reading the messages table failed: {exc}") from None
    finally:
        cluster.shutdown()
    emit({"total": sum(b.count for b in found), "channels": [b.as_json() for b in found]},
         human, render.pending)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("cqlsh_args", nargs=-1, type=click.UNPROCESSED)
def cql(cqlsh_args: tuple[str, ...]) -> None:
    """cqlsh on the configured Cassandra (the first of CASSANDRA_HOSTS, CASSANDRA_PORT) in keyspace
    CASSANDRA_KEYSPACE; CQLSH_ARGS go to cqlsh, e.g. -e "SELECT ..." (`make cql ARGS=...`)."""
    import os
    import shutil
    from pathlib import Path

    cfg = _settings()
    # The venv's own cqlsh (a dev dependency) first: the one pinned and checked with this Python.
    beside = Path(sys.executable).parent / "cqlsh"
    program = str(beside) if beside.exists() else shutil.which("cqlsh")
    if program is None:
        raise click.ClickException("cqlsh is not installed: `make venv` (or pip install cqlsh)")
    argv = [program, cfg.cassandra_hosts[0], str(cfg.cassandra_port), "-k", cfg.cassandra_keyspace,
            *cqlsh_args]
    sys.stdout.flush()
    os.execv(program, argv)


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
