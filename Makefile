# Agentry: `make up` runs the whole platform, `make test` runs every check.
SHELL := /bin/bash
UV ?= uv
export UV_LINK_MODE ?= copy

.PHONY: up test deps web-deps lint typecheck pytest schema migration-regen clean

deps:
	@command -v $(UV) >/dev/null || { echo "Installing uv"; python3 -m pip install --user -q uv; }
	$(UV) sync --frozen

web-deps:
	./frontend/setup.sh

up: deps web-deps
	$(UV) run agentry up

lint:
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck:
	$(UV) run mypy

pytest:
	$(UV) run pytest
	cd frontend && $(UV) run --frozen pytest -q

test: deps web-deps lint typecheck pytest

schema:
	$(UV) run agentry export-schema > graph/schema.graphql

migration-regen:
	./scripts/regen-initial-migration.sh

clean:
	rm -rf .agentry tests/artifacts
