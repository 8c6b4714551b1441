"""Evaluation: Hungarian matching of predicted to true peaks, per source, and the metrics of docs/contracts.md.

Per source, predictions are matched to truths of the same direction with ``linear_sum_assignment``; a pair is a
true positive when it lies within tolerance (data space: |ΔE| ≤ max(20 mV, 2 % of the CV's potential window);
image space: distance in (x, y) fractions ≤ 0.02). Unmatched predictions are false positives, unmatched truths
false negatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from voltpeak.peak import DIRECTIONS, Peak

DATA_TOL_V = 0.020
DATA_TOL_FRACTION = 0.02
IMAGE_TOL = 0.02


@dataclass
class Matching:
    """Result of matching one source: indices into the prediction and truth lists.

    Attributes
    ----------
    tp : list of (int, int)
        Matched pairs ``(pred_index, true_index)``.
    fp : list of int
        Unmatched predictions.
    fn : list of int
        Unmatched truths.
    errors : list of float
        Localisation error of each pair in ``tp``: |ΔE| in V (data space) or distance in fractions (image space).
    """

    tp: list[tuple[int, int]] = field(default_factory=list)
    fp: list[int] = field(default_factory=list)
    fn: list[int] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)


def data_tolerance_V(window_V: tuple[float, float] | None) -> float:
    """max(20 mV, 2 % of the potential window); 20 mV when the window is unknown."""
    if window_V is None:
        return DATA_TOL_V
    return max(DATA_TOL_V, DATA_TOL_FRACTION * abs(window_V[1] - window_V[0]))


def match_peaks(pred: list[Peak], truth: list[Peak], space: str = "data", tolerance: float | None = None,
                window_V: tuple[float, float] | None = None, same_cycle: bool = False) -> Matching:
    """Match predicted to true peaks of one source.

    Parameters
    ----------
    pred, truth : list of Peak
        Predictions and truths. Data space uses ``potential``; image space uses ``x`` and ``y``.
    space : {"data", "image"}
        Which coordinates are compared.
    tolerance : float, optional
        Largest distance of a true positive: V (data) or fraction (image). Default: data max(0.02 V, 2 % of
        the width of ``window_V``), image 0.02.
    window_V : (float, float), optional
        The CV's potential window, for the data-space default tolerance.
    same_cycle : bool
        Also require equal cycle numbers (an extension; the contract matches on direction only).

    Returns
    -------
    Matching
    """
    if space not in ("data", "image"):
        raise ValueError(f"space must be 'data' or 'image', not {space!r}")
    if tolerance is None:
        tolerance = data_tolerance_V(window_V) if space == "data" else IMAGE_TOL
    tolerance += 1e-12  # inclusive bound, whatever the rounding of the coordinates
    out = Matching()
    for direction in DIRECTIONS:
        pi = [i for i, p in enumerate(pred) if p.direction == direction and _has_coords(p, space)]
        ti = [i for i, t in enumerate(truth) if t.direction == direction and _has_coords(t, space)]
        matched_p, matched_t = set(), set()
        if pi and ti:
            dist = np.array([[_distance(pred[i], truth[j], space) for j in ti] for i in pi])
            if same_cycle:
                other = np.array([[pred[i].cycle != truth[j].cycle for j in ti] for i in pi])
                dist = np.where(other, np.inf, dist)
            # Pairs beyond tolerance cost more than any allowed pair, so the assignment maximises the matches.
            big = tolerance * (len(pi) + len(ti) + 1) + 1.0
            cost = np.where(dist <= tolerance, dist, big)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if dist[r, c] <= tolerance:
                    out.tp.append((pi[r], ti[c]))
                    out.errors.append(float(dist[r, c]))
                    matched_p.add(pi[r])
                    matched_t.add(ti[c])
        out.fp.extend(i for i in pi if i not in matched_p)
        out.fn.extend(j for j in ti if j not in matched_t)
    # Peaks without the coordinates of this space cannot match: they count as errors, not silently dropped.
    out.fp.extend(i for i, p in enumerate(pred) if not _has_coords(p, space))
    out.fn.extend(j for j, t in enumerate(truth) if not _has_coords(t, space))
    order = sorted(range(len(out.tp)), key=lambda k: out.tp[k])
    out.tp = [out.tp[k] for k in order]
    out.errors = [out.errors[k] for k in order]
    out.fp.sort()
    out.fn.sort()
    return out


def _has_coords(p: Peak, space: str) -> bool:
    return p.potential is not None if space == "data" else (p.x is not None and p.y is not None)


def _distance(p: Peak, t: Peak, space: str) -> float:
    if space == "data":
        return abs(p.potential - t.potential)
    return float(np.hypot(p.x - t.x, p.y - t.y))


def summarise(matchings: list[Matching], space: str = "data") -> dict:
    """Micro metrics over sources: precision, recall, F1, accuracy = TP/(TP+FP+FN), sample accuracy, and the
    median localisation error of matched pairs (mV in data space, fractions in image space)."""
    tp = sum(len(m.tp) for m in matchings)
    fp = sum(len(m.fp) for m in matchings)
    fn = sum(len(m.fn) for m in matchings)
    errors = [e for m in matchings for e in m.errors]
    precision = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    exact = sum(1 for m in matchings if not m.fp and not m.fn)
    median = float(np.median(errors)) if errors else None
    key = "median_abs_dE_mV" if space == "data" else "median_distance"
    if median is not None and space == "data":
        median *= 1000.0
    return {
        "sources": len(matchings),
        "tp": tp, "fp": fp, "fn": fn,
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(f1, 6),
        "accuracy": round(tp / (tp + fp + fn), 6) if tp + fp + fn else 1.0,
        "sample_accuracy": round(exact / len(matchings), 6) if matchings else None,
        key: None if median is None else round(median, 4 if space == "data" else 6),
    }
