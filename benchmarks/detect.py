"""Benchmark of the classical detector: accuracy on noisy simulated and hand-labelled real CVs, and speed.

    python benchmarks/detect.py [--n 200] [--seed 0] [--processes 2] [--real DIR]

Simulated set: ``--n`` CVs made with cvsim (1–3 couples, reversible or quasi-reversible, double-layer charging
with its RC transient, sloped background, white noise with SNR 15–200; 2,000 points), cached under
benchmarks/.cache. Real sets: the hand labels (src/voltpeak/examples/labels, see real.py) of the project's
collection of real CV files, kept outside the repository (``--real DIR`` or VOLTPEAK_REAL_DATA=DIR; skipped
without), scored as ``voltpeak detect --cycle 1`` runs them. Baseline rows: scipy ``find_peaks`` on the raw current
of each sweep (the same 1 % prominence floor) and on the whole record. Throughput: CVs/s on one core, CVs already in
memory.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from common import record  # noqa: E402
from scipy.signal import find_peaks  # noqa: E402

from voltpeak.detect import analyse, detect  # noqa: E402
from voltpeak.evaluate import match_peaks, summarise  # noqa: E402
from voltpeak.peak import Peak  # noqa: E402
from voltpeak.voltammogram import Voltammogram, sweeps  # noqa: E402


def find_peaks_sweeps(v, min_fraction=0.01):
    """Baseline: scipy find_peaks on the raw current of each sweep (maxima anodic, minima cathodic)."""
    scale = float(v.current.max() - v.current.min())
    out = []
    for a, b, direction in sweeps(v.potential_V):
        idx, _ = find_peaks(v.current[a:b] * direction, prominence=min_fraction * scale)
        out += [Peak("anodic" if direction > 0 else "cathodic", float(v.potential_V[a + i])) for i in idx]
    return out


def find_peaks_record(v, min_fraction=0.01):
    """Naive baseline: find_peaks on the whole record, maxima anodic and minima cathodic, ignoring sweeps."""
    scale = float(v.current.max() - v.current.min())
    out = []
    for direction, name in ((1, "anodic"), (-1, "cathodic")):
        idx, _ = find_peaks(v.current * direction, prominence=min_fraction * scale)
        out += [Peak(name, float(v.potential_V[i])) for i in idx]
    return out


COUPLE_SET = {"snr_range": (15.0, 100.0), "charging_range": (0.02, 0.4)}  # issue 20's couple figures


def load_cases(n: int, seed: int, processes: int, **kwargs):
    name = "_".join([f"cvsim_{n}_{seed}"] + [f"{k}{v[0]}-{v[1]}" if isinstance(v, tuple) else f"{k}-{v}"
                                             for k, v in sorted(kwargs.items())])
    cache = HERE / ".cache" / f"{name}_v4.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    from cvsim_cases import make_cases

    t = time.perf_counter()
    cases = make_cases(n, seed, processes=processes, **kwargs)
    print(f"simulated {n} CVs with cvsim in {time.perf_counter() - t:.0f} s (cached in {cache})", file=sys.stderr)
    cache.parent.mkdir(exist_ok=True)
    cache.write_bytes(pickle.dumps(cases))
    return cases


def accuracy(cases, method):
    return summarise([match_peaks(method(c.noisy), c.truth, window_V=c.noisy.window_V) for c in cases])


def visible(case, system, tolerance=0.03) -> bool:
    """Whether a couple shows as two peaks of the CV's own (noiseless) current, each within ``tolerance`` V of
    the couple's own peak: a couple whose wave merged into a neighbour's is a shoulder, with no Ep to read."""
    return all(any(p.direction == side and abs(p.potential - system[side]) <= tolerance for p in case.truth)
               for side in ("anodic", "cathodic"))


def couple_scores(cases, method=analyse, only_visible: bool = False) -> dict:
    """Per chemically reversible couple of the cases (its own E1/2 known): whether the couple ``method`` reports
    nearest it has E1/2 within 5 mV, and ipa/ipc within 15 % of the couple's own (measured alone from the forward
    wave's decay: 1 for a Nernstian couple, 0.75–1.8 for slow ones with α ≠ ½). A couple not found fails both.
    ``only_visible``: only couples that show as two peaks of the CV (``visible``)."""
    e_ok = ratio_ok = total = 0
    ratios = []
    for c in cases:
        _, found = method(c.noisy)
        for system in c.systems:
            if system["e_half"] is None or (only_visible and not visible(c, system)):
                continue
            total += 1
            near = min(found, key=lambda cp: abs(cp.e_half_V - system["e_half"]), default=None)
            if near is None or abs(near.e_half_V - system["e_half"]) > 0.05:
                continue
            e_ok += abs(near.e_half_V - system["e_half"]) <= 0.005
            ratio = abs(near.ipa / near.ipc) if near.ipa is not None and near.ipc else None
            ratios.append(ratio)
            ratio_ok += ratio is not None and 0.85 <= ratio / system["ratio"] <= 1.15
    known = [r for r in ratios if r is not None]
    return {"couples": total, "e_half": e_ok / max(total, 1), "ratio": ratio_ok / max(total, 1),
            "ratio_median": float(np.median(known)) if known else float("nan"),
            "ratio_iqr": tuple(np.percentile(known, [25, 75])) if known else (float("nan"),) * 2}


def slow_couples(cases, where: str = "") -> None:
    """The couple table on quasi-reversible couples of every speed (cvsim, k0 1e-4–1e-1 cm/s, α 0.3–0.7), by k0:
    E1/2 within 5 mV, ipa/ipc within 15 % of the couple's own (``couple_scores``), the right peaks paired (the
    couple reported nearest has both peak potentials within 20 mV of the couple's own), and k0 within a factor 2
    (a k0 withheld or not found counts as wrong); the time a CV takes."""
    analysed = _once(analyse)
    bands = ((1e-4, 1e-3), (1e-3, 1e-2), (1e-2, 0.11))
    rows = {band: [0, 0, 0, 0, 0] for band in bands}  # couples, E1/2 right, ratio right, paired right, k0 right
    t = time.perf_counter()
    for c in cases:
        analysed(c.noisy)
    per_cv = (time.perf_counter() - t) / len(cases)
    for c in cases:
        _, found = analysed(c.noisy)
        for system in c.systems:
            if system["e_half"] is None:
                continue
            row_ = rows[next(b for b in bands if b[0] <= system["k0"] < b[1])]
            row_[0] += 1
            near = min(found, key=lambda cp: abs(cp.e_half_V - system["e_half"]), default=None)
            if near is None:
                continue
            row_[1] += abs(near.e_half_V - system["e_half"]) <= 0.005
            ratio = abs(near.ipa / near.ipc) if near.ipa is not None and near.ipc else None
            row_[2] += ratio is not None and 0.85 <= ratio / system["ratio"] <= 1.15
            row_[3] += abs(near.e_pa_V - system["anodic"]) <= 0.02 and abs(near.e_pc_V - system["cathodic"]) <= 0.02
            k0 = (near.kinetics or {}).get("k0_cm_s")
            row_[4] += k0 is not None and 0.5 <= k0 / system["k0"] <= 2
    print(f"\nQuasi-reversible couples of every speed ({len(cases)} cvsim CVs, 1–3 couples, k0 log-uniform "
          f"1e-4–1e-1 cm/s, α 0.3–0.7, charging 2–40 %, SNR 15–100{where}); detect + couples {per_cv * 1000:.0f} ms "
          "a CV, one core:\n")
    print("| k0 (cm/s) | couples | E1/2 within 5 mV | ipa/ipc within 15 % | right peaks paired | k0 within 2× |")
    print("|---|---|---|---|---|---|")
    total = np.sum([rows[b] for b in bands], axis=0)
    for label, (n, e, r, p, k) in [*((f"{lo:g}–{min(hi, 0.1):g}", rows[(lo, hi)]) for lo, hi in bands),
                                   ("all", total)]:
        print(f"| {label} | {n} | {e / max(n, 1):.3f} | {r / max(n, 1):.3f} | {p / max(n, 1):.3f} | "
              f"{k / max(n, 1):.3f} |")
    slow = np.sum([rows[b] for b in bands[:2]], axis=0)
    record("detect", f"quasi-reversible couples (k0 1e-4–1e-1{where}), {total[0]}: E1/2 5 mV / ipa/ipc 15 % / "
           "paired", f"{total[1] / total[0]:.3f} / {total[2] / total[0]:.3f} / {total[3] / total[0]:.3f}",
           "goal 0.95 / 0.85 / 0.97")
    record("detect", f"k0 within 2× (k0 1e-4–1e-2{where}), {slow[0]} couples", f"{slow[4] / slow[0]:.3f}", "")


class _Pair:
    """A couple as a naive script reports it: peak potentials and raw peak currents (no baseline)."""

    def __init__(self, anodic, cathodic):
        self.e_half_V = (anodic[0] + cathodic[0]) / 2
        self.ipa, self.ipc = anodic[1], cathodic[1]


def find_peaks_couples(v, window=15):
    """The baseline row: scipy ``find_peaks`` on each Savitzky–Golay-smoothed sweep (1 % prominence), the
    nearest anodic and cathodic peaks paired, ipa/ipc from the raw peak currents."""
    from scipy.signal import savgol_filter

    found = {1: [], -1: []}
    floor = 0.01 * float(np.ptp(v.current))
    for a, b, d in sweeps(v.potential_V):
        if b - a <= window:
            continue
        y = savgol_filter(v.current[a:b] * d, window, 2)
        for k in find_peaks(y, prominence=floor)[0]:
            found[d].append((float(v.potential_V[a + k]), float(v.current[a + k])))
    pairs = []
    for an in found[1]:
        near = min(found[-1], key=lambda c: abs(an[0] - c[0]), default=None)
        if near is not None and -0.03 <= an[0] - near[0] <= 0.5:
            pairs.append(_Pair(an, near))
    return [], pairs


MADAP_PYTHON = HERE.parent / ".venv-madap" / "bin" / "python"  # make madap-env


class _Found:
    def __init__(self, e_half, ipa, ipc):
        self.e_half_V, self.ipa, self.ipc = e_half, ipa, ipc


def madap_couples(cases):
    """MADAP's couples of each case (its own environment, ``benchmarks/madap_run.py``), as a method for
    ``couple_scores``; None when MADAP's environment is absent (``make madap-env``)."""
    import json
    import subprocess
    import tempfile

    python = Path(os.environ.get("VOLTPEAK_MADAP", MADAP_PYTHON))
    if not python.is_file():
        return None
    with tempfile.TemporaryDirectory() as d:
        np.savez(Path(d) / "cases.npz", **{f"{key}_{k}": getattr(c.noisy, field) for k, c in enumerate(cases)
                                            for key, field in (("E", "potential_V"), ("I", "current"))})
        subprocess.run([str(python), str(HERE / "madap_run.py"), str(Path(d) / "cases.npz"), str(Path(d) / "out.json")],
                       check=True, capture_output=True)
        results = json.loads((Path(d) / "out.json").read_text())
    by_case = {id(c.noisy): [_Found(p["E_half"], p["ipa"], p["ipc"]) for p in r["pairs"]]
               for c, r in zip(cases, results)}
    return lambda v: ([], by_case[id(v)])


