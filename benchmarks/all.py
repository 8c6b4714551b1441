"""Every benchmark of ``benchmarks/`` in one command (``make bench``), then one summary table.

    python benchmarks/all.py [--quick]

Runs detect.py, simulate.py, build.py, predict.py (the shipped models on a small fresh build), axes.py and serve.py in
turn, each printing its own table, and ends with one table of their headline figures, each beside its baseline
(a simpler method run in the same process, or the figure a goal names). ``--quick`` passes smaller sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = (("detect.py", [], ["--n", "60"]), ("simulate.py", [], ["--n", "200", "--batch", "256"]),
        ("build.py", [], ["--n", "300", "--render", "10"]), ("predict.py", [], ["--n", "64"]),
        ("axes.py", [], ["--n", "40"]),
        ("serve.py", [], ["--repeat", "3"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not the README figures)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.jsonl"
        env = {**os.environ, "VOLTPEAK_BENCH_SUMMARY": str(summary)}
        times = {}
        for script, full, quick in RUNS:
            print(f"\n## {script}\n", flush=True)
            t = time.perf_counter()
            done = subprocess.run([sys.executable, str(HERE / script), *(quick if args.quick else full)], env=env)
            times[script] = time.perf_counter() - t
            if done.returncode:
                print(f"{script} failed (exit {done.returncode})", file=sys.stderr)
                return done.returncode
        rows = [json.loads(line) for line in summary.read_text().splitlines()] if summary.exists() else []
    print(f"\n## Summary ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)\n")
    print("| area | measure | voltpeak | baseline |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['area']} | {r['measure']} | {r['value']} | {r['baseline']} |")
    print("\n" + ", ".join(f"{k} {v / 60:.1f} min" for k, v in times.items())
          + f"; total {sum(times.values()) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
