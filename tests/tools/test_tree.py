"""benchmarks.tree counts what it claims on a small checkout built here."""

from __future__ import annotations

import subprocess
from pathlib import Path

from benchmarks.tree import measure


def checkout(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    return root


def test_edges_hidden_edges_scripts_and_largest_function(tmp_path):
    repo = checkout(tmp_path, {
        "chat4all_app/a.py": "def small():\n    return 1\n",
        "devstack/b.py": "from chat4all_app.a import small\n\n\ndef big():\n" + "    x = 1\n" * 9,
        "scripts/run.sh": "echo one\necho two\n",
        "scripts/lib.py": "import sys\nsys.path.insert(0, '.')\nimport devstack.b\n",
        "tests/integration/test_x.py": "from tests.integration.test_y import helper\n",
    })
    figures = measure(repo)
    edges = {(e["from"], e["to"]): e["imports"] for e in figures["edges"]}
    # Within one part (tests/integration importing itself) is not an edge between parts.
    assert edges == {("devstack", "chat4all_app"): 1, ("scripts", "devstack"): 1}
    assert figures["hidden_edges"] == [
        "scripts/lib.py calls sys.path.insert",
        "tests/integration/test_x.py imports the test module tests.integration.test_y",
    ]
    assert figures["scripts"] == {"files": 2, "python_files": 1, "lines": 5}
    assert figures["largest_functions"][0] == {"lines": 10, "where": "devstack/b.py:4 big"}
    assert figures["largest_app_functions"] == [{"lines": 2, "where": "chat4all_app/a.py:1 small"}]
