# One image for every Chat4All role (api, router, connectors, provider mocks, init jobs): the
# container's command chooses the role (see docker-compose.yml). Built by `docker compose build`.
FROM python:3.11.14-slim-bookworm

# curl: the compose healthchecks run `curl -f http://localhost:<port>/health` inside the container.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Dependencies first, in their own layer, so a code change does not reinstall them: an empty
# package stands in for chat4all_app. requirements.lock pins every transitive version; used as a
# constraints file it pins exactly what pyproject.toml's dependencies pull in, without the dev tools.
# Behind a TLS-intercepting proxy, give pip that proxy's CA bundle as a BuildKit secret, e.g.
# `docker build --secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt .`: it is mounted for
# the RUN only and never stored in a layer. Without the secret pip uses its own CA bundle.
COPY requirements.lock pyproject.toml README.md ./
RUN --mount=type=secret,id=ca-bundle \
    if [ -f /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
    && mkdir chat4all_app && touch chat4all_app/__init__.py \
    && pip install --constraint requirements.lock .
COPY chat4all_app ./chat4all_app
# rm -rf build: the stand-in install left build/lib/chat4all_app/__init__.py behind, newer than the
# real one (COPY keeps the context's mtimes), so setuptools would ship the empty stand-in and the
# image would fail at start with "cannot import name '__version__'". build/ and the egg-info go
# afterwards too: the image keeps only the installed package.
RUN --mount=type=secret,id=ca-bundle \
    if [ -f /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
    && rm -rf build \
    && pip install --no-deps --force-reinstall --constraint requirements.lock . \
    && pip check \
    && rm -rf build ./*.egg-info

# Run as a plain user; Faust workers keep their RocksDB tables under /var/lib/chat4all (--datadir),
# in each container's own filesystem, so scaled replicas never share one.
# /run/chat4all is the secrets volume's mount point: a new named volume takes this owner and
# mode, so the secrets-init job (this user) can write there and nobody else can read it.
RUN useradd --create-home --uid 10001 chat4all && install -d -o chat4all -g chat4all /var/lib/chat4all \
    && install -d -m 0700 -o chat4all -g chat4all /run/chat4all
USER chat4all
WORKDIR /var/lib/chat4all

EXPOSE 8080 8082 8083 8084 9101 9102
CMD ["chat4all", "--help"]
