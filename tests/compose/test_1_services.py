"""`docker compose ps` after `docker compose up --wait`: every service healthy, every init job done,
Grafana left out by its profile only; a bad secret refused by name; the image clean of this machine."""

import hashlib
import json
from pathlib import Path

from tests.compose.deployment import app_image, assert_every_service_up


def test_docker_compose_ps_shows_every_service_healthy_and_every_job_done(deployment):
    assert_every_service_up(deployment)


def test_a_bad_secret_given_to_compose_is_refused_clearly_and_nothing_is_replaced(deployment):
    before = deployment.compose("run", "--rm", "--no-deps", "secrets-init", "cat",
                                "/run/chat4all/secrets.env").stdout
    bad = deployment.compose("run", "--rm", "--no-deps", "-e", "JWT_SECRET=tooshort", "secrets-init",
                             check=False)
    assert bad.returncode != 0
    refusal = "refusing to write /run/chat4all/secrets.env: JWT_SECRET is 8 bytes long"
    assert refusal in bad.stderr + bad.stdout
    after = deployment.compose("run", "--rm", "--no-deps", "secrets-init", "cat",
                               "/run/chat4all/secrets.env").stdout
    assert after == before and "JWT_SECRET=" in after


def test_the_image_runs_as_a_plain_user_and_carries_nothing_of_this_machine(deployment):
    image = app_image()
    config = json.loads(deployment.docker("image", "inspect", image))[0]["Config"]
    assert config["User"] == "chat4all"
    names = {e.split("=", 1)[0].upper() for e in config["Env"]}
    assert not {n for n in names if "PROXY" in n or n in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    # pip's CA bundle was a build secret: no file of the image is this machine's bundle, except the
    # image's own Debian bundle when this machine's is exactly Debian's too.
    host = Path("/etc/ssl/certs/ca-certificates.crt").read_bytes()
    listing = deployment.docker("run", "--rm", "--user", "root", "--entrypoint", "sh", image, "-c",
                                f"find / -xdev -type f -size {len(host)}c -exec sha256sum {{}} +",
                                timeout=300)
    copies = {line.split(None, 1)[1] for line in listing.splitlines()
              if line.split(None, 1)[0] == hashlib.sha256(host).hexdigest()}
    own = deployment.docker("run", "--rm", "--entrypoint", "cat", image, "/etc/ssl/certs/ca-certificates.crt")
    assert copies <= ({"/etc/ssl/certs/ca-certificates.crt"} if own.encode() == host else set()), copies
