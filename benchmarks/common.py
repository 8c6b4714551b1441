"""Helpers shared by the benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def peak_rss_mb(code: str) -> float:
    """Peak resident memory (MB) of a fresh Python process that runs ``code`` with voltpeak importable."""
    program = (f"import sys, resource; sys.path.insert(0, {str(SRC)!r})\n{code}\n"
               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def record(area: str, measure: str, value: str, baseline: str = "") -> None:
    """A row of ``benchmarks/all.py``'s summary table (written where $VOLTPEAK_BENCH_SUMMARY says; else nothing)."""
    path = os.environ.get("VOLTPEAK_BENCH_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"area": area, "measure": measure, "value": value, "baseline": baseline}) + "\n")


def curves_slice(n: int) -> str:
    """The slice of a plot of ``n`` curves, as every benchmark table names it."""
    return "1 curve" if n <= 1 else ("2–4 curves" if n <= 4 else "5–12 curves")
