"""The live consoles: generated from the committed Grafana JSON and docs/runbooks.md (so a panel
or a runbook edited without regenerating fails here, not only in make test), Go-template safe."""

from __future__ import annotations

import json
import subprocess
import sys

from devstack.layout import REPO_DIR
from monitoring import consoles
from monitoring.panels import dashboards, panels


def test_committed_consoles_are_what_the_code_generates():
    proc = subprocess.run([sys.executable, "-m", "monitoring.consoles", "--check"], cwd=REPO_DIR,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_grafana_legends_become_placeholders_a_go_template_leaves_alone():
    assert consoles.legend("{{topic}}[{{ partition }}]") == "[[topic]][[[partition]]]"


def test_every_panel_has_its_element_and_its_queries_on_its_page():
    files = consoles.generate()
    for slug, board in dashboards().items():
        page = files[consoles.CONSOLES / f"{slug}.html"]
        for i, panel in enumerate(panels(board)):
            assert f'id="{slug}-{i}"' in page
            assert all(json.dumps(t["expr"]) in page for t in panel["targets"])


def test_no_generated_page_has_a_go_action_but_its_own():
    for path, text in consoles.generate().items():
        actions = [a for a in text.split("{{")[1:] if not a.lstrip().startswith(
            ("template", "define", "end", "pathPrefix", ".", "/*", "range", "else", '"{{"'))]
        assert not actions, (path.name, actions[:3])
