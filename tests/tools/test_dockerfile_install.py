"""The Dockerfile's two-step install (dependencies with a stand-in package, then the code), run
as written outside Docker: the image must ship the real package, not the stand-in.

No engine runs in the unit stage, so the steps between `WORKDIR /src` and the user's creation are
replayed in a temporary directory with a fresh venv: COPY as a copy that keeps modification times
(as Docker's does), RUN through the shell. Dependencies are skipped (PIP_NO_DEPS; `pip check` with
them): what is checked is which chat4all_app files end up installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]


def install_steps() -> list[tuple[str, str]]:
    """(instruction, argument) from `WORKDIR /src` up to the first RUN creating a user."""
    lines, current = [], ""
    for line in (REPO_DIR / "Dockerfile").read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            lines.append(current.strip())
            current = ""
    steps, inside = [], False
    for line in lines:
        instruction, _, arg = line.partition(" ")
        if instruction == "WORKDIR":
            inside = arg == "/src"
        elif inside and instruction == "RUN" and "useradd" in arg:
            break
        elif inside and instruction in ("COPY", "RUN"):
            while arg.startswith("--mount="):  # BuildKit mounts (the CA bundle secret): absent here
                arg = arg.split(" ", 1)[1]
            steps.append((instruction, arg))
    return steps


@pytest.mark.slow  # a fresh venv and two pip installs
def test_the_image_installs_the_real_package_not_the_stand_in(tmp_path):
    steps = install_steps()
    assert [i for i, _ in steps] == ["COPY", "RUN", "COPY", "RUN"], steps
    venv.create(tmp_path / "venv", with_pip=True)
    src = tmp_path / "src"
    src.mkdir()
    env = os.environ | {"PATH": f"{tmp_path / 'venv' / 'bin'}:{os.environ['PATH']}",
                        "PIP_NO_DEPS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for instruction, arg in steps:
        if instruction == "COPY":
            *sources, dest = arg.split()
            for source in sources:
                origin, target = REPO_DIR / source, src / dest
                if origin.is_dir():
                    shutil.copytree(origin, target / "" if dest.endswith("/") else target,
                                    dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(origin, target / source if dest.endswith("/") else target)
        else:
            command = arg.replace("&& pip check", "")  # needs the skipped dependencies
            proc = subprocess.run(["sh", "-c", command], cwd=src, env=env, capture_output=True,
                                  text=True, timeout=300)
            assert proc.returncode == 0, proc.stderr[-2000:]
    site = next((tmp_path / "venv" / "lib").glob("python3*/site-packages"))
    installed = site / "chat4all_app" / "__init__.py"
    assert installed.read_text() == (REPO_DIR / "chat4all_app" / "__init__.py").read_text()
    assert (site / "chat4all_app" / "settings.py").is_file()
