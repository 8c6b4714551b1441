# Quick start: `make demo` and `make test`. Each sets up .venv from nothing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup test demo bench model clean

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

model: setup  # the shipped small CPU model, from nothing (about an hour on 2 cores)
	$(VENV)/bin/voltpeak simulate --n 1500 --out data/pool --seed 21 --force
	$(VENV)/bin/voltpeak build --pool sim=data/pool --n 8000 --out data/mllm-small --seed 5 --force
	$(VENV)/bin/voltpeak train --config configs/mllm-small.json

clean:
	rm -rf $(VENV) build src/*.egg-info
