"""Plot styles: what a rendered graph looks like, drawn from families that imitate real CV figures.

A style fixes everything about the picture except the data: pixel size (multiples of the vision model's patch
factor, so the processor does not resize it), dpi, fonts, line widths and styles, colours, markers, grid, spines,
ticks, axis wording, legend, title, and the plotting convention (IUPAC, or US: potential decreasing to the right and
cathodic current up).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# Who draws: our fast renderer, matplotlib in our style, matplotlib in one of its style sheets, Vega-Lite, ggplot2,
# Bokeh and plotly in Chromium.
ENGINES = ("raster", "matplotlib", "matplotlib-sheet", "vega", "ggplot", "bokeh", "plotly")
# Each program's own looks, as its users pick them (matplotlib 3.10's style sheets but "classic", which is our
# matplotlib family's look; vl-convert's Vega themes; ggplot2's complete themes).
THEMES = {
    "matplotlib-sheet": ("default", "Solarize_Light2", "bmh", "dark_background", "fast", "fivethirtyeight", "ggplot",
                         "grayscale", "petroff10", "seaborn-v0_8", "seaborn-v0_8-bright", "seaborn-v0_8-colorblind",
                         "seaborn-v0_8-dark", "seaborn-v0_8-darkgrid", "seaborn-v0_8-deep", "seaborn-v0_8-muted",
                         "seaborn-v0_8-notebook", "seaborn-v0_8-paper", "seaborn-v0_8-pastel", "seaborn-v0_8-talk",
                         "seaborn-v0_8-ticks", "seaborn-v0_8-white", "seaborn-v0_8-whitegrid",
                         "tableau-colorblind10"),
    "vega": ("default", "excel", "fivethirtyeight", "ggplot2", "googlecharts", "latimes", "quartz", "urbaninstitute",
             "vox", "powerbi", "carbonwhite", "carbong10", "dark"),
    "ggplot": ("theme_grey", "theme_bw", "theme_classic", "theme_minimal", "theme_light", "theme_linedraw"),
    # Bokeh's light themes, "+toolbar" with the tool icons beside the plot as a notebook shows it.
    "bokeh": ("default", "default+toolbar", "caliber", "caliber+toolbar", "light_minimal", "light_minimal+toolbar"),
    "plotly": ("plotly", "plotly_white", "simple_white", "ggplot2", "seaborn", "presentation", "none"),
}
FAMILIES = ("classic", "origin", "publication", "seaborn", "excel", "us", "faint", "instrument", "calculator")

PALETTES = {
    "tab10": ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"],
    "dark2": ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"],
    "set1": ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999"],
    "origin": ["#000000", "#ff0000", "#0000ff", "#008000", "#ff00ff", "#808000", "#000080", "#800080"],
    "viridis": ["#440154", "#31688e", "#35b779", "#fde725", "#443983", "#21918c", "#90d743", "#287c8e"],
    "grey": ["#000000", "#555555", "#888888", "#2f2f2f", "#6f6f6f", "#444444", "#999999", "#222222"],
    # Lists people type for a dozen curves: a rainbow of named colours, black first then colours.
    "rainbow": ["#ff0000", "#ffa500", "#ffd700", "#008000", "#00ffff", "#0000ff", "#800080", "#ff00ff",
                "#a52a2a", "#808080", "#808000", "#000080"],
    "black-first": ["#000000", "#ff0000", "#0000ff", "#008000", "#ff00ff", "#ffa500", "#00ffff", "#800080",
                    "#a52a2a", "#808080", "#808000", "#000080"],
}
# Colormaps sampled evenly for overlays of many curves (a scan-rate series in viridis): palettes "cmap:<name>".
COLORMAPS = ("viridis", "plasma", "magma", "cividis", "coolwarm", "jet", "rainbow", "Blues", "Reds", "winter")
FONTS = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono", "STIXGeneral", "DejaVu Sans Condensed")
REFERENCES = ("", "Ag/AgCl", "SCE", "Ag/AgCl (3 M KCl)", "RHE", "Fc/Fc+", "SHE", "Hg/HgO", "Ag/Ag+")
# Axis wordings: {ref} is " vs <reference>" (or nothing), {unit} the unit of the axis.
POTENTIAL_LABELS = ("E / {unit}{ref}", "Potential ({unit}{ref})", "E ({unit}{ref})", "Potential / {unit}{ref}",
                    "E{ref} / {unit}", "Potential [{unit}]", "Ewe/{unit}", "Applied potential ({unit})",
                    "E{ref} ({unit})")
CURRENT_LABELS = ("I / {unit}", "Current ({unit})", "i ({unit})", "Current / {unit}", "Current [{unit}]",
                  "<I>/{unit}", "I ({unit})")
DENSITY_LABELS = ("j / {unit}", "Current density ({unit})", "j ({unit})", "Current density / {unit}",
                  "i ({unit})")
LEGEND_PLACES = ("upper left", "lower right", "upper right", "lower left", "center left", "center right")


@dataclass
class PlotStyle:
    """Everything about a graph's look. Sizes in pixels (image), points (fonts, lines) or as fractions."""

    family: str
    width_px: int
    height_px: int
    dpi: int
    font: str
    font_size: float  # pt, tick labels; axis labels a little larger
    line_width: float  # pt
    line_style: str  # "-", "--", ":", "-."
    palette: str
    marker: str  # "" for none
    marker_every: int
    marker_size: float
    grid: str  # "none", "major", "both"
    grid_alpha: float
    face: str  # axes background colour
    box: bool  # all four spines, else left and bottom only
    ticks_in: bool
    minor_ticks: bool
    n_ticks: int  # target number of major ticks per axis
    potential_label: str
    current_label: str
    reference: str
    potential_unit: str  # "V" or "mV"
    us_convention: bool  # potential decreasing to the right, cathodic current up
    legend: str  # a LEGEND_PLACES entry, or "" for none
    legend_frame: bool
    title: str
    alpha: float  # line opacity
    axes_at_zero: bool = False  # the axes cross at (0, 0) inside the plot, labels beside them (graphing calculators)
    markers_only: bool = False  # points without a line (measured data as a spreadsheet or calculator plots them)
    construction: bool = False  # straight lines drawn over the data: a drop from each peak, a tangent baseline
    engine: str = "raster"  # one of ENGINES
    theme: str = ""  # the program's own look: a matplotlib style sheet, a Vega theme, a ggplot2 theme function

    def to_dict(self) -> dict:
        return asdict(self)


