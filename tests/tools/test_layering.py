"""The repository's layering, checked on every Python file's imports (ast, nothing is imported).

    report -> experiments -> benchmarks | monitoring -> devstack -> chat4all_app

A layer imports itself and the layers below it, never one above. Tests may import anything but
another test module (tests/**/test_*.py: shared helpers belong in helper modules). Nothing loads a
file through importlib or edits sys.path: every tool is a package module run with `python -m`.
Inside chat4all_app, only bootstrap/ itself and the CLI may import chat4all_app.bootstrap (the
one-off set-up: schemas, topics, bucket, secrets); the running services must not.
"""

from __future__ import annotations

import ast
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[2]

# Each layer and what it may import besides itself.
ALLOWED = {
    "chat4all_app": set(),
    "devstack": {"chat4all_app"},
    "benchmarks": {"devstack", "chat4all_app"},
    "monitoring": {"devstack", "chat4all_app"},
    "experiments": {"benchmarks", "monitoring", "devstack", "chat4all_app"},
    "report": {"experiments", "benchmarks", "monitoring", "devstack", "chat4all_app"},
    "tests": {"report", "experiments", "benchmarks", "monitoring", "devstack", "chat4all_app"},
}
BOOTSTRAP = "chat4all_app.bootstrap"
MAY_IMPORT_BOOTSTRAP = ("chat4all_app/bootstrap/", "chat4all_app/cli.py")


def python_files() -> list[str]:
    """Tracked files and new ones not yet added (but not ignored ones), repository-relative."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    return sorted({p for p in out.splitlines() if (REPO / p).is_file()})


def module_name(path: str) -> str:
    parts = PurePosixPath(path).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_test_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "tests" and parts[-1].startswith("test_")


def imported_modules(path: str, tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) of every import; `from a import b` yields a and a.b (b may be a module)."""
    package = module_name(path).split(".")
    if not path.endswith("__init__.py"):
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                anchor = package[:len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def path_hacks(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """sys.path edits and importlib's load-a-file-by-path."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name)
                and node.value.id == "sys"):
            yield node.lineno, "sys.path"
        elif isinstance(node, ast.Attribute) and node.attr == "spec_from_file_location":
            yield node.lineno, "importlib.util.spec_from_file_location"
        elif isinstance(node, ast.ImportFrom) and node.module == "sys" and any(
                a.name == "path" for a in node.names):
            yield node.lineno, "from sys import path"
        elif isinstance(node, ast.ImportFrom) and node.module == "importlib.util" and any(
                a.name == "spec_from_file_location" for a in node.names):
            yield node.lineno, "importlib.util.spec_from_file_location"


# The assignment (§2.3) names the k6 analyzer `scripts/analyze-k6-results.py`: a launcher that runs
# `python -m benchmarks.k6_analysis`, the one Python file outside the layers.
ASSIGNMENT_NAMED = {"scripts/analyze-k6-results.py"}


def violations(path: str, source: str, modules: set[str]) -> list[str]:
    """Every rule `path` breaks. `modules`: the repository's module names (others are third-party)."""
    tree = ast.parse(source, filename=path)
    layer = path.split("/")[0]
    found = [f"{path}:{line}: {what}" for line, what in path_hacks(tree)]
    if path in ASSIGNMENT_NAMED:
        return found
    if layer not in ALLOWED:
        return [*found, f"{path}: not in any layer ({', '.join(ALLOWED)}): add it to the layering"]
    for line, target in imported_modules(path, tree):
        if target not in modules:
            continue  # the standard library, a dependency, or a name inside a module
        target_layer = target.split(".")[0]
        if target_layer != layer and target_layer not in ALLOWED[layer]:
            found.append(f"{path}:{line}: {layer} may not import {target} ({target_layer} is above it)")
        if is_test_module(target):
            found.append(f"{path}:{line}: imports the test module {target} (move what it shares to a helper)")
        if (target == BOOTSTRAP or target.startswith(BOOTSTRAP + ".")) and layer == "chat4all_app" \
                and not path.startswith(MAY_IMPORT_BOOTSTRAP):
            found.append(f"{path}:{line}: a runtime module imports {target} "
                         "(set-up code: only bootstrap/ and cli.py may)")
    return found


def repository_violations() -> list[str]:
    files = python_files()
    modules = {module_name(p) for p in files}
    return [v for p in files for v in violations(p, (REPO / p).read_text(), modules)]


def test_every_python_file_follows_the_layering() -> None:
    found = repository_violations()
    assert not found, "layering violations:\n" + "\n".join(found)


def test_scripts_holds_only_shell_entry_points() -> None:
    assert not [p for p in python_files() if p.startswith("scripts/") and p not in ASSIGNMENT_NAMED]


def test_the_assignment_named_analyzer_runs_the_package_module(tmp_path) -> None:
    import subprocess
    import sys

    script = REPO / "scripts" / "analyze-k6-results.py"
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "x")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "is not a directory" in done.stderr, done.stderr


MODULES = {"chat4all_app", "chat4all_app.settings", "chat4all_app.bootstrap", "chat4all_app.bootstrap.bucket",
           "chat4all_app.web", "chat4all_app.web.views", "devstack", "devstack.topology", "benchmarks",
           "benchmarks.accounting", "experiments", "experiments.cases", "report", "tests",
           "tests.integration", "tests.integration.helpers", "tests.integration.test_api"}


@pytest.mark.parametrize(("path", "source"), [
    ("devstack/topology.py", "from benchmarks import accounting"),
    ("benchmarks/e2e.py", "import experiments.cases"),
    ("chat4all_app/settings.py", "from devstack.topology import local"),
    ("experiments/x.py", "from report import data"),
    ("tests/integration/test_b.py", "from tests.integration.test_api import helper"),
    ("tests/tools/test_c.py", "from tests.integration import test_api"),
    ("chat4all_app/web/views.py", "from chat4all_app.bootstrap.bucket import ensure_s3"),
    ("chat4all_app/web/views.py", "from ..bootstrap import bucket"),
    ("benchmarks/x.py", "import sys\nsys.path.insert(0, '.')"),
    ("benchmarks/x.py", "import importlib.util\nimportlib.util.spec_from_file_location('m', 'f.py')"),
    ("tools/x.py", "import os"),
])
def test_a_broken_rule_is_reported(path: str, source: str) -> None:
    assert violations(path, source, MODULES)


@pytest.mark.parametrize(("path", "source"), [
    ("report/data.py", "from experiments.cases import CASES\nfrom devstack.layout import git_sha"),
    ("experiments/run.py", "from benchmarks import k6\nimport json"),
    ("benchmarks/accounting.py", "from devstack.topology import local\nfrom chat4all_app.settings import X"),
    ("tests/integration/test_b.py", "from tests.integration.helpers import x\nfrom report import data"),
    ("chat4all_app/cli.py", "from chat4all_app.bootstrap import bucket"),
    ("chat4all_app/bootstrap/bucket.py", "from . import cassandra_schema\nfrom chat4all_app import web"),
    ("devstack/__main__.py", "from chat4all_app.bootstrap.bucket import ensure_s3"),
])
def test_an_allowed_import_passes(path: str, source: str) -> None:
    assert violations(path, source, MODULES) == []
