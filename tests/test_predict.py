"""``voltpeak.predict`` on plots as people publish them: overlays of many CVs (one peak per curve), repeated cycles,
noise, transparent PNGs, poster-sized exports, cathodic-positive currents and misread axes. Plots are drawn by
matplotlib itself from simulated CVs with exact truth; the shipped default model predicts them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from voltpeak.axes import AxesReading, AxisReading, Label, read_axes, read_file
from voltpeak.axes.fit import AxisMap
from voltpeak.axes.frame import Box
from voltpeak.axes.text import parse_title
from voltpeak.evaluate import match_peaks
from voltpeak.peak import Peak


@pytest.fixture(scope="module")
def model():
    from voltpeak.models import load_model, model_dir

    return load_model(model_dir("default"))


def simulate(e0s: list[float], rates: list[float], seed: int = 1, noise: float = 0.0, drift_V: float = 0.0):
    """One cycle per scan rate of reversible couples at ``e0s`` (each rate's formal potentials moved by
    ``drift_V`` more): (E V, I A, truth peaks) per curve."""
    from voltpeak.simulate.batch import simulate_set
    from voltpeak.simulate.cv import Conditions, RedoxCouple

    rng = np.random.default_rng(seed)
    items = []
    for k, rate in enumerate(rates):
        couples = [RedoxCouple(e0_V=e + k * drift_V, c_ox_mM=0.0, c_red_mM=1.0) for e in e0s]
        ip = 2.69e5 * 0.07 * 1e-6 * np.sqrt(1e-5 * rate)
        items.append((couples, Conditions(start_V=min(e0s) - 0.35, vertices_V=(max(e0s) + 0.35, min(e0s) - 0.35),
                                          scan_rate_V_s=rate, noise_A=noise * ip), rng))
    return [(s.noisy.potential_V, s.noisy.current, s.truth) for s in simulate_set(items)]


def draw(path: Path, curves, labels=None, sign: int = 1, ylabel: str = "I / µA", transparent: bool = False,
         dpi: int = 100, size=(6.4, 4.8), xlabel: str = "E / V vs Ag/AgCl"):
    """The curves drawn by matplotlib (tab10, the legend inside the plot), currents in µA times ``sign``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size, dpi=dpi)
    for k, (e, i, _) in enumerate(curves):
        ax.plot(e, sign * i * 1e6, label=labels[k] if labels else None)
    if labels:
        ax.legend(loc="upper left", fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi, transparent=transparent)
    plt.close(fig)


def predicted(model, path: Path, refine: bool = True) -> dict:
    from voltpeak.predict import predict

    return next(predict(model, [(str(path), path)], refine=refine))


def scored(line: dict, curves) -> object:
    truth = [p for _, _, peaks in curves for p in peaks]
    window = (min(c[0].min() for c in curves), max(c[0].max() for c in curves))
    pred = [Peak.from_record(r) for r in line["peaks"] if r.get("potential") is not None]
    return match_peaks(pred, truth, "data", window_V=window)


def test_a_scan_rate_series_of_eight_cvs_gives_a_peak_per_curve(tmp_path, model):
    """Eight rates of one couple, peaks of neighbouring curves a few pixels apart: the model alone finds about
    half of the 16 peaks (one per cluster of neighbouring curves); checked per curve on the full image, all but
    a couple."""
    rates = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
    curves = simulate([0.1], rates)
    draw(tmp_path / "series.png", curves, [f"{r * 1e3:g} mV/s" for r in rates])
    alone = scored(predicted(model, tmp_path / "series.png", refine=False), curves)
    match = scored(predicted(model, tmp_path / "series.png"), curves)
    assert len(match.tp) >= 14 and len(match.fp) <= 1, (len(match.tp), len(match.fp))
    assert len(match.tp) > len(alone.tp)


def test_repeated_cycles_drawn_almost_on_top_keep_their_own_peaks(tmp_path, model):
    """Three cycles whose peaks drift 6 mV a cycle: six peaks, not two."""
    curves = simulate([0.0], [0.1, 0.1, 0.1], drift_V=0.006)
    for k, (e, i, peaks) in enumerate(curves):  # the film fades a little each cycle
        curves[k] = (e, i * (1 - 0.05 * k), [Peak(p.direction, p.potential, p.current * (1 - 0.05 * k))
                                            for p in peaks])
    draw(tmp_path / "cycles.png", curves, ["Cycle 1", "Cycle 2", "Cycle 3"])
    match = scored(predicted(model, tmp_path / "cycles.png"), curves)
    assert len(match.tp) >= 5 and not match.fp


