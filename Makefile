# Quick start: `make demo` and `make test`. Each sets up .venv from nothing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

SWIFT_VENV := .venv-swift

# The project's collection of real CV files (echemdb, Gamry, BioLogic) is kept outside the repository:
# `make demo REAL_DATA=DIR` plots and scores them too; bench and model read it as VOLTPEAK_REAL_DATA.
REAL_DATA ?=
ifneq ($(REAL_DATA),)
export VOLTPEAK_REAL_DATA := $(abspath $(REAL_DATA))
endif

.PHONY: setup test demo bench model swift-env madap-env clean

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
	$(VENV)/bin/voltpeak demo --out voltpeak-demo --force $(if $(REAL_DATA),--real $(REAL_DATA))  # the report folder is make demo's own

bench: setup
	$(PY) benchmarks/all.py

model: setup  # the shipped CPU models from nothing: data, the heatmap detector fine-tuned on four plotting
	# programs' graphs and surface-science CVs (the MLLM on it), then on overlays of many curves
	$(VENV)/bin/voltpeak simulate --n 3000 --out data/pool --seed 21 --force
	$(VENV)/bin/voltpeak build --pool sim=data/pool --n 16000 --out data/images --seed 5 \
		--config configs/build-train.json --force
	$(PY) scripts/real_pool.py --out data/real-hand/truth.jsonl --unlabelled-out data/real-unlabelled/truth.jsonl
	$(VENV)/bin/voltpeak build --pool real=data/real-unlabelled/truth.jsonl --n 3000 --out data/real-images \
		--seed 11 --config configs/build-real-train.json --force
	$(VENV)/bin/voltpeak simulate --n 1500 --out data/pool-surface --seed 41 --config configs/simulate-surface.json --force
	$(VENV)/bin/voltpeak build --pool sim=data/pool-surface --n 3000 --out data/surface --seed 12 \
		--config configs/build-surface.json --force
	$(VENV)/bin/voltpeak train --config configs/heatmap.json
	$(PY) benchmarks/programs.py --n 1500 --build-only  # data/programs: ours, matplotlib sheets, Vega-Lite, ggplot2
	$(VENV)/bin/voltpeak train --config configs/heatmap-programs.json
	$(VENV)/bin/voltpeak train --config configs/mllm-small-programs.json  # the MLLM on that detector
	# Overlays as papers publish them (series of up to 12 rates, colormaps), web plots (Bokeh, plotly) and
	# graphing-calculator plots, beside a replay of the four programs
	$(VENV)/bin/voltpeak build --pool sim=data/pool --n 4000 --out data/overlays --seed 31 \
		--config configs/build-overlays.json --force
	$(VENV)/bin/voltpeak build --pool sim=data/pool --n 2500 --out data/web --seed 41 \
		--config configs/build-web.json --force
	$(VENV)/bin/voltpeak build --pool sim=data/pool --n 3000 --out data/replay --seed 32 \
		--config configs/build-replay.json --force
	$(VENV)/bin/voltpeak train --config configs/heatmap-overlays.json
	$(PY) scripts/ship_models.py heatmap=runs/heatmap-web mllm-small=runs/mllm-small-programs \
		--dataset data/replay
	$(VENV)/bin/voltpeak simulate --n 400 --out data/pool-holdout --seed 777 --force
	$(VENV)/bin/voltpeak build --pool sim=data/pool-holdout --n 800 --out data/holdout --seed 6 \
		--config configs/build-holdout.json --force
	$(VENV)/bin/voltpeak build --pool real=data/real-hand/truth.jsonl --n 400 --out data/real --seed 8 \
		--config configs/build-holdout.json --force

# ms-swift in its own environment (its pins clash with the main one; it takes the CUDA torch build, ~6.5 GB):
# voltpeak train --backend swift and voltpeak predict --backend swift find it here.
swift-env: $(SWIFT_VENV)/bin/swift

$(SWIFT_VENV)/bin/swift:
	$(PYTHON) -m venv $(SWIFT_VENV)
	$(SWIFT_VENV)/bin/pip install --quiet --disable-pip-version-check "ms-swift>=4.6,<4.7" "qwen-vl-utils>=0.0.14" torchvision

clean:
	rm -rf $(VENV) $(SWIFT_VENV) build src/*.egg-info

madap-env:  # MADAP, a benchmark row only (benchmarks/detect.py): its own environment, as it pins old attrs/impedance
	$(PYTHON) -m venv .venv-madap
	.venv-madap/bin/pip install --quiet --disable-pip-version-check madap==1.2.8
