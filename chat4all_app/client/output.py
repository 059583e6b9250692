"""Human lines on a terminal, JSON for scripts: the `--json` / `--table` switches and the writer.

A pipe gets JSON unless `--table` says otherwise: scripts (scripts/demo.sh) and tests parse it."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --json and --table to a command; it receives `human: bool` instead."""

    @functools.wraps(command)
    def wrapper(*args: Any, as_json: bool, as_table: bool, **kwargs: Any) -> Any:
        if as_json and as_table:
            raise click.UsageError("--json and --table exclude each other")
        human = as_table or (not as_json and sys.stdout.isatty())
        return command(*args, human=human, **kwargs)

    wrapper = click.option(
        "--table", "as_table", is_flag=True,
        help="Aligned tables and short lines, even when stdout is not a terminal.")(wrapper)
    return click.option("--json", "as_json", is_flag=True,
                        help="JSON for scripts (the default when stdout is not a terminal).")(wrapper)


def emit(data: Any, human: bool, render: Callable[[Any], list[str]]) -> None:
    if not human:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    text = "\n".join(render(data))
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:  # a terminal that cannot show the ticks: "?" rather than a crash
        text = text.encode(encoding, "replace").decode(encoding)
    click.echo(text)
