"""The axis reader: robust maps, titles, real plots drawn by matplotlib (a program the reader never saw in
building), and ``voltpeak predict`` with potentials, warnings and hand-set axes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import voltpeak_cli as run
from numpy.testing import assert_allclose
from PIL import Image

from voltpeak.axes import manual_axes, read_axes, robust_fit
from voltpeak.axes.frame import Box
from voltpeak.axes.text import parse_number, parse_title

EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "voltpeak" / "examples"




def test_one_misread_label_does_not_move_the_map():
    pixels = [100, 200, 300, 400, 500]
    values = [-0.8, -0.4, 0.0, 0.4, 0.8]
    clean = robust_fit(pixels, values)
    corrupted = robust_fit(pixels, [-0.8, -0.4, 0.0, 4.0, 0.8])  # "0.4" read as "4.0"
    assert_allclose([corrupted.slope, corrupted.offset], [0.004, -1.2], atol=1e-12)
    assert_allclose([clean.slope, clean.offset], [corrupted.slope, corrupted.offset], atol=1e-12)
    assert corrupted.inliers == [0, 1, 2, 4]
    # A lost minus sign on one label of a reversed axis: still the reversed map.
    reversed_axis = robust_fit(pixels, [0.8, 0.4, 0.0, 0.4, -0.8])
    assert reversed_axis.slope == pytest.approx(-0.004) and reversed_axis.inliers == [0, 1, 2, 4]
    assert robust_fit([10], [1.0]) is None


@pytest.mark.parametrize("text, value", [("−0.5", -0.5), ("-0.25", -0.25), ("1,5", 1.5), ("150", 150.0),
                                         ("2×10^-5", 2e-5), ("5×10-5", 5e-5), ("1e-3", 1e-3), ("0.0", 0.0),
                                         ("abc", None), ("", None), ("1.2.3", None),
                                         # SI prefixes as web plots write them (plotly, d3's "~s"); OCR's µ as u
                                         ("100µ", 1e-4), ("−1.5m", -1.5e-3), ("200n", 2e-7), ("5u", 5e-6),
                                         ("2k", 2e3), ("µ", None), ("m5", None), ("100p", None)])
def test_tick_label_numbers(text, value):
    assert parse_number(text) == (None if value is None else pytest.approx(value))


@pytest.mark.parametrize("title, axis, quantity, unit, factor, reference", [
    ("E / V vs Ag/AgCl", "x", "E", "V", 1.0, "Ag/AgCl"),
    ("Potential (mV vs. SCE)", "x", "E", "mV", 1e-3, "SCE"),
    ("Ewe/V", "x", "E", "V", 1.0, None),
    ("E vs RHE / V", "x", "E", "V", 1.0, "RHE"),
    ("I / µA", "y", "I", "µA", 1e-6, None),
    ("i (mA)", "y", "I", "mA", 1e-3, None),
    ("<I>/mA", "y", "I", "mA", 1e-3, None),
    ("I (uA)", "y", "I", "µA", 1e-6, None),
    ("Current (pA)", "y", "I", "pA", 1e-12, None),
    ("j / mA cm⁻²", "y", "j", "mA cm⁻²", 10.0, None),  # 1 mA/cm² = 10 A/m²
    ("Current density (µA/cm²)", "y", "j", "µA cm⁻²", 0.01, None),
    ("Current (×10⁻⁵ A)", "y", "I", "A", 1e-5, None),
    ("I / 10^-5 A", "y", "I", "A", 1e-5, None),
    ("Current density", "y", "j", None, None, None),
])
def test_axis_titles(title, axis, quantity, unit, factor, reference):
    t = parse_title(title, axis)
    assert (t.quantity, t.unit, t.reference) == (quantity, unit, reference)
    assert t.factor == (None if factor is None else pytest.approx(factor))


@pytest.mark.parametrize("text, factor", [("1e−5", 1e-5), ("×10⁻⁵", 1e-5), ("le-5", 1e-5), ("(1e-3 A)", 1e-3),
                                          ("Cycle-5", None), ("I / A", None)])
def test_multipliers(text, factor):
    """A mono font's 1 read as l starts a word; a word ending in "le-5" is no multiplier."""
    from voltpeak.axes.text import multiplier_of

    assert multiplier_of(text) == (None if factor is None else pytest.approx(factor))


