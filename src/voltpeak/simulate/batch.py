"""``voltpeak simulate``: many CVs, one CSV each in the contract's header styles, and truth.jsonl; deterministic.

The parameters and noise of CV number k depend only on (seed, k). CVs are simulated in chunks: the faradaic
currents of all couples of a chunk are computed together (``reduction_current`` on a 2-D array; a CV's currents
agree across chunkings to round-off), and chunks run on all cores. Chunks depend on n only: a run writes the
same bytes on any number of cores.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from voltpeak.read.write import STYLES, write_table
from voltpeak.simulate.config import SimulationConfig
from voltpeak.simulate.cv import SimulatedCV, assemble
from voltpeak.simulate.diffusion import adsorbed_reduction_current, ee_reduction_current, reduction_current
from voltpeak.simulate.ir import currents_with_ir
from voltpeak.simulate.waveform import pad_columns, potential_programme

CHUNK = 1024  # CVs simulated together at most: wider arrays, fewer Python steps per CV (~300 MB at 1 mV)


def simulate_batch(config: SimulationConfig, seed: int, ks: range | list[int]) -> list[SimulatedCV]:
    """CVs number ``ks`` of a run, the couples of all of them simulated in one vectorised pass."""
    return list(_simulated(_drawn(config, seed, ks)))


def _drawn(config: SimulationConfig, seed: int, ks: range | list[int]) -> list[tuple]:
    """(couples, conditions, rng) of CVs number ``ks`` of a run: CV k's depend only on (seed, k)."""
    drawn = []
    for k in ks:
        rng = np.random.default_rng([seed, k])
        couples, cond = config.sample(rng)
        drawn.append((couples, cond, rng))
    return drawn


def simulate_set(items: list[tuple]) -> list[SimulatedCV]:
    """CVs given as (couples, conditions, rng), simulated together: one vectorised pass over all their couples
    (``rng`` draws each CV's noise)."""
    return list(_simulated(items))


def _simulated(items: list[tuple]):
    """``simulate_set``'s CVs one at a time, in order: the currents of all of them are computed first, then each
    CV is assembled when asked for, so a caller that writes and drops them holds one at a time."""
    drawn = []
    for couples, cond, rng in items:
        for c in couples:
            c.validate()
        cond.validate()
        t, E = potential_programme(cond.start_V, tuple(cond.vertices_V), cond.cycles, cond.step_V, cond.scan_rate_V_s)
        drawn.append((couples, cond, t, E, rng))
    # CVs with uncompensated resistance couple their couples through E_eff: solved together, per step.
    # One group whatever their lengths: a step costs about the same for one CV or many.
    resistive = [j for j, d in enumerate(drawn) if d[1].ru_ohm > 0]
    solved = {}
    if resistive:
        results = currents_with_ir([(drawn[j][0], drawn[j][1], drawn[j][3]) for j in resistive])
        solved = dict(zip(resistive, results))
    columns = [(j, c) for j, (couples, *_rest) in enumerate(drawn) if j not in solved for c in couples]
    currents: list[np.ndarray | None] = [None] * len(columns)
    # Couples computed by the same function are stacked column-wise.
    for kernel in (reduction_current, ee_reduction_current, adsorbed_reduction_current):
        chosen = [q for q, (_, c) in enumerate(columns) if c.kernel is kernel]
        for group in _length_groups(chosen, lambda q: len(drawn[columns[q][0]][3])):
            cols = [(drawn[columns[q][0]][1], drawn[columns[q][0]][3], columns[q][1]) for q in group]
            args = np.array([c.kernel_args(cond) for cond, _, c in cols], dtype=float).T
            block = kernel(pad_columns([E for _, E, _ in cols]), *args)
            for m, q in enumerate(group):
                currents[q] = block[:, m]
    col = 0
    for j, (couples, cond, t, E, rng) in enumerate(drawn):
        if j in solved:
            own, charging, _ = solved.pop(j)
            yield assemble(couples, cond, t, E, own, rng, charging)
            continue
        own = [-currents[col + m][:len(E)] for m in range(len(couples))]
        currents[col:col + len(couples)] = [None] * len(couples)  # a group's block goes with its last column
        col += len(couples)
        yield assemble(couples, cond, t, E, own, rng)


def _length_groups(items: list[int], length) -> list[list[int]]:
    """Items sorted by length and cut where the length grows by more than 25 %: a group runs as many steps as its
    longest member, so similar lengths waste little."""
    order = sorted(items, key=length)
    groups, start = [], 0
    for q in range(1, len(order) + 1):
        if q == len(order) or length(order[q]) > 1.25 * length(order[start]):
            groups.append(order[start:q])
            start = q
    return groups


def _write_chunk(args) -> list[str]:
    config, seed, ks, out = args
    styles = list(STYLES)
    lines = []
    for k, cv in zip(ks, _simulated(_drawn(config, seed, ks))):  # each CV written, then dropped
        style = styles[k % len(styles)]
        name = f"cv_{k + 1:06d}_{style}.csv"
        write_table(cv.noisy, out / name, style)
        lines.append(json.dumps(cv.truth_record(name)) + "\n")
    return lines


def simulate_to_folder(n: int, out: Path, seed: int, config: SimulationConfig, workers: int | None = None,
                       progress=lambda items: items) -> Path:
    """Write ``n`` CVs and ``truth.jsonl`` into ``out``; returns the truth file.

    Files are named ``cv_000001_<style>.csv``; the header styles (``voltpeak.read.write.STYLES``) rotate. The truth
    is written as ``truth.jsonl.part`` and named ``truth.jsonl`` only once every CV is written: an interrupted run
    leaves no truth that a build would take for a whole pool. A previous run's CVs and truth in ``out`` go first.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth.jsonl").unlink(missing_ok=True)
    for old in out.glob("cv_*.csv"):  # a smaller run must not leave the last one's CVs beside its truth
        old.unlink()
    # Chunk boundaries depend on n only, so a run gives the same bytes on any number of cores; at least two
    # chunks, so two cores work even on small runs.
    size = max(1, min(CHUNK, -(-n // 2)))
    chunks = [(config, seed, range(a, min(a + size, n)), out) for a in range(0, n, size)]
    workers = min(workers or os.cpu_count() or 1, len(chunks))
    truth_path, partial = out / "truth.jsonl", out / "truth.jsonl.part"
    with open(partial, "w", encoding="utf-8") as truth:
        if workers > 1:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for lines in progress(pool.imap(_write_chunk, chunks)):
                    truth.writelines(lines)
        else:
            for chunk in progress(chunks):
                truth.writelines(_write_chunk(chunk))
    (out / "config.json").write_text(json.dumps({"seed": seed, "n": n, **config.to_dict()}, indent=1))
    os.replace(partial, truth_path)
    return truth_path
