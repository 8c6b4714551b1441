"""What every renderer shares: the data types a renderer takes (``Curve``) and returns (``Rendered``), where data
land in a matplotlib-framed image (``Frame``, ``limits``, ``axes_box``), and the helpers all engines use (colours,
PNG encoding, locating points in a program's plot area, checking a plotting program is installed).

``voltpeak.render.draw`` dispatches to the engines (``raster``, ``programs``, ``web``); they import from here, never
from it, so the imports run one way: draw → engines → figure.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voltpeak.errors import MissingProgram
from voltpeak.image import on_white
from voltpeak.render.style import PALETTES, PlotStyle

CHROMIUM = "/usr/bin/chromium"  # Debian's, driven by Playwright for the web plots (voltpeak.render.web)
# Legends outside the plot area, where they cannot hide a peak.
LEGEND_SIDES = {"upper left": "top", "lower right": "bottom", "upper right": "right", "lower left": "bottom",
                "center left": "left", "center right": "right"}


@dataclass
class Curve:
    """One drawn CV: potential and current in the units printed on the axes, and its legend label."""

    potential: np.ndarray
    current: np.ndarray
    label: str = ""


@dataclass
class Rendered:
    """A PNG and the pixel positions (x from the left, y from the top; continuous) of the located points."""

    png: bytes
    width: int
    height: int
    points_px: np.ndarray  # (n, 2)
    offset_text: str = ""  # any offset or multiplier matplotlib put beside the ticks (there should be none)
    colours: tuple = ()  # each curve's colour as drawn ("#rrggbb")


@dataclass
class Frame:
    """Where data land in the image, as matplotlib places them: axis limits (the data's range plus 5 % margins;
    the potential limits swapped under the US convention) and the axes rectangle in pixels from the top-left."""

    xlo: float
    xhi: float
    ylo: float
    yhi: float
    x0: float  # left edge of the axes
    x1: float  # right edge
    y0: float  # top edge
    y1: float  # bottom edge

    @classmethod
    def of(cls, curves: list[Curve], style: PlotStyle) -> Frame:
        (xlo, xhi), (ylo, yhi) = limits(curves)
        if style.us_convention:
            xlo, xhi = xhi, xlo  # potential decreasing to the right
        left, bottom, width, height = axes_box(style)
        W, H = style.width_px, style.height_px
        return cls(xlo, xhi, ylo, yhi, left * W, (left + width) * W, (1 - bottom - height) * H, (1 - bottom) * H)

    def to_px(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Data → pixels from the top-left corner (continuous; pixel i spans [i, i + 1))."""
        fx = (np.asarray(x) - self.xlo) / (self.xhi - self.xlo)
        fy = (np.asarray(y) - self.ylo) / (self.yhi - self.ylo)
        return self.x0 + fx * (self.x1 - self.x0), self.y1 - fy * (self.y1 - self.y0)


def axes_box(style: PlotStyle) -> tuple[float, float, float, float]:
    """The axes rectangle (left, bottom, width, height; figure fractions): margins from the font size, with room
    for 6-character tick labels, the axis labels and a title."""
    fp = style.font_size * style.dpi / 72  # font size in pixels
    left = (0.62 * fp * 6 + 1.25 * fp * 1.2 + 14) / style.width_px
    bottom = (1.25 * fp + 1.25 * fp * 1.2 + 16) / style.height_px
    top = 1 - (fp * 2.2 + 8 if style.title else fp * 0.8 + 8) / style.height_px
    right = 1 - (fp * 1.8 + 10) / style.width_px
    return left, bottom, right - left, top - bottom


def limits(curves: list[Curve]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The potential and current axes' limits of ``curves``, as matplotlib would set them (``padded``)."""
    return (padded(np.concatenate([c.potential for c in curves])),
            padded(np.concatenate([c.current for c in curves])))


def padded(values: np.ndarray) -> tuple[float, float]:
    """The axis limits matplotlib gives ``values``: their range with 5 % margins."""
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo or max(abs(hi), 1.0)
    return lo - 0.05 * span, hi + 0.05 * span


def encode_png(pixels: np.ndarray) -> bytes:
    """An RGB or RGBA array (height, width, 3 or 4; uint8; alpha dropped) as RGB PNG bytes: no row filter, zlib
    level 1 — for plots (flat colour) 2–3× faster than Pillow's encoder at about the same size, and the same bytes
    for the same pixels."""
    height, width, channels = pixels.shape
    raw = np.empty((height, width * 3 + 1), dtype=np.uint8)  # each row: filter type 0, then its pixels
    raw[:, 0] = 0
    picks = (np.arange(width)[:, None] * channels + np.arange(3)[None, :]).ravel()  # the colour bytes of a row
    raw[:, 1:] = np.take(np.ascontiguousarray(pixels).reshape(height, -1), picks, axis=1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 1))
            + chunk(b"IEND", b""))


def cycle(palette: str, n: int) -> tuple:
    """The colours (hex) of ``n`` curves drawn in ``palette``: a list repeats past its end; a colormap
    ("cmap:viridis") is sampled evenly over 10–90 % of its range."""
    if palette.startswith("cmap:"):
        from matplotlib import colormaps
        from matplotlib.colors import to_hex

        cmap = colormaps[palette[5:]]
        return tuple(to_hex(cmap(v)) for v in np.linspace(0.1, 0.9, n))
    colours = PALETTES[palette]
    return tuple(colours[k % len(colours)] for k in range(n))


def locate(points: np.ndarray, xlim, ylim, box, us: bool) -> np.ndarray:
    """Data → pixels from the top-left, given the plot area ``box`` (x0, x1, y0, y1; y0 the top edge)."""
    x0, x1, y0, y1 = box
    fx = (points[:, 0] - xlim[0]) / (xlim[1] - xlim[0])
    if us:
        fx = 1 - fx
    fy = (points[:, 1] - ylim[0]) / (ylim[1] - ylim[0])
    return np.column_stack([x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)])


def rgb_png(png: bytes, width: int, height: int) -> bytes:
    """The program's PNG as ours: RGB on white (a transparent background made white), same bytes for same pixels."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    if image.size != (width, height):
        raise RuntimeError(f"the plotting program drew {image.size[0]}×{image.size[1]} px, not {width}×{height}")
    return encode_png(np.asarray(on_white(image)))


def require(engine: str):
    """Raise MissingProgram, naming what to install, when ``engine``'s plotting program is missing here (our own
    engines need nothing)."""
    if engine == "vega":
        try:
            import vl_convert  # noqa: F401
        except ImportError:
            raise MissingProgram("the vega engine needs vl-convert: pip install vl-convert-python") from None
    elif engine == "ggplot":
        check = "quit(status = !all(sapply(c('ggplot2', 'jsonlite'), requireNamespace, quietly = TRUE)))"
        if shutil.which("Rscript") is None or subprocess.run(["Rscript", "--vanilla", "-e", check],
                                                              capture_output=True).returncode != 0:
            raise MissingProgram("the ggplot engine needs R's ggplot2: apt-get install r-base-core r-cran-ggplot2 "
                                 "r-cran-jsonlite")
    elif engine in ("bokeh", "plotly"):
        for module in (engine, "playwright"):
            try:
                __import__(module)
            except ImportError:
                raise MissingProgram(f"the {engine} engine needs {module}: pip install 'voltpeak[plots]'") from None
        if not Path(CHROMIUM).exists():
            raise MissingProgram(f"the {engine} engine draws in Chromium: apt-get install chromium")
