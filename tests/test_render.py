"""The render stage: every engine puts every truth peak on the drawn curve (the ink test, which can fail), the same
seed gives the same bytes in every engine, programs that are missing or die are one-line errors, and degradations
move the truth with the pixels."""

from __future__ import annotations

import io
import sys
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from voltpeak.answer import smart_resize
from voltpeak.dataset import compose
from voltpeak.render import DEGRADATIONS, ENGINES, FAMILIES, degrade, engineering_unit, render, sample_style
from voltpeak.render.programs import _Program
from voltpeak.render.style import THEMES


def _ink(image: np.ndarray, x: float, y: float, colour: str, face: str, alpha: float, radius: float = 1.5) -> float:
    """How much of ``colour`` (blended with ``alpha`` over ``face``) the pixels within ``radius`` of (x, y) carry:
    the largest coverage t in p ≈ face + t (ink − face), among pixels that fit that line (0 when none)."""
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    bg = np.array([int(face[i:i + 2], 16) for i in (1, 3, 5)], dtype=float) if face.startswith("#") else \
        np.array([255.0, 255.0, 255.0])
    ink = bg + alpha * (rgb - bg)
    best = 0.0
    for py in range(int(np.floor(y - radius)), int(np.ceil(y + radius)) + 1):
        for px in range(int(np.floor(x - radius)), int(np.ceil(x + radius)) + 1):
            # Pixel (px, py) covers [px, px+1) × [py, py+1): its centre is half a pixel in.
            if (px + 0.5 - x) ** 2 + (py + 0.5 - y) ** 2 > (radius + 0.5) ** 2 or not (
                    0 <= py < image.shape[0] and 0 <= px < image.shape[1]):
                continue
            p = image[py, px].astype(float)
            d = ink - bg
            t = float(np.dot(p - bg, d) / max(np.dot(d, d), 1e-9))
            off_line = np.linalg.norm(p - (bg + np.clip(t, 0, 1) * d))
            if off_line < 45:
                best = max(best, min(t, 1.0))
    return best


def _face(image: np.ndarray, x: float, y: float, style, ink: str) -> str:
    """The background behind (x, y): the style's face for our engines, else the commonest colour within 12 px
    that is not the ``ink`` (a program's theme picks its own background; a thick line may cover most of a patch)."""
    if style.engine in ("raster", "matplotlib"):
        return style.face
    patch = image[max(0, int(y) - 12):int(y) + 13, max(0, int(x) - 12):int(x) + 13].reshape(-1, 3)
    values, counts = np.unique(patch, axis=0, return_counts=True)
    rgb = np.array([int(ink[i:i + 2], 16) for i in (1, 3, 5)])
    counts[np.abs(values.astype(int) - rgb).sum(axis=1) < 30] = 0
    return "#" + "".join(f"{int(v):02x}" for v in values[counts.argmax()])


