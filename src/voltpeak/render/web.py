"""Web plots: Bokeh and plotly drawn by their own JavaScript libraries in Debian's Chromium (Playwright) and
screenshotted as users capture them, at 1× or 2× device scale with the browser's anti-aliasing; every located
point is taken from the library's own layout (BokehJS's frame, plotly.js's plot area).

Each process keeps one browser with one page per device scale, the libraries loaded once; a plot is a JSON
document the page draws (a few hundredths of a second), not a page load.
"""

from __future__ import annotations

import atexit
import json
import os

import numpy as np

from voltpeak.render.figure import CHROMIUM, LEGEND_SIDES, Curve, Rendered, cycle, limits, locate, require, rgb_png
from voltpeak.render.style import PlotStyle

# Dash patterns in line widths, as matplotlib scales its own (the libraries' named dashes have fixed lengths: a
# thin line's gap would be wider than the peak it hides).
DASHES = {"-": (), "--": (3.7, 1.6), ":": (1.0, 1.65), "-.": (6.4, 1.6, 1.0, 1.6)}
BOKEH_MARKERS = {"o": "circle", "s": "square", "^": "triangle", "D": "diamond", ".": "dot"}
PLOTLY_MARKERS = {"o": "circle-open", "s": "square", "^": "triangle-up", "D": "diamond", ".": "circle"}


def _scale(style: PlotStyle) -> int:
    """The screenshot's device scale: high-dpi styles are 2× captures (a retina screen), the rest 1×."""
    return 2 if style.dpi >= 110 and style.width_px % 2 == 0 and style.height_px % 2 == 0 else 1


class _Browser:
    """Chromium with one page per device scale, started at the first plot of a process (a forked worker starts
    its own: Playwright's connection does not survive a fork)."""

    def __init__(self):
        self.owner = 0
        self.playwright = self.browser = None
        self.pages: dict[int, object] = {}

    def page(self, scale: int):
        if self.owner != os.getpid():
            require("bokeh")
            require("plotly")
            from playwright.sync_api import sync_playwright

            self.owner, self.pages = os.getpid(), {}
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            atexit.register(self.stop, os.getpid())
        if scale not in self.pages:
            from bokeh.resources import INLINE
            from plotly.offline import get_plotlyjs

            page = self.browser.new_context(device_scale_factor=scale).new_page()
            scripts = [*INLINE.js_raw, get_plotlyjs()]
            page.set_content("<html><head><style>html,body{margin:0;padding:0;overflow:hidden;background:white}"
                             "</style>" + "".join(f"<script>{s}</script>" for s in scripts) +
                             "</head><body><div id='root'></div></body></html>")
            self.pages[scale] = page
        return self.pages[scale]

    def stop(self, owner: int | None = None):
        """Close the browser this process started (Playwright's sync API allows one at a time in a thread: a
        caller that drives its own browser next stops this one first); the next plot starts a fresh one."""
        if (owner is None or owner == self.owner) and self.browser is not None and self.owner == os.getpid():
            try:
                self.browser.close()
                self.playwright.stop()
            except Exception:  # noqa: BLE001 - the browser may already be gone at exit
                pass
        self.owner, self.browser, self.playwright, self.pages = 0, None, None, {}


BROWSER = _Browser()

# Draw a document in #root, wait two frames (BokehJS paints its canvas on the next animation frame), and return
# the plot area (x0, x1, y0, y1; CSS pixels from the top-left).
_BOKEH_JS = """async (item) => {
    for (const view of Object.values(Bokeh.index)) view.remove();
    const root = document.getElementById('root'); root.innerHTML = '';
    const views = [...await Bokeh.embed.embed_item(JSON.parse(item), 'root')];
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const view = views.find(v => v.frame !== undefined);
    const b = view.frame.bbox, c = view.canvas_view.el.getBoundingClientRect();
    return [c.left + b.left, c.left + b.right, c.top + b.top, c.top + b.bottom];
}"""
_PLOTLY_JS = """async (figure) => {
    const root = document.getElementById('root'); Plotly.purge(root); root.innerHTML = '';
    const f = JSON.parse(figure);
    await Plotly.newPlot(root, f.data, f.layout, {staticPlot: true});
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const s = root._fullLayout._size;
    return [s.l, s.l + s.w, s.t, s.t + s.h];
}"""


def _shoot(script: str, document: str, style: PlotStyle, scale: int, points, xlim, ylim, colours) -> Rendered:
    """Draw ``document`` with ``script`` on the page of ``scale``, screenshot the plot's size, locate ``points``."""
    page = BROWSER.page(scale)
    width, height = style.width_px // scale, style.height_px // scale
    page.set_viewport_size({"width": width, "height": height})
    box = np.asarray(page.evaluate(script, document), dtype=float) * scale
    png = page.screenshot(clip={"x": 0, "y": 0, "width": width, "height": height}, animations="disabled")
    located = locate(np.asarray(points, dtype=float).reshape(-1, 2), xlim, ylim, tuple(box), style.us_convention)
    return Rendered(rgb_png(png, style.width_px, style.height_px), style.width_px, style.height_px, located,
                    colours=colours)


