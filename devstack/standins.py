"""Local stand-ins for the public images docker-compose.yml names (the compose check only).

No image registry is reachable on the project's machines. The check builds a Debian base with
mmdebstrap (`docker import`), then one image per public image from deploy/compose/standins/<name>/
plus the pinned artifacts the local stack already caches (deploy/install.sh). Each image carries a
fingerprint of its inputs as a label, so a warm run rebuilds only what changed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .engine import Engine
from .layout import Layout

FINGERPRINT_LABEL = "chat4all.standin.fingerprint"
BASE_TAG = "chat4all-standin/debian:bookworm"
BASE_PACKAGES = ("ca-certificates", "curl")


class StandinError(RuntimeError):
    pass


def ca_bundle() -> Path | None:
    """This machine's CA bundle for pip inside image builds (a TLS-intercepting proxy signs
    PyPI's certificates here). Passed as a BuildKit secret, so it never lands in an image."""
    for var in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        path = os.environ.get(var)
        if path and Path(path).is_file():
            return Path(path)
    return None


def build_image(engine: Engine, context: Path, tag: str, *, labels: dict[str, str] | None = None,
          build_args: dict[str, str] | None = None, timeout: float = 1200,
          ) -> subprocess.CompletedProcess[str]:
    """`docker build` with BuildKit and the host network (pip and apt reach their registries
    directly: the engine gives containers no route out), the CA bundle as a secret."""
    args = ["build", "--network", "host", "--progress", "plain", "--tag", tag]
    for key, value in (labels or {}).items():
        args += ["--label", f"{key}={value}"]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    bundle = ca_bundle()
    if bundle:
        args += ["--secret", f"id=ca-bundle,src={bundle}"]
    return engine.docker(*args, str(context), check=False, timeout=timeout,
                         env={"DOCKER_BUILDKIT": "1"})


@dataclass(frozen=True)
class Standin:
    name: str  # its directory under deploy/compose/standins
    tag: str
    # Paths inside the build context's artifacts/ -> cached files or directories.
    artifacts: dict[str, Path] = field(default_factory=dict)
    build_args: dict[str, str] = field(default_factory=dict)
    base: str = BASE_TAG  # the stand-in it is built FROM (rebuilt when that one changes)


def dockerfile_base(dockerfile: Path) -> str:
    """The image the project's Dockerfile starts FROM: its stand-in is tagged with this name."""
    match = re.search(r"^FROM\s+(\S+)", dockerfile.read_text(), re.MULTILINE)
    if not match:
        raise StandinError(f"no FROM line in {dockerfile}")
    return match.group(1)


def standins(layout: Layout) -> list[Standin]:
    """Every stand-in, bases first. Tags match deploy/compose/standins.override.yml."""
    v, cache = layout.versions, layout.cache
    kafka, cassandra = v["KAFKA_VERSION"], v["CASSANDRA_VERSION"]
    jre = Standin("jre", "chat4all-standin/jre:17")
    return [
        Standin("python", dockerfile_base(layout.repo / "Dockerfile")),
        jre,
        Standin("kafka", f"chat4all-standin/kafka:{kafka}", base=jre.tag, artifacts={
            "lib": cache / f"kafka-{kafka}" / "lib",
            "tools": cache / f"kafka-tools-{kafka}" / "lib"}),
        Standin("cassandra", f"chat4all-standin/cassandra:{cassandra}", base=jre.tag,
                build_args={"CQLSH_VERSION": v["CQLSH_VERSION"]}, artifacts={
                    "lib": cache / f"cassandra-{cassandra}" / "lib",
                    "conf": layout.repo / "deploy" / "cassandra"}),
        Standin("minio", "chat4all-standin/minio:latest", artifacts={
            "minio": cache / "bin" / f"minio-{v['MINIO_VERSION']}"}),
        Standin("prometheus", "chat4all-standin/prometheus:2.42.0", artifacts={
            "usr": layout.prometheus_root / "usr"}),
        Standin("alertmanager", "chat4all-standin/alertmanager:0.25.0", artifacts={
            "usr": layout.alertmanager_root / "usr"}),
        Standin("nginx", "chat4all-standin/nginx:1.22.1", artifacts={
            "usr": cache / f"nginx-{v['NGINX_DEB_VERSION']}" / "usr"}),
    ]


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _tree_identity(path: Path) -> str:
    """Cheap identity of a cached artifact: names, sizes and mtimes (contents are pinned by path)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return "\n".join(f"{p.relative_to(path.parent)} {p.stat().st_size} {int(p.stat().st_mtime)}"
                     for p in files)


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard links where possible (a context as big as the jars costs no copy), else copies (the
    repository and the cache on different file systems)."""
    try:
        if source.is_dir():
            shutil.copytree(source, target, copy_function=os.link)
        else:
            os.link(source, target)
    except OSError:
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)


