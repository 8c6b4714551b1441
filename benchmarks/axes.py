"""Benchmark of the axis reader on plots drawn by programs and styles of this script's own (not the build's).

    python benchmarks/axes.py [--n 120] [--model default --model mllm-small] [--seed 4]

(``benchmarks/predict.py --axes N`` prints the same table.)

Builds its own holdout from simulated CVs (exact truth), drawn in turn by matplotlib with its own style sheets and
default tick formatting (so raw amps get matplotlib's "1e−5" offset text), by gnuplot (Debian's ``gnuplot-nox``) and
by R's base graphics (Debian's ``r-base-core``; y labels along the axis half the time), and as web plots by Bokeh
and plotly shown in Debian's Chromium and screenshotted at 1× or 2× (``pip install '.[plots]'``); a program not
installed is left out with a note. Single and overlaid curves, V and mV, A (with an exponent) to pA and current
densities, IUPAC and US convention. gnuplot and R's base graphics are in no training; Bokeh and plotly are
``voltpeak build`` engines since 2026-12-07, drawn here by other code (their defaults, raw page screenshots), so a
model trained before and one after tell whether those programs were generalised to or learned. Then ``voltpeak
predict`` with axis reading on and off, and a table per slice: quantity and unit right (% of images), potential
within the contract's data tolerance (% of image-matched peaks), image-space F1, plots whose every peak has the wrong
direction, data-space F1 and sample accuracy; and images/s of the detector alone and with axis reading.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from common import curves_slice, record  # noqa: E402

from voltpeak.evaluate import data_tolerance_V, match_peaks, summarise  # noqa: E402
from voltpeak.peak import Peak  # noqa: E402

STYLE_SHEETS = ("ggplot", "bmh", "fivethirtyeight", "Solarize_Light2", "grayscale", "classic", "seaborn-v0_8-paper",
                "seaborn-v0_8-whitegrid", "tableau-colorblind10", "fast")
# (title, SI factor of the printed numbers, quantity); a factor of None: raw SI numbers drawn with an exponent.
CURRENT_AXES = (("I / µA", 1e-6, "I"), ("Current (mA)", 1e-3, "I"), ("i / nA", 1e-9, "I"), ("I (pA)", 1e-12, "I"),
                ("Current / A", None, "I"), ("j / mA cm⁻²", 10.0, "j"), ("Current density (µA/cm²)", 0.01, "j"))
POTENTIAL_AXES = (("E / V vs Ag/AgCl", 1.0), ("Potential (mV vs. SCE)", 1e-3), ("Ewe/V", 1.0),
                  ("E (V vs. RHE)", 1.0), ("Potential / mV", 1e-3), ("E vs Fc/Fc+ (V)", 1.0))


def cycle_one(cv):
    v = cv.voltammogram
    keep = v.cycle_numbers() == 1
    peaks = [p for p in cv.peaks if (p.cycle or 1) == 1]
    return v.potential_V[keep], v.current[keep], peaks


def compose(rng, pool):
    """A graph: 1–2 CVs (cycle 1), the axes' titles and factors, and the convention."""
    count = 1 if rng.random() < 0.6 else 2
    picks = [pool[int(i)] for i in rng.choice(len(pool), count, replace=False)]
    curves = []
    for k, cv in enumerate(picks):
        e, i, peaks = cycle_one(cv)
        if k:  # overlaid curves within 2× of the first
            scale = float(rng.uniform(0.5, 1.0)) * np.abs(curves[0][1]).max() / np.abs(i).max()
            i = i * scale
            peaks = [Peak(p.direction, p.potential, p.current * scale, p.cycle, prominence=p.prominence and
                          p.prominence * scale) for p in peaks]
        curves.append((e, i, peaks))
    title_i, factor_i, quantity = CURRENT_AXES[int(rng.integers(len(CURRENT_AXES)))]
    title_e, factor_e = POTENTIAL_AXES[int(rng.integers(len(POTENTIAL_AXES)))]
    largest = max(np.abs(c[1]).max() for c in curves)
    # Currents rescaled so the printed numbers are 1–500 in the chosen unit (raw A: 1e-6–1e-4).
    target = float(rng.uniform(2, 500)) * (factor_i if factor_i else 1e-7)
    curves = [(e, i * target / largest, [Peak(p.direction, p.potential, p.current * target / largest, p.cycle,
                                             prominence=p.prominence and p.prominence * target / largest)
                                        for p in peaks]) for e, i, peaks in curves]
    span = max(c[1].max() for c in curves) - min(c[1].min() for c in curves)
    curves = [(e, i, [p for p in peaks if p.prominence is None or p.prominence >= 0.01 * span])
              for e, i, peaks in curves]
    us = bool(rng.random() < 0.25)
    return {"curves": curves, "title_e": title_e, "factor_e": factor_e, "title_i": title_i,
            "factor_i": factor_i or 1.0, "quantity": quantity, "us": us, "exponent": factor_i is None}


