# The task runner: every target here is what a developer or CI runs.
#   make up     install into .venv and run the product on the embedded stack
#   make test   install into .venv (with test tools) and run lint, types and every test tier
#   make unit   the unit tier alone (pure code and the docstring examples in ioc/), no services
#   make bench  install the `bench` extra into .venv-bench and run the benchmark suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: up test unit lint typecheck pytest clean-state bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall only when the project's metadata changes. Versions come from constraints.txt (what
# CI and the image run; its header says how to regenerate it); pyproject.toml keeps the ranges.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[embedded]'
	touch $@

# The tests also install separate feed packages, as an engineer adding a feed would: a new
# source of a shipped kind (parking cameras) and a new kind (air quality, with its declaration).
PLUGINS := tests/plugins/ioc-test-parking tests/plugins/ioc-test-airquality
$(VENV)/.installed-dev: pyproject.toml constraints.txt $(PLUGINS:%=%/pyproject.toml) | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[embedded,dev]' $(PLUGINS:%=-e %)
	touch $@ $(VENV)/.installed-run

up: $(VENV)/.installed-run
	$(BIN)/ioc up

test: $(VENV)/.installed-dev lint typecheck pytest

unit: $(VENV)/.installed-dev
	$(BIN)/pytest -m unit

# ruff also keeps the imports pointing inwards (pyproject.toml banned-api, ioc/ruff.toml).
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy -p ioc

# Exit code 5 means pytest collected no test: a green run that tested nothing is a failure.
# With no PYTEST_ARGS, two tiers run side by side: the store's exactness tests spend most of
# their time waiting a minute of wall time for each repeat (tests/_exact.py), so they run in a
# pytest of their own (own services, own temporary folder) while the rest runs here. The Grafana
# panels on both database tiers and the indicators CLI keep that pytest's idle core busy, so
# both end at about the same time.
SLOW_TESTS := tests/integration/test_store_exact.py tests/integration/test_dashboards_panels.py \
  tests/integration/test_cli_indicators.py
pytest: $(VENV)/.installed-dev
	@if [ -n "$(PYTEST_ARGS)" ]; then \
	  $(BIN)/pytest $(PYTEST_ARGS); code=$$?; \
	else \
	  rm -rf .pytest-tmp && mkdir -p .pytest-tmp; \
	  $(BIN)/pytest -p no:cacheprovider --basetemp=.pytest-tmp/slow $(SLOW_TESTS) \
	    > .pytest-tmp/slow.log 2>&1 & slow=$$!; \
	  $(BIN)/pytest --basetemp=.pytest-tmp/main $(SLOW_TESTS:%=--ignore=%); code=$$?; \
	  wait $$slow; slow_code=$$?; \
	  echo "--- $(SLOW_TESTS) (run alongside) ---"; cat .pytest-tmp/slow.log; \
	  if [ $$code -eq 0 ]; then code=$$slow_code; fi; \
	fi; \
	if [ $$code -eq 5 ]; then echo "pytest collected no tests (exit 5): failing" >&2; fi; \
	exit $$code

clean-state:
	rm -rf .ioc

# The benchmark's peers (quixstreams pins pydantic < 2.14) get their own venv, so the product's
# .venv keeps its versions; bench/constraints.txt pins every package of it (its header says how
# to regenerate it), so each run installs the same. BENCH_ARGS=--quick: a smoke run.
BENCH_VENV ?= .venv-bench
BENCH_ARGS ?=
$(BENCH_VENV)/.installed: pyproject.toml bench/constraints.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --upgrade pip
	$(BENCH_VENV)/bin/pip install -q -c bench/constraints.txt -e '.[embedded,bench]'
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench $(BENCH_ARGS)
