# Quick start: `make demo` and `make test`. Each sets up .venv from nothing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup test demo bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch first (from this machine's disk), before anything else pulls a CUDA build in.
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
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
	$(PY) benchmarks/build.py

clean:
	rm -rf $(VENV) build src/*.egg-info
