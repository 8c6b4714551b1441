"""Benchmark of plots as papers publish them: overlays of many CVs, drawn by matplotlib as people draw them.

    python benchmarks/overlays.py [--n 120] [--model default --model mllm-small] [--seed 9]

Builds its own holdout from CVs simulated here (exact truth per curve), none of it drawn by voltpeak's renderers:
scan-rate series of one system at 5–12 rates (peak currents growing with √v, peaks drifting with the rate on slow
couples), 5–8 electrodes or samples with their peaks at different places, 2–3 repeated cycles drawn almost on top
of each other, 2–4 unrelated CVs, and single noisy CVs. matplotlib's default look or one of its style sheets,
palettes people use (tab10, viridis and other colormaps, rainbow lists, black first), the legend inside the plot,
now and then a transparent PNG (matplotlib's ``transparent=True``: black pixels of alpha 0 behind the plot), the
US convention, and the current as instruments record it (cathodic positive, potential increasing to the right).
Then ``voltpeak predict`` with axis reading on and off (``--no-refine``: the model's peaks alone, without the
per-curve check), and ``benchmarks/axes.py``'s table per slice: the kind of plot and the number of curves (1, 2–4,
5–12).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from axes import CURRENT_AXES, POTENTIAL_AXES, STYLE_SHEETS  # noqa: E402
from axes import main as axes_main  # noqa: E402
from common import curves_slice  # noqa: E402

from voltpeak.peak import Peak  # noqa: E402

KINDS = ("series", "electrodes", "cycles", "few", "noisy")
COLORMAPS = ("viridis", "plasma", "coolwarm", "jet", "rainbow", "cividis", "magma", "Blues")
RATE_LADDER_V_S = (0.005, 0.01, 0.02, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0)


def _couple(rng, e0: float, k0: float | None = None):
    from voltpeak.simulate.cv import RedoxCouple

    k0 = k0 if k0 is not None else (np.inf if rng.random() < 0.5 else float(10 ** rng.uniform(-3, -1)))
    return RedoxCouple(e0_V=e0, k0_cm_s=k0, alpha=float(rng.uniform(0.4, 0.6)), c_ox_mM=0.0,
                       c_red_mM=float(rng.uniform(0.5, 2.0)))


def _conditions(rng, e0s: list[float], rate: float, noise_rel: float):
    from voltpeak.simulate.cv import Conditions

    lo, hi = min(e0s) - float(rng.uniform(0.25, 0.4)), max(e0s) + float(rng.uniform(0.25, 0.4))
    # Noise relative to a 1 mM one-electron reversible peak at this rate (Randles–Ševčík, 0.07 cm²).
    ip = 2.69e5 * 0.07 * 1e-6 * np.sqrt(1e-5 * rate)
    return Conditions(start_V=lo, vertices_V=(hi, lo), cycles=1, step_V=0.001, scan_rate_V_s=rate,
                      cdl_F=float(rng.uniform(0, 2e-6)), rc_s=0.002, noise_A=noise_rel * ip)


def _simulate(items):
    from voltpeak.simulate.batch import simulate_set

    return simulate_set(items)


def compose(rng, kind: str) -> dict:
    """The curves of one plot: (E in V, I in A, truth peaks) each, and legend labels."""
    noise = float(rng.uniform(0.002, 0.01))
    if kind == "series":
        count = int(rng.integers(5, 13))
        start = int(rng.integers(0, len(RATE_LADDER_V_S) - count + 1))
        rates = RATE_LADDER_V_S[start:start + count]
        e0s = [float(rng.uniform(-0.3, 0.3))] + ([float(rng.uniform(0.3, 0.5))] if rng.random() < 0.3 else [])
        couples = [_couple(rng, e) for e in e0s]
        items = [(couples, _conditions(rng, e0s, r, noise), rng) for r in rates]
        labels = [f"{r * 1e3:g} mV/s" for r in rates]
    elif kind == "electrodes":
        count = int(rng.integers(5, 9))
        e0s = [float(e) for e in rng.uniform(-0.25, 0.25, count)]
        items = [([_couple(rng, e)], _conditions(rng, [e], 0.05, noise), rng) for e in e0s]
        labels = [f"Electrode {k + 1}" for k in range(count)]
    elif kind == "cycles":
        count = int(rng.integers(2, 4))
        e0, k0 = float(rng.uniform(-0.3, 0.3)), float(10 ** rng.uniform(-2.5, -1))
        # Cycle to cycle the film ages: a few mV of drift and a few per cent less current.
        drift, fade = float(rng.uniform(0.003, 0.008)), float(rng.uniform(0.03, 0.08))
        items = []
        for k in range(count):
            c = _couple(rng, e0 + k * drift, k0)
            c.c_red_mM = 1.0 - k * fade
            items.append(([c], _conditions(np.random.default_rng(1), [e0], 0.1, noise), rng))
        labels = [f"Cycle {k + 1}" for k in range(count)]
    elif kind == "few":
        count = int(rng.integers(2, 5))
        items = []
        for _ in range(count):
            e0s = sorted(float(e) for e in rng.uniform(-0.4, 0.4, int(rng.integers(1, 3))))
            items.append(([_couple(rng, e) for e in e0s], _conditions(rng, e0s, 0.1, noise), rng))
        labels = [f"Sample {chr(65 + k)}" for k in range(count)]
    else:  # one noisy CV
        e0s = [float(rng.uniform(-0.3, 0.3))]
        items = [([_couple(rng, e0s[0])], _conditions(rng, e0s, 0.1, float(rng.uniform(0.03, 0.08))), rng)]
        labels = [""]
    sims = _simulate(items)
    span = max(s.clean.current.max() for s in sims) - min(s.clean.current.min() for s in sims)
    curves = [(s.noisy.potential_V, s.noisy.current,
               [p for p in s.truth if p.prominence is None or p.prominence >= 0.01 * span]) for s in sims]
    return {"curves": curves, "labels": labels}


def draw(graph: dict, path: Path, rng) -> tuple[list[tuple[float, float]], dict]:
    """The plot drawn with matplotlib; the true peaks' (x, y) image fractions and how it was drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    title_i, factor_i, quantity = CURRENT_AXES[int(rng.integers(4))]  # I in µA, mA, nA, pA
    title_e, factor_e = POTENTIAL_AXES[int(rng.integers(len(POTENTIAL_AXES)))]
    largest = max(np.abs(i).max() for _, i, _ in graph["curves"])
    scale = float(rng.uniform(5, 300)) * factor_i / largest  # printed currents 5–300 in the axis's unit
    sheet = "default" if rng.random() < 0.5 else STYLE_SHEETS[int(rng.integers(len(STYLE_SHEETS)))]
    count = len(graph["curves"])
    palette = ["tab10", "colormap", "rainbow", "black first"][int(rng.integers(4))] if count > 1 else "tab10"
    if palette == "colormap":
        cmap = plt.get_cmap(COLORMAPS[int(rng.integers(len(COLORMAPS)))])
        colours = [cmap(v) for v in np.linspace(0.1, 0.9, count)]
    elif palette == "rainbow":
        colours = ["red", "orange", "gold", "green", "cyan", "blue", "purple", "magenta", "brown", "grey",
                   "olive", "navy"][:count]
    elif palette == "black first":
        colours = ["black", "red", "blue", "green", "magenta", "orange", "cyan", "purple", "brown", "grey",
                   "olive", "navy"][:count]
    else:
        colours = [None] * count
    us = bool(rng.random() < 0.15)
    # As instruments record it: cathodic current positive, the potential still increasing to the right; the
    # title says so ("−I / µA") half the time.
    instrument = not us and bool(rng.random() < 0.12)
    sign = -1 if us or instrument else 1
    if instrument and rng.random() < 0.5:
        title_i = "−" + title_i
    transparent = bool(rng.random() < 0.1)
    with plt.style.context(sheet):
        fig, ax = plt.subplots(figsize=(float(rng.uniform(4.5, 7)), float(rng.uniform(3.5, 5))),
                               dpi=int(rng.choice([72, 100, 100, 150])))
        width = float(rng.uniform(0.8, 2.0))
        for (e, i, _), colour, label in zip(graph["curves"], colours, graph["labels"]):
            ax.plot(e / factor_e, sign * i * scale / factor_i, color=colour, lw=width, label=label or None)
        ax.set_xlabel(title_e)
        ax.set_ylabel(title_i)
        if us:
            ax.invert_xaxis()
        if count > 1:
            ax.legend(loc=["best", "upper left", "lower right"][int(rng.integers(3))],
                      fontsize=float(rng.uniform(6, 9)), ncol=1 if count < 7 or rng.random() < 0.5 else 2)
        fig.tight_layout()
        fig.canvas.draw()
        points = [(p.potential / factor_e, sign * p.current * scale / factor_i)
                  for _, _, peaks in graph["curves"] for p in peaks]
        px = ax.transData.transform(np.array(points).reshape(-1, 2)) if points else np.zeros((0, 2))
        w, h = fig.canvas.get_width_height()
        fig.savefig(path, dpi=fig.dpi, transparent=transparent)
        plt.close(fig)
    how = {"factor_e": factor_e, "factor_i": factor_i, "scale": scale, "quantity": quantity, "us": us,
           "instrument": instrument, "sign": sign,
           "exponent": False, "palette": palette, "transparent": transparent, "sheet": sheet}
    return [(x / w, 1 - y / h) for x, y in px], how


