"""Benchmark of ``voltpeak serve``: how fast the label page opens a long CV in headless Chromium, how fast the
analysis page shows a dropped CV file and a dropped figure, and how fast the review API pages through a
10,000-sample evaluation.

    python benchmarks/serve.py [--points 15000] [--samples 10000] [--repeat 7]

Label page: a CSV of ``--points`` samples (a 3-cycle CV with noise) in a data folder; each repeat loads
``/label?file=...`` in a fresh tab, and the table reports the page's own time from its first request for the CV to
the plot drawn (``open``), and the wall time from navigation to that moment (``navigate``, page and scripts
included). Review: ``--samples`` image-space samples (2–8 peaks each, predictions jittered, some missing or extra);
each API query is timed over ``--repeat`` requests (median), against ``/api/runs`` as the floor of a request
through the same server. Analysis page: each repeat drops the same CSV in a fresh tab (a new session: uploaded,
checked and analysed anew) and times the wall time from the drop to the table and plot shown; then a PNG of that CV
drawn by matplotlib (its axes to be read by OCR) to the peaks shown with their potentials, with the shipped default
model (the first drop, which loads the model and the OCR engine, apart). Goals (issue 7): open < 1 s, review pages
< 300 ms; (issue 32): a CV's result < 1 s, a figure's < 2 s.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from common import record  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def long_cv(path: Path, points: int, seed: int = 0):
    """A 3-cycle CV of ``points`` samples: a reversible-looking couple on a sloped background, with noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 3, points, endpoint=False)
    e = -0.2 + 0.8 * (1 - np.abs(2 * (t % 1) - 1))  # triangle -0.2 → 0.6 → -0.2 V, 3 cycles
    up = (2 * (t % 1) - 1) < 0
    wave = np.where(up, 1, -1) * 2e-5 / np.cosh((e - 0.25 + np.where(up, 0.03, -0.03)) / 0.05)
    i = wave + 5e-6 * e + np.where(up, 2e-6, -2e-6) + rng.normal(0, 2e-7, points)
    path.write_text("E / V,I / A\n" + "".join(f"{a:.6f},{b:.6e}\n" for a, b in zip(e, i)))


