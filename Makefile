# Feature Coach: the few verbs people type. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
CHROMIUM := /usr/bin/chromium

.DEFAULT_GOAL := help
.PHONY: help install demo demo-store demo-hub run test test-postgres lint format bench clean

help: ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): setup.cfg
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its test extras

demo: $(STAMP) ## simulated household on loopback, three people, the page at http://127.0.0.1:5000
	$(BIN)/edu demo

demo-store: $(STAMP) ## the store demo: the fleet as a shop's demo table; prints the staff PIN and kiosk URL
	$(BIN)/edu demo --store

demo-hub: $(STAMP) ## the household demo beside a community hub of 300 simulated homes at http://127.0.0.1:5100/hub/
	$(BIN)/edu demo --hub

run: $(STAMP) ## serve the page for the configured real network (EDU_NETWORKS, EDU_SECRET_KEY ...)
	$(BIN)/edu serve

lint: $(STAMP) ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy devices lessons edu

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Browser tests drive Debian's Chromium (never a downloaded browser build).
$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq chromium

test: lint $(CHROMIUM) ## lint, then the whole test suite (installs Debian's Chromium when missing)
	$(BIN)/pytest $(PYTEST_ARGS)

# Every test that opens a database gets its own on the server, created and dropped by the test.
test-postgres: $(STAMP) $(CHROMIUM) ## the whole test suite again on PostgreSQL (127.0.0.1:5432, EDU_TEST_POSTGRES_URL)
	EDU_TEST_DATABASE=postgresql $(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP) ## run every benchmark under bench/: bench/results.json, one table, README's Performance table
	$(BIN)/python bench/run_all.py --readme

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
