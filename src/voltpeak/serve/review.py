"""The review page's data: an evaluation (truth + predictions JSONL, scored by ``voltpeak evaluate``'s matcher)
as per-sample rows that filter, sort and page fast at 10,000 samples, with aggregates per slice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voltpeak.evaluate import match_peaks
from voltpeak.evaluate.files import evaluate_files, read_jsonl
from voltpeak.image import IMAGE_SUFFIXES
from voltpeak.peak import Peak
from voltpeak.serve.paths import inside

FILTERS = ("has_fp", "has_fn", "wrong_count", "parse_error", "perfect", "direction")
SORTS = ("worst", "source", "peaks", "fp", "fn")


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


@dataclass
class Review:
    samples: list[dict]
    truth: dict
    pred: dict
    space: str
    roots: list[Path]
    metrics: dict

    @classmethod
    def load(cls, truth_path: Path, pred_path: Path, space: str = "image", images: Path | None = None) -> Review:
        result = evaluate_files(truth_path, pred_path, space)
        truth = {o["source"]: o for o in read_jsonl(truth_path)}
        pred = {o["source"]: o for o in read_jsonl(pred_path)}
        samples = []
        for k, r in enumerate(result["per_source"]):
            src, p_src = r["source"], r["prediction"]  # the matcher's pairing of sources (exact, or by file name)
            t = truth[src]
            pred_peaks = (pred.get(p_src) or {}).get("peaks") or []
            samples.append({"n": k, "source": src, "pred_source": p_src, "tp": len(r["tp"]), "fp": len(r["fp"]),
                            "fn": len(r["fn"]), "n_true": r["n_true"], "n_pred": r["n_pred"],
                            "direction": _direction_only(pred_peaks, t.get("peaks") or [], r, space),
                            "error": r["error"] if p_src else "no prediction",
                            "family": str((t.get("style") or {}).get("family", "")),
                            "match": {"tp": r["tp"], "fp": r["fp"], "fn": r["fn"], "errors": r["errors"]}})
        roots = [images or truth_path.parent]
        return cls(samples, truth, pred, space, roots, result["metrics"])

    def _keep(self, s: dict, filters, source: str, peaks, family: str) -> bool:
        for f in filters:
            if (f == "has_fp" and not s["fp"]) or (f == "has_fn" and not s["fn"]) or (
                    f == "wrong_count" and s["n_pred"] == s["n_true"]) or (f == "parse_error" and not s["error"]) or (
                    f == "perfect" and (s["fp"] or s["fn"])) or (f == "direction" and not s["direction"]):
                return False
        return (not source or source.lower() in s["source"].lower()) and (peaks is None or s["n_true"] == peaks) and (
            not family or s["family"] == family)

    def page(self, filters: list[str], sort: str, source: str, peaks, family: str, offset: int, limit: int) -> dict:
        filters = [f for f in filters if f in FILTERS]
        rows = [s for s in self.samples if self._keep(s, filters, source, peaks, family)]
        key = {"worst": lambda s: (-(s["fp"] + s["fn"]), s["n"]), "fp": lambda s: (-s["fp"], s["n"]),
               "fn": lambda s: (-s["fn"], s["n"]), "peaks": lambda s: (-s["n_true"], s["n"]),
               "source": lambda s: s["source"]}.get(sort, lambda s: s["n"])
        rows.sort(key=key)
        slices = {"family": {}, "peaks": {}}
        for s in rows:
            for name, value in (("family", s["family"] or "—"), ("peaks", str(s["n_true"]))):
                acc = slices[name].setdefault(value, [0, 0, 0, 0])
                acc[0] += s["tp"]
                acc[1] += s["fp"]
                acc[2] += s["fn"]
                acc[3] += 1
        order = {"family": lambda item: item[0], "peaks": lambda item: int(item[0])}
        slices = {name: [{"slice": v, "samples": a[3], **_prf(*a[:3])} for v, a in sorted(d.items(), key=order[name])]
                  for name, d in slices.items()}
        total = [sum(s[k] for s in rows) for k in ("tp", "fp", "fn")]
        fields = ("n", "source", "tp", "fp", "fn", "n_true", "n_pred", "error", "family", "direction")
        return {"total": len(rows), "all": len(self.samples), "offset": offset,
                "rows": [{k: s[k] for k in fields} for s in rows[offset:offset + limit]],
                "metrics": _prf(*total), "overall": self.metrics, "slices": slices,
                "families": sorted({s["family"] for s in self.samples if s["family"]})}

    def detail(self, n: int) -> dict:
        s = self.samples[n]
        p = self.pred.get(s["pred_source"]) or {}
        return {**{k: v for k, v in s.items() if k != "pred_source"}, "space": self.space,
                "truth": self.truth[s["source"]].get("peaks", []), "pred": p.get("peaks") or [],
                "text": p.get("text"), "axes": p.get("axes"), "convention": p.get("convention"),
                "couples": p.get("couples") or [], "warning": p.get("warning"),
                "has_image": self.image_path(n) is not None,
                "has_cv": self.space == "data" and self.cv_path(n) is not None}

    def source_path(self, n: int) -> Path | None:
        """The file of sample ``n``: a relative source inside the roots (never outside them); an absolute one, as
        ``voltpeak detect /abs/path`` writes it, as named in the truth file (clients pick samples by number, so
        no path of theirs is ever opened)."""
        source = self.samples[n]["source"]
        if Path(source).is_absolute():
            return Path(source) if Path(source).is_file() else None
        return inside_any(self.roots, source)

    def image_path(self, n: int) -> Path | None:
        path = self.source_path(n)
        return path if path and path.suffix.lower() in IMAGE_SUFFIXES else None

    def cv_path(self, n: int) -> Path | None:
        path = self.source_path(n)
        return path if path and path.suffix.lower() not in IMAGE_SUFFIXES else None


def _direction_only(pred: list[dict], truth: list[dict], result: dict, space: str) -> int:
    """How many of a sample's false positives sit where a missed truth of the other direction is: found in place,
    called the wrong way (a plot read in the wrong direction has all its peaks so)."""
    if not result["fp"] or not result["fn"]:
        return 0
    swapped = [Peak.from_record({**pred[i], "direction": "cathodic" if pred[i]["direction"] == "anodic" else "anodic"})
               for i in result["fp"]]
    missed = [Peak.from_record(truth[j]) for j in result["fn"]]
    return len(match_peaks(swapped, missed, space, result.get("tolerance")).tp)


def inside_any(roots: list[Path], relative: str) -> Path | None:
    """The file ``relative`` names inside one of ``roots`` (never outside them), else None."""
    for root in roots:
        path = inside(root, relative)
        if path is not None:
            return path
    return None