def sample_style(rng: np.random.Generator, family: str | None = None, factor: int = 28,
                 min_pixels: int = 256 * 28 * 28, max_pixels: int = 1024 * 28 * 28,
                 engine_weights: tuple = (1.0,)) -> PlotStyle:
    """A random style of ``family`` (random family when None), drawn by an engine of ``ENGINES`` picked with
    ``engine_weights`` (one weight per engine, missing ones 0: by default the fast renderer), in one of that
    program's themes where it has them.

    Pixel sizes are multiples of ``factor`` with ``min_pixels`` ≤ width × height ≤ ``max_pixels`` (Qwen2.5-VL's
    processor leaves such images as they are, so answers in pixels need no rescaling).
    """
    family = family or FAMILIES[int(rng.integers(len(FAMILIES)))]
    if family not in FAMILIES:
        raise ValueError(f"unknown style family {family!r}; known: {', '.join(FAMILIES)}")

    def choice(options, p=None):
        return options[int(rng.choice(len(options), p=p))]

    def uniform(lo, hi):
        return float(rng.uniform(lo, hi))

    aspect = uniform(0.62, 1.0)  # height / width
    pixels = uniform(np.sqrt(min_pixels), np.sqrt(max_pixels)) ** 2
    width = int(np.sqrt(pixels / aspect) / factor) * factor
    height = max(factor, int(width * aspect / factor) * factor)
    while width * height > max_pixels:
        width -= factor
    while width * height < min_pixels:
        width += factor
    dpi = int(choice((72, 80, 96, 100, 110, 120)))
    # Readable tick labels: 2–3.5 % of the image height, whatever the dpi.
    font_px = uniform(0.022, 0.034) * max(height, 0.75 * width)
    style = dict(
        family=family, width_px=width, height_px=height, dpi=dpi, font=choice(FONTS[:2]), font_size=font_px * 72 / dpi,
        line_width=uniform(0.9, 2.0), line_style="-", palette=choice(("tab10", "dark2", "set1")), marker="",
        marker_every=1, marker_size=0.0, grid="none", grid_alpha=0.5, face="white", box=True, ticks_in=False,
        minor_ticks=False, n_ticks=int(rng.integers(4, 9)), potential_label=choice(POTENTIAL_LABELS),
        current_label=choice(CURRENT_LABELS), reference=choice(REFERENCES), potential_unit="V",
        us_convention=False, legend=choice(LEGEND_PLACES), legend_frame=bool(rng.random() < 0.7), title="",
        alpha=1.0, axes_at_zero=False, markers_only=False, construction=False)
    if rng.random() < 0.08:
        style["potential_unit"] = "mV"
    if rng.random() < 0.15:
        style["title"] = choice(("Cyclic voltammogram", "CV", "Cyclic voltammetry", "Sample", "Scan"))
    if family == "classic":
        style.update(grid=choice(("none", "major")), palette="tab10", minor_ticks=bool(rng.random() < 0.3))
    elif family == "origin":
        style.update(palette="origin", box=True, ticks_in=True, minor_ticks=True, line_width=uniform(1.2, 2.5),
                     font="DejaVu Sans")
    elif family == "publication":
        style.update(font=choice(("DejaVu Serif", "STIXGeneral")), line_width=uniform(0.7, 1.4),
                     palette=choice(("grey", "dark2", "set1")), box=bool(rng.random() < 0.5),
                     ticks_in=bool(rng.random() < 0.7), legend_frame=False)
    elif family == "seaborn":
        style.update(face="#eaeaf2", grid="major", grid_alpha=1.0, box=False, palette=choice(("tab10", "dark2")),
                     line_width=uniform(1.2, 2.2))
    elif family == "excel":
        style.update(grid="major", marker=choice(("o", "s", "^", "D", ".")), marker_every=int(rng.integers(8, 40)),
                     marker_size=uniform(2.0, 4.5), palette=choice(("set1", "tab10", "origin")),
                     legend=choice(("center right", "upper right", "lower right")))
    elif family == "us":
        style.update(us_convention=True, palette=choice(("origin", "grey", "tab10")), ticks_in=bool(rng.random() < 0.5))
    elif family == "faint":
        style.update(line_width=uniform(0.5, 0.9), line_style=choice((":", "--", "-", "-.")), alpha=uniform(0.55, 0.85),
                     palette=choice(("viridis", "tab10", "set1")), grid=choice(("none", "major", "both")),
                     grid_alpha=0.3)
    elif family == "instrument":
        style.update(font="DejaVu Sans Mono", grid="both", grid_alpha=uniform(0.3, 0.7), palette="origin",
                     face=choice(("white", "#fffff0", "#f4f8ff")), minor_ticks=True, line_width=uniform(0.8, 1.5))
    elif family == "calculator":  # a graphing calculator or spreadsheet: axes through zero, dense grid, points
        style.update(axes_at_zero=True, box=False, grid="both", minor_ticks=True, grid_alpha=uniform(0.3, 0.8),
                     palette=choice(("set1", "tab10", "rainbow")), legend=choice(("", "upper left", "lower right")),
                     markers_only=bool(rng.random() < 0.4), construction=bool(rng.random() < 0.5),
                     marker=choice(("o", ".")), marker_size=uniform(1.5, 3.5), line_width=uniform(1.2, 2.5))
    weights = np.zeros(len(ENGINES))
    weights[:len(engine_weights)] = engine_weights
    style["engine"] = ENGINES[int(rng.choice(len(ENGINES), p=weights / weights.sum()))]
    if style["engine"] in THEMES:
        style["theme"] = choice(THEMES[style["engine"]])
    if style["axes_at_zero"] and style["engine"] == "raster":  # our fast renderer frames every plot in a box
        style["engine"] = "matplotlib"
    if style["engine"] != "matplotlib":  # the calculator's own touches are drawn by matplotlib in our style only
        style.update(axes_at_zero=False, markers_only=False, construction=False)
    if family == "calculator" and not style["markers_only"]:
        style["marker"] = ""
    return PlotStyle(**style)