def draw(path: Path, e, i, xlabel="E / V vs Ag/AgCl", ylabel="I / µA", us=False, log=False, ticks=True,
         style="default", size=(5.6, 4.2), xticks=None, y_along=False):
    """A CV plotted by matplotlib itself (its own style sheet and tick formatter); returns the pixel (x, y from the
    top-left) of each given (E, I) data point, so tests know where values lie."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.style.context(style):
        fig, ax = plt.subplots(figsize=size, dpi=100)
        (ax.semilogy if log else ax.plot)(e, i)
        if xticks is not None:
            ax.set_xticks(xticks)
        if y_along:  # y labels written along the axis, bottom to top (R's default)
            ax.tick_params(axis="y", labelrotation=90)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if us:
            ax.invert_xaxis()
        if not ticks:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.tight_layout()
        fig.canvas.draw()
        points = ax.transData.transform(np.column_stack([e, i]))
        h = fig.canvas.get_width_height()[1]
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return points[:, 0], h - points[:, 1]


def cv_curve(n=400):
    e = np.concatenate([np.linspace(-0.6, 0.8, n), np.linspace(0.8, -0.6, n)])
    i = np.concatenate([12 * np.exp(-((e[:n] - 0.2) / 0.06) ** 2) + 2, -10 * np.exp(-((e[n:] - 0.14) / 0.06) ** 2)
                        - 2])
    return e, i


@pytest.mark.parametrize("style", ["default", "ggplot", "Solarize_Light2"])
def test_reads_a_matplotlib_plot_in_volts_and_microamps(tmp_path, style):
    e, i = cv_curve()
    px, py = draw(tmp_path / "cv.png", e, i, style=style)
    reading = read_axes(Image.open(tmp_path / "cv.png"))
    assert reading.warnings == []
    assert (reading.x.unit, reading.x.title.reference, reading.y.unit, reading.quantity) == ("V", "Ag/AgCl", "µA",
                                                                                              "I")
    assert reading.reversed is False
    w, h = reading.width, reading.height
    for k in (0, 150, 420, 700):
        assert reading.potential_V(px[k] / w) == pytest.approx(e[k], abs=0.01)
        assert reading.current(py[k] / h) == pytest.approx(i[k] * 1e-6, abs=0.3e-6)


@pytest.mark.parametrize("style", ["classic", "fivethirtyeight"])
def test_frames_with_corner_labels_or_only_a_grid(tmp_path, style):
    """classic: round limits put tick labels on the frame's corners (they must not stretch the frame);
    fivethirtyeight: no spines, the frame is where the grid ends."""
    e, i = cv_curve()
    px, py = draw(tmp_path / "cv.png", e, i, style=style)
    reading = read_axes(Image.open(tmp_path / "cv.png"))
    assert (reading.x.unit, reading.y.unit) == ("V", "µA")
    for k in (0, 150, 420, 700):
        assert reading.potential_V(px[k] / reading.width) == pytest.approx(e[k], abs=0.01)
        assert reading.current(py[k] / reading.height) == pytest.approx(i[k] * 1e-6, abs=0.3e-6)


def test_y_labels_written_along_the_axis(tmp_path):
    e, i = cv_curve()
    _, py = draw(tmp_path / "along.png", e, i, y_along=True)
    reading = read_axes(Image.open(tmp_path / "along.png"))
    assert reading.y.unit == "µA" and len(reading.y.map.inliers) >= 4
    for k in (150, 420):
        assert reading.current(py[k] / reading.height) == pytest.approx(i[k] * 1e-6, abs=0.3e-6)


def test_crowded_tick_labels_are_split(tmp_path):
    """Fifteen labels on a narrow plot: the gaps between labels are narrower than a glyph is tall."""
    e, i = cv_curve()
    px, _ = draw(tmp_path / "crowded.png", e, i, size=(4.6, 3.4), xticks=np.round(np.arange(-0.6, 0.81, 0.1), 1))
    reading = read_axes(Image.open(tmp_path / "crowded.png"))
    assert len(reading.x.map.inliers) >= 8
    assert reading.potential_V(px[300] / reading.width) == pytest.approx(e[300], abs=0.01)


def test_a_lost_superscript_minus_is_put_back_where_the_labels_then_agree():
    """gnuplot's "1×10⁻⁵" is often read "1x105": exponents made negative when that makes the labels linear."""
    from voltpeak.axes import AxisReading, Label, _exponents_negated, _fit_axis

    texts = ["1x105", "5x106", "0", "-5x106", "-1x105"]
    labels = [Label(t, parse_number(t), Box(10, 100 * k, 40, 100 * k + 10), 0.9) for k, t in enumerate(texts)]
    fixed = AxisReading("y", _exponents_negated(labels))
    _fit_axis(fixed, lambda b: b.cy)
    assert [lab.value for lab in fixed.labels] == pytest.approx([1e-5, 5e-6, 0, -5e-6, -1e-5])
    assert len(fixed.map.inliers) == 5
    assert _exponents_negated([Label("0.5", 0.5, Box(0, 0, 1, 1), 1.0)]) is None


