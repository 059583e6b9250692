"""An experiment's summary.md: scalar figures in the table, long lists and dicts (rebalance_log)
each a section of their own after it, every table valid Markdown."""

import json
import re

from experiments.__main__ import indented_json, markdown

REBALANCE_LOG = [
    {"t": 1.9, "process": "router-2", "message": "Revoking previously assigned partitions set()"},
    {"t": 2.46, "process": "router", "message": "Setting newly assigned partitions {TopicPartition("
                                                "topic='chat4all.messages', partition=3)} | a pipe"},
    {"t": 2.84, "process": "router", "message": "[^---Recovery]: Recovery complete"},
]
CLASSES = {f"Alert{i} service=connector-instagram": {"provoked_at_s": 90.0 + i, "firing_after_s": 20.3,
                                                     "resolved_after_fix_s": None} for i in range(3)}
PHASES = [{"workers": w, "routed_per_s": 27.0 * w, "steps": [{"offered_rps": 150, "served": True}] * 2}
          for w in (1, 2)]


def result(**figures) -> dict:
    return {"name": "failover", "fast": False, "cluster_nodes": 1, "timestamp": "2026-11-30T00:14:57+00:00",
            "git_sha": "a6f2693d46aaaaaaaa", "figures": figures,
            "accounting": {"accepted": 10, "retried": 0, "abandoned": 0, "stored": 10, "delivered": 10,
                           "failed": 0, "duplicates": 0, "out_of_order_recipients": 0, "exact": True},
            "checks": {"recovered": True}, "passed": True,
            "timeline": {"marks": [{"t": 63.7, "event": "router SIGKILL"}]}}


def cells(row: str) -> list[str]:
    """A table row's cells, split as GitHub splits them: at each `|` not escaped by a backslash."""
    assert row.startswith("|") and row.endswith("|"), row
    return [c.strip() for c in re.split(r"(?<!\\)\|", row[1:-1])]


def tables(text: str) -> list[list[str]]:
    """Each Markdown table of the text: its consecutive lines starting with `|`."""
    found, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


def section(text: str, name: str) -> str:
    """The text of the section `## Figure `name`…` up to the next heading."""
    start = text.index(f"## Figure `{name}`")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_scalars_stay_in_the_table_and_long_figures_get_sections_after_it():
    text = markdown("failover", result(offered_rps=100, killed="router | SIGKILL", recovery_s=None,
                                       rebalance_timestamps_s=[2.47, 70.65], statuses={"PENDING": 3},
                                       rebalance_log=REBALANCE_LOG, classes=CLASSES, phases=PHASES))
    figures = {cells(row)[0]: cells(row)[1] for row in tables(text)[0][2:]}
    assert figures["offered_rps"] == "`100`"
    assert figures["killed"] == '`"router \\| SIGKILL"`'  # the pipe escaped: still two cells
    assert figures["recovery_s"] == "`null`"
    assert figures["rebalance_timestamps_s"] == "`[2.47, 70.65]`"  # short: stays in the table
    assert figures["statuses"] == '`{"PENDING": 3}`'
    assert figures["rebalance_log"] == "3 entries: section `rebalance_log` below"
    assert figures["classes"] == "3 entries: section `classes` below"
    assert figures["phases"] == "2 entries: section `phases` below"
    assert max(map(len, tables(text)[0])) < 100  # no JSON dump in a cell
    # The sections follow the whole summary (the table, accounting, checks and events) in figure order.
    assert text.index("Faults and events:") < text.index("## Figure `rebalance_log`") \
        < text.index("## Figure `classes`") < text.index("## Figure `phases`")


def test_every_table_is_valid_markdown():
    text = markdown("failover", result(killed="a|b", rebalance_log=REBALANCE_LOG, classes=CLASSES))
    for table in tables(text):
        header, rule, *rows = table
        assert set(cells(rule)) == {"---"}
        assert all(len(cells(row)) == len(cells(header)) for row in [rule, *rows]), table


def test_the_rebalance_log_is_a_table_one_row_per_entry():
    text = section(markdown("failover", result(rebalance_log=REBALANCE_LOG)), "rebalance_log")
    (table,) = tables(text)
    assert cells(table[0]) == ["t", "process", "message"]
    rows = [cells(row) for row in table[2:]]
    assert [row[0] for row in rows] == ["1.9", "2.46", "2.84"]
    assert [row[1] for row in rows] == ["`router-2`", "`router`", "`router`"]
    assert rows[1][2] == ("`Setting newly assigned partitions {TopicPartition(topic='chat4all.messages', "
                          "partition=3)} \\| a pipe`")


def test_other_long_dicts_and_lists_are_indented_json_blocks():
    text = markdown("x", result(classes=CLASSES, phases=PHASES))
    for name, value in (("classes", CLASSES), ("phases", PHASES)):
        block = section(text, name)
        body = block.split("```json\n", 1)[1].rsplit("\n```", 1)[0]
        assert json.loads(body) == value
        assert len(body.splitlines()) > 3  # indented, not one line


def test_indented_json_keeps_what_fits_on_one_line():
    text = indented_json({"steps": [{"offered_rps": 150, "served": True}] * 2, "long": "x" * 130})
    step = '{"offered_rps": 150, "served": true}'
    assert text == f'{{\n  "steps": [{step}, {step}],\n  "long": "{"x" * 130}"\n}}'



def test_a_code_span_is_fenced_past_the_backticks_it_holds():
    text = markdown("x", result(cmd="run `make up` first"))
    row = next(r for r in tables(text)[0] if r.startswith("| cmd |"))
    assert cells(row)[1] == '``"run `make up` first"``'


def test_accounting_a_run_did_not_record_is_na_not_zero():
    old = result()
    del old["accounting"]["retried"], old["accounting"]["abandoned"]
    accounting = tables(markdown("x", old))[1]
    assert cells(accounting[0])[:3] == ["accepted (202)", "resends after 5xx", "abandoned"]
    assert cells(accounting[2])[:4] == ["10", "n/a", "n/a", "10"]
