"""Every `chat4all` command explains itself: each option has help text, each argument is named in
its command's docstring (click shows arguments only in the usage line)."""

from __future__ import annotations

from collections.abc import Iterator

import click

from chat4all_app.cli import main


def commands(group: click.Group, prefix: str = "chat4all") -> Iterator[tuple[str, click.Command]]:
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")


def test_the_walk_finds_the_commands():
    names = {name for name, _ in commands(main)}
    assert {"chat4all register", "chat4all send", "chat4all read", "chat4all pending"} <= names


def test_every_option_has_help():
    missing = [f"{name} {'/'.join(param.opts)}" for name, command in commands(main)
               for param in command.params
               if isinstance(param, click.Option) and not (param.help or "").strip()]
    assert not missing, f"options without help=: {missing}"


def test_every_argument_is_named_in_the_docstring():
    missing = [f"{name} {param.human_readable_name}" for name, command in commands(main)
               for param in command.params
               if isinstance(param, click.Argument) and param.human_readable_name not in (command.help or "")]
    assert not missing, f"arguments the command's docstring does not mention: {missing}"


def test_every_command_has_a_docstring():
    assert not [name for name, command in commands(main) if not (command.help or "").strip()]