def draw_matplotlib(graph, path: Path, rng) -> list[tuple[float, float]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sheet = STYLE_SHEETS[int(rng.integers(len(STYLE_SHEETS)))]
    with plt.style.context(sheet):
        fig, ax = plt.subplots(figsize=(float(rng.uniform(4.5, 7)), float(rng.uniform(3.5, 5))),
                               dpi=int(rng.choice([80, 100, 120])))
        sign = -1 if graph["us"] else 1
        for e, i, _ in graph["curves"]:
            ax.plot(e / graph["factor_e"], sign * i / graph["factor_i"])
        ax.set_xlabel(graph["title_e"])
        ax.set_ylabel(graph["title_i"])
        if graph["us"]:
            ax.invert_xaxis()
        fig.tight_layout()
        fig.canvas.draw()
        points = [(p.potential / graph["factor_e"], sign * p.current / graph["factor_i"])
                  for _, _, peaks in graph["curves"] for p in peaks]
        px = ax.transData.transform(np.array(points).reshape(-1, 2)) if points else np.zeros((0, 2))
        w, h = fig.canvas.get_width_height()
        fig.savefig(path, dpi=fig.dpi)
        plt.close(fig)
    return [(x / w, 1 - y / h) for x, y in px]


def draw_gnuplot(graph, path: Path, rng) -> list[tuple[float, float]]:
    w, h = int(rng.integers(14, 24)) * 28, int(rng.integers(11, 18)) * 28
    sign = -1 if graph["us"] else 1
    es = np.concatenate([e for e, _, _ in graph["curves"]]) / graph["factor_e"]
    cs = sign * np.concatenate([i for _, i, _ in graph["curves"]]) / graph["factor_i"]
    x0, x1 = float(es.min()), float(es.max())
    pad = 0.05 * (cs.max() - cs.min())
    y0, y1 = float(cs.min() - pad), float(cs.max() + pad)
    if graph["us"]:
        x0, x1 = x1, x0
    data = path.with_suffix(".dat")
    with open(data, "w") as f:
        for e, i, _ in graph["curves"]:
            for a, b in zip(e / graph["factor_e"], sign * i / graph["factor_i"]):
                f.write(f"{a:.6g} {b:.6g}\n")
            f.write("\n\n")
    font = ["Sans", "Serif", "Monospace"][int(rng.integers(3))]
    script = f"""set encoding utf8
set terminal pngcairo size {w},{h} font "{font},{int(rng.integers(9, 13))}"
set output "{path}"
set xrange [{x0}:{x1}]; set yrange [{y0}:{y1}]
set xlabel "{graph['title_e']}"; set ylabel "{graph['title_i']}"
{'set grid' if rng.random() < 0.5 else ''}
set key {'off' if len(graph['curves']) == 1 else 'top left'}
plot for [k=0:{len(graph['curves']) - 1}] "{data}" index k with lines lw 2 title sprintf("CV %d", k+1)
print GPVAL_TERM_XMIN, GPVAL_TERM_XMAX, GPVAL_TERM_YMIN, GPVAL_TERM_YMAX
"""
    # gnuplot's own automatic margins; where it put the plot area (pixels, y up) is its truth.
    done = subprocess.run(["gnuplot"], input=script, text=True, check=True, capture_output=True)
    xmin, xmax, ymin, ymax = map(float, done.stderr.split()[-4:])
    left, right, bottom, top = xmin / w, xmax / w, ymin / h, ymax / h
    data.unlink()
    out = []
    for _, _, peaks in graph["curves"]:
        for p in peaks:
            fx = (p.potential / graph["factor_e"] - x0) / (x1 - x0)
            fy = (sign * p.current / graph["factor_i"] - y0) / (y1 - y0)
            out.append((left + fx * (right - left), 1 - (bottom + fy * (top - bottom))))
    return out


def draw_r(graph, path: Path, rng) -> list[tuple[float, float]]:
    """R's base graphics (Debian's ``r-base-core``): its own margins, fonts and tick choice, y labels written along
    the axis half the time (R's default, ``las = 0``)."""
    w, h = int(rng.integers(16, 26)) * 28, int(rng.integers(12, 18)) * 28
    sign = -1 if graph["us"] else 1
    data = path.with_suffix(".csv")
    with open(data, "w") as f:
        f.write("k,e,i\n")
        for k, (e, i, _) in enumerate(graph["curves"]):
            for a, b in zip(e / graph["factor_e"], sign * i / graph["factor_i"]):
                f.write(f"{k},{a:.6g},{b:.6g}\n")
    points = [(p.potential / graph["factor_e"], sign * p.current / graph["factor_i"])
              for _, _, peaks in graph["curves"] for p in peaks]
    xs = ",".join(f"{x:.6g}" for x, _ in points) or "NULL"
    ys = ",".join(f"{y:.6g}" for _, y in points) or "NULL"
    family = ["sans", "serif", "mono"][int(rng.integers(3))]
    las = int(rng.integers(2))
    # Flat y labels need room: a wider left margin and the title further out, as an R user sets them (R's default
    # margins clip "-1.5e-05" and run it into the title).
    margins = "par(mar=c(5.1, 7.1, 4.1, 2.1), mgp=c(5, 1, 0))" if las else ""
    script = f"""d <- read.csv("{data}")
png("{path}", width={w}, height={h}, pointsize={int(rng.integers(11, 15))}, family="{family}", type="cairo")
par(las={las})
{margins}
xl <- range(d$e); if ({'TRUE' if graph['us'] else 'FALSE'}) xl <- rev(xl)
plot(d$e[d$k == 0], d$i[d$k == 0], type="l", xlim=xl, ylim=range(d$i), col="black", xlab="", ylab="{graph['title_i']}")
title(xlab="{graph['title_e']}", mgp=c(3, 1, 0))
if (max(d$k) > 0) lines(d$e[d$k == 1], d$i[d$k == 1], col="red")
{'grid()' if rng.random() < 0.4 else ''}
cat(grconvertX(c({xs}), "user", "device"), "\n", grconvertY(c({ys}), "user", "device"), "\n")
invisible(dev.off())
"""
    done = subprocess.run(["Rscript", "-"], input=script, text=True, check=True, capture_output=True)
    data.unlink()
    rows = done.stdout.strip().split("\n")
    px = [float(v) for v in rows[0].split()] if points else []
    py = [float(v) for v in rows[1].split()] if points else []
    return [(x / w, y / h) for x, y in zip(px, py)]


_BROWSER: list = []  # (playwright, browser), started once for the web programs


def _screenshot(html: str, path: Path, scale: int, measure: str) -> list:
    """``html`` shown in Debian's Chromium (Playwright) at device scale ``scale``, its plot element screenshotted to
    ``path``; returns what ``measure`` (a JavaScript function of that element) returns, in CSS pixels."""
    from playwright.sync_api import sync_playwright

    if not _BROWSER:
        pw = sync_playwright().start()
        _BROWSER.append((pw, pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])))
    page = _BROWSER[0][1].new_page(device_scale_factor=scale, viewport={"width": 1000, "height": 800})
    try:
        page.set_content(html, wait_until="load")
        element = page.wait_for_selector(".bk-Figure, .js-plotly-plot .main-svg", state="attached", timeout=20000)
        page.wait_for_timeout(300)  # the canvas drawn
        root = page.query_selector(".js-plotly-plot") or element
        result = root.evaluate(measure)
        root.screenshot(path=str(path))
        return result
    finally:
        page.close()


