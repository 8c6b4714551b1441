"""Benchmark of ``voltpeak simulate --n 2000``: CVs/s as a user runs it, and where one worker's time goes.

    python benchmarks/simulate_command.py [--n 2000] [--repeats 3] [--baseline OLD/src]

Rows:
- ``voltpeak simulate --n N --out TMP`` in a fresh process (start-up, all cores, files written): CVs/s of the
  best and the median of ``--repeats`` runs, the processes' CPU seconds in the best run, and a digest of the files
  written (the same seed gives the same digest: the outputs did not change);
- the split of one worker's chunk (the first ``min(1024, N/2)`` CVs, in one process, CPU seconds; the run with
  the least CPU time of ``--repeats``): sampling the parameters, the faradaic currents without and with
  uncompensated resistance, background and noise, the truth peaks (and shoulders), writing the CSVs, the truth
  records, and the rest.

``--baseline`` times another checkout's ``src`` as well (e.g. an older commit: ``git archive COMMIT src | tar -x
-C /tmp/old``), its runs interleaved with this tree's, so a before/after pair shares the load of a shared machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def command_run(n: int, src: Path) -> tuple[float, float, str]:
    """One ``voltpeak simulate --n n`` from ``src``: (wall seconds, CPU seconds of its processes, files' sha256)."""
    with tempfile.TemporaryDirectory() as d:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "voltpeak", "simulate", "--n", str(n), "--out", d, "--force"],
                       check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(src)})
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        h = hashlib.sha256()
        for path in sorted(Path(d).iterdir()):
            h.update(path.name.encode() + path.read_bytes())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, h.hexdigest()[:16]


# Stage of each timed function (module attribute); a call's time goes to its stage less its timed callees'.
STAGES = {
    ("voltpeak.simulate.config", "SimulationConfig.sample"): "sampling parameters",
    ("voltpeak.simulate.batch", "currents_with_ir"): "faradaic currents, with iR drop (5 % of CVs)",
    ("voltpeak.simulate.batch", "reduction_current"): "faradaic currents, no iR drop",
    ("voltpeak.simulate.batch", "ee_reduction_current"): "faradaic currents, no iR drop",
    ("voltpeak.simulate.batch", "adsorbed_reduction_current"): "faradaic currents, no iR drop",
    ("voltpeak.simulate.batch", "assemble"): "background, noise",
    ("voltpeak.simulate.cv", "true_peaks"): "truth peaks and shoulders",
    ("voltpeak.simulate.cv", "_shoulders"): "truth peaks and shoulders",
    ("voltpeak.simulate.batch", "write_table"): "writing CSVs",
    ("voltpeak.simulate.cv", "SimulatedCV.truth_record"): "truth records (JSON)",
}
OTHER = "other (programmes, padding, bookkeeping)"

# Run in a fresh process per source tree: CPU seconds per stage of the first chunk, as JSON.
SPLIT = """
import importlib, json, sys, tempfile, time
from pathlib import Path
n, stages = int(sys.argv[1]), json.loads(sys.argv[2])
import voltpeak.simulate.batch as batch
from voltpeak.simulate.config import SimulationConfig
spent, stack, wrapped = {}, [], {}

def timed(f, stage):
    def wrapper(*args, **kwargs):
        stack.append([time.process_time(), 0.0])
        try:
            return f(*args, **kwargs)
        finally:
            start, inner = stack.pop()
            total = time.process_time() - start
            spent[stage] = spent.get(stage, 0.0) + total - inner
            if stack:
                stack[-1][1] += total
    return wrapper

for module, name, stage in stages:
    owner = importlib.import_module(module)
    *path, attr = name.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, attr)
    wrapped.setdefault(id(original), timed(original, stage))  # one wrapper per function
    setattr(owner, attr, wrapped[id(original)])
cv = importlib.import_module("voltpeak.simulate.cv")
for name in ("reduction_current", "ee_reduction_current", "adsorbed_reduction_current"):
    setattr(cv, name, getattr(batch, name))  # RedoxCouple.kernel must return what batch compares with
size = max(1, min(batch.CHUNK, -(-n // 2)))
with tempfile.TemporaryDirectory() as d:
    t = time.process_time()
    batch._write_chunk((SimulationConfig(), 0, range(size), Path(d)))
    total = time.process_time() - t
print(json.dumps({"size": size, "total": total, "spent": spent}))
"""


def stage_split(n: int, src: Path) -> dict:
    """CPU seconds per stage of the first chunk a worker of ``simulate --n n`` runs, from the tree ``src``."""
    stages = json.dumps([[module, name, stage] for (module, name), stage in STAGES.items()])
    out = subprocess.run([sys.executable, "-c", SPLIT, str(n), stages], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(src)})
    split = json.loads(out.stdout.strip().splitlines()[-1])
    split["spent"][OTHER] = split["total"] - sum(split["spent"].values())
    return split


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="CVs (default 2000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the command per tree")
    parser.add_argument("--baseline", type=Path, help="another voltpeak source tree to time beside this one")
    args = parser.parse_args()
    trees = {"this tree": HERE.parent / "src"}
    if args.baseline:
        trees = {"baseline": args.baseline.resolve(), **trees}
    runs = {name: [] for name in trees}
    splits = {}
    for _ in range(args.repeats):  # the trees in turn, so that each sees the same share of a shared machine's load
        for name, src in trees.items():
            runs[name].append(command_run(args.n, src))
            split = stage_split(args.n, src)
            if name not in splits or split["total"] < splits[name]["total"]:
                splits[name] = split  # the least disturbed run

    print(f"{os.cpu_count()} cores; " + "; ".join(f"{name}: {src}" for name, src in trees.items()))
    print("| measurement | " + " | ".join(trees) + " |")
    print("|---|" + "---|" * len(trees))
    best = {name: min(r, key=lambda x: x[0]) for name, r in runs.items()}
    cells = [f"{args.n / best[name][0]:.0f} CVs/s (median {args.n / statistics.median(w for w, _, _ in r):.0f})"
             for name, r in runs.items()]
    print(f"| `voltpeak simulate --n {args.n}`, best of {args.repeats} | " + " | ".join(cells) + " |")
    print("| its wall / CPU seconds | " + " | ".join(f"{best[name][0]:.1f} / {best[name][1]:.1f}"
                                                   for name in trees) + " |")
    print("| its files (sha256) | " + " | ".join(", ".join(sorted({h for _, _, h in r})) for r in runs.values())
          + " |")
    size = next(iter(splits.values()))["size"]
    print(f"| one worker's chunk ({size} CVs, one core), CPU s, least of {args.repeats} | "
          + " | ".join(f"{s['total']:.2f}" for s in splits.values()) + " |")
    last = splits[list(trees)[-1]]["spent"]
    for stage in sorted({*last, *next(iter(splits.values()))["spent"]}, key=lambda s: -last.get(s, 0.0)):
        print(f"| - {stage} | " + " | ".join(f"{s['spent'].get(stage, 0.0):.2f} "
                                             f"({100 * s['spent'].get(stage, 0.0) / s['total']:.0f} %)"
                                             for s in splits.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
