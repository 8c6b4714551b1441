"""Benchmark of the simulator: speed against cvsim, batch throughput, memory, and the detector on its CVs.

    python benchmarks/simulate.py [--n 1000] [--batch 400]

Rows:
- the same reversible CV (1 mV steps, 0.8 V window, one cycle) by voltpeak and by cvsim, in one run (and a
  quasi-reversible one);
- labelled CVs/s of a batch at 1 mV steps on all cores, in memory and written to disk (CSV + truth.jsonl), and of
  ``voltpeak simulate --n 2000`` as a user runs it (the default mix: finer steps, more cycles, 5 % with iR drop);
- peak memory for two batch sizes (it should not grow with N);
- the classical detector on ``--n`` CVs from the default parameter distributions, per mechanism.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import numpy as np  # noqa: E402
from common import peak_rss_mb, record  # noqa: E402

from voltpeak.detect import detect  # noqa: E402
from voltpeak.evaluate import match_peaks, summarise  # noqa: E402
from voltpeak.simulate.batch import CHUNK, simulate_batch, simulate_to_folder  # noqa: E402
from voltpeak.simulate.config import SimulationConfig  # noqa: E402
from voltpeak.simulate.cv import MECHANISMS  # noqa: E402
from voltpeak.simulate.diffusion import reduction_current  # noqa: E402
from voltpeak.simulate.waveform import potential_programme  # noqa: E402


def best_time(f, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def versus_cvsim():
    import cvsim.mechanisms as cv

    area = np.pi * 0.15**2
    t, E = potential_programme(0.4, (-0.4,), 1, 0.001, 0.1)
    rows = []
    for name, ours, theirs in (
        ("reversible", lambda: reduction_current(E, 0.01, 0.0, area_cm2=area),
         lambda: cv.E_rev(0.4, -0.4, 0.0, 0.1, 1.0, 1e-5, 1e-5).simulate()),
        ("quasi-reversible (k0 1e-3 cm/s)", lambda: reduction_current(E, 0.01, 0.0, area_cm2=area, k0_cm_s=1e-3),
         lambda: cv.E_q(0.4, -0.4, 0.0, 0.1, 1.0, 1e-5, 1e-5, 0.5, 1e-3).simulate()),
    ):
        a, b = best_time(ours, 5), best_time(theirs, 2)
        rows.append((name, a, b))
    return rows


def simulate_rss_mb(n: int, chunk: int = 128) -> float:
    """Peak memory (MB) of one process that simulates ``n`` CVs to disk in chunks of ``chunk``."""
    return peak_rss_mb("import tempfile\nfrom pathlib import Path\nimport voltpeak.simulate.batch as b\n"
                       "from voltpeak.simulate.config import SimulationConfig\n"
                       f"b.CHUNK = {chunk}\nb.simulate_to_folder({n}, Path(tempfile.mkdtemp()), 0, "
                       "SimulationConfig(step_V=(0.001,), cycles=(1, 1)), workers=1)")


def cli_rate(n: int) -> float:
    """CVs/s of ``voltpeak simulate --n N`` as a user runs it (default distributions, files written, all cores),
    start-up included."""
    import subprocess

    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "voltpeak", "simulate", "--n", str(n), "--out", d, "--force"],
                       check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(HERE.parent / "src")})
        return n / (time.perf_counter() - t)


def _count(args) -> int:
    config, a, b = args
    return len(simulate_batch(config, 1, range(a, b)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="CVs for the detector rows")
    parser.add_argument("--batch", type=int, default=2 * CHUNK, help="CVs for the throughput rows")
    parser.add_argument("--cli", type=int, default=2000, help="CVs for the command-line row")
    args = parser.parse_args()
    workers = os.cpu_count() or 1

    print("| measurement | value |")
    print("|---|---|")
    for name, ours, theirs in versus_cvsim():
        print(f"| {name} CV, 1 mV steps, 0.8 V: voltpeak / cvsim | {ours * 1e3:.2f} ms / {theirs * 1e3:.0f} ms "
              f"= {theirs / ours:.0f}x faster |")
        record("simulate", f"one {name} CV, ms", f"{ours * 1e3:.2f}", f"cvsim {theirs * 1e3:.0f}")

    one_mv = SimulationConfig(step_V=(0.001,), cycles=(1, 1))
    chunk = min(args.batch, CHUNK)
    t = time.perf_counter()
    simulate_batch(one_mv, 1, range(chunk))
    single = chunk / (time.perf_counter() - t)
    print(f"| labelled CVs/s at 1 mV, in memory, one core | {single:.0f} |")
    import multiprocessing

    t = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        done = sum(pool.map(_count, [(one_mv, a, min(a + chunk, args.batch)) for a in range(0, args.batch, chunk)]))
    print(f"| labelled CVs/s at 1 mV, in memory, {workers} cores | {done / (time.perf_counter() - t):.0f} |")
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        simulate_to_folder(args.batch, Path(d), 1, one_mv, workers=workers)
        disk = args.batch / (time.perf_counter() - t)
    print(f"| labelled CVs/s at 1 mV, to disk (CSV + truth), {workers} cores | {disk:.0f} |")
    record("simulate", f"labelled CVs/s at 1 mV to disk, {workers} cores", f"{disk:.0f}", "")
    cli, start = cli_rate(args.cli), 2 / cli_rate(2)
    print(f"| `voltpeak simulate --n {args.cli}` (default mix, files written), {workers} cores | {cli:.0f} CVs/s |")
    print(f"| `voltpeak simulate --n 2`: start-up and two CVs | {start:.2f} s |")
    record("simulate", f"voltpeak simulate --n {args.cli}: CVs/s, {workers} cores", f"{cli:.0f}", "goal 200")
    small, large = simulate_rss_mb(256), simulate_rss_mb(1024)
    print(f"| peak memory, 256 vs 1024 CVs to disk in chunks of 128 (one process) | {small:.0f} MB vs {large:.0f} MB |")

    config = SimulationConfig()
    t = time.perf_counter()
    cases = []
    for a in range(0, args.n, CHUNK):
        cases += simulate_batch(config, 2026, range(a, min(a + CHUNK, args.n)))
    print(f"| {args.n} CVs, default distributions: simulated in | {time.perf_counter() - t:.0f} s (one core) |")
    matchings = [match_peaks(detect(c.noisy), c.truth, window_V=c.noisy.window_V) for c in cases]
    m = summarise(matchings)
    print(f"| detector on them: P / R / F1, median abs dE | {m['precision']:.3f} / {m['recall']:.3f} / "
          f"{m['f1']:.3f}, {m['median_abs_dE_mV']:.2f} mV |")
    for mech in MECHANISMS:
        part = [mt for mt, c in zip(matchings, cases) if any(cp.mechanism == mech for cp in c.couples)]
        only = [mt for mt, c in zip(matchings, cases) if all(cp.mechanism == mech for cp in c.couples)]
        if part:
            s, o = summarise(part), summarise(only) if only else None
            only_text = f", only {mech}: {o['f1']:.3f} ({o['sources']} CVs)" if o else ""
            print(f"| detector F1, CVs with a {mech} couple | {s['f1']:.3f} ({s['sources']} CVs){only_text} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
