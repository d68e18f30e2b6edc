# Pagesmith: `make run` runs it, `make test` tests it. Both set themselves up first.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
# uv on PATH, else uv as installed by `make setup` into this Python (`python3 -m uv`).
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: setup run test lint typecheck schemas pins bench bench-tracker clean

setup:  ## install uv (from PyPI) if missing, then the whole workspace; safe to repeat
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv
	@$(UV) sync --all-packages --quiet

run: setup  ## the services and the tracker (+ local stand-ins when GITHUB_TOKEN / OPENAI_API_KEY are unset)
	@UV="$(UV)" bash scripts/run.sh

test: setup  ## the whole suite: unit, integration on RabbitMQ and PostgreSQL, end to end with real processes
	@bash scripts/ensure-rabbitmq.sh
	@bash scripts/ensure-postgres.sh
	@$(UV) run --no-sync pytest

lint:
	@$(UV) run --no-sync ruff check .
	@$(UV) run --no-sync ruff format --check .

typecheck:
	@$(UV) run --no-sync mypy libs services dev cli

schemas:  ## re-export the events' JSON Schemas after a contract change
	@$(UV) run --no-sync python -m pagesmith_contracts.schemas --write libs/contracts/schemas

pins:  ## pin every package (direct and transitive) in pyproject.toml, without download URLs
	@$(UV) run --no-sync python scripts/pins.py

clean:
	rm -rf .pagesmith .pytest_cache .ruff_cache .mypy_cache

bench: setup  ## gateway ack latency and POST-to-callback time on real processes
	@bash scripts/ensure-rabbitmq.sh
	@$(UV) run --no-sync python -m bench.latency

bench-tracker: setup  ## how fast the tracker commits events (rows/s, events/s)
	@bash scripts/ensure-rabbitmq.sh
	@bash scripts/ensure-postgres.sh
	@$(UV) run --no-sync python -m bench.tracker_throughput
