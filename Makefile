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
	$(PY) benchmarks/predict.py

model: setup  # the shipped CPU models from nothing: data, the heatmap detector, then the MLLM on it (~45 min)
	$(VENV)/bin/voltpeak simulate --n 3000 --out data/pool --seed 21 --force
	$(VENV)/bin/voltpeak build --pool sim=data/pool --n 16000 --out data/images --seed 5 \
		--config configs/build-train.json --force
	$(VENV)/bin/voltpeak train --config configs/heatmap.json
	$(VENV)/bin/voltpeak train --config configs/mllm-small.json
	$(PY) scripts/ship_models.py heatmap=runs/heatmap mllm-small=runs/mllm-small --dataset data/images
	$(VENV)/bin/voltpeak simulate --n 400 --out data/pool-holdout --seed 777 --force
	$(VENV)/bin/voltpeak build --pool sim=data/pool-holdout --n 800 --out data/holdout --seed 6 \
		--config configs/build-holdout.json --force

clean:
	rm -rf $(VENV) build src/*.egg-info
