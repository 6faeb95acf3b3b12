# Two entry points for a fresh machine with only Python 3.11+ and make:
#   make demo   set up .venv and run the built-in demo comparison (table + plots under results/)
#   make test   set up .venv with the dev extras and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/cascade run three-tier-viral-spike --out results

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 -q

bench: $(VENV)/.installed
	$(BIN)/cascade bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check simulator tests

clean:
	rm -rf $(VENV) .pytest_cache
