"""A fast plot renderer: the same ``PlotStyle`` without a matplotlib figure, several times faster.

Lines, grids, spines, ticks and markers go straight to matplotlib's Agg rasteriser (antialiased, the same dashes
and markers); text is drawn by Pillow with the fonts matplotlib ships (DejaVu, STIX). There are no artists, no
tick objects and no layout passes. Axis limits and ticks follow
matplotlib's rules (data limits with 5 % margins, ``MaxNLocator``), so the two renderers frame a graph alike.
Pixel coordinates are continuous with pixel i spanning [i, i + 1), as in matplotlib.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from voltpeak.render.figure import Curve, Frame, Rendered, cycle, encode_png
from voltpeak.render.style import LEGEND_PLACES, PlotStyle

# Dash patterns in units of the line width (matplotlib's scaled dashes).
DASHES = {"--": (3.7, 1.6), ":": (1.0, 1.65), "-.": (6.4, 1.6, 1.0, 1.6)}


@lru_cache(maxsize=64)
def _font(family: str, size_px: int):
    from matplotlib import font_manager
    from PIL import ImageFont

    path = font_manager.findfont(font_manager.FontProperties(family=family))
    return ImageFont.truetype(path, size_px, layout_engine=ImageFont.Layout.BASIC)


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = {"white": "#ffffff"}.get(colour, colour)
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _ticks(lo: float, hi: float, n: int) -> np.ndarray:
    from matplotlib.ticker import MaxNLocator

    values = MaxNLocator(n).tick_values(lo, hi)
    return values[(values >= lo - 1e-12 * abs(hi - lo)) & (values <= hi + 1e-12 * abs(hi - lo))]


def _minor(major: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if len(major) < 2:
        return np.array([])
    step = major[1] - major[0]
    mantissa = round(step / 10 ** math.floor(math.log10(step)), 6)
    parts = 4 if mantissa in (1.0, 2.0) else 5  # matplotlib's AutoMinorLocator
    minor = np.arange(major[0] - step, major[-1] + step, step / parts)
    return minor[(minor >= lo) & (minor <= hi)]


def tick_texts(values: np.ndarray) -> list[str]:
    """Tick labels as matplotlib's plain ScalarFormatter writes them: one number of decimals for all, a real minus."""
    decimals = 0
    while decimals < 8 and np.any(np.abs(np.round(values, decimals) - values) > 1e-9 * max(np.abs(values).max(), 1)):
        decimals += 1
    texts = [f"{v:.{decimals}f}" for v in values]
    return [(t[1:] if float(t) == 0 else t).replace("-", "\u2212") if t.startswith("-") else t for t in texts]


