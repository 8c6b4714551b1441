"""Write the hand labels of real CVs (benchmarks/labels/*.jsonl, sources relative to ../shared/data) as one pool
that ``voltpeak build --pool`` reads: absolute sources, grouped by paper folder (echemdb) or file (gamry).

    python scripts/real_pool.py [--shared ../shared] [--out data/real-hand/truth.jsonl] [--sure-only]

Labels are potential-only (read off plots); the pool places each on its curve. ``--sure-only`` leaves out the
labels marked low-confidence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "src"))

from voltpeak.dataset.pool import hand_label_lines  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(HERE.parent / "shared"))
    ap.add_argument("--out", default="data/real-hand/truth.jsonl")
    ap.add_argument("--sure-only", action="store_true")
    args = ap.parse_args()
    data = Path(args.shared) / "data"
    if not data.is_dir():
        raise SystemExit(f"real_pool: {data} is absent (clone the project beside its shared/ folder)")
    lines = hand_label_lines(HERE / "benchmarks" / "labels", data, args.sure_only)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    print(f"{len(lines)} hand-labelled CVs written to {out}")


if __name__ == "__main__":
    main()