def build(folder: Path, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    truths = []
    for k in range(n):
        kind = KINDS[k % len(KINDS)]
        graph = compose(rng, kind)
        path = folder / f"{kind}-{k:04d}.png"
        xy, how = draw(graph, path, rng)
        peaks = [p for _, _, ps in graph["curves"] for p in ps]
        window = (min(c[0].min() for c in graph["curves"]), max(c[0].max() for c in graph["curves"]))
        truths.append({"source": str(path), "program": "matplotlib", "kind": kind, "peaks": [
            {**Peak(p.direction, p.potential, p.current * how["scale"], 1).to_record(), "x": x, "y": y}
            for p, (x, y) in zip(peaks, xy)], "window": list(window), "curves": len(graph["curves"]),
            "current_span": how["scale"] * float(max(c[1].max() for c in graph["curves"])
                                                 - min(c[1].min() for c in graph["curves"])),
            **how})
    return truths


def slices(t: dict) -> list[str]:
    return [t["kind"], curves_slice(t["curves"])] + \
        (["transparent PNG"] if t["transparent"] else []) + (["US"] if t["us"] else []) + \
        (["cathodic positive"] if t["instrument"] else [])


def main() -> int:
    return axes_main(__doc__, 9, build, slices, "overlays")


if __name__ == "__main__":
    sys.exit(main())
