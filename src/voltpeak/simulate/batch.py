"""``voltpeak simulate``: many CVs, one CSV each in DESIGN's header styles, and truth.jsonl. Deterministic for a seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from voltpeak.read.write import STYLES, write_table
from voltpeak.simulate.config import SimulationConfig
from voltpeak.simulate.cv import simulate_cv


def simulate_one(config: SimulationConfig, seed: int, k: int):
    """CV number ``k`` of a run: it depends only on (seed, k), so runs can be split and resumed."""
    rng = np.random.default_rng([seed, k])
    couples, conditions = config.sample(rng)
    return simulate_cv(couples, conditions, rng)


def simulate_to_folder(n: int, out: Path, seed: int, config: SimulationConfig,
                       progress=lambda items: items) -> Path:
    """Write ``n`` CVs and ``truth.jsonl`` into ``out``; returns the truth file.

    Files are named ``cv_000001_<style>.csv``; the header styles (``voltpeak.read.write.STYLES``) rotate.
    """
    out.mkdir(parents=True, exist_ok=True)
    styles = list(STYLES)
    truth_path = out / "truth.jsonl"
    with open(truth_path, "w", encoding="utf-8") as truth:
        for k in progress(range(n)):
            cv = simulate_one(config, seed, k)
            style = styles[k % len(styles)]
            name = f"cv_{k + 1:06d}_{style}.csv"
            write_table(cv.noisy, out / name, style)
            truth.write(json.dumps(cv.truth_record(name)) + "\n")
    (out / "config.json").write_text(json.dumps({"seed": seed, "n": n, **config.to_dict()}, indent=1))
    return truth_path
