"""Plots drawn by other plotting programs: Vega-Lite (through ``vl-convert``) and R's ggplot2, each in its own
themes, with every located point taken from the program's own layout (Vega's scenegraph, grid's viewports).

The ``PlotStyle`` gives what the data and the words are (size, dpi, labels, line width and dash, palette, markers,
convention, legend, title); the program's theme (``style.theme``) gives the rest of the look, as it would for a
user of that program.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from voltpeak.render.figure import LEGEND_SIDES, Curve, Rendered, cycle, limits, locate, require, rgb_png
from voltpeak.render.style import PlotStyle

VEGA_DASHES = {"-": None, "--": [6, 4], ":": [1.5, 2.5], "-.": [6, 3, 1.5, 3]}
VEGA_SHAPES = {"o": "circle", "s": "square", "^": "triangle-up", "D": "diamond", ".": "circle"}
R_LINETYPES = {"-": "solid", "--": "dashed", ":": "dotted", "-.": "dotdash"}
R_SHAPES = {"o": 1, "s": 0, "^": 2, "D": 5, ".": 20}
R_FONTS = {"DejaVu Serif": "serif", "STIXGeneral": "serif", "DejaVu Sans Mono": "mono"}  # else "sans"


def render_vega(curves: list[Curve], points: np.ndarray, style: PlotStyle, potential_label: str,
                current_label: str) -> Rendered:
    """``render`` by Vega-Lite (vl-convert: Vega's own renderer, no browser)."""
    xlim, ylim = limits(curves)
    colours = cycle(style.palette, len(curves))
    # Curves by index, not label (two may share a legend label); the legend writes the labels.
    labels = [c.label or f"curve {n + 1}" for n, c in enumerate(curves)]
    legend_text = " : ".join(f"datum.label == '{n}' ? {json.dumps(t)}" for n, t in enumerate(labels)) + " : ''"
    rows = [{"E": float(e), "I": float(i), "k": k, "c": str(n)}
            for n, c in enumerate(curves) for k, (e, i) in enumerate(zip(c.potential, c.current))]
    px = style.dpi / 72
    font = style.font_size * px
    labelled = bool(style.legend) and any(c.label for c in curves)
    encoding = {
        "x": {"field": "E", "type": "quantitative", "title": potential_label,
              "scale": {"domain": list(xlim), "nice": False, "zero": False, "reverse": style.us_convention},
              "axis": {"grid": style.grid != "none", "tickCount": style.n_ticks}},
        "y": {"field": "I", "type": "quantitative", "title": current_label,
              "scale": {"domain": list(ylim), "nice": False, "zero": False},
              "axis": {"grid": style.grid != "none", "tickCount": style.n_ticks}},
        "color": {"field": "c", "type": "nominal", "sort": None,
                  "scale": {"range": list(colours)},
                  "legend": {"orient": LEGEND_SIDES[style.legend], "title": None, "labelExpr": legend_text}
                  if labelled else None},
        "order": {"field": "k"},
    }
    line = {"type": "line", "strokeWidth": style.line_width * px, "opacity": style.alpha, "clip": True}
    if VEGA_DASHES[style.line_style]:
        line["strokeDash"] = VEGA_DASHES[style.line_style]
    layers = [{"mark": line}]
    if style.marker:
        layers.append({"transform": [{"filter": f"datum.k % {style.marker_every} == 0"}],
                       "mark": {"type": "point", "shape": VEGA_SHAPES[style.marker], "filled": style.marker != "o",
                                "size": (style.marker_size * px * 2) ** 2, "clip": True}})
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": style.width_px,
            "height": style.height_px, "autosize": {"type": "fit", "contains": "padding"}, "padding": 6,
            "data": {"values": rows}, "encoding": encoding, "layer": layers,
            "config": {"axis": {"labelFontSize": font, "titleFontSize": font * 1.1},
                       "legend": {"labelFontSize": font * 0.9}, "title": {"fontSize": font * 1.2}}}
    if style.title:
        spec["title"] = style.title
    theme = "" if style.theme == "default" else style.theme
    box, png = VEGA.draw({"spec": spec, "theme": theme})
    located = locate(np.asarray(points, dtype=float).reshape(-1, 2), xlim, ylim, box, style.us_convention)
    return Rendered(rgb_png(png, style.width_px, style.height_px), style.width_px, style.height_px, located,
                    colours=colours)