def _mask(rows: str) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows.split()])


def test_minus_signs_in_the_pixels():
    """Masks as R drew them (serif, 9 px): a minus touching its 0 is one; the flag of a serif 1 is none."""
    from voltpeak.axes import _minus_first

    minus_zero = _mask("""......###.
                          .....#..##
                          ....##...#
                          ....##...#
                          ....##...#
                          ....##...#
                          ######...#
                          .....#..##
                          ......###.""")
    one = _mask("""..#.......
                   ..#.......
                   ###.....##
                   ..#....#..
                   ..#...##..
                   ..#...####
                   ..#...##..
                   ..#....#..
                   ..#.....##""")
    assert _minus_first(minus_zero) and not _minus_first(one)
    assert not _minus_first(minus_zero[:, :4])  # a bar with nothing after it is no label's minus


def test_potential_labels_beyond_10_V_are_a_misreading():
    """Pieces of overlapping labels ("0.50.40.30" read as 50, 40, 30) agree on a line: no CV spans ±50 V."""
    from voltpeak.axes import AxisReading, Label, _fit_axis, _units

    reading = AxisReading("x", [Label(t, float(t), Box(100 * k, 0, 100 * k + 20, 10), 0.9)
                                for k, t in enumerate(["50", "40", "30", "20"])], title=parse_title("Ewe/V", "x"))
    _fit_axis(reading, lambda b: b.cx)
    assert reading.map is not None
    _units(reading)
    assert reading.map is None and reading.si(150) is None
    assert "no CV's potentials" in reading.warnings[-1]


def test_us_convention_and_millivolts_are_read_off_the_tick_labels(tmp_path):
    e, i = cv_curve()
    px, _ = draw(tmp_path / "us.png", e * 1000, -i, xlabel="Potential (mV vs. SCE)", ylabel="Current (µA)", us=True)
    reading = read_axes(Image.open(tmp_path / "us.png"))
    assert reading.reversed is True
    assert (reading.x.unit, reading.x.title.reference) == ("mV", "SCE")
    assert reading.potential_V(px[100] / reading.width) == pytest.approx(e[100], abs=0.01)


def test_matplotlib_offset_exponent_scales_the_current(tmp_path):
    e, i = cv_curve()
    _, py = draw(tmp_path / "amps.png", e, i * 1e-6, ylabel="Current / A")  # matplotlib writes "1e−5" above
    reading = read_axes(Image.open(tmp_path / "amps.png"))
    assert reading.y.title.multiplier == pytest.approx(1e-5)
    assert reading.current(py[150] / reading.height) == pytest.approx(i[150] * 1e-6, abs=0.3e-6)


