# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint format typecheck imports pytest bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	@# Byte-compile as a regular install does (quick when nothing changed; some
	@# environments set PYTHONDONTWRITEBYTECODE, which would recompile every start).
	$(BIN)/python -m compileall -q mzt_tui
	$(BIN)/mzt top --demo

test: $(STAMP)
	$(MAKE) check

check: lint typecheck imports pytest

lint:
	$(BIN)/ruff format --check mzt_tui tests bench screenshots
	$(BIN)/ruff check mzt_tui tests bench screenshots

format: $(STAMP)
	$(BIN)/ruff format mzt_tui tests bench screenshots
	$(BIN)/ruff check --fix mzt_tui tests bench screenshots

typecheck:
	$(BIN)/mypy

imports:
	$(BIN)/lint-imports

pytest:
	$(BIN)/pytest --durations=15

bench: $(STAMP)
	$(BIN)/python bench/store.py

screenshots: $(STAMP)
	$(BIN)/python screenshots/make.py

clean:
	rm -rf $(VENV) build dist *.egg-info
