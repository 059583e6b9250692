"""Where things are: the repository, the install cache, the state directory, pinned versions."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent


def port_of(address: str) -> int:
    """The port of "host:port", "http://host:port/" or the first of "h1:p1,h2:p2"."""
    return int(address.split(",")[0].rstrip("/").rsplit(":", 1)[1])


def git_sha(short: int | None = None) -> str:
    """The commit the repository is at ("" outside a git checkout): results files record it."""
    args = ["git", "rev-parse", *([f"--short={short}"] if short else []), "HEAD"]
    return subprocess.run(args, cwd=REPO_DIR, capture_output=True, text=True).stdout.strip()


def read_versions(path: Path = REPO_DIR / "deploy" / "versions.env") -> dict[str, str]:
    versions = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            versions[key.strip()] = value.strip().strip('"')  # a list is quoted for bash
    return versions


@dataclass(frozen=True)
class Layout:
    repo: Path
    cache: Path
    state: Path
    versions: dict[str, str]

    @classmethod
    def from_env(cls) -> Layout:
        cache = Path(os.environ.get("CHAT4ALL_CACHE_DIR", Path.home() / ".cache" / "chat4all"))
        state = Path(os.environ.get("CHAT4ALL_STATE_DIR", REPO_DIR / "state"))
        return cls(REPO_DIR, cache.resolve(), state.resolve(), read_versions())

    @property
    def conf(self) -> Path:
        return self.state / "conf"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def data(self) -> Path:
        return self.state / "data"

    @property
    def run(self) -> Path:
        return self.state / "run"

    @property
    def venv_bin(self) -> Path:
        return self.cache / "venv" / "bin"

    @property
    def secrets(self) -> Path:
        """Generated secrets (chat4all_app/bootstrap/secrets.py), read via CHAT4ALL_SECRETS_FILE."""
        return self.state / "secrets.env"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    @property
    def prometheus_root(self) -> Path:
        """Debian's Prometheus (prometheus, promtool, its web UI) as deploy/install.sh extracts it."""
        return self.cache / f"prometheus-{self.versions['PROMETHEUS_DEB_VERSION']}"

    @property
    def alertmanager_root(self) -> Path:
        """Debian's Alertmanager (prometheus-alertmanager, amtool), likewise."""
        return self.cache / f"prometheus-alertmanager-{self.versions['ALERTMANAGER_DEB_VERSION']}"

    def make_dirs(self) -> None:
        for d in (self.conf, self.logs, self.data, self.run, self.state / "prometheus-targets"):
            d.mkdir(parents=True, exist_ok=True)