def series_d(n_rates=(0.02, 0.05, 0.1, 0.2, 0.5), snr=50.0, charging=0.2, seed=0) -> float:
    """D (cm²/s) that ``voltpeak series``'s analysis gives from cvsim CVs of one reversible couple (D = 1e-5,
    1 mM, cvsim's 0.0707 cm² disk) at ``n_rates`` scan rates, with charging current and noise."""
    from cvsim_cases import _couple

    from voltpeak.detect import find_couples
    from voltpeak.detect.series import analyse_series

    rng = np.random.default_rng(seed)
    lines = []
    for rate in n_rates:
        E, current = _couple("rev", 0.0, 0.1, 0.4, -0.4, 1.0, rate)
        ip = float(np.abs(current).max())
        noisy = current + charging * ip * np.sign(np.gradient(E)) + rng.normal(0, ip / snr, len(E))
        v = Voltammogram(E, noisy)
        peaks = detect(v)
        lines.append({"peaks": [p.to_record() for p in peaks],
                      "couples": [c.to_record(peaks) for c in find_couples(v, peaks)]})
    result = analyse_series(lines, list(n_rates), n=1, area_cm2=np.pi * 0.15 ** 2, conc_mM=1.0)
    return result["couples"][0]["cathodic"]["D_cm2_s"]