def test_noise_wiggles_beside_a_peak_are_dropped(tmp_path):
    """A candidate on a noise wiggle beside a peak of the same curve (what the model marks on noisy plots) does
    not stand out of that curve's own noise; the peak itself and a peak of the other branch stay."""
    from voltpeak.axes.frame import background, find_frame
    from voltpeak.predict.curves import find_curves, per_curve

    curves = simulate([0.1], [0.1], seed=3, noise=0.04)
    draw(tmp_path / "noisy.png", curves)
    rgb = np.asarray(Image.open(tmp_path / "noisy.png").convert("RGB"))
    reading = read_axes(Image.fromarray(rgb))
    height, width = rgb.shape[:2]
    e, i, truth = curves[0]
    anodic = next(p for p in truth if p.direction == "anodic")
    cathodic = next(p for p in truth if p.direction == "cathodic")

    def record(direction, potential, current, score):
        px = (potential - reading.x.map.offset) / reading.x.map.slope
        py = (current * 1e6 - reading.y.map.offset) / reading.y.map.slope
        return {"direction": direction, "x": px / width, "y": py / height, "score": score}

    # The wiggle: on the anodic branch 60 mV past the peak, at the noisy trace's own height there.
    after = np.flatnonzero((np.arange(len(e)) < np.argmax(e)) & (e > anodic.potential + 0.04))[0]
    records = [record("anodic", anodic.potential, anodic.current, 0.9),
               record("cathodic", cathodic.potential, cathodic.current, 0.9),
               record("anodic", float(e[after]), float(i[after]), 0.4)]
    found = per_curve(records, find_curves(rgb, find_frame(rgb), background(rgb)), rgb.shape)
    assert sorted(r["direction"] for r in found) == ["anodic", "cathodic"]
    assert max(r["score"] for r in found if r["direction"] == "anodic") == 0.9


def test_a_transparent_png_is_read_as_a_viewer_shows_it(tmp_path, model):
    """matplotlib's transparent=True (as Altair/Vega exports are) stores black pixels of alpha 0 behind the plot;
    read without compositing, the whole image was black: no axes, no peaks."""
    curves = simulate([0.1], [0.1])
    draw(tmp_path / "clear.png", curves, transparent=True)
    with Image.open(tmp_path / "clear.png") as im:
        assert im.mode == "RGBA" and im.getpixel((2, 2))[3] == 0
    line = predicted(model, tmp_path / "clear.png")
    assert line["axes"]["x"]["unit"] == "V" and line["axes"]["y"]["unit"] == "µA"
    match = scored(line, curves)
    assert len(match.tp) == 2 and not match.fp


def test_a_600_dpi_export_has_its_axes_read(tmp_path):
    """A poster-sized export (6000 px, ticks 8 px thick) is read at a screen's size."""
    curves = simulate([0.1], [0.1])
    draw(tmp_path / "big.png", curves, dpi=600, size=(10, 6.7))
    with Image.open(tmp_path / "big.png") as im:
        assert im.width == 6000
    reading = read_file(str(tmp_path / "big.png"))
    assert reading.x.map is not None and reading.x.unit == "V" and reading.y.unit == "µA"
    assert reading.x.confidence > 0.5
    assert reading.potential_V(0.5) == pytest.approx(np.mean([c[0].min() + c[0].max() for c in curves]) / 2,
                                                     abs=0.05)


def test_a_title_in_millivolts_over_ticks_in_volts_is_read_as_volts(tmp_path):
    """Ticks −0.25…0.45 under "Potential (mV)": no CV sweeps 0.7 mV; the title's unit is a slip."""
    curves = simulate([0.1], [0.1])
    draw(tmp_path / "slip.png", curves, xlabel="Potential (mV)")
    reading = read_axes(Image.open(tmp_path / "slip.png"))
    assert reading.x.unit == "V" and reading.x.factor == 1.0
    assert any("title says mV" in w for w in reading.warnings)


def test_minus_the_current_in_a_title_is_read():
    assert parse_title("−I / µA", "y").negated and parse_title("-i (mA)", "y").negated
    assert parse_title("Cathodic current (µA)", "y").negated
    assert not parse_title("I / µA", "y").negated and not parse_title("Current (mA)", "y").negated


@pytest.mark.parametrize("ylabel", ["I / µA", "−I / µA"])
def test_cathodic_positive_plots_keep_their_directions(tmp_path, model, ylabel):
    """The current as instruments record it (cathodic positive) with the potential increasing to the right: the
    title says so ("−I") or the peaks' shapes do; every direction was swapped before."""
    curves = simulate([0.1], [0.1])
    draw(tmp_path / "instrument.png", curves, sign=-1, ylabel=ylabel)
    line = predicted(model, tmp_path / "instrument.png")
    match = scored(line, curves)
    assert len(match.tp) == 2 and not match.fp, line["peaks"]


def _reading(width: int, height: int, slope: float, labels: int) -> AxesReading:
    """A reading whose x map rests on ``labels`` tick labels of OCR confidence 0.9."""
    x = AxisReading("x", [Label("1", 1.0, Box(0, 0, 1, 1), 0.9, True) for _ in range(labels)],
                     AxisMap(0.5 - slope * width / 2, slope, list(range(labels)), 0.5))
    x.factor, x.title = 1.0, parse_title("E / V", "x")
    y = AxisReading("y", [Label("1", 1.0, Box(0, 0, 1, 1), 0.9, True) for _ in range(4)],
                    AxisMap(1.0, -0.01, [0, 1, 2, 3], 0.5))
    y.factor, y.title = 1e-6, parse_title("I / µA", "y")
    return AxesReading(width, height, Box(60, 20, width - 20, height - 50), x, y)


