"""Draw overlaid CVs in a ``PlotStyle`` and record where given data points land in the image (pixels).

Two engines draw the same style: matplotlib's Agg canvas used directly (no pyplot, no figure manager, one draw per
image), and a faster one without a figure (``voltpeak.render.raster``). Currents arrive already in the engineering
unit printed on the axis (``engineering_unit``), so tick labels never need an offset or a ×10ⁿ multiplier.

``render`` dispatches to the other engines (``raster``, ``programs``, ``web``); only this module imports them. The
types and helpers they share (``Curve``, ``Rendered``, ``Frame``, ``cycle``, ``encode_png``) live in
``voltpeak.render.figure``, which imports no engine.
"""

from __future__ import annotations

import numpy as np

from voltpeak.render.figure import Curve, Frame, Rendered, axes_box, cycle, encode_png
from voltpeak.render.style import PlotStyle

# (unit text, factor from A) and (unit text, factor from A/m²): the smallest factor that lifts the largest
# current to ≥ 1 wins, so tick labels are numbers between 1 and 1000.
CURRENT_UNITS = (("A", 1.0), ("mA", 1e3), ("µA", 1e6), ("nA", 1e9), ("pA", 1e12))
DENSITY_UNITS = (("A cm⁻²", 1e-4), ("mA cm⁻²", 0.1), ("µA cm⁻²", 100.0), ("nA cm⁻²", 1e5))


def engineering_unit(max_abs: float, quantity: str = "I") -> tuple[str, float]:
    """The unit (text) and factor that show currents up to ``max_abs`` (A, or A/m² when ``quantity`` is "j") as
    numbers of at least 1 and under 1000."""
    units = DENSITY_UNITS if quantity == "j" else CURRENT_UNITS
    for text, factor in units:
        if max_abs * factor >= 1:
            return text, factor
    return units[-1]


def render(curves: list[Curve], points: np.ndarray, style: PlotStyle, potential_label: str,
           current_label: str) -> Rendered:
    """Draw ``curves`` in ``style`` and locate ``points`` ((n, 2): potential, current in axis units) in the image.

    Under the US convention the potential axis decreases to the right and the current axis shows cathodic current
    up: callers pass currents already sign-flipped (they are what the axis prints). ``style.engine`` picks the
    renderer: matplotlib itself (in our style, or in one of its style sheets), the fast Pillow one
    (``voltpeak.render.raster``) that imitates it, or another plotting program (``voltpeak.render.programs``).
    """
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if style.engine == "raster":
        from voltpeak.render.raster import render_raster

        return render_raster(curves, points, style, potential_label, current_label)
    if style.engine == "vega":
        from voltpeak.render.programs import render_vega

        return render_vega(curves, points, style, potential_label, current_label)
    if style.engine == "ggplot":
        from voltpeak.render.programs import render_ggplot

        return render_ggplot(curves, points, style, potential_label, current_label)
    if style.engine in ("bokeh", "plotly"):
        from voltpeak.render import web

        return getattr(web, f"render_{style.engine}")(curves, points, style, potential_label, current_label)
    if style.engine == "matplotlib-sheet":
        return render_sheet(curves, points, style, potential_label, current_label)
    return render_matplotlib(curves, points, style, potential_label, current_label)


def render_matplotlib(curves: list[Curve], points: np.ndarray, style: PlotStyle, potential_label: str,
                      current_label: str) -> Rendered:
    """``render`` with a matplotlib figure (Agg canvas, no pyplot)."""
    import matplotlib

    # Fonts for every text of the figure at once (setting them label by label makes matplotlib build every tick).
    # DejaVu Sans after the style's font draws the glyphs it lacks (STIXGeneral has no superscript minus: cm⁻²).
    rc = {"font.family": [style.font, "DejaVu Sans"], "font.size": style.font_size,
          "axes.labelsize": style.font_size * 1.12,
          "axes.titlesize": style.font_size * 1.2, "legend.fontsize": style.font_size * 0.9,
          "xtick.labelsize": style.font_size, "ytick.labelsize": style.font_size,
          "xtick.direction": "in" if style.ticks_in else "out", "ytick.direction": "in" if style.ticks_in else "out",
          "axes.formatter.useoffset": False, "path.simplify_threshold": 0.2}
    with matplotlib.rc_context(rc):
        return _render(curves, points, style, potential_label, current_label)