def draw_bokeh(graph, path: Path, rng) -> list[tuple[float, float]]:
    """Bokeh (3.x, BokehJS inline): its default look (left and bottom axes only, grey tick labels, italic titles
    where asked, a bold title above, a legend box with a title, the toolbar beside the plot), shown in Chromium and
    screenshotted at 1× or 2× (a web plot as users capture it); the truth from BokehJS's own scales."""
    from bokeh.embed import file_html
    from bokeh.palettes import Category10
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    sign = -1 if graph["us"] else 1
    w, h = int(rng.integers(450, 700)), int(rng.integers(330, 480))
    p = figure(width=w, height=h, title="Cyclic voltammogram" if rng.random() < 0.5 else None,
               x_axis_label=graph["title_e"], y_axis_label=graph["title_i"],
               toolbar_location=["right", "above", None][int(rng.integers(3))])
    if graph["us"]:
        p.x_range.flipped = True
    style = "italic" if rng.random() < 0.5 else "normal"
    p.xaxis.axis_label_text_font_style = p.yaxis.axis_label_text_font_style = style
    for k, (e, i, _) in enumerate(graph["curves"]):
        legend = {"legend_label": f"CV {k + 1}"} if len(graph["curves"]) > 1 else {}
        p.line(e / graph["factor_e"], sign * i / graph["factor_i"], line_width=2, color=Category10[10][k], **legend)
    if len(graph["curves"]) > 1:
        p.legend.title = "scan"
        p.legend.location = "top_left"
    points = [(p_.potential / graph["factor_e"], sign * p_.current / graph["factor_i"])
              for _, _, peaks in graph["curves"] for p_ in peaks]
    measure = """(el) => { const v = Object.values(Bokeh.index)[0]; const f = v.frame;
        const canvas = el.getBoundingClientRect();
        const c = v.canvas_view.el.getBoundingClientRect();
        return [canvas.width, canvas.height, POINTS.map(([x, y]) =>
            [c.left - canvas.left + f.x_scale.compute(x), c.top - canvas.top + f.y_scale.compute(y)])]; }"""
    measure = measure.replace("POINTS", json.dumps(points))
    width, height, px = _screenshot(file_html(p, INLINE), path, int(rng.integers(1, 3)), measure)
    return [(x / width, y / height) for x, y in px]


