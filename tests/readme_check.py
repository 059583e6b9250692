"""Reading README.md the way a newcomer uses it: its sections, shell blocks, the `make` targets and
`chat4all` subcommands it names, its tables, and what the curl block prints.

Pure text functions: tests/tools/test_readme_check.py checks them without the stack,
tests/integration/test_readme.py applies them to the real README, Makefile, CLI and stack.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)
# `make up`, `CLUSTER=3 make test`, "make up/down/ps" in a listing; not "makefile" or "remake".
_MAKE = re.compile(r"(?<![\w./-])make ([a-z][a-z0-9-]*(?:/[a-z][a-z0-9-]*)*)")
# `chat4all send`, `.../venv/bin/chat4all send`; not the keyspace `chat4all` or `chat4all.dlq`.
_CLI = re.compile(r"(?<![\w.-])chat4all ([a-z][a-z0-9-]*)")
# The lines `make help` lists (the Makefile's own grep: '^[a-z-]+:.*## ').
_HELP_TARGET = re.compile(r"^([a-z-]+):.*## ", re.MULTILINE)
_SEPARATOR_ROW = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def section(markdown: str, heading: str) -> str:
    """The text under `heading` (a whole heading line, e.g. "### The API with curl") up to the
    next heading of the same or a higher level; headings inside fenced blocks do not count."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = markdown.splitlines(keepends=True)
    out: list[str] = []
    inside = in_fence = False
    for line in lines:
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("#"):
            hashes = len(line) - len(line.lstrip("#"))
            if inside and hashes <= level:
                break
            if line.rstrip("\n") == heading:
                inside = True
                continue
        if inside:
            out.append(line)
    if not inside:
        raise LookupError(f"no heading {heading!r}")
    return "".join(out)


def fenced_blocks(markdown: str, languages: tuple[str, ...] = ("bash", "sh")) -> list[str]:
    """The contents of the fenced code blocks whose info string is one of `languages`."""
    return [m.group(2) for m in _FENCE.finditer(markdown) if m.group(1) in languages]


def code_text(markdown: str) -> list[str]:
    """Everything in code: each fenced block (any language) and each inline code span."""
    blocks = [m.group(2) for m in _FENCE.finditer(markdown)]
    prose = _FENCE.sub("", markdown)
    return blocks + [m.group(2) for m in _INLINE.finditer(prose)]


def make_mentions(markdown: str) -> set[str]:
    """The targets of every `make <target>` in the README's code ("make up/down/ps": three)."""
    return {target for code in code_text(markdown) for m in _MAKE.finditer(code)
            for target in m.group(1).split("/")}


def cli_mentions(markdown: str) -> set[str]:
    """The subcommands of every `chat4all <subcommand>` in the README's code."""
    return {m.group(1) for code in code_text(markdown) for m in _CLI.finditer(code)}


def makefile_targets(makefile: str) -> set[str]:
    """The targets `make help` lists: those with a `## ` description."""
    return set(_HELP_TARGET.findall(makefile))


def tables(markdown: str) -> list[list[str]]:
    """Each run of consecutive table lines (starting with `|`) outside fenced blocks."""
    found: list[list[str]] = []
    current: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.lstrip().startswith("|"):
            current.append(line.strip())
            continue
        if current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def table_problems(table: list[str]) -> list[str]:
    """Why `table` is not one whole Markdown table: no header and separator row (a fragment cut
    off its header by a blank line), or rows with another number of cells than the header."""
    if len(table) < 2 or not _SEPARATOR_ROW.match(table[1]):
        return [f"no header and separator row before {table[0]!r} (a table split by a blank line?)"]
    width = len(cells(table[0]))
    return [f"{len(cells(row))} cells instead of {width}: {row!r}"
            for row in table[1:] if len(cells(row)) != width]


def printed(stdout: str) -> list[tuple[Any, int | None]]:
    """What a shell block printed, one (JSON value, HTTP status or None) per line: the curl lines
    print a JSON body, followed by ` <status>` when they use `-w ' %{http_code}\\n'`. Lines that
    are not JSON come back as (the line, None)."""
    out: list[tuple[Any, int | None]] = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        body, status = line, None
        tail = re.search(r" (\d{3})$", line)
        if tail:
            body, status = line[:tail.start()], int(tail.group(1))
        try:
            out.append((json.loads(body), status))
        except ValueError:
            out.append((line, None))
    return out
