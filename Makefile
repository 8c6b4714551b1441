# Quick start: `make demo` and `make test`. Each sets up .venv from nothing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup test demo bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

test: setup
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m pytest -q

demo: setup
	$(VENV)/bin/voltpeak demo --out voltpeak-demo --force  # the report folder is make demo's own

bench: setup
	$(PY) benchmarks/detect.py
	$(PY) benchmarks/simulate.py

clean:
	rm -rf $(VENV) build src/*.egg-info
