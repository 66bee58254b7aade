# The two commands a new machine needs: `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench docs screenshots install install-test install-bench install-docs sample clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

$(VENV)/.installed-docs: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
## The benchmarks' extra needs (Locust for bench/load.py).
install-bench: $(VENV)/.installed-bench

## Install, initialise the SQLite store in ./.paperfeed (or $PAPERFEED_HOME), import and index the sample, serve it on port 8000.
demo: install
	$(BIN)/paperfeed demo

## Install system and Python test needs, start a throw-away PostgreSQL, run every test.
test: install-test
	scripts/install-system-deps
	scripts/with-postgres $(BIN)/python -m pytest -n 2 --dist loadfile --durations=40 $(PYTEST_ARGS)

install-docs: $(VENV)/.installed-docs

## Build the docs site into ./site (offline: no CDN fonts or scripts); --strict fails on a broken link.
docs: install-docs
	$(BIN)/python docs/gen_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

## Copy the browser tests' screenshots (tests/artifacts, made by `make test`) into the docs.
screenshots:
	for name in feed paper search; do cp tests/artifacts/docs-$$name.png docs/images/$$name.png; done

lint: install-test
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

bench: install-bench
	$(BIN)/python bench/ingest.py

## Rebuild src/paperfeed/data/sample from ../shared (deterministic).
sample: install
	$(BIN)/python scripts/make_sample.py

clean:
	rm -rf $(VENV) .paperfeed .pytest_cache .mypy_cache .ruff_cache
