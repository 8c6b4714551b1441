"""Write the hand labels of real CVs (src/voltpeak/examples/labels/*.jsonl) as one pool that ``voltpeak build
--pool`` reads: absolute sources, grouped by paper folder (echemdb) or file (gamry).

    python scripts/real_pool.py --real DIR [--out data/real-hand/truth.jsonl] [--half train|test]
                                [--sure-only] [--unlabelled-out data/real-unlabelled/truth.jsonl]

DIR (or VOLTPEAK_REAL_DATA=DIR) is the folder of the project's collection of real CV files (echemdb, Gamry,
BioLogic), kept outside the repository; the labels' sources are relative to it.

Labels are potential-only (read off plots); the pool places each on its curve. ``--half`` keeps one of the two
fixed halves of the labelled systems (``voltpeak.dataset.pool.hand_half``), for a model that learns from plots
of one half and is measured on the other. ``--sure-only`` leaves out the labels marked low-confidence.
``--unlabelled-out`` also writes a training pool of the other real CVs: the echemdb CVs of papers none of whose CVs
is hand-labelled, with the classical detector's peaks as their labels (proposals, not hand labels).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "src"))

from voltpeak.dataset.pool import hand_label_lines  # noqa: E402
from voltpeak.demo import hand_labels_dir  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", default=os.environ.get("VOLTPEAK_REAL_DATA") or None,
                    help="the folder of real CV files (default: $VOLTPEAK_REAL_DATA)")
    ap.add_argument("--out", default="data/real-hand/truth.jsonl")
    ap.add_argument("--half", choices=("train", "test"), help="only this half of the labelled systems")
    ap.add_argument("--sure-only", action="store_true")
    ap.add_argument("--unlabelled-out", help="also write the detector-labelled pool of the unlabelled papers here")
    args = ap.parse_args()
    if not args.real:
        raise SystemExit("real_pool: no folder of real CV files: pass --real DIR or set VOLTPEAK_REAL_DATA=DIR "
                         "(the project's collection of real CV files)")
    data = Path(args.real)
    if not data.is_dir():
        raise SystemExit(f"real_pool: --real {data}: no such folder")
    lines = hand_label_lines(hand_labels_dir(), data, args.sure_only, args.half)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    print(f"{len(lines)} hand-labelled CVs{f' ({args.half} half)' if args.half else ''} written to {out}")
    if args.unlabelled_out:
        from voltpeak.detect import detect
        from voltpeak.read import read

        papers = {line["group"] for line in hand_label_lines(hand_labels_dir(), data)}
        free = sorted(p for p in (data / "echemdb").glob("*/*.csv") if f"echemdb/{p.parent.name}" not in papers)
        pool = [{"source": str(p.resolve()), "peaks": [q.to_record() for q in detect(read(p))],
                 "group": f"echemdb/{p.parent.name}"} for p in free]
        out = Path(args.unlabelled_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(x) + "\n" for x in pool))
        print(f"{len(pool)} CVs of {len({x['group'] for x in pool})} unlabelled papers written to {out}")


if __name__ == "__main__":
    main()