def render_raster(curves: list[Curve], points: np.ndarray, style: PlotStyle, potential_label: str,
                  current_label: str) -> Rendered:
    """Draw like ``voltpeak.render.draw.render`` (same arguments, same result type): paths by matplotlib's Agg
    renderer called directly (antialiased lines, dashes, markers), text by Pillow."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.markers import MarkerStyle
    from matplotlib.path import Path
    from matplotlib.transforms import Affine2D, IdentityTransform
    from PIL import Image, ImageDraw

    W, H = style.width_px, style.height_px
    px_per_pt = style.dpi / 72
    fp = style.font_size * px_per_pt
    frame = Frame.of(curves, style)
    xlo, xhi, ylo, yhi = frame.xlo, frame.xhi, frame.ylo, frame.yhi
    x0, x1, y0, y1 = frame.x0, frame.x1, frame.y0, frame.y1
    to_px = frame.to_px

    renderer = RendererAgg(W, H, style.dpi)
    renderer.clear()
    identity = IdentityTransform()

    def stroke(segments, colour, width_pt, alpha=1.0, dashes=None, face=None, cap="projecting"):
        """Draw polylines given in top-left pixel coordinates (a list of (n, 2) arrays) as one path."""
        gc = renderer.new_gc()
        gc.set_foreground(colour)
        gc.set_linewidth(width_pt)
        gc.set_alpha(alpha)
        gc.set_antialiased(True)
        gc.set_joinstyle("round")
        gc.set_capstyle(cap)
        if dashes:
            gc.set_dashes(0, dashes)
        vertices, codes = [], []
        for seg in segments:
            seg = np.column_stack([seg[:, 0], H - seg[:, 1]])  # Agg counts y from the bottom
            vertices.append(seg)
            code = np.full(len(seg), Path.LINETO, dtype=np.uint8)
            code[0] = Path.MOVETO
            codes.append(code)
        renderer.draw_path(gc, Path(np.concatenate(vertices), np.concatenate(codes)), identity, face)
        gc.restore()

    face = np.array(_rgb(style.face)) / 255
    stroke([np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])], face, 0.0, face=face)
    xr = (min(xlo, xhi), max(xlo, xhi))
    xt, yt = _ticks(*xr, style.n_ticks), _ticks(ylo, yhi, style.n_ticks)
    xminor = _minor(xt, *xr) if style.minor_ticks else np.array([])
    yminor = _minor(yt, ylo, yhi) if style.minor_ticks else np.array([])
    xt_px, yt_px = to_px(xt, ylo)[0], to_px(xlo, yt)[1]
    xm_px, ym_px = to_px(xminor, ylo)[0], to_px(xlo, yminor)[1]
    if style.grid != "none":
        gx = np.concatenate([xt_px, xm_px if style.grid == "both" else []])
        gy = np.concatenate([yt_px, ym_px if style.grid == "both" else []])
        lines = [np.array([[x, y0], [x, y1]]) for x in gx] + [np.array([[x0, y], [x1, y]]) for y in gy]
        if lines:
            colour = "#ffffff" if style.face != "white" and style.grid_alpha >= 1 else "#b0b0b0"
            stroke(lines, np.array(_rgb(colour)) / 255, 0.6, alpha=min(style.grid_alpha, 1.0), cap="butt")

    colours = cycle(style.palette, len(curves))
    for k, c in enumerate(curves):
        colour = np.array(_rgb(colours[k])) / 255
        cx, cy = to_px(c.potential, c.current)
        dashes = [v * style.line_width for v in DASHES[style.line_style]] if style.line_style in DASHES else None
        stroke([np.column_stack([cx, cy])], colour, style.line_width, style.alpha, dashes, cap="butt")
        if style.marker:
            gc = renderer.new_gc()
            gc.set_foreground(colour)
            gc.set_alpha(style.alpha)
            gc.set_antialiased(True)
            gc.set_linewidth(0.5)
            marker = MarkerStyle(style.marker)
            scale = style.marker_size * px_per_pt
            every = np.column_stack([cx[::style.marker_every], H - cy[::style.marker_every]])
            renderer.draw_markers(gc, marker.get_path(), marker.get_transform() + Affine2D().scale(scale),
                                  Path(every), identity, colour)
            gc.restore()

    black = (0.0, 0.0, 0.0)
    spines = [np.array([[x0, y1], [x1, y1]]), np.array([[x0, y0], [x0, y1]])]
    if style.box:
        spines += [np.array([[x0, y0], [x1, y0]]), np.array([[x1, y0], [x1, y1]])]
    stroke(spines, black, 0.8)
    out = -1 if style.ticks_in else 1  # out: ticks point away from the plot
    both = style.box and style.ticks_in
    for values, length_pt, width_pt in ((xt_px, 3.5, 0.8), (xm_px, 2.0, 0.6)):
        length = length_pt * px_per_pt
        marks = [np.array([[x, y1], [x, y1 + out * length]]) for x in values]
        marks += [np.array([[x, y0], [x, y0 - out * length]]) for x in values] if both else []
        if marks:
            stroke(marks, black, width_pt, cap="butt")
    for values, length_pt, width_pt in ((yt_px, 3.5, 0.8), (ym_px, 2.0, 0.6)):
        length = length_pt * px_per_pt
        marks = [np.array([[x0, y], [x0 - out * length, y]]) for y in values]
        marks += [np.array([[x1, y], [x1 + out * length, y]]) for y in values] if both else []
        if marks:
            stroke(marks, black, width_pt, cap="butt")

    located = np.column_stack(to_px(points[:, 0], points[:, 1])) if len(points) else np.zeros((0, 2))
    legend = _legend_place(curves, style, located, (x0, y0, x1, y1), fp)
    if legend is not None:
        (lx, ly, lw, lh), rows = legend
        if style.legend_frame:
            frame = np.array([[lx, ly], [lx + lw, ly], [lx + lw, ly + lh], [lx, ly + lh], [lx, ly]])
            stroke([frame], (0.8, 0.8, 0.8), 0.8, face=(1.0, 1.0, 1.0))
        for k, (_, row_y) in enumerate(rows):
            colour = np.array(_rgb(colours[k % len(colours)])) / 255
            stroke([np.array([[lx + 0.5 * fp, row_y], [lx + 2.5 * fp, row_y]])], colour, style.line_width,
                   style.alpha, cap="butt")

    # Text: black, drawn by Pillow into a coverage mask, then darkens the picture.
    mask = Image.new("L", (W, H), 0)
    text = ImageDraw.Draw(mask)
    tick_font = _font(style.font, max(6, round(fp)))
    pad = (3.5 * px_per_pt if not style.ticks_in else 0) + 3.5 * px_per_pt
    for x, label in zip(xt_px, tick_texts(xt)):
        text.text((float(x), y1 + pad), label, font=tick_font, fill=255, anchor="mt")
    for y, label in zip(yt_px, tick_texts(yt)):
        text.text((x0 - pad, float(y)), label, font=tick_font, fill=255, anchor="rm")
    label_font = _font(style.font, max(6, round(fp * 1.12)))
    text.text(((x0 + x1) / 2, y1 + pad + fp * 1.25 + 4), potential_label, font=label_font, fill=255, anchor="mt")
    widest = max((tick_font.getlength(t) for t in tick_texts(yt)), default=0.0)
    _vertical_text(mask, current_label, label_font, x0 - pad - widest - 4 - fp * 1.12, (y0 + y1) / 2)
    if style.title:
        text.text(((x0 + x1) / 2, y0 - 6), style.title, font=_font(style.font, max(6, round(fp * 1.2))), fill=255,
                  anchor="md")
    if legend is not None:
        legend_font = _font(style.font, max(6, round(fp * 0.9)))
        for label, row_y in rows:
            text.text((legend[0][0] + 3.0 * fp, row_y), label, font=legend_font, fill=255, anchor="lm")
    rgba = np.asarray(renderer.buffer_rgba())
    if not rgba.flags.writeable:
        rgba = rgba.copy()
    coverage = np.asarray(mask)
    for x_a, y_a, x_b, y_b in _text_boxes(coverage):  # darken only where text is
        keep = 255 - coverage[y_a:y_b, x_a:x_b, None].astype(np.uint16)
        rgba[y_a:y_b, x_a:x_b, :3] = (rgba[y_a:y_b, x_a:x_b, :3] * keep // 255).astype(np.uint8)
    return Rendered(encode_png(rgba), W, H, located, colours=cycle(style.palette, len(curves)))


def _text_boxes(coverage: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) that hold all nonzero pixels of a text mask: the bands of rows with text, each cut to
    the columns it uses (text sits in a few bands along the axes)."""
    rows = np.flatnonzero(coverage.any(axis=1))
    if len(rows) == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) > 1)
    boxes = []
    for a, b in zip(np.r_[rows[0], rows[breaks + 1]], np.r_[rows[breaks], rows[-1]] + 1):
        cols = np.flatnonzero(coverage[a:b].any(axis=0))
        boxes.append((int(cols[0]), int(a), int(cols[-1]) + 1, int(b)))
    return boxes


