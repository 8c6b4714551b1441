"""Benchmark of ``voltpeak build``: samples/s on all cores, rendering against naive matplotlib, memory.

    python benchmarks/build.py [--n 1000] [--pool-size 300]

Rows:
- samples/s of a whole build (compose, render, PNG, JSONL, parquet) on all cores, and the time that rate gives
  for 25,000 samples (the goal: ≤ 5 minutes);
- rendering the same graphs one core: voltpeak's renderer against the naive way (a new pyplot figure per image,
  ``savefig``), in one run; then each engine (ours, matplotlib, its style sheets, Vega-Lite, ggplot2) on them;
- peak memory of the build (main process, largest worker), and of one process building two dataset sizes (it
  should not grow with N).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import numpy as np  # noqa: E402
from common import peak_rss_mb, record  # noqa: E402

from voltpeak.dataset import BuildConfig, build, compose, load_pool, make_plan  # noqa: E402
from voltpeak.render import ENGINES, render, sample_style  # noqa: E402
from voltpeak.render.style import PALETTES, THEMES  # noqa: E402
from voltpeak.simulate.batch import simulate_to_folder  # noqa: E402
from voltpeak.simulate.config import SimulationConfig  # noqa: E402


def naive(graph, style) -> bytes:
    """A new pyplot figure per image, drawn and saved the usual way."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(style.width_px / style.dpi, style.height_px / style.dpi), dpi=style.dpi)
    for k, c in enumerate(graph.curves):
        plt.plot(c.potential, c.current, color=PALETTES[style.palette][k % 8], linewidth=style.line_width,
                 label=c.label or None)
    plt.xlabel(graph.potential_label)
    plt.ylabel(graph.current_label)
    if any(c.label for c in graph.curves):
        plt.legend()
    buffer = io.BytesIO()
    plt.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def build_rss_mb(pool: Path, n: int) -> float:
    """Peak memory (MB) of one process that builds ``n`` samples from ``pool``."""
    return peak_rss_mb("import tempfile\nfrom pathlib import Path\n"
                       "from voltpeak.dataset import BuildConfig, build, load_pool, make_plan\n"
                       f"plan = make_plan([load_pool({str(pool)!r})], [], {n}, 0, BuildConfig())\n"
                       "build(plan, Path(tempfile.mkdtemp()) / 'ds', workers=1)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="samples of the timed build")
    parser.add_argument("--pool-size", type=int, default=300, help="simulated CVs in the pool")
    parser.add_argument("--render", type=int, default=40, help="graphs for the renderer rows")
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        pool_dir = Path(tmp) / "pool"
        simulate_to_folder(args.pool_size, pool_dir, 11, SimulationConfig(cycles=(1, 2)), workers=workers)
        pool = load_pool(str(pool_dir))
        print("| measurement | value |")
        print("|---|---|")
        plan = make_plan([pool], [], args.n, 0, BuildConfig())
        t = time.perf_counter()
        build(plan, Path(tmp) / "ds", workers=workers)
        rate = args.n / (time.perf_counter() - t)
        parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"| build, {args.n} samples, {workers} cores | {rate:.1f} samples/s "
              f"(25,000 in {25000 / rate / 60:.1f} min); peak memory {parent:.0f} MB main + {child:.0f} MB "
              "largest worker |")

        rng = np.random.default_rng(0)
        graphs = []
        for _ in range(args.render):
            style = sample_style(rng)
            graphs.append((compose(rng, pool.cvs, style), style))
        render(graphs[0][0].curves, np.zeros((0, 2)), graphs[0][1], "E", "I")  # imports and font caches
        naive(*graphs[0])
        t = time.perf_counter()
        for graph, style in graphs:
            render(graph.curves, np.array([(p.shown_potential, p.shown_current) for p in graph.peaks]).reshape(-1, 2),
                   style, graph.potential_label, graph.current_label)
        ours = (time.perf_counter() - t) / len(graphs)
        t = time.perf_counter()
        for graph, style in graphs:
            naive(graph, style)
        theirs = (time.perf_counter() - t) / len(graphs)
        print(f"| render one graph, one core: voltpeak / naive pyplot + savefig | {ours * 1e3:.0f} ms / "
              f"{theirs * 1e3:.0f} ms = {theirs / ours:.1f}x faster |")
        # Each engine on the same graphs (its first plot apart: a program's start-up).
        for engine in ENGINES:
            styles = [replace(style, engine=engine, theme=THEMES[engine][k % len(THEMES[engine])]
                              if engine in THEMES else "") for k, (_, style) in enumerate(graphs)]
            render(graphs[0][0].curves, np.zeros((0, 2)), styles[0], "E", "I")
            t = time.perf_counter()
            for (graph, _), style in zip(graphs, styles):
                render(graph.curves, np.zeros((0, 2)), style, graph.potential_label, graph.current_label)
            print(f"| render one graph, one core, engine {engine} | {(time.perf_counter() - t) / len(graphs) * 1e3:.0f}"
                  " ms |")
        record("build", f"samples/s, {workers} cores", f"{rate:.1f}")
        record("build", "render one graph, ms", f"{ours * 1e3:.0f}", f"pyplot + savefig {theirs * 1e3:.0f}")
        small, large = build_rss_mb(pool_dir, 400), build_rss_mb(pool_dir, 1600)
        print(f"| peak memory, 400 vs 1600 samples (one process, pool of {args.pool_size}) | "
              f"{small:.0f} MB vs {large:.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