def _render(curves, points, style, potential_label, current_label) -> Rendered:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import AutoMinorLocator, MaxNLocator

    dpi = style.dpi
    fig = Figure(figsize=(style.width_px / dpi, style.height_px / dpi), dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes(axes_box(style), facecolor=style.face)
    colours = cycle(style.palette, len(curves))
    for k, c in enumerate(curves):
        kwargs = {}
        if style.marker:
            kwargs = dict(marker=style.marker, markevery=style.marker_every, markersize=style.marker_size)
        ax.plot(c.potential, c.current, color=colours[k], linewidth=style.line_width,
                linestyle="none" if style.markers_only else style.line_style, alpha=style.alpha,
                label=c.label or None, **kwargs)
    if style.construction:
        _construction_lines(ax, curves, points)
    ax.set_xlabel(potential_label)
    ax.set_ylabel(current_label)
    if style.title:
        ax.set_title(style.title)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(style.n_ticks))
        if style.minor_ticks:
            axis.set_minor_locator(AutoMinorLocator())
    ax.ticklabel_format(style="plain", useOffset=False)
    if style.box and style.ticks_in:
        ax.tick_params(which="both", top=True, right=True)
    if not style.box:
        ax.spines[["top", "right"]].set_visible(False)
    if style.grid != "none":
        ax.grid(True, which="major" if style.grid == "major" else "both", alpha=style.grid_alpha,
                color="white" if style.face != "white" and style.grid_alpha >= 1 else "#b0b0b0", linewidth=0.6)
    if style.us_convention:
        ax.invert_xaxis()
    if style.axes_at_zero:  # through zero where zero is inside the plot, else at the edge as usual
        for spine, (lo, hi) in (("left", ax.get_xlim()), ("bottom", ax.get_ylim())):
            if min(lo, hi) < 0 < max(lo, hi):
                ax.spines[spine].set_position(("data", 0.0))
        ax.xaxis.set_label_coords(0.5, -0.05)  # the titles at the plot's edges, clear of the crossing axes
        ax.yaxis.set_label_coords(-0.05, 0.5)
    legend = None
    if style.legend and any(c.label for c in curves):
        legend = ax.legend(loc=style.legend, frameon=style.legend_frame)
    # A legend must not hide a peak: then matplotlib's own placement away from the data, else no legend.
    return _finish(canvas, ax, points, legend, ("best", None), style.legend_frame, cycle(style.palette, len(curves)))


def _construction_lines(ax, curves: list[Curve], points: np.ndarray):
    """What people draw over a CV to measure it, under the curves: a dashed drop from each peak to the current's
    zero and a straight baseline across the plot (a tangent drawn by hand), in grey or black."""
    colour = "#555555" if len(points) % 2 else "#000000"
    for x, y in np.asarray(points, dtype=float).reshape(-1, 2):
        ax.plot([x, x], [0.0, y], color=colour, linewidth=0.8, linestyle="--", zorder=1)
    potential = np.concatenate([c.potential for c in curves])
    current = np.concatenate([c.current for c in curves])
    lo, hi = potential.min(), potential.max()
    ax.plot([lo, hi], [np.percentile(current, 30), np.percentile(current, 45)], color=colour, linewidth=0.8,
            zorder=1)


def _finish(canvas, ax, points, legend, fallbacks, frameon, colours) -> Rendered:
    """Draw the figure, locate ``points`` by the axes' own transform, and move a legend that covers one to each
    of ``fallbacks`` in turn (a ``loc``, or None: no legend)."""
    canvas.draw()
    located = ax.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    for fallback in fallbacks:
        if legend is None or not _covers(legend.get_window_extent(), located):
            break
        legend.remove()
        legend = fallback and ax.legend(loc=fallback, frameon=frameon)
        canvas.draw()
    width, height = canvas.get_width_height()
    located[:, 1] = height - located[:, 1]  # from the top edge
    offset = ax.xaxis.get_offset_text().get_text() + ax.yaxis.get_offset_text().get_text()
    return Rendered(encode_png(np.asarray(canvas.buffer_rgba())), width, height, located, offset, colours)


def render_sheet(curves: list[Curve], points: np.ndarray, style: PlotStyle, potential_label: str,
                 current_label: str) -> Rendered:
    """``render`` by matplotlib in its style sheet ``style.theme``: the sheet's colours, fonts, grid and spines,
    laid out by matplotlib's constrained layout, as a user of that sheet would get; ours give only the size, the
    words, the line's dash and markers, the convention and the legend."""
    import matplotlib
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.style.context(style.theme), matplotlib.rc_context({"axes.formatter.useoffset": False}):
        dpi = style.dpi
        fig = Figure(figsize=(style.width_px / dpi, style.height_px / dpi), dpi=dpi, layout="constrained")
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for c in curves:
            kwargs = dict(marker=style.marker, markevery=style.marker_every) if style.marker else {}
            ax.plot(c.potential, c.current, linestyle=style.line_style, label=c.label or None, **kwargs)
        ax.set_xlabel(potential_label)
        ax.set_ylabel(current_label)
        if style.title:
            ax.set_title(style.title)
        if style.us_convention:
            ax.invert_xaxis()
        legend = ax.legend(loc="best") if style.legend and any(c.label for c in curves) else None
        colours = tuple(matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines())
        return _finish(canvas, ax, points, legend, (None,), True, colours)  # a legend must not hide a peak


def occluded(curves: list[Curve], points: np.ndarray, owners: list[int], style: PlotStyle) -> set[int]:
    """Curves (indices) that pass over a point of an earlier-drawn curve, given the points' owners: where the
    drawing would hide a peak under a later line (pixel positions as ``Frame`` predicts them)."""
    if len(curves) < 2 or len(points) == 0:
        return set()
    frame = Frame.of(curves, style)
    reach = style.line_width * style.dpi / 72 / 2 + max(style.marker_size * style.dpi / 72 / 2, 0) + 2.5
    px, py = frame.to_px(points[:, 0], points[:, 1])
    hiding = set()
    for j, c in enumerate(curves):
        cx, cy = frame.to_px(c.potential, c.current)
        for k, owner in enumerate(owners):
            if owner < j and np.min((cx - px[k]) ** 2 + (cy - py[k]) ** 2) < reach ** 2:
                hiding.add(j)
    return hiding


def _covers(box, points_px: np.ndarray, margin: float = 4.0) -> bool:
    """Whether any point (display pixels, y up) lies inside ``box`` grown by ``margin`` pixels."""
    x, y = points_px[:, 0], points_px[:, 1]
    return bool(np.any((x > box.x0 - margin) & (x < box.x1 + margin) & (y > box.y0 - margin) & (y < box.y1 + margin)))
