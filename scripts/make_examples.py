"""Regenerate the bundled example CVs (src/voltpeak/examples) that `voltpeak demo` detects and evaluates.

    python scripts/make_examples.py

Ten noisy CVs simulated with cvsim (MIT; a test dependency) with 1-3 couples, charging current, sloped background
and noise, written in the header styles the reader understands, plus truth.jsonl: the exact peaks of each noiseless CV.
"""

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cvsim_cases import make_case  # noqa: E402

from voltpeak.read.write import STYLES, write_table  # noqa: E402
from voltpeak.voltammogram import Voltammogram  # noqa: E402

ELECTRODE_AREA_M2 = np.pi * 0.0015**2  # cvsim's 1.5 mm disk


def main():
    out = ROOT / "src" / "voltpeak" / "examples"
    out.mkdir(exist_ok=True)
    for old in out.glob("cv_*"):
        old.unlink()
    styles = list(STYLES)
    truth_lines = []
    for k in range(10):
        case = make_case(np.random.default_rng([2026, k]), n_points=1000, snr_range=(20.0, 100.0))
        v, truth = case.noisy, case.truth
        if k % 4 == 3:  # some files in current density
            v = Voltammogram(v.potential_V, v.current / ELECTRODE_AREA_M2, quantity="j")
            for p in truth:
                p.current, p.quantity = p.current / ELECTRODE_AREA_M2, "j"
        style = styles[k % len(styles)]
        name = f"cv_{k + 1:02d}_{style}.{'txt' if style in ('bare', 'chi') else 'csv'}"
        write_table(v, out / name, style)
        truth_lines.append({"source": name, "peaks": [p.to_record() for p in truth],
                            "window": [round(x, 6) for x in v.window_V], "snr": round(case.snr, 1),
                            "couples": case.couples})
    (out / "truth.jsonl").write_text("".join(json.dumps(t) + "\n" for t in truth_lines))
    print(f"wrote {len(truth_lines)} examples to {out}")


if __name__ == "__main__":
    main()
