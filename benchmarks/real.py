"""Detector against hand labels of real CVs (cycle 1), as ``voltpeak detect --cycle 1`` runs.

    python benchmarks/real.py --real DIR [--show-errors]    (or VOLTPEAK_REAL_DATA=DIR)

DIR is the folder of the project's collection of real CV files (echemdb, Gamry, BioLogic), kept outside the
repository; without it the benchmark is skipped. Labels (src/voltpeak/examples/labels/*.jsonl, sources relative to
DIR) were made by careful inspection of plots of cycle 1, following docs/contracts.md's
peak definition; peaks an expert might or might not mark carry ``"confidence": "low"``. Two scores per set:
strict (every label is truth) and lenient (low-confidence labels are "don't care": neither missing them nor
finding them counts).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from voltpeak.demo import hand_labels_dir  # noqa: E402
from voltpeak.detect import detect_file  # noqa: E402
from voltpeak.evaluate import match_peaks, summarise  # noqa: E402
from voltpeak.peak import Peak  # noqa: E402

ENV = "VOLTPEAK_REAL_DATA"
HOW = f"pass --real DIR or set {ENV}=DIR (the folder of the project's collection of real CV files)"


def real_data(given: Path | None) -> Path | None:
    """The folder of real CV files: ``given`` (--real), else $VOLTPEAK_REAL_DATA, else None."""
    path = given or os.environ.get(ENV)
    return Path(path) if path else None


def label_files() -> list[Path]:
    return sorted(hand_labels_dir().glob("*.jsonl"))


def load_labels(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def score(label_file: Path, real: Path, show_errors: bool = False) -> dict:
    strict, lenient = [], []
    for rec in load_labels(label_file):
        out = detect_file(str(real / rec["source"]), cycle=1)
        pred = [Peak.from_record(p) for p in out["peaks"]]
        window = tuple(out["window"])
        sure = [Peak.from_record(p) for p in rec["peaks"] if p.get("confidence") != "low"]
        unsure = [Peak.from_record(p) for p in rec["peaks"] if p.get("confidence") == "low"]
        m = match_peaks(pred, sure + unsure, window_V=window)
        strict.append(m)
        # Lenient: predictions that match an unsure label are dropped, unsure labels are dropped.
        hit_unsure = {i for i, j in m.tp if j >= len(sure)}
        kept = [p for i, p in enumerate(pred) if i not in hit_unsure]
        m2 = match_peaks(kept, sure, window_V=window)
        lenient.append(m2)
        if show_errors and (m.fp or m.fn):
            truth = sure + unsure
            fp = [f"{pred[i].direction[0]}{pred[i].potential:+.3f}" for i in m.fp]
            fn = [f"{truth[j].direction[0]}{truth[j].potential:+.3f}{'?' if j >= len(sure) else ''}" for j in m.fn]
            print(f"  {rec['source']}: FP {fp} FN {fn}")
    return {"strict": summarise(strict), "lenient": summarise(lenient)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, help=f"the folder of real CV files (default: ${ENV})")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    real = real_data(args.real)
    if real is None:
        print(f"real-data benchmark skipped: {HOW}")
        return 0
    if not real.is_dir():
        print(f"real.py: {real}: no such folder", file=sys.stderr)
        return 2
    print(f"{'set':<14} {'score':<8} {'files':>5} {'TP':>4} {'FP':>4} {'FN':>4} {'P':>6} {'R':>6} {'F1':>6} "
          f"{'med|dE| mV':>10}")
    for label_file in label_files():
        if args.show_errors:
            print(label_file.stem)
        res = score(label_file, real, args.show_errors)
        for kind, m in res.items():
            print(f"{label_file.stem:<14} {kind:<8} {m['sources']:>5} {m['tp']:>4} {m['fp']:>4} {m['fn']:>4} "
                  f"{m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f} {m['median_abs_dE_mV']:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