def draw_plotly(graph, path: Path, rng) -> list[tuple[float, float]]:
    """plotly (plotly.js inline): its default template (a filled panel with white grid lines, no axis lines) or
    another of its templates, shown in Chromium and screenshotted at 1× or 2×; the truth from plotly.js's own
    axes (``l2p``)."""
    import plotly.graph_objects as go

    sign = -1 if graph["us"] else 1
    template = ["plotly", "plotly_white", "simple_white", "ggplot2", "seaborn", "presentation"][int(rng.integers(6))]
    fig = go.Figure(layout={"template": template, "width": int(rng.integers(500, 800)),
                            "height": int(rng.integers(380, 560)), "xaxis_title": graph["title_e"],
                            "yaxis_title": graph["title_i"], "showlegend": len(graph["curves"]) > 1})
    for k, (e, i, _) in enumerate(graph["curves"]):
        fig.add_trace(go.Scatter(x=e / graph["factor_e"], y=sign * i / graph["factor_i"], mode="lines",
                                 name=f"CV {k + 1}"))
    if graph["us"]:
        fig.update_xaxes(autorange="reversed")
    points = [(p.potential / graph["factor_e"], sign * p.current / graph["factor_i"])
              for _, _, peaks in graph["curves"] for p in peaks]
    measure = """(gd) => { const fl = gd._fullLayout; const r = gd.getBoundingClientRect();
        return [r.width, r.height, POINTS.map(([x, y]) =>
            [fl._size.l + fl.xaxis.l2p(x), fl._size.t + fl.yaxis.l2p(y)])]; }"""
    measure = measure.replace("POINTS", json.dumps(points))
    html = fig.to_html(include_plotlyjs=True, full_html=True, config={"displayModeBar": False})
    width, height, px = _screenshot(html, path, int(rng.integers(1, 3)), measure)
    return [(x / width, y / height) for x, y in px]