class _Program:
    """A plotting program kept running in a process of its own, started at the first plot and kept for the
    process's life (R and ggplot2 take seconds to start, a plot a fraction of one; vl-convert's runtime does not
    survive a fork). It reads one JSON request per line and answers one JSON line; a forked worker starts its own."""

    def __init__(self, engine: str, command: list[str]):
        self.engine, self.command = engine, command
        self.process: subprocess.Popen | None = None
        self.owner = 0  # the pid that started it

    def draw(self, request: dict) -> tuple[tuple, bytes]:
        """The program draws ``request`` into a PNG: (the plot area's edges x0, x1, y0, y1 in pixels from the
        top-left, the PNG's bytes)."""
        if self.process is None or self.process.poll() is not None or self.owner != os.getpid():
            self._start()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "plot.png"
            try:
                self.process.stdin.write(json.dumps({**request, "out": str(out)}) + "\n")
                self.process.stdin.flush()
                line = self.process.stdout.readline()
            except OSError:  # the program died before reading the request (a broken pipe)
                line = ""
            if not line:
                self.log.seek(0)
                error = self.log.read().decode(errors="replace").strip().splitlines()
                self._stop()
                raise RuntimeError(f"{self.engine} stopped: {error[-1] if error else 'no message'}")
            answer = json.loads(line)
            if "error" in answer:
                raise RuntimeError(f"{self.engine} could not draw the plot: {answer['error']}")
            return tuple(answer["box"]), out.read_bytes()

    def _start(self):
        require(self.engine)
        if self.owner != os.getpid():  # a fresh process (or a forked worker): the parent's program is not ours
            self.process = None
            atexit.register(self._stop, os.getpid())
        else:
            self._stop()
        self.owner = os.getpid()
        self.log = tempfile.TemporaryFile()  # warnings: a pipe nobody reads would fill and stall the program
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True)

    def _stop(self, owner: int | None = None):
        """End this process's program (at exit: only in the process that started it) and close its files."""
        if self.process is None or (owner is not None and owner != self.owner):
            return
        self.process.kill()
        self.process.wait()
        for f in (self.process.stdin, self.process.stdout, self.log):
            try:
                f.close()
            except OSError:
                pass
        self.process = None


VEGA = _Program("vega", [sys.executable, "-m", "voltpeak.render.vega_worker"])
GGPLOT = _Program("ggplot", ["Rscript", "--vanilla", str(Path(__file__).with_name("ggplot.R"))])


def render_ggplot(curves: list[Curve], points: np.ndarray, style: PlotStyle, potential_label: str,
                  current_label: str) -> Rendered:
    """``render`` by R's ggplot2 (Cairo PNG device)."""
    xlim, ylim = limits(curves)
    colours = cycle(style.palette, len(curves))
    request = {
        "curves": [{"E": c.potential.tolist(), "I": c.current.tolist(), "label": c.label or f"curve {n + 1}"}
                   for n, c in enumerate(curves)],
        "colours": list(colours),
        "xlim": [-xlim[1], -xlim[0]] if style.us_convention else list(xlim), "ylim": list(ylim),
        "us": style.us_convention, "xlabel": potential_label, "ylabel": current_label, "title": style.title,
        "line_width": style.line_width / 72 * 25.4 / 0.75,  # ggplot2 line widths are in units of 0.75 mm
        "line_type": R_LINETYPES[style.line_style], "alpha": style.alpha,
        "marker": str(R_SHAPES[style.marker]) if style.marker else "", "marker_every": style.marker_every,
        "marker_size": style.marker_size / 2.845, "theme": style.theme or "theme_grey",
        "font_size": style.font_size, "font": R_FONTS.get(style.font, "sans"),
        "legend": LEGEND_SIDES[style.legend] if style.legend and any(c.label for c in curves) else "",
        "width": style.width_px, "height": style.height_px, "dpi": style.dpi}
    box, png = GGPLOT.draw(request)
    located = locate(np.asarray(points, dtype=float).reshape(-1, 2), xlim, ylim, box, style.us_convention)
    return Rendered(rgb_png(png, style.width_px, style.height_px), style.width_px, style.height_px, located,
                    colours=colours)