def test_a_log_axis_is_said_and_not_read_as_linear(tmp_path):
    e, i = cv_curve()
    draw(tmp_path / "log.png", e, np.abs(i) * 1e-6 + 1e-8, ylabel="|I| / A", log=True)
    reading = read_axes(Image.open(tmp_path / "log.png"))
    assert reading.y.scale == "log" and reading.current(0.5) is None
    assert any("logarithmic" in w for w in reading.warnings)
    assert reading.potential_V(0.5) is not None


def test_no_tick_labels_no_numbers(tmp_path):
    e, i = cv_curve()
    draw(tmp_path / "bare.png", e, i, ticks=False)
    reading = read_axes(Image.open(tmp_path / "bare.png"))
    assert reading.potential_V(0.5) is None and reading.current(0.5) is None
    assert any("x axis" in w for w in reading.warnings) and any("y axis" in w for w in reading.warnings)


def test_manual_axes_map_the_frame_edges():
    reading = manual_axes(600, 400, Box(100, 50, 500, 350), (-1.0, 1.0, "V"), (-20, 30, "uA"))
    assert reading.potential_V(100 / 600) == pytest.approx(-1.0)
    assert reading.potential_V(300 / 600) == pytest.approx(0.0)
    assert reading.current(350 / 400) == pytest.approx(-20e-6)
    assert reading.current(50 / 400) == pytest.approx(30e-6)
    assert reading.reversed is False and reading.source == "manual"


def test_predict_gives_potentials_that_match_the_truth(tmp_path):
    """A real CV file plotted by matplotlib → the shipped default model → peaks in volts within the contract's data
    tolerance of the CV's exact truth, and couples with E1/2."""
    from voltpeak.evaluate import data_tolerance_V
    from voltpeak.read import read

    truth = json.loads((EXAMPLES / "truth.jsonl").read_text().splitlines()[0])
    v = read(EXAMPLES / truth["source"])
    keep = v.cycle_numbers() == 1
    draw(tmp_path / "cv.png", v.potential_V[keep], v.current[keep] * 1e6)
    done = run("predict", "--model", "default", tmp_path / "cv.png")
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout)
    assert "warning" not in line and line["convention"] == "iupac"
    assert line["axes"]["x"]["unit"] == "V" and line["axes"]["y"]["unit"] == "µA"
    tol = data_tolerance_V(truth["window"])
    for t in truth["peaks"]:
        found = [p for p in line["peaks"] if p["direction"] == t["direction"]
                 and abs(p["potential"] - t["potential"]) <= tol]
        assert found, (t, line["peaks"])
        assert found[0]["current"] == pytest.approx(t["current"], rel=0.1)
    assert len(line["couples"]) == 1
    assert line["couples"][0]["E_half"] == pytest.approx(np.mean([p["potential"] for p in truth["peaks"]]), abs=tol)