class Builder:
    def __init__(self, layout: Layout, engine: Engine, say=print):
        self.layout, self.engine, self.say = layout, engine, say
        self.sources = layout.repo / "deploy" / "compose" / "standins"
        self.staging = layout.cache / "standins-context"

    def _label(self, tag: str) -> str | None:
        proc = self.engine.docker("image", "inspect", "--format",
                                  f'{{{{ index .Config.Labels "{FINGERPRINT_LABEL}" }}}}', tag,
                                  check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def _image_id(self, tag: str) -> str:
        return self.engine.docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()

    def mirrors(self) -> list[str]:
        mirror, suite = self.layout.versions["DEBIAN_MIRROR"], self.layout.versions["DEBIAN_SUITE"]
        security = self.layout.versions["DEBIAN_SECURITY_MIRROR"]
        return [f"deb {mirror} {suite} main", f"deb {mirror} {suite}-updates main",
                f"deb {security} {suite}-security main"]

    def base(self) -> None:
        fingerprint = _digest(self.layout.versions["MMDEBSTRAP_DEB_VERSION"], *BASE_PACKAGES,
                              *self.mirrors())
        if self._label(BASE_TAG) == fingerprint:
            return
        self.say(f"building {BASE_TAG} with mmdebstrap (about a minute)")
        mmdebstrap = self.engine.root / "usr/bin/mmdebstrap"
        tar = self.layout.cache / "standins-base.tar"
        log = self.layout.cache / "standins-mmdebstrap.log"
        with open(log, "w") as out:
            proc = subprocess.run(
                ["perl", str(mmdebstrap), "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
                 "--format=tar", self.layout.versions["DEBIAN_SUITE"], str(tar), *self.mirrors()],
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "SOURCE_DATE_EPOCH": "0"})
        if proc.returncode != 0:
            raise StandinError(f"mmdebstrap failed; see {log}")
        self.engine.docker("import", "--change", 'CMD ["bash"]', "--change",
                           f"LABEL {FINGERPRINT_LABEL}={fingerprint}", str(tar), BASE_TAG)
        tar.unlink()

    def _stage(self, standin: Standin) -> Path:
        ctx = self.staging / standin.name
        shutil.rmtree(ctx, ignore_errors=True)
        shutil.copytree(self.sources / standin.name, ctx)
        for inside, source in standin.artifacts.items():
            if not source.exists():
                raise StandinError(f"{standin.name}: {source} is missing: run `make install` "
                                   "and `bash deploy/install.sh kafka-tools`")
            target = ctx / "artifacts" / inside
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(source, target)
        return ctx

    def fingerprint(self, standin: Standin) -> str:
        files = sorted(p for p in (self.sources / standin.name).rglob("*") if p.is_file())
        return _digest(self._image_id(standin.base), *(p.name.encode() + p.read_bytes() for p in files),
                       *(f"{k}={v}" for k, v in sorted(standin.build_args.items())),
                       *(f"{k}:{_tree_identity(v)}" for k, v in sorted(standin.artifacts.items())))

    def build(self, standin: Standin) -> None:
        fingerprint = self.fingerprint(standin)
        if self._label(standin.tag) == fingerprint:
            return
        self.say(f"building {standin.tag} (stand-in, deploy/compose/standins/{standin.name})")
        ctx = self._stage(standin)
        started = time.monotonic()
        proc = build_image(self.engine, ctx, standin.tag, labels={FINGERPRINT_LABEL: fingerprint},
                     build_args=standin.build_args)
        shutil.rmtree(ctx, ignore_errors=True)
        if proc.returncode != 0:
            raise StandinError(f"building {standin.tag} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        self.say(f"built {standin.tag} in {time.monotonic() - started:.0f} s")

    def prune(self) -> None:
        """Drop what rebuilds leave behind (untagged images, old build cache): the engine's data
        root in the cache would otherwise grow with every changed build."""
        self.engine.docker("image", "prune", "--force", check=False)
        self.engine.docker("builder", "prune", "--force", "--keep-storage", "2gb", check=False,
                           env={"DOCKER_BUILDKIT": "1"})

    def build_all(self) -> list[str]:
        self.base()
        built = []
        for standin in standins(self.layout):
            self.build(standin)
            built.append(standin.tag)
        return built