def test_a_map_on_two_labels_does_not_flip_the_plot(tmp_path, model):
    """Two misread labels ("0.6" read "6", "0.9" read "3") made a reversed map that flipped every direction and
    wrote potentials of 11 V. A map that weak never overrules the model; where it contradicts it, it is
    dropped and said so."""
    from voltpeak.predict import add_axes
    from voltpeak.predict.curves import refine_line

    curves = simulate([0.1], [0.1])
    draw(tmp_path / "cv.png", curves)
    image = Image.open(tmp_path / "cv.png").convert("RGB")
    reading = _reading(image.width, image.height, -0.02, labels=2)
    assert reading.x.weak and reading.up_is_cathodic is None
    line = predicted(model, tmp_path / "cv.png", refine=False)
    line = {"source": "cv.png", "peaks": [{k: v for k, v in p.items() if k in ("direction", "x", "y", "score")}
                                          for p in line["peaks"]]}
    directions = sorted(p["direction"] for p in line["peaks"])
    refine_line(line, image, reading)
    add_axes(line, reading, image)
    assert sorted(p["direction"] for p in line["peaks"]) == directions == ["anodic", "cathodic"]
    assert all("potential" not in p for p in line["peaks"])
    assert "contradict" in line["warning"]


def test_no_potential_beyond_10_V_is_ever_written(tmp_path):
    from voltpeak.predict import add_axes

    image = Image.new("RGB", (600, 400), "white")
    reading = _reading(600, 400, 0.05, labels=5)  # 5 V across 100 px: the image's edges lie at ±15 V
    line = {"source": "x.png", "peaks": [{"direction": "anodic", "x": 0.05, "y": 0.5},
                                         {"direction": "cathodic", "x": 0.5, "y": 0.6}]}
    add_axes(line, reading, image)
    assert "potential" not in line["peaks"][0] and line["peaks"][1]["potential"] == pytest.approx(0.5)
    assert "beyond ±10 V" in line["warning"]


def test_a_web_plot_with_left_and_bottom_axes_only(tmp_path, model):
    """A Bokeh/HoloViews-like screenshot: no box, grey tick labels, a bold title above, italic axis titles, a
    legend box with a title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = simulate([0.1], [0.05, 0.1])
    fig, ax = plt.subplots(figsize=(6.0, 4.0), dpi=100)
    for (e, i, _), label in zip(curves, ["50 mV/s", "100 mV/s"]):
        ax.plot(e, i * 1e6, label=label)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors="#666666", labelsize=9)
    ax.set_title("Cyclic voltammogram", fontweight="bold", loc="left")
    ax.set_xlabel("E / V", fontstyle="italic")
    ax.set_ylabel("I / µA", fontstyle="italic")
    ax.legend(title="scan rate", loc="upper left", fontsize=8)
    fig.savefig(tmp_path / "web.png", dpi=100)
    plt.close(fig)
    line = predicted(model, tmp_path / "web.png")
    assert line["axes"]["x"]["map"] is not None and line["axes"]["y"]["unit"] == "µA"
    match = scored(line, curves)
    assert len(match.tp) >= 3 and not match.fp


def test_a_graphing_calculator_plot_with_axes_crossing_inside(tmp_path, model):
    """Axes through zero inside the plot, tick labels along them, a dense grid, markers only, a straight line
    drawn over the data: the potentials come from the labels beside the inner axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = simulate([0.2], [0.1])
    e, i, _ = curves[0]
    fig, ax = plt.subplots(figsize=(8.0, 4.5), dpi=100)
    ax.plot(e[::12], i[::12] * 1e6, "o", color="#2d70b3", markersize=4)
    ax.axhline(0.3 * i.max() * 1e6, color="black", lw=1.2)  # a construction line
    for side in ("left", "bottom"):
        ax.spines[side].set_position("zero")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, which="both", color="#cccccc")
    ax.minorticks_on()
    ax.set_xlim(-0.05, e.max() + 0.05)
    fig.savefig(tmp_path / "calc.png", dpi=100)
    plt.close(fig)
    line = predicted(model, tmp_path / "calc.png")
    assert line["axes"]["x"]["map"] is not None, line.get("warning")
    match = scored(line, curves)
    assert len(match.tp) >= 1 and not match.fp


def test_the_same_peak_written_twice_is_kept_once():
    """A language model may write one peak twice; peaks of the two directions at one place both stay."""
    from voltpeak.predict.curves import distinct

    records = [{"direction": "anodic", "x": 0.5, "y": 0.3}, {"direction": "anodic", "x": 0.502, "y": 0.301},
               {"direction": "cathodic", "x": 0.5, "y": 0.3}, {"direction": "anodic", "x": 0.52, "y": 0.3}]
    assert distinct(records) == [records[0], records[2], records[3]]
