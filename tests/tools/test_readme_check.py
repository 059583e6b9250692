"""tests.readme_check reads sections, code, targets, tables and curl output as intended."""

from __future__ import annotations

import pytest

from tests import readme_check as rc

DOC = """# Title

Run `make up` first, then `CLUSTER=3 make test`; make sure of nothing (prose, not code).

## Using it

```sh
chat4all() { ~/.cache/chat4all/venv/bin/chat4all "$@"; }
chat4all register bob   # a subcommand
# a comment that looks like a heading
~/.cache/chat4all/venv/bin/chat4all send x y
```

### The API with curl

Text with `chat4all.messages` and the keyspace `chat4all`, and `chat4all dlq --limit 5`.

```bash
echo one
```

```json
{"not": "shell"}
```

```sh
echo two
```

### Next

| A | B |
| - | - |
| 1 | 2 |

| 3 | 4 |

```
make up/down/ps    (a listing)
| not | a table |
```

## Last
"""


def test_section_stops_at_the_next_heading_of_its_level_or_higher():
    curl = rc.section(DOC, "### The API with curl")
    assert curl.startswith("\nText with") and "### Next" not in curl and "echo two" in curl
    using = rc.section(DOC, "## Using it")
    assert "a comment that looks like a heading" in using and "### The API with curl" in using
    assert "## Last" not in using
    with pytest.raises(LookupError):
        rc.section(DOC, "## Nope")


def test_fenced_blocks_of_shell_languages_only():
    assert rc.fenced_blocks(rc.section(DOC, "### The API with curl")) == ["echo one\n", "echo two\n"]
    assert rc.fenced_blocks(DOC, ("json",)) == ['{"not": "shell"}\n']


def test_make_and_cli_mentions_come_from_code_only():
    assert rc.make_mentions(DOC) == {"up", "test", "down", "ps"}
    assert rc.cli_mentions(DOC) == {"register", "send", "dlq"}


def test_makefile_targets_are_the_help_listed_ones():
    makefile = ("help:  ## list\n\t@grep\nup: install  ## start\nhidden:\n\ttrue\n"
                "cluster-test: install  ## clusters\nVAR := x ## not a target\n")
    assert rc.makefile_targets(makefile) == {"help", "up", "cluster-test"}


def test_a_table_split_by_a_blank_line_is_reported():
    found = rc.tables(DOC)
    assert found == [["| A | B |", "| - | - |", "| 1 | 2 |"], ["| 3 | 4 |"]]
    assert rc.table_problems(found[0]) == []
    assert "split by a blank line" in rc.table_problems(found[1])[0]
    assert rc.table_problems(["| a | b |", "| --- | :-: |", "| 1 | 2 | 3 |"]) == [
        "3 cells instead of 2: '| 1 | 2 | 3 |'"]
    assert rc.table_problems(["| a | b |", "| --- | --- |", r"| x \| y | 2 |"]) == []


def test_printed_splits_json_bodies_and_statuses():
    stdout = ('{"user_id": "u"}\n{"message_id": "m", "status": "ACCEPTED"} 202\n\n'
              '{"error": "bad"} 400\nnot json\n__vars__ a b\n')
    assert rc.printed(stdout) == [
        ({"user_id": "u"}, None), ({"message_id": "m", "status": "ACCEPTED"}, 202),
        ({"error": "bad"}, 400), ("not json", None), ("__vars__ a b", None)]