def render_bokeh(curves: list[Curve], points: np.ndarray, style: PlotStyle, potential_label: str,
                 current_label: str) -> Rendered:
    """``render`` by Bokeh (BokehJS's canvas) in its theme ``style.theme`` ("caliber", "light_minimal" or
    "default"; "+toolbar": the tool icons beside the plot, as a notebook shows it)."""
    from bokeh.embed import json_item
    from bokeh.models import Range1d
    from bokeh.plotting import figure
    from bokeh.themes import built_in_themes

    scale = _scale(style)
    px = style.dpi / 72 / scale  # points → CSS pixels
    font = f"{style.font_size * px:.1f}px"
    theme, _, toolbar = style.theme.partition("+")
    xlim, ylim = limits(curves)
    colours = cycle(style.palette, len(curves))
    p = figure(width=style.width_px // scale, height=style.height_px // scale, title=style.title or None,
               x_axis_label=potential_label, y_axis_label=current_label,
               x_range=Range1d(*(xlim[::-1] if style.us_convention else xlim)), y_range=Range1d(*ylim),
               toolbar_location="right" if toolbar else None)
    for axis in (p.xaxis, p.yaxis):
        axis.major_label_text_font_size = font
        axis.axis_label_text_font_size = f"{style.font_size * px * 1.1:.1f}px"
        axis.major_label_text_font = axis.axis_label_text_font = style.font
        axis.ticker.desired_num_ticks = style.n_ticks
    if style.title:
        p.title.text_font_size = f"{style.font_size * px * 1.2:.1f}px"
    if style.grid == "none":
        p.xgrid.visible = p.ygrid.visible = False
    elif style.grid == "both":
        p.xgrid.minor_grid_line_color = p.ygrid.minor_grid_line_color = "#eeeeee"
    if not style.box:
        p.outline_line_color = None
    labelled = bool(style.legend) and any(c.label for c in curves)
    for k, c in enumerate(curves):
        legend = {"legend_label": c.label or f"curve {k + 1}"} if labelled else {}
        p.line(c.potential, c.current, line_width=style.line_width * px, color=colours[k], line_alpha=style.alpha,
               line_dash=[max(1, round(d * style.line_width * px)) for d in DASHES[style.line_style]], **legend)
        if style.marker:
            every = slice(None, None, style.marker_every)
            p.scatter(c.potential[every], c.current[every], marker=BOKEH_MARKERS[style.marker],
                      size=max(2.0, style.marker_size * px * 2), color=colours[k], fill_alpha=style.alpha)
    if labelled:  # beside the plot, where it cannot hide a peak
        side = {"top": "above", "bottom": "below"}.get(LEGEND_SIDES[style.legend], LEGEND_SIDES[style.legend])
        p.add_layout(p.legend[0], side)
        if side in ("above", "below"):
            p.legend.orientation = "horizontal"
        p.legend.label_text_font_size = f"{style.font_size * px * 0.9:.1f}px"
        p.legend.border_line_alpha = 1.0 if style.legend_frame else 0.0
    item = json_item(p, theme=built_in_themes[theme] if theme != "default" else None)
    return _shoot(_BOKEH_JS, json.dumps(item), style, scale, points, xlim, ylim, colours)


def _plotly_dash(line_style: str, width: float) -> str:
    """plotly's dash string ("4px,2px") for ``line_style`` on a line ``width`` CSS pixels wide."""
    return ",".join(f"{d * width:.2f}px" for d in DASHES[line_style]) or "solid"


def render_plotly(curves: list[Curve], points: np.ndarray, style: PlotStyle, potential_label: str,
                  current_label: str) -> Rendered:
    """``render`` by plotly (plotly.js's SVG) in its template ``style.theme``."""
    import plotly.graph_objects as go

    scale = _scale(style)
    px = style.dpi / 72 / scale
    xlim, ylim = limits(curves)
    colours = cycle(style.palette, len(curves))
    labelled = bool(style.legend) and any(c.label for c in curves)
    axis = {"showgrid": style.grid != "none", "nticks": style.n_ticks + 1,
            "title": {"font": {"size": style.font_size * px * 1.1}}}
    fs = style.font_size * px
    # Margins from the font (plotly's defaults, 80–100 px, leave nothing of a small plot); automargin widens them
    # for long tick labels, titles and the legend.
    margin = {"l": round(fs * 5 + 10), "r": round(fs + 10), "b": round(fs * 3.2 + 10),
              "t": round(fs * (2.6 if style.title else 1) + 10)}
    fig = go.Figure(layout={
        "template": style.theme, "margin": margin, "width": style.width_px // scale, "height": style.height_px // scale,
        "font": {"family": style.font, "size": style.font_size * px},
        "title": {"text": style.title or None}, "showlegend": labelled,
        "xaxis": {**axis, "title": {**axis["title"], "text": potential_label},
                  "range": list(xlim[::-1] if style.us_convention else xlim)},
        "yaxis": {**axis, "title": {**axis["title"], "text": current_label}, "range": list(ylim)}})
    for k, c in enumerate(curves):
        width = style.line_width * px
        fig.add_trace(go.Scatter(x=c.potential, y=c.current, mode="lines", name=c.label or f"curve {k + 1}",
                                 opacity=style.alpha, line={"color": colours[k], "width": width,
                                                            "dash": _plotly_dash(style.line_style, width)}))
        if style.marker:
            every = slice(None, None, style.marker_every)
            fig.add_trace(go.Scatter(x=c.potential[every], y=c.current[every], mode="markers", showlegend=False,
                                     opacity=style.alpha,
                                     marker={"color": colours[k], "symbol": PLOTLY_MARKERS[style.marker],
                                             "size": max(2.0, style.marker_size * px * 2)}))
    return _shoot(_PLOTLY_JS, fig.to_json(), style, scale, points, xlim, ylim, colours)
