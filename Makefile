# Chat4All — the two commands a newcomer needs are `make up` and `make test` (`make unit`: the fast tests).
# Everything is installed on demand into one cache directory (CACHE) and is idempotent.
CACHE ?= $(HOME)/.cache/chat4all
export CHAT4ALL_CACHE_DIR := $(CACHE)
VENV := $(CACHE)/venv
PY := $(VENV)/bin/python

.PHONY: help install venv unit up down ps ctl test cluster-test compose-test lint fmt clean dashboards live-dashboards render-dashboards monitor bench profile experiment experiments loadtest loadtests report cql

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' \
		'{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > width) width = length($$1) } \
		END { for (i = 1; i <= NR; i++) printf "  make %-" width "s  %s\n", name[i], text[i] }'

install:  ## install what is missing into $(CACHE) (venv, Kafka, Cassandra, MinIO, Prometheus, Alertmanager, k6; Debian's chromium)
	@bash deploy/install.sh

venv:  ## only the Python venv (app, tests, linters): all that unit and lint need
	@bash deploy/install.sh python

up: install  ## start the whole platform locally (idempotent) and print where it listens; CLUSTER=3: Kafka and Cassandra as 3-node clusters
	@$(if $(CLUSTER),CLUSTER=$(CLUSTER)) $(PY) -m devstack up

down:  ## stop every service of the local stack
	@if [ -x $(PY) ]; then $(PY) -m devstack down; else echo "[devstack] nothing installed"; fi

ps: install  ## show process states and readiness (exit 1 if a service is not ready)
	@$(PY) -m devstack ps

test: install  ## ruff, start what the tests need, run every test (local stack, clusters, compose), stop what was started
	@bash scripts/run-tests.sh

unit: venv  ## the tests that need only the venv (tests/unit, tests/tools) but the slow ones, which make test runs
	@$(PY) -m pytest -q -m "not slow and not installed" tests/unit tests/tools

cluster-test: install  ## the stack as 3-node Kafka and Cassandra clusters (state/cluster), tests/cluster, then stopped
	@bash scripts/cluster-test.sh

compose-test:  ## docker-compose.yml on a real engine (installed into the cache), its tests, then everything stopped
	@bash scripts/compose-test.sh

lint: venv  ## ruff, and mypy on chat4all_app (configured in pyproject.toml)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy

fmt: venv  ## ruff --fix
	@$(VENV)/bin/ruff check --fix .

clean: down  ## stop the stack and delete its state (data, logs); keeps the install cache
	rm -rf state

cql: venv  ## cqlsh on the stack's Cassandra and keyspace (CASSANDRA_HOSTS/PORT/KEYSPACE), e.g. make cql ARGS="-e \"SELECT ...\""
	@$(PY) -m chat4all_app.cli cql $(ARGS)

ctl: install  ## supervisorctl on the local stack, e.g. make ctl ARGS="signal KILL kafka"
	@$(PY) -m devstack ctl $(ARGS)

dashboards: install  ## regenerate the Grafana JSON (monitoring/dashboards.py) and the live consoles made from it
	@$(PY) -m monitoring.dashboards && $(PY) -m monitoring.consoles

live-dashboards: install  ## the live dashboards (Prometheus consoles) in Chromium: each panel checked, screenshots -> results/dashboards/live
	@$(PY) -m monitoring.consoles --check && $(PY) -m monitoring.live

render-dashboards: install  ## every dashboard panel as PNG from Prometheus data (results/dashboards), e.g. MINUTES=30
	@$(PY) -m monitoring.render --minutes $(or $(MINUTES),15)

monitor:  ## follow the services' heartbeats; alert on one silent for more than 60 s
	@bash scripts/monitor-heartbeats.sh

loadtests: install  ## every k6 case 01-08 for the record, one after another (make up first), live dashboards shot during 02
	@bash scripts/record-loadtests.sh

loadtest: install  ## run a k6 case with results + charts, e.g. make loadtest CASE=02-baseline [VUS=5 DURATION=20s]
	@bash scripts/run-loadtest.sh $(CASE) $(ARGS)

bench: install  ## benchmark protocol on the running stack (make up first): REPEATS=3 PAIRS=1 E2E_STEPS=600,1000,1333,1667 WARMUP_S=15 HOLD_S=120 [QUICK=1]
	@$(PY) -m benchmarks $(if $(QUICK),--quick) $(if $(REPEATS),--repeats $(REPEATS)) \
		$(if $(PAIRS),--pairs $(PAIRS)) $(if $(E2E_STEPS),--e2e-steps $(E2E_STEPS)) \
		$(if $(WARMUP_S),--warmup-seconds $(WARMUP_S)) $(if $(HOLD_S),--hold-seconds $(HOLD_S)) \
		$(if $(E2E_RATE),--e2e-rate $(E2E_RATE)) $(if $(E2E_SECONDS),--e2e-seconds $(E2E_SECONDS))

experiment: install  ## one fault experiment on the running stack, e.g. make experiment NAME=circuit-breaker [FAST=1]
	@$(PY) -m experiments $(NAME) $(if $(FAST),--fast) $(if $(CLUSTER),--cluster $(CLUSTER))

experiments: install  ## every fault experiment in turn (make up first); results/experiments/<name>/
	@$(PY) -m experiments all $(if $(FAST),--fast) $(if $(CLUSTER),--cluster $(CLUSTER))

profile: install  ## py-spy every Python service under a fixed load (make up first): RATE=400 SECONDS=40 HZ=50
	@$(PY) -m benchmarks.profile --rate $(or $(RATE),400) --seconds $(or $(SECONDS),40) \
		--sample-rate $(or $(HZ),50)

report: install  ## the technical report (pt-BR PDF) from the committed results -> docs/report/relatorio-tecnico.pdf
	@$(PY) -m report