def review_set(folder: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    truth, pred = [], []
    for k in range(n):
        peaks = [{"direction": str(rng.choice(["anodic", "cathodic"])), "x": float(rng.uniform(0.1, 0.9)),
                  "y": float(rng.uniform(0.1, 0.9))} for _ in range(int(rng.integers(2, 9)))]
        guess = [{**p, "x": p["x"] + float(rng.normal(0, 0.008)), "y": p["y"] + float(rng.normal(0, 0.008))}
                 for p in peaks if rng.random() > 0.1]
        guess += [{"direction": "anodic", "x": float(rng.uniform()), "y": float(rng.uniform())}
                  for _ in range(int(rng.random() < 0.15))]
        src = f"images/s{k:05d}.png"
        truth.append({"source": src, "peaks": peaks, "style": {"family": ["classic", "origin", "us"][k % 3]}})
        pred.append({"source": src, "peaks": guess, "text": json.dumps(guess), "error": None})
    (folder / "truth.jsonl").write_text("".join(json.dumps(x) + "\n" for x in truth))
    (folder / "pred.jsonl").write_text("".join(json.dumps(x) + "\n" for x in pred))
    return folder / "truth.jsonl", folder / "pred.jsonl"


def figure_of(csv_path: Path, png: Path) -> None:
    """The CV of ``csv_path`` drawn by matplotlib with titled, labelled axes, as a paper would show it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from voltpeak.read import read

    v = read(csv_path)
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(v.potential_V, v.current * 1e6, lw=0.8)
    ax.set(xlabel="E / V", ylabel="I / µA")
    fig.tight_layout()
    fig.savefig(png)


def dropped(browser, url: str, path: Path, ready: str) -> tuple[float, dict]:
    """Wall time (ms) from choosing ``path`` in a fresh tab of the analysis page to ``ready`` holding, and what
    the page measured itself."""
    page = browser.new_context(viewport={"width": 1280, "height": 1000}, bypass_csp=True).new_page()
    page.goto(url + "/analyse")
    page.wait_for_function("window.voltpeakReady === true", polling=5)
    t0 = time.perf_counter()
    page.set_input_files("#pick", str(path))
    page.wait_for_function(ready, polling=5, timeout=60_000)
    ms = (time.perf_counter() - t0) * 1000
    own = page.evaluate(ready)
    page.close()
    return ms, own


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str]) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "voltpeak", "serve", "--port", str(port), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**__import__("os").environ, "PYTHONPATH": str(HERE.parent / "src")})
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            urllib.request.urlopen(url + "/api/runs", timeout=1)
            return proc, url, time.perf_counter() - t0
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("voltpeak serve did not start") from None
            time.sleep(0.05)


def timed(url: str, repeat: int) -> float:
    """Median wall time of a GET, ms (after one warm-up request)."""
    urllib.request.urlopen(url).read()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        urllib.request.urlopen(url).read()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=15000)
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "cvs").mkdir()
        long_cv(tmp / "cvs" / "long.csv", args.points)
        figure_of(tmp / "cvs" / "long.csv", tmp / "long.png")
        truth, pred = review_set(tmp, args.samples)
        proc, url, startup = start(["--data", str(tmp / "cvs"), "--truth", str(truth), "--pred", str(pred),
                                    "--db", str(tmp / "labels.sqlite")])
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                opens, navs = [], []
                for _ in range(args.repeat):
                    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
                    t0 = time.perf_counter()
                    page.goto(url + "/label?file=0/long.csv")
                    page.wait_for_function("window.voltpeakOpened", polling=5)
                    navs.append((time.perf_counter() - t0) * 1000)
                    opens.append(page.evaluate("window.voltpeakOpened.ms"))
                    page.close()
                cv_ready = "window.voltpeakAnalyse && window.voltpeakAnalyse.line.source === 'long.csv' && " \
                           "window.voltpeakAnalyse"
                drops = [dropped(browser, url, tmp / "cvs" / "long.csv", cv_ready) for _ in range(args.repeat)]
                fig_ready = "window.voltpeakFigure && window.voltpeakFigure.result.peaks.length && " \
                            "window.voltpeakFigure.result.peaks.every(p => p.potential !== undefined) && " \
                            "window.voltpeakFigure"
                figures = [dropped(browser, url, tmp / "long.png", fig_ready) for _ in range(args.repeat + 1)]
                browser.close()
            rows.append((f"label page: open a {args.points:,}-point CV (fetch + draw)", statistics.median(opens), 1000))
            rows.append(("label page: navigate → plot drawn", statistics.median(navs), 1000))
            rows.append((f"analyse page: drop a {args.points:,}-point CSV → shown", statistics.median(
                ms for ms, _ in drops), 1000))
            rows.append(("analyse: the server's part (detect, table, sweeps)", statistics.median(
                own["server_ms"] for _, own in drops), None))
            rows.append(("analyse page: first figure (loads model + OCR)", figures[0][0], None))
            rows.append(("analyse page: drop a figure → peaks, axes read", statistics.median(
                ms for ms, _ in figures[1:]), 2000))
            rows.append(("analyse: the server's part (model + OCR)", statistics.median(
                own["server_ms"] for _, own in figures[1:]), None))
            api = url + "/api/review"
            floor = timed(url + "/api/runs", args.repeat)
            rows.append(("baseline: /api/runs (a request's floor)", floor, None))
            for name, query in (("review: first page, worst first", "?sort=worst"),
                                ("review: has FN, most FN first", "?filter=has_fn&sort=fn"),
                                ("review: wrong count + family", "?filter=wrong_count&family=us"),
                                ("review: source search, sorted by source", "?source=s0&sort=source"),
                                ("review: page at offset 5,000", "?sort=worst&offset=5000"),
                                ("review: one sample's detail", "/sample/4321")):
                rows.append((name, timed(api + query, args.repeat), 300))
        finally:
            proc.terminate()
            proc.wait(10)
    record("serve", f"label page opens a {args.points:,}-point CV, ms", f"{rows[0][1]:.0f}", "goal 1000")
    record("serve", f"analyse page: a dropped {args.points:,}-point CV's result / a figure's, ms",
           f"{rows[2][1]:.0f} / {rows[5][1]:.0f}", "goal 1000 / 2000")
    review = [ms for name, ms, _ in rows if name.startswith("review")]
    record("serve", f"review API page at {args.samples:,} samples, ms (slowest query)", f"{max(review):.0f}",
           f"goal 300; trivial request {floor:.1f}")
    print(f"voltpeak serve ({args.samples:,} review samples; server start-up incl. scoring them: {startup:.1f} s)")
    print(f"{'measure':<52} {'ms (median)':>12} {'× floor':>8} {'goal ms':>8} {'ok':>4}")
    for name, ms, goal in rows:
        ratio = f"{ms / floor:8.1f}" if name.startswith("review") else f"{'':>8}"
        print(f"{name:<52} {ms:12.1f} {ratio} {goal or '':>8} {('yes' if ms < goal else 'NO') if goal else '':>4}")


if __name__ == "__main__":
    main()
