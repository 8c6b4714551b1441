"""The checks of a model in training, shared by every backend (voltpeak's loop, TRL, ms-swift): the preflight
before the first step, and the validation score of its predictions (image space, the contract's matcher)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voltpeak.errors import InputError
from voltpeak.evaluate import match_peaks, summarise
from voltpeak.peak import Peak
from voltpeak.predict import predict

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.1, 0.85, 0.05))


def preflight(model, log=print) -> dict[str, int]:
    """Print the trainable parameters of each part; refuse a config that trains a part with none."""
    counts = model.trainable_parameters()
    log("trainable parameters: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    empty = [part for part, trained in model.meant_to_train().items() if trained and counts[part] == 0]
    if empty:
        raise InputError(f"the config trains {', '.join(empty)} but it has no trainable parameter "
                         "(a frozen part the config means to train)")
    return counts


def score(lines: list[dict], examples, threshold: float = 0.0) -> dict:
    """Validation metrics of output ``lines`` against the ``examples`` they predict (in order): F1, precision,
    recall, direction accuracy, sample accuracy, median distance (image fractions), unreadable answers. Peaks
    scored below ``threshold`` (the detector's) are dropped first."""
    matchings = [match_peaks([Peak.from_record(p) for p in line["peaks"] if p.get("score", 1.0) >= threshold],
                             [Peak(p["direction"], x=p["x"], y=p["y"]) for p in ex.peaks], space="image")
                 for line, ex in zip(lines, examples)]
    m = summarise(matchings, space="image")
    return {"f1": m["f1"], "precision": m["precision"], "recall": m["recall"], "accuracy": m["accuracy"],
            "sample_accuracy": m["sample_accuracy"], "median_distance": m["median_distance"],
            "parse_errors": sum(line["error"] is not None for line in lines),
            "samples": len(examples)}


def evaluate_model(model, examples, batch_size: int = 16) -> dict:
    """Predict ``examples`` (as ``voltpeak predict`` does, the model's own direction: no axis reading) and score
    them."""
    training = model.training if hasattr(model, "training") else True
    model.eval()
    try:
        lines = list(predict(model, [(ex.image, Path(ex.image)) for ex in examples], batch_size, axes="off"))
    finally:
        model.train(training)
    return score(lines, examples)


def tune_threshold(model, examples, grid=THRESHOLDS) -> float:
    """The detector's heatmap threshold with the best F1 on ``examples`` (its validation samples)."""
    keep, model.config.threshold = model.config.threshold, min(grid)
    training = model.training
    model.eval()
    try:
        lines = list(predict(model, [(ex.image, Path(ex.image)) for ex in examples], axes="off"))
    finally:
        model.train(training)
        model.config.threshold = keep
    return float(max(grid, key=lambda t: score(lines, examples, t)["f1"]))