def _vertical_text(image, label: str, font, x_right: float, y_mid: float):
    """Text (into the "L" mask ``image``) rotated 90° anticlockwise, its right edge (the text's bottom) at
    ``x_right``, centred on ``y_mid``."""
    from PIL import Image, ImageDraw

    x_min, y_min, x_max, y_max = font.getbbox(label, anchor="ls")
    strip = Image.new("L", (max(1, int(x_max - x_min) + 2), max(1, int(y_max - y_min) + 2)), 0)
    ImageDraw.Draw(strip).text((1 - x_min, 1 - y_min), label, font=font, fill=255, anchor="ls")
    strip = strip.rotate(90, expand=True)
    left = int(round(x_right - strip.width))
    top = int(round(y_mid - strip.height / 2))
    image.paste(255, (left, top), mask=strip)


def _legend_place(curves, style: PlotStyle, located: np.ndarray, axes: tuple, fp: float):
    """The legend's box (x, y, width, height; pixels) and rows (label, centre y), at the style's place or the
    first place that covers no peak; None when there is no legend or every place covers one."""
    if not style.legend or not any(c.label for c in curves):
        return None
    font = _font(style.font, max(6, round(fp * 0.9)))
    labels = [c.label for c in curves]
    row_h = fp * 0.9 * 1.35
    w = 3.0 * fp + max(font.getlength(t) for t in labels) + 0.6 * fp
    h = row_h * len(labels) + 0.6 * fp
    x0, y0, x1, y1 = axes
    m = 0.5 * fp
    spots = {"upper left": (x0 + m, y0 + m), "upper right": (x1 - m - w, y0 + m),
             "lower left": (x0 + m, y1 - m - h), "lower right": (x1 - m - w, y1 - m - h),
             "center left": (x0 + m, (y0 + y1 - h) / 2), "center right": (x1 - m - w, (y0 + y1 - h) / 2)}
    for place in (style.legend, *[p for p in LEGEND_PLACES if p != style.legend]):
        lx, ly = spots[place]
        inside = ((located[:, 0] > lx - 4) & (located[:, 0] < lx + w + 4) &
                  (located[:, 1] > ly - 4) & (located[:, 1] < ly + h + 4)) if len(located) else np.array([False])
        if not inside.any():
            rows = [(label, ly + 0.3 * fp + row_h * (k + 0.5)) for k, label in enumerate(labels)]
            return (lx, ly, w, h), rows
    return None
