"""``voltpeak evaluate`` on JSON Lines files: truth and predictions keyed by ``source``."""

from __future__ import annotations

import json
from pathlib import Path

from voltpeak.errors import InputError, VoltpeakError
from voltpeak.evaluate import data_tolerance_V, match_peaks, summarise
from voltpeak.peak import Peak


def read_jsonl(path: str | Path) -> list[dict]:
    """Objects of a JSON Lines file (blank lines skipped); InputError names the file and line of a bad one."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file")
    out = []
    with open(p, encoding="utf-8", errors="replace") as f:
        for k, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{k}: not JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{k}: expected a JSON object per line")
            out.append(obj)
    return out


def _peaks(obj: dict, where: str) -> list[Peak]:
    peaks = obj.get("peaks") or []
    if not isinstance(peaks, list):
        raise InputError(f"{where}: 'peaks' must be a list")
    try:
        return [Peak.from_record(r) for r in peaks]
    except ValueError as e:
        raise InputError(f"{where}: {e}") from None


def _by_source(objs: list[dict], path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for k, obj in enumerate(objs, 1):
        src = obj.get("source")
        if not isinstance(src, str):
            raise InputError(f"{path}: record {k} has no 'source'")
        out[src] = obj
    return out


def _window(truth_obj: dict) -> tuple[float, float] | None:
    """The CV's potential window: the record's ``window``, else the source file's, else unknown."""
    w = truth_obj.get("window")
    if isinstance(w, (list, tuple)) and len(w) == 2 and all(isinstance(x, (int, float)) for x in w):
        return float(w[0]), float(w[1])
    src = truth_obj.get("source")
    if isinstance(src, str) and Path(src).is_file():
        from voltpeak.read import read

        try:
            return read(src).window_V
        except VoltpeakError:
            return None
    return None


def evaluate_files(truth_path, pred_path, space: str = "data", tolerance: float | None = None,
                   same_cycle: bool = False) -> dict:
    """Match every truth source with its prediction and summarise.

    A source missing from the predictions, or whose prediction carries an ``error``, counts as "no peaks"
    (all its truths are false negatives) and is listed. Predictions for sources absent from the truth are
    listed and ignored. Sources are matched by their exact string, else by file name when that is unique.

    Returns
    -------
    dict
        ``metrics`` (see ``summarise``), ``per_source`` records (the prediction's source matched to it, or None;
        indices of TP pairs, FPs, FNs, errors),
        ``unparseable``, ``missing`` and ``unexpected`` source lists.
    """
    truth = _by_source(read_jsonl(truth_path), truth_path)
    pred = _by_source(read_jsonl(pred_path), pred_path)
    by_name: dict[str, list[str]] = {}
    for s in pred:
        by_name.setdefault(Path(s).name, []).append(s)
    used, matchings, per_source, missing, unparseable = set(), [], [], [], []
    for src, t_obj in truth.items():
        p_src = src if src in pred else None
        if p_src is None and len(by_name.get(Path(src).name, [])) == 1:
            p_src = by_name[Path(src).name][0]
        t_peaks = _peaks(t_obj, f"{truth_path}: {src}")
        p_peaks: list[Peak] = []
        if p_src is None:
            missing.append(src)
        else:
            used.add(p_src)
            p_obj = pred[p_src]
            if p_obj.get("error"):
                unparseable.append(src)
            else:
                p_peaks = _peaks(p_obj, f"{pred_path}: {p_src}")
        window = _window(t_obj) if space == "data" else None
        m = match_peaks(p_peaks, t_peaks, space, tolerance, window, same_cycle)
        matchings.append(m)
        tol = tolerance if tolerance is not None else (data_tolerance_V(window) if space == "data" else None)
        per_source.append({
            "source": src, "prediction": p_src, "tp": [list(x) for x in m.tp], "fp": m.fp, "fn": m.fn,
            "errors": [round(e, 6) for e in m.errors], "n_true": len(t_peaks), "n_pred": len(p_peaks),
            "tolerance": tol, "error": None if p_src is None else pred[p_src].get("error"),
        })
    metrics = summarise(matchings, space)
    metrics.update({"space": space, "unparseable": len(unparseable), "missing": len(missing)})
    # What makes a score meaningless: no source in common, or predictions without the coordinate the space scores.
    warnings = []
    if truth and not used:
        warnings.append("no prediction shares a source with the truth (sources match by their exact string, else "
                        "by a unique file name)")
    key, need = ("potential", "predictions scored in data space need potentials (image predictions: --space image, "
                 "or voltpeak predict with the plot's axes read)") if space == "data" else (
        "x", "predictions scored in image space need x and y (data predictions: --space data)")
    scored = [p for s in used if not pred[s].get("error") for p in pred[s].get("peaks") or []]
    blank = sum(1 for p in scored if p.get(key) is None)
    if blank:
        warnings.append(f"{blank} of {len(scored)} predicted peaks carry no {key}: {need}")
    return {
        "metrics": metrics,
        "per_source": per_source,
        "unparseable": unparseable,
        "missing": missing,
        "unexpected": [s for s in pred if s not in used],
        "warnings": warnings,
        "nothing_matched": bool(truth) and (not used or (bool(scored) and blank == len(scored))),
    }


def report(result: dict) -> str:
    """A short human-readable report of an evaluation."""
    m = result["metrics"]
    loc = (f"median |ΔE| {m['median_abs_dE_mV']} mV" if m["space"] == "data" else
           f"median distance {m['median_distance']}")
    sample = "n/a" if m["sample_accuracy"] is None else f"{m['sample_accuracy']:.4f}"
    lines = [
        f"sources {m['sources']}  TP {m['tp']}  FP {m['fp']}  FN {m['fn']}",
        f"precision {m['precision']:.4f}  recall {m['recall']:.4f}  F1 {m['f1']:.4f}  accuracy {m['accuracy']:.4f}"
        f"  sample accuracy {sample}",
        loc,
    ]
    if result["unparseable"]:
        lines.append(f"unparseable predictions (counted as no peaks): {len(result['unparseable'])}")
    if result["missing"]:
        lines.append(f"sources without a prediction (counted as no peaks): {len(result['missing'])}")
    if result["unexpected"]:
        lines.append(f"predictions for sources not in the truth (ignored): {len(result['unexpected'])}")
    worst = sorted(result["per_source"], key=lambda r: -(len(r["fp"]) + len(r["fn"])))[:5]
    worst = [r for r in worst if r["fp"] or r["fn"]]
    if worst:
        lines.append("worst sources:")
        lines += [f"  {r['source']}: {len(r['fp'])} FP, {len(r['fn'])} FN" for r in worst]
    return "\n".join(lines)
