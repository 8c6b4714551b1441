"""Write the hand labels of real CVs (benchmarks/labels/*.jsonl, sources relative to ../shared/data) as one pool
that ``voltpeak build --pool`` reads: absolute sources, grouped by paper folder (echemdb) or file (gamry).

    python scripts/real_pool.py [--shared ../shared] [--out data/real-hand/truth.jsonl] [--sure-only]

Labels are potential-only (read off plots); the pool places each on its curve. ``--sure-only`` leaves out the
labels marked low-confidence (features an expert might or might not mark).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(HERE.parent / "shared"))
    ap.add_argument("--out", default="data/real-hand/truth.jsonl")
    ap.add_argument("--sure-only", action="store_true")
    args = ap.parse_args()
    data = Path(args.shared).resolve() / "data"
    if not data.is_dir():
        raise SystemExit(f"real_pool: {data} is absent (clone the project beside its shared/ folder)")
    lines = []
    for labels in sorted((HERE / "benchmarks" / "labels").glob("*.jsonl")):
        for raw in labels.read_text().splitlines():
            if not raw.strip():
                continue
            rec = json.loads(raw)
            source = rec["source"]
            group = str(Path(source).parent) if source.startswith("echemdb/") else source
            peaks = [{k: v for k, v in p.items() if k != "confidence"} for p in rec["peaks"]
                     if not (args.sure_only and p.get("confidence") == "low")]
            lines.append({"source": str(data / source), "peaks": peaks, "group": group})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    print(f"{len(lines)} hand-labelled CVs written to {out}")


if __name__ == "__main__":
    main()