@pytest.mark.slow
def test_read_ahead_workers_in_a_script_without_a_main_guard(tmp_path):
    """``predict`` over more images than a batch reads their axes in worker processes; a user's script with no
    ``if __name__ == "__main__"`` guard must work (and read the same axes as one image read in process), and an
    unreadable file among them must not derail the others."""
    e, i = cv_curve()
    draw(tmp_path / "a.png", e, i)
    draw(tmp_path / "b.png", e * 1000, -i, xlabel="Potential (mV vs. SCE)", us=True)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    script = tmp_path / "user_script.py"
    script.write_text(f"""import json
from pathlib import Path
from voltpeak.models import load_model
from voltpeak.models import model_dir
from voltpeak.predict import predict
paths = [Path({str(tmp_path)!r}) / n for n in ["a.png", "broken.png", "b.png", "a.png", "b.png"]]
lines = predict(load_model(model_dir("default")), [(str(p), p) for p in paths], batch_size=2)
for line in lines:
    print(json.dumps({{"error": line.get("error"), "convention": line.get("convention"),
                      "x": (line.get("axes") or {{}}).get("x", {{}}).get("map")}}))
""")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    if "MissingProgram" in done.stderr:
        pytest.skip(f"not installed here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(t) for t in done.stdout.splitlines()]
    assert [line["convention"] for line in lines] == ["iupac", None, "us", "iupac", "us"]
    assert lines[1]["error"] and not lines[0]["error"]
    alone = read_axes(Image.open(tmp_path / "b.png")).x.map
    assert lines[2]["x"]["slope"] == pytest.approx(alone.slope) and lines[2]["x"] == lines[4]["x"]


def test_predict_on_images_without_axes_warns_and_exits_0(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(tmp_path / "photo.png")
    text = Image.new("RGB", (400, 200), "white")
    from PIL import ImageDraw

    ImageDraw.Draw(text).text((20, 80), "Cyclic voltammetry of ferrocene", fill="black")
    text.save(tmp_path / "text.png")
    done = run("predict", "--model", "default", tmp_path / "photo.png", tmp_path / "text.png")
    assert done.returncode == 0, done.stderr
    for line in map(json.loads, done.stdout.splitlines()):
        assert line["error"] is None and line["warning"]
        assert all("potential" not in p for p in line["peaks"])


def test_predict_on_an_unreadable_file_is_an_error_line_and_exit_2(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not an image")
    done = run("predict", "--model", "default", tmp_path / "broken.png")
    assert done.returncode == 2
    line = json.loads(done.stdout)
    assert line["error"].startswith("cannot read image") and "Traceback" not in done.stderr


def test_predict_with_hand_set_axes(tmp_path):
    e, i = cv_curve()
    draw(tmp_path / "cv.png", e, i, ticks=False)
    done = run("predict", "--model", "default", tmp_path / "cv.png", "--x-axis=-0.67,0.87,V", "--y-axis=-14,16,uA")
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout)
    assert line["axes"]["source"] == "manual"
    anodic = [p for p in line["peaks"] if p["direction"] == "anodic"]
    assert anodic and anodic[0]["potential"] == pytest.approx(0.2, abs=0.03)
    bad = run("predict", "--model", "default", tmp_path / "cv.png", "--x-axis=-1,V")
    assert bad.returncode == 2 and "LOW,HIGH,UNIT" in bad.stderr and "Traceback" not in bad.stderr


def test_a_plotly_panel_cut_by_its_white_zero_line_is_still_the_frame():
    """plotly's default look at 2× (a retina screenshot): a filled panel, no spines, white grid lines and a thicker
    white zero line that cut the panel's edge runs short — the frame was not found and no axis read. The panel's
    rectangle is the frame: both axes read, the located peaks' potentials and currents within 1 % of the span."""
    pytest.importorskip("plotly")
    pytest.importorskip("playwright")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from dataclasses import replace

    from voltpeak.render import Curve, render, sample_style

    e, i = cv_curve()
    style = replace(sample_style(np.random.default_rng(1), "classic"), engine="plotly", theme="plotly", dpi=120,
                    grid="major", legend="", title="", us_convention=False, width_px=868, height_px=644)
    points = np.array([[e[np.argmax(i)], i.max()], [e[np.argmin(i)], i.min()]])
    drawn = render([Curve(e, i)], points, style, "Potential (V)", "Current (µA)")
    reading = read_axes(Image.open(io.BytesIO(drawn.png)))
    assert reading.x.map is not None and reading.y.map is not None, (reading.x.warnings, reading.y.warnings)
    for (x, y), (potential, current) in zip(drawn.points_px, points):
        assert reading.x.map.offset + reading.x.map.slope * x == pytest.approx(potential, abs=0.01 * np.ptp(e))
        got = (reading.y.map.offset + reading.y.map.slope * y) * reading.y.factor
        assert got == pytest.approx(current * 1e-6, abs=0.01 * np.ptp(i) * 1e-6)