def _once(method):
    """``method`` remembering its answer per voltammogram (by identity)."""
    answers = {}

    def remembered(v):
        if id(v) not in answers:
            answers[id(v)] = method(v)
        return answers[id(v)]

    return remembered


def throughput(vs, method, seconds=3.0):
    """CVs per second on one core: best of repeated passes over the set."""
    best, spent = 0.0, 0.0
    while spent < seconds:
        t = time.perf_counter()
        for v in vs:
            method(v)
        dt = time.perf_counter() - t
        spent += dt
        best = max(best, len(vs) / dt)
    return best


def row(name, m, speed=None):
    speed_text = f"{speed:>9.0f}" if speed else f"{'':>9}"
    return (f"| {name:<48} | {m['sources']:>5} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} "
            f"| {m['median_abs_dE_mV']:>6.2f} | {speed_text} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--real", type=Path, help="the folder of real CV files (default: $VOLTPEAK_REAL_DATA)")
    args = parser.parse_args()

    cases = load_cases(args.n, args.seed, args.processes)
    vs = [c.noisy for c in cases]
    points = int(np.mean([len(v) for v in vs]))
    print(f"| {'set / method':<48} | {'CVs':>5} | {'P':>5} | {'R':>5} | {'F1':>5} | {'|ΔE| mV':>6} | {'CVs/s':>9} |")
    print(f"|{'-' * 50}|{'-' * 7}|{'-' * 7}|{'-' * 7}|{'-' * 7}|{'-' * 8}|{'-' * 11}|")
    ours, ours_speed = accuracy(cases, detect), throughput(vs, detect)
    base, base_speed = accuracy(cases, find_peaks_sweeps), throughput(vs, find_peaks_sweeps)
    print(row(f"simulated ({points} pts): voltpeak detect", ours, ours_speed))
    print(row("simulated: detect + couples (E1/2, ΔEp, ipa/ipc)", ours, throughput(vs, analyse)))
    print(row("simulated: find_peaks on raw sweeps (baseline)", base, base_speed))
    record("detect", f"F1, {len(cases)} simulated CVs (data space)", f"{ours['f1']:.3f}",
           f"find_peaks {base['f1']:.3f}")
    record("detect", "CVs/s, one core", f"{ours_speed:.0f}", f"find_peaks {base_speed:.0f}")
    print(row("simulated: find_peaks on whole record", accuracy(cases, find_peaks_record)))
    for lo, hi in ((15, 30), (30, 80), (80, 201)):
        part = [c for c in cases if lo <= c.snr < hi]
        print(row(f"simulated, SNR {lo}-{min(hi, 200)}: voltpeak detect", accuracy(part, detect)))
    for k in (1, 2, 3):
        part = [c for c in cases if c.couples == k]
        print(row(f"simulated, {k} couple{'s' if k > 1 else ''}: voltpeak detect", accuracy(part, detect)))

    couple_cases = load_cases(max(args.n, 300), args.seed + 1, args.processes, **COUPLE_SET)
    t = time.perf_counter()
    analysed = _once(analyse)
    m = couple_scores(couple_cases, analysed)
    per_cv = (time.perf_counter() - t) / len(couple_cases)
    print(f"\nCouples of {len(couple_cases)} cvsim CVs (1–3 chemically reversible couples, charging 2–40 % of the "
          f"peak, sloped background, SNR 15–100): {m['couples']} couples; detect + couples (fits of overlapping "
          f"couples) {per_cv * 1000:.0f} ms a CV\n")
    print("| method | E1/2 within 5 mV | ipa/ipc within 0.85–1.15 | ipa/ipc median (IQR) |")
    print("|---|---|---|---|")
    methods = [("voltpeak analyse", analysed), ("smoothed find_peaks, raw currents", _once(find_peaks_couples))]
    madap = madap_couples(couple_cases)
    if madap is None:
        print("(MADAP rows skipped: its environment is absent; make madap-env)")
    else:
        methods.append(("MADAP 1.2.8", madap))
    for name, part in (("all", couple_cases), *((f"CVs of {k} couple{'s' if k > 1 else ''}",
                                                  [c for c in couple_cases if c.couples == k]) for k in (1, 2, 3))):
        for label, method in methods:
            for shown in (False, True):
                q = couple_scores(part, method, shown)
                print(f"| {label}, {name}{', two visible peaks' if shown else ''} ({q['couples']} couples) | "
                      f"{q['e_half']:.3f} | {q['ratio']:.3f} | "
                      f"{q['ratio_median']:.3f} ({q['ratio_iqr'][0]:.3f}–{q['ratio_iqr'][1]:.3f}) |")
    record("detect", f"couples, {m['couples']} in cvsim CVs: E1/2 within 5 mV / ipa/ipc within 15 %",
           f"{m['e_half']:.3f} / {m['ratio']:.3f}", "goal 0.95 / 0.85")
    slow_couples(load_cases(max(args.n, 300), args.seed + 2, args.processes, kinetics="slow", **COUPLE_SET))
    slow_couples(load_cases(max(args.n // 2, 150), args.seed + 3, args.processes, kinetics="slow", near_switch=True,
                            **COUPLE_SET), ", a forward peak within ~50 mV of the switch or past it")
    errors = [abs(series_d(seed=s) / 1e-5 - 1) for s in range(5)]
    print(f"\nD from a cvsim scan-rate series (5 rates, 20–500 mV/s, charging 20 % of the peak, SNR 50; 5 noise "
          f"draws; true 1e-5 cm²/s): error median {np.median(errors):.1%}, worst {max(errors):.1%}\n")
    record("detect", "D from a cvsim scan-rate series, worst error of 5", f"{max(errors):.1%}", "goal 10 %")

    from real import HOW, label_files, real_data, score

    real = real_data(args.real)
    if real is not None and real.is_dir():
        for label_file in label_files():
            res = score(label_file, real)
            for kind in ("strict", "lenient"):
                print(row(f"real {label_file.stem} ({kind}): detect --cycle 1", res[kind]))
            record("detect", f"F1, real {label_file.stem} (hand labels, strict)", f"{res['strict']['f1']:.3f}")
    else:
        print(f"(real-data rows skipped: {f'{real} not found' if real else HOW})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