def _drawn(engine: str, family: str, seed: int, pool, **kwargs):
    rng = np.random.default_rng([seed, FAMILIES.index(family)])
    style = sample_style(rng, family)
    if engine in THEMES:  # each of the program's themes in turn
        style = replace(style, theme=THEMES[engine][(seed + 3 * FAMILIES.index(family)) % len(THEMES[engine])])
    style = replace(style, engine=engine)
    graph = compose(rng, pool, style, **kwargs)
    points = np.array([(p.shown_potential, p.shown_current) for p in graph.peaks]).reshape(-1, 2)
    drawn = render(graph.curves, points, style, graph.potential_label, graph.current_label)
    return style, graph, drawn, np.asarray(Image.open(io.BytesIO(drawn.png)).convert("RGB"))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_truth_peak_is_on_the_drawn_curve(pool, family, engine):
    # The truth is where the ink is: each recorded peak position has its curve's colour within 1.5 px, whichever
    # program drew it (its own layout gives the positions).
    checked = 0
    for seed in range(4):
        style, graph, drawn, image = _drawn(engine, family, seed, pool)
        assert image.shape == (style.height_px, style.width_px, 3)
        assert drawn.offset_text == ""  # engineering units: no 1e-5 beside the ticks (matplotlib's own check)
        assert len(drawn.colours) == len(graph.curves)
        alpha = 1.0 if engine == "matplotlib-sheet" else style.alpha
        for p, (x, y) in zip(graph.peaks, drawn.points_px):
            colour = drawn.colours[p.curve]
            # A peak may fall in a gap of a dashed line (the dash phase is the program's own: ggplot2 3.4 puts
            # one there on this seed): ink within one gap of it (4 line widths) counts.
            radius = 1.5 if style.line_style == "-" else 1.5 + 4 * style.line_width * style.dpi / 72
            coverage = _ink(image, x, y, colour, _face(image, x, y, style, colour), alpha, radius)
            assert coverage > 0.1, (family, seed, style.theme, p, (x, y))  # faint dotted lines cover little
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("engine", ENGINES)
def test_the_ink_check_can_fail(pool, engine):
    # At a peak the curve's colour is found; a colour no curve has is not, and neither is the curve's colour in
    # an empty corner of the figure.
    style, graph, drawn, image = _drawn(engine, "classic", 1, pool, max_curves=1)
    x, y = drawn.points_px[0]
    colour = drawn.colours[0]
    face = _face(image, x, y, style, colour)
    assert _ink(image, x, y, colour, face, 1.0) > 0.3
    assert _ink(image, x, y, "#ff00ff", face, 1.0) == 0.0
    assert _ink(image, 3, 3, colour, face, 1.0) == 0.0


@pytest.mark.parametrize("engine", ["vega", "ggplot"])
def test_curves_sharing_a_legend_label_keep_their_own_colours(pool, engine):
    # Two curves of one label (a series' scan rates clipped alike) are still two lines, each in its colour.
    rng = np.random.default_rng(5)
    style = replace(sample_style(rng, "classic"), engine=engine, theme=THEMES[engine][0], legend="upper right")
    graph = compose(rng, pool, style, curve_weights=(0, 1))
    curves = [replace(c, label="10 V/s") for c in graph.curves]
    points = np.array([(p.shown_potential, p.shown_current) for p in graph.peaks]).reshape(-1, 2)
    drawn = render(curves, points, style, graph.potential_label, graph.current_label)
    image = np.asarray(Image.open(io.BytesIO(drawn.png)).convert("RGB"))
    assert len(set(drawn.colours)) == 2
    for p, (x, y) in zip(graph.peaks, drawn.points_px):
        colour = drawn.colours[p.curve]
        assert _ink(image, x, y, colour, _face(image, x, y, style, colour), style.alpha) > 0.1, p


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_bytes_for_every_engine(pool, engine):
    first, second = (_drawn(engine, "excel", 2, pool)[2] for _ in range(2))
    assert first.png == second.png
    assert np.array_equal(first.points_px, second.points_px)


