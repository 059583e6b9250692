"""`make experiment` without NAME, or with an unknown one, lists the experiments (exit 2)."""

import re

import pytest

from experiments import __main__ as cli
from experiments.cases import DESCRIPTIONS
from experiments.cluster_faults import CLUSTER_DESCRIPTIONS


class PastTheNames(Exception):
    """Raised where main() would start reading the stack's state: the names were accepted."""


@pytest.fixture
def no_stack(monkeypatch):
    def refuse():
        raise PastTheNames

    monkeypatch.setattr(cli.Layout, "from_env", staticmethod(refuse))


def entries(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"  \S", line)]


def listed(text: str) -> dict[str, str]:
    """{name: description} of the listing's lines `  <name>  <description>`."""
    rows = [line.split(None, 1) for line in entries(text)]
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows}


def test_every_experiment_has_a_one_line_description():
    assert DESCRIPTIONS.keys() == cli.CASES.keys()
    assert CLUSTER_DESCRIPTIONS.keys() == cli.CLUSTER_CASES.keys()
    assert all(d and "\n" not in d for d in (DESCRIPTIONS | CLUSTER_DESCRIPTIONS).values())


def test_no_name_prints_the_usage_and_every_experiment_with_its_description(no_stack, capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: make experiment NAME=<name>")
    assert "make experiments" in err
    assert listed(err) == DESCRIPTIONS | CLUSTER_DESCRIPTIONS
    # The descriptions start in one column, after the longest name.
    columns = {line.index(listed(line)[line.split()[0]]) for line in entries(err)}
    assert columns == {2 + max(map(len, cli.ALL_CASES)) + 2}


def test_only_fast_still_lists_them(no_stack, capsys):
    assert cli.main(["--fast"]) == 2  # `make experiment FAST=1` without NAME
    assert listed(capsys.readouterr().err).keys() == cli.ALL_CASES.keys()


def test_an_unknown_name_is_named_and_the_valid_ones_listed(no_stack, capsys):
    assert cli.main(["failover", "no-such-case"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("unknown experiment(s): no-such-case\n")
    assert listed(err).keys() == cli.ALL_CASES.keys()


def test_all_among_other_names_is_refused(no_stack, capsys):
    assert cli.main(["all", "failover"]) == 2
    assert "`all` runs every experiment, alone" in capsys.readouterr().err


@pytest.mark.parametrize("names", [["all"], ["all", "--fast"], ["failover"], ["broker-kill", "min-isr"]])
def test_all_and_known_names_go_on_to_the_stack(no_stack, names):
    with pytest.raises(PastTheNames):
        cli.main(names)