def build(folder: Path, n: int, seed: int) -> list[dict]:
    from voltpeak.dataset import load_pool
    from voltpeak.simulate.batch import simulate_to_folder
    from voltpeak.simulate.config import SimulationConfig

    simulate_to_folder(max(40, n // 2), folder / "pool", seed, SimulationConfig())
    pool = load_pool(str(folder / "pool")).cvs
    rng = np.random.default_rng(seed)
    programs = ["matplotlib"]
    for program, command, package in (("gnuplot", "gnuplot", "gnuplot-nox"), ("R", "Rscript", "r-base-core")):
        if shutil.which(command):
            programs.append(program)
        else:
            print(f"{program} not found (apt-get install {package}): left out")
    for program in ("bokeh", "plotly"):
        if importlib.util.find_spec(program) is None or not Path("/usr/bin/chromium").exists():
            print(f"{program} left out: pip install '.[plots]' and apt-get install chromium")
        else:
            programs.append(program)
    draw = {"matplotlib": draw_matplotlib, "gnuplot": draw_gnuplot, "R": draw_r, "bokeh": draw_bokeh,
            "plotly": draw_plotly}
    truths = []
    for k in range(n):
        program = programs[k % len(programs)]
        graph = compose(rng, pool)
        path = folder / f"{program}-{k:04d}.png"
        xy = draw[program](graph, path, rng)
        peaks = [p for _, _, ps in graph["curves"] for p in ps]
        window = (min(c[0].min() for c in graph["curves"]), max(c[0].max() for c in graph["curves"]))
        truths.append({"source": str(path), "program": program, "peaks": [
            {**Peak(p.direction, p.potential, p.current, 1, graph["quantity"]).to_record(), "x": x, "y": y}
            for p, (x, y) in zip(peaks, xy)], "window": list(window), "factor_e": graph["factor_e"],
            "factor_i": graph["factor_i"], "quantity": graph["quantity"], "us": graph["us"],
            "exponent": graph["exponent"], "curves": len(graph["curves"]),
            "current_span": float(max(c[1].max() for c in graph["curves"]) - min(c[1].min() for c in graph["curves"]))})
    return truths


def slices(t: dict) -> list[str]:
    unit = "raw A + exponent" if t["exponent"] else ("j" if t["quantity"] == "j" else f"I ×{t['factor_i']:g}")
    return [t["program"], curves_slice(t["curves"]), "US" if t["us"] else "IUPAC",
            "mV" if t["factor_e"] < 1 else "V", unit]


def units_right(t: dict, p: dict) -> bool:
    """Quantity and unit of both axes right: the potential unit's factor, the current's quantity, and the
    currents read at the true peaks' pixels within 3 % of the plotted range of the truth (so a printed "×10⁻⁵"
    or "1e−5" counts with the unit it scales)."""
    axes = p.get("axes") or {}
    x, y = axes.get("x") or {}, axes.get("y") or {}
    if x.get("factor_to_si") != t["factor_e"] or y.get("quantity") != t["quantity"]:
        return False
    if y.get("factor_to_si") is None or y.get("map") is None or y.get("scale") != "linear":
        return False
    sign = t.get("sign", -1 if t["us"] else 1)  # the current as printed
    height = p["height"]
    truth = np.array([sign * r["current"] for r in t["peaks"]])
    if len(truth) == 0:
        return abs(y["factor_to_si"] / t["factor_i"] - 1) < 1e-6 or t["exponent"]
    read = np.array([(y["map"]["offset"] + y["map"]["slope"] * r["y"] * height) * y["factor_to_si"]
                     for r in t["peaks"]])
    return bool(np.all(np.abs(read - truth) <= 0.03 * t["current_span"]))


def score(truths: list[dict], preds: list[dict], slices_of=slices) -> dict:
    """Per slice (``slices_of(truth)`` names a truth's): units right, potentials right among image-matched peaks,
    image/data F1, whole-plot flips."""
    rows: dict[str, dict] = {}
    for t, p in zip(truths, preds):
        tp = [Peak.from_record(r) for r in t["peaks"]]
        pp = [Peak.from_record(r) for r in p["peaks"]]
        image = match_peaks(pp, tp, "image")
        data = match_peaks([q for q in pp if q.potential is not None], tp, "data", window_V=t["window"])
        tol = data_tolerance_V(t["window"])
        pot_ok = sum(1 for i, j in image.tp if pp[i].potential is not None and abs(pp[i].potential - tp[j].potential)
                     <= tol)
        # A model that writes its own potentials (Qwen-VL answers, in the plot's printed units): scored the same way.
        own = [p["peaks"][i].get("answer_potential") for i, _ in image.tp]
        own_ok = sum(1 for v, (_, j) in zip(own, image.tp) if v is not None and
                     abs(v * t["factor_e"] - tp[j].potential) <= tol)
        swapped = [Peak("cathodic" if q.direction == "anodic" else "anodic", x=q.x, y=q.y) for q in pp]
        flip = bool(tp) and len(match_peaks(swapped, tp, "image").tp) == len(tp) and not image.tp
        units_ok = units_right(t, p)
        for key in ["all"] + slices_of(t):
            r = rows.setdefault(key, {"n": 0, "units": 0, "matched": 0, "pot": 0, "own": 0, "own_n": 0, "flips": 0,
                                      "image": [], "data": []})
            r["n"] += 1
            r["units"] += units_ok
            r["matched"] += len(image.tp)
            r["pot"] += pot_ok
            r["own"] += own_ok
            r["own_n"] += sum(v is not None for v in own)
            r["flips"] += flip
            r["image"].append(image)
            r["data"].append(data)
    return rows


def run(n: int, model_name: str, seed: int, build_set=None, refine: bool = True) -> tuple[list[dict], dict]:
    """Build the foreign holdout (``build_set(folder, n, seed)``, default ``build``) and predict it with axis
    reading on and off (``refine``: with the per-curve check): truths, and per mode the lines and the seconds
    taken."""
    from PIL import Image

    from voltpeak.models import load_model, model_dir
    from voltpeak.predict import predict

    with tempfile.TemporaryDirectory() as tmp:
        truths = (build_set or build)(Path(tmp), n, seed)
        model = load_model(model_dir(model_name))
        items = [(t["source"], Path(t["source"])) for t in truths]
        results = {}
        for mode in ("off", "auto"):
            start = time.perf_counter()
            results[mode] = list(predict(model, items, 16, axes=mode, refine=refine))
            results[mode + "_s"] = time.perf_counter() - start
        for t, line in zip(truths, results["auto"]):
            with Image.open(t["source"]) as im:
                line["height"] = im.height
    return truths, results


def table(truths: list[dict], results: dict, model_name: str, rows_on: dict | None = None,
          rows_off: dict | None = None, area: str = "axes") -> None:
    """The per-slice table (``score``'s rows with axes read and not), images/s, and the summary records."""
    rows_on = rows_on or score(truths, results["auto"])
    rows_off = rows_off or score(truths, results["off"])
    print("| slice | images | units right | potential right (of image-matched) | image F1 (axes off) | "
          "whole-plot flips (axes off) | data F1 (P / R) | data sample acc. |")
    print("|---|---|---|---|---|---|---|---|")
    for key, r in rows_on.items():
        off = rows_off[key]
        img, img_off, dat = (summarise(r["image"], "image"), summarise(off["image"], "image"),
                             summarise(r["data"], "data"))
        print(f"| {key} | {r['n']} | {100 * r['units'] / r['n']:.1f} % | "
              f"{100 * r['pot'] / max(r['matched'], 1):.1f} % ({r['matched']}) | {img['f1']:.3f} ({img_off['f1']:.3f})"
              f" | {r['flips']} ({off['flips']}) | {dat['f1']:.3f} ({dat['precision']:.2f} / {dat['recall']:.2f}) | "
              f"{dat['sample_accuracy']:.3f} |")
    a = rows_on["all"]
    print("\nthe model's own potentials (from its answers): " + (
        f"{100 * a['own'] / a['own_n']:.1f} % right of {a['own_n']} image-matched peaks, against "
        f"{100 * a['pot'] / max(a['matched'], 1):.1f} % read off the axes by the reader" if a["own_n"] else
        "none (its answers give positions only)"))
    n = len(truths)
    print(f"\nimages/s ({model_name}, batch 16): detector alone {n / results['off_s']:.1f}, "
          f"with axis reading {n / results['auto_s']:.1f}")
    data = summarise(a["data"], "data")
    record(area, f"{model_name}: data F1 / sample accuracy (axes read)",
           f"{data['f1']:.3f} / {data['sample_accuracy']:.3f}")
    record(area, f"{model_name}: units right / potentials right",
           f"{100 * a['units'] / a['n']:.1f} % / {100 * a['pot'] / max(a['matched'], 1):.1f} %", "goal 98 % / 98 %")
    record(area, f"{model_name}: images/s with axis reading", f"{n / results['auto_s']:.1f}",
           f"{n / results['off_s']:.1f} detector alone; goal 10")


def main(doc: str = __doc__, seed: int = 4, build_set=None, slices_of=slices, area: str = "axes") -> int:
    """The command line of this benchmark, and of others that build their own foreign set (``build_set``) and
    slice it their way (``slices_of``)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--model", action="append", help="repeatable; default: default")
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--no-refine", action="store_true", help="the model's peaks alone (no per-curve check)")
    args = parser.parse_args()
    for name in args.model or ["default"]:
        print(f"\n### {name}{' (model alone)' if args.no_refine else ''}\n")
        truths, results = run(args.n, name, args.seed, build_set, not args.no_refine)
        rows_on, rows_off = score(truths, results["auto"], slices_of), score(truths, results["off"], slices_of)
        table(truths, results, name, rows_on, rows_off, area=area)
    return 0


if __name__ == "__main__":
    sys.exit(main())