def test_a_calculator_plot_crosses_its_axes_at_zero_inside_the_plot(pool):
    # The graphing-calculator look: the axes are dark lines through (0, 0) inside the plot (where the box's left
    # edge would be there is only grid); markers-only curves carry no line between their points.
    rng = np.random.default_rng(0)
    style = replace(sample_style(rng, "calculator"), engine="matplotlib", axes_at_zero=True, markers_only=True,
                    marker=".", grid="none", legend="")
    graph = compose(rng, pool, style, max_curves=1)
    curve = graph.curves[0]
    centred = replace(curve, potential=curve.potential - np.median(curve.potential),
                      current=curve.current - np.median(curve.current))
    drawn = render([centred], np.array([[0.0, 0.0]]), style, graph.potential_label, graph.current_label)
    image = np.asarray(Image.open(io.BytesIO(drawn.png)).convert("L"))
    x0, y0 = np.round(drawn.points_px[0]).astype(int)
    dark_rows = (image[:, x0 - 1:x0 + 2] < 100).any(axis=1)
    dark_cols = (image[y0 - 1:y0 + 2, :] < 100).any(axis=0)
    assert dark_rows.mean() > 0.5 and dark_cols.mean() > 0.5  # both axes run through the origin
    assert 0.2 * style.width_px < x0 < 0.8 * style.width_px and 0.2 * style.height_px < y0 < 0.8 * style.height_px
    ink = {}
    for markers_only in (True, False):  # sparse points: less ink than the line through them
        drawn = render([centred], np.zeros((0, 2)), replace(style, markers_only=markers_only, marker_every=40),
                       graph.potential_label, graph.current_label)
        ink[markers_only] = (np.asarray(Image.open(io.BytesIO(drawn.png)).convert("L")) < 200).sum()
    assert ink[True] < 0.8 * ink[False]


def test_a_program_that_dies_is_an_error_not_a_hang():
    # A worker that exits before reading (a broken pipe, the request larger than the pipe's buffer) or answers
    # nothing is a RuntimeError naming the program; the next plot starts a fresh one.
    dead = _Program("vega", [sys.executable, "-c", "import sys; sys.stderr.write('gone\\n')"])
    for _ in range(2):
        with pytest.raises(RuntimeError, match="vega stopped: gone"):
            dead.draw({"spec": {}, "theme": "", "padding": "x" * 200_000})
        assert dead.process is None


@pytest.mark.parametrize("name", DEGRADATIONS)
def test_degradations_move_the_truth_with_the_pixels(pool, name):
    # After each degradation the peaks still sit on their curve's ink (greyscale: on dark ink), the image keeps
    # its size, and the same generator gives the same bytes.
    style, graph, drawn, _ = _drawn("raster", "publication", 0, pool)
    for seed in range(3):
        out, names = degrade(drawn, np.random.default_rng(seed), only=name)
        again, _ = degrade(drawn, np.random.default_rng(seed), only=name)
        assert names == [name] and out.png == again.png
        image = np.asarray(Image.open(io.BytesIO(out.png)).convert("RGB"))
        assert image.shape == (style.height_px, style.width_px, 3)
        moved = np.abs(out.points_px - drawn.points_px).max()
        assert (moved > 2) == (name in ("frame", "screenshot"))
        for p, (x, y) in zip(graph.peaks, out.points_px):
            colour = drawn.colours[p.curve]
            if name == "greyscale":
                grey = round(np.dot([int(colour[i:i + 2], 16) for i in (1, 3, 5)], [0.299, 0.587, 0.114]))
                colour = f"#{grey:02x}{grey:02x}{grey:02x}"
            coverage = _ink(image, x, y, colour, style.face, style.alpha, radius=2.5)
            assert coverage > 0.1, (name, seed, p, (x, y))


def test_engineering_units():
    assert engineering_unit(2.5e-5) == ("µA", 1e6)
    assert engineering_unit(0.0032) == ("mA", 1e3)
    assert engineering_unit(4e-10) == ("pA", 1e12)
    assert engineering_unit(12.0, "j") == ("mA cm⁻²", 0.1)  # 12 A/m² = 1.2 mA/cm²
    for value in (3e-11, 7e-9, 1e-6, 0.5e-3, 2.0):
        unit, factor = engineering_unit(value)
        assert 1 <= value * factor < 1000


def test_styles_are_sized_for_the_processor():
    for seed in range(50):
        s = sample_style(np.random.default_rng(seed))
        assert s.width_px % 28 == 0 and s.height_px % 28 == 0
        assert 256 * 28 * 28 <= s.width_px * s.height_px <= 1024 * 28 * 28
        assert smart_resize(s.height_px, s.width_px, 28, 256 * 28 * 28, 1024 * 28 * 28) == (s.height_px, s.width_px)
