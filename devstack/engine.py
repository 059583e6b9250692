"""A private container engine for the compose check: Debian's dockerd run from the install cache.

`deploy/install.sh engine compose` extracts docker.io (with containerd, runc, tini) and builds
compose v2 into the cache; this module starts and stops that dockerd. It leaves the host's
firewall, IP forwarding and masquerading alone (`--iptables=false`, `--ip-forward=false`, ...;
the only iptables rules are Docker's DNS redirects inside each container's own network namespace)
and creates no docker0 (`--bridge=none`). Its socket, pid file, data root, exec root, trust key and
daemon configuration are its own, and its containers live in containerd namespaces of their own, so
it neither reads nor collides with a Docker engine the user already runs. What it does add while
compose networks exist: one `br-*` bridge per network with that network's subnet route (removed
by `docker compose down`), and runtime sockets under /run/docker and /run/containerd.

    python -m devstack engine up      # start (idempotent); prints how to point `docker` at it
    python -m devstack engine env     # `eval "$(... -m devstack engine env)"`, then docker compose …
    python -m devstack engine down    # stop it (containers stop with it; images stay cached)
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .layout import Layout


class EngineError(RuntimeError):
    """The engine is not installed or did not start; the message says what to do."""


@dataclass(frozen=True)
class Engine:
    root: Path  # the extracted Debian packages (usr/bin, usr/sbin)
    run: Path  # socket, pid file, exec root, log: one engine per cache, whichever clone started it
    data: Path  # images, containers, volumes: kept across runs, so a warm check builds nothing
    config: Path  # DOCKER_CONFIG: cli-plugins/docker-compose

    @classmethod
    def of(cls, layout: Layout) -> Engine:
        cache = layout.cache
        return cls(root=cache / f"engine-{layout.versions['DOCKER_DEB_VERSION']}",
                   run=cache / "engine-run", data=cache / "engine-data",
                   config=cache / "docker-config")

    @property
    def socket(self) -> Path:
        return self.run / "docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.run / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.run / "dockerd.log"

    def env(self) -> dict[str, str]:
        """The environment under which `docker` and `docker compose` talk to this engine."""
        path = f"{self.root}/usr/bin:{self.root}/usr/sbin:{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path, "DOCKER_HOST": f"unix://{self.socket}",
                "DOCKER_CONFIG": str(self.config)}

    def docker(self, *args: str, check: bool = True, timeout: float | None = 600,
               capture: bool = True, env: dict[str, str] | None = None,
               ) -> subprocess.CompletedProcess[str]:
        """Run the engine's own client (20.10, matching the daemon)."""
        return subprocess.run([str(self.root / "usr/bin/docker"), *args], env={**self.env(), **(env or {})},
                              check=check, timeout=timeout, text=True,
                              capture_output=capture)

    def pid(self) -> int | None:
        """The running dockerd's pid; None when the pid file is missing or stale (after a reboot the
        number may belong to another program, which must never be signalled)."""
        try:
            pid = int(self.pidfile.read_text().strip())
            exe = os.readlink(f"/proc/{pid}/exe")
        except (OSError, ValueError):
            return None
        # " (deleted)": the cache's engine was re-extracted (a changed pin) while it ran.
        return pid if exe.removesuffix(" (deleted)") == str(self.root / "usr/sbin/dockerd") else None

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return self.docker("version", "--format", "{{.Server.Version}}", check=False,
                               timeout=10).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def installed(self) -> None:
        if not (self.root / "usr/sbin/dockerd").exists():
            raise EngineError(f"no engine in {self.root}: run `bash deploy/install.sh engine compose`")
        if not (self.config / "cli-plugins/docker-compose").exists():
            raise EngineError("compose v2 is not built: run `bash deploy/install.sh compose`")

    def start(self, timeout_s: float = 60) -> bool:
        """Start dockerd unless it already answers; True when this call started it."""
        self.installed()
        if self.answers():
            return False
        if self.pid() is not None:
            raise EngineError(f"dockerd (pid {self.pid()}) runs but does not answer on {self.socket}; "
                              f"see {self.log}, or stop it: python -m devstack engine down")
        self.run.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        # Its own configuration file: the host's /etc/docker/daemon.json is never read, and the
        # trust key (a flag-less setting) is not written to /etc/docker/key.json.
        config = self.run / "daemon.json"
        config.write_text(json.dumps({"deprecated-key-path": str(self.run / "key.json")}))
        argv = [str(self.root / "usr/sbin/dockerd"), f"--config-file={config}",
                # Never change the host's firewall or forwarding.
                "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
                "--bridge=none", "--storage-driver=overlay2",
                # A system containerd, if any, keeps its containers apart from these.
                "--containerd-namespace=chat4all", "--containerd-plugins-namespace=chat4all-plugins",
                f"--host=unix://{self.socket}", f"--pidfile={self.pidfile}",
                f"--data-root={self.data}", f"--exec-root={self.run / 'exec'}"]
        with open(self.log, "ab") as log:
            # A session of its own: the engine outlives neither make's nor a terminal's signals
            # by accident, and `down` stops it by its pid file.
            subprocess.Popen(argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.answers():
                return True
            time.sleep(0.5)
        raise EngineError(f"dockerd did not answer within {timeout_s:.0f} s; last lines of "
                          f"{self.log}:\n{_tail(self.log)}")

    def stop(self, timeout_s: float = 60) -> None:
        """Stop dockerd (it stops its containers first); a no-op when it is not running."""
        pid = self.pid()
        if pid is None:
            return
        for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 10)):
            os.kill(pid, sig)
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and self.pid() is not None:
                time.sleep(0.5)
            if self.pid() is None:
                break
        else:
            raise EngineError(f"dockerd (pid {pid}) survived SIGKILL; see {self.log}")
        self.unmount_leftovers()

    def unmount_leftovers(self) -> None:
        """dockerd leaves its network-namespace mount (exec/netns/default) behind when it stops;
        unmounted, the cache can be deleted like any directory."""
        mounts = Path("/proc/mounts").read_text().splitlines()
        for point in sorted((line.split()[1] for line in mounts), reverse=True):
            if point.startswith(f"{self.run}/"):
                subprocess.run(["umount", point], check=False, capture_output=True)

    def shell_env(self) -> str:
        env = self.env()
        names = ("PATH", "DOCKER_HOST", "DOCKER_CONFIG")
        return "".join(f"export {k}={shlex.quote(env[k])}\n" for k in names)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(action: str, layout: Layout) -> int:
    engine = Engine.of(layout)
    if action == "up":
        started = engine.start()
        print(f"[engine] {'started' if started else 'already running'}: {engine.socket}")
        print(f'[engine] use it: eval "$({layout.venv_bin}/python -m devstack engine env)"; '
              "docker compose ps")
    elif action == "down":
        engine.stop()
        print("[engine] stopped")
    else:  # env
        print(engine.shell_env(), end="")
    return 0
