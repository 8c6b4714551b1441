"""Benchmark of ``voltpeak simulate --n 2000``: CVs/s as a user runs it, and where one worker's time goes.

    python benchmarks/simulate_command.py [--n 2000] [--repeats 2] [--src OTHER/src]

Rows:
- ``voltpeak simulate --n N --out TMP`` in a fresh process (start-up, all cores, files written): CVs/s of the
  best of ``--repeats`` runs, the processes' CPU seconds, and a digest of the files written (same seed, same
  digest: the outputs did not change);
- the split of one worker's chunk (the first ``min(1024, N/2)`` CVs, in this process, CPU seconds): sampling the
  parameters, the faradaic currents without and with uncompensated resistance, background and noise, the truth
  peaks (and shoulders), writing the CSVs, the truth records, and the rest.

``--src`` runs another checkout's ``src`` (e.g. an older commit exported with ``git archive``), so a before/after
pair can be measured under the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def command_rate(n: int, src: Path, repeats: int) -> tuple[float, float, str]:
    """(CVs/s of the best run, CPU seconds of that run's processes, sha256 of the files it wrote)."""
    best, cpu, digest = 0.0, 0.0, ""
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "voltpeak", "simulate", "--n", str(n), "--out", d, "--force"],
                           check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(src)})
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if n / wall > best:
                best = n / wall
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            h = hashlib.sha256()
            for path in sorted(Path(d).iterdir()):
                h.update(path.name.encode() + path.read_bytes())
            digest = h.hexdigest()[:16]
    return best, cpu, digest


# Stage of each timed function (module attribute); a call's time goes to its stage less its timed callees'.
STAGES = {
    ("voltpeak.simulate.config", "SimulationConfig.sample"): "sampling parameters",
    ("voltpeak.simulate.batch", "currents_with_ir"): "faradaic currents, with iR drop (5 %)",
    ("voltpeak.simulate.batch", "reduction_current"): "faradaic currents, no iR drop",
    ("voltpeak.simulate.batch", "ee_reduction_current"): "faradaic currents, no iR drop",
    ("voltpeak.simulate.batch", "adsorbed_reduction_current"): "faradaic currents, no iR drop",
    ("voltpeak.simulate.batch", "assemble"): "background, noise",
    ("voltpeak.simulate.cv", "true_peaks"): "truth peaks and shoulders",
    ("voltpeak.simulate.cv", "_shoulders"): "truth peaks and shoulders",
    ("voltpeak.simulate.batch", "write_table"): "writing CSVs",
    ("voltpeak.simulate.cv", "SimulatedCV.truth_record"): "truth records (JSON)",
}


def stage_split(n: int) -> tuple[dict[str, float], int]:
    """CPU seconds per stage of the first chunk a worker of ``simulate --n n`` runs, and its number of CVs."""
    import importlib

    import voltpeak.simulate.batch as batch
    from voltpeak.simulate.config import SimulationConfig

    spent: dict[str, float] = {}
    stack: list[list[float]] = []  # per open call: [start, time of timed callees]

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

    wrapped = {}
    for (module, name), stage in STAGES.items():
        owner = importlib.import_module(module)
        *path, attr = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, attr)
        # One wrapper per function: ``RedoxCouple.kernel`` (voltpeak.simulate.cv) must return what batch compares.
        wrapped.setdefault(id(original), timed(original, stage))
        setattr(owner, attr, wrapped[id(original)])
    cv = importlib.import_module("voltpeak.simulate.cv")
    for name in ("reduction_current", "ee_reduction_current", "adsorbed_reduction_current"):
        setattr(cv, name, getattr(batch, name))
    size = max(1, min(batch.CHUNK, -(-n // 2)))
    with tempfile.TemporaryDirectory() as d:
        t = time.process_time()
        batch._write_chunk((SimulationConfig(), 0, range(size), Path(d)))
        total = time.process_time() - t
    spent["other (programmes, padding, bookkeeping)"] = total - sum(spent.values())
    return spent, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="CVs (default 2000)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of the command; the best counts")
    parser.add_argument("--src", type=Path, default=HERE.parent / "src", help="the voltpeak source tree to time")
    args = parser.parse_args()
    src = args.src.resolve()
    sys.path.insert(0, str(src))
    rate, cpu, digest = command_rate(args.n, src, args.repeats)
    print(f"source: {src}, {os.cpu_count()} cores")
    print("| measurement | value |")
    print("|---|---|")
    print(f"| `voltpeak simulate --n {args.n}` (default mix, files written) | {rate:.0f} CVs/s "
          f"({args.n / rate:.1f} s; CPU {cpu:.1f} s; files {digest}) |")
    spent, size = stage_split(args.n)
    total = sum(spent.values())
    print(f"| one worker's chunk ({size} CVs, one core, CPU) | {total:.2f} s |")
    for stage, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"| - {stage} | {seconds:.2f} s ({100 * seconds / total:.0f} %) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
