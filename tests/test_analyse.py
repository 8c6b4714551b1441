"""The analysis page of ``voltpeak serve`` (``/analyse``) end to end: a real server process driven in Debian's headless
Chromium. Every reader's format uploaded and shown with the numbers ``voltpeak detect`` gives; the corrections and the
cycle changing them exactly as ``detect_line`` with the same ``Analysis``; the downloads opened (CSV, Excel, PNG, SVG,
the JSON line); a figure's peaks with its axes read, and with the axes set by hand on a plot whose tick labels are
blank; send-to-label; bad uploads refused with a 4xx and a reason; 20 uploads from 4 sessions at once, none mixed
up; uploads expiring."""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import json
import re
import shutil
import struct
import threading
import time
import urllib.parse
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from test_serve import GAMRY, Server

EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "voltpeak" / "examples"
TWO_CYCLES = "20MM_2,7-AQDS_1M_H2SO4_250mVs_0.5step.DTA.txt"  # the comma is not kept in the uploaded name
LIMIT = 25 * 2 ** 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module: a label store, an upload area the tests can look into, and a runs folder holding
    one trained run (a copy of the shipped heatmap model as its checkpoint)."""
    from voltpeak.models import model_dir

    root = tmp_path_factory.mktemp("analyse")
    run = root / "runs" / "r1"
    shutil.copytree(model_dir("heatmap"), run / "checkpoints" / "step-000010" / "model")
    (run / "checkpoints" / "last").write_text("step-000010")
    (run / "metrics.jsonl").write_text(json.dumps({"step": 10, "loss": 0.5}) + "\n")
    (run / "config.json").write_text(json.dumps({"model": {"kind": "heatmap"}}))
    s = Server("--db", str(root / "labels.sqlite"), "--runs", str(root / "runs"), "--uploads", str(root / "area"))
    s.root = root
    yield s
    s.stop()


def _page(browser, server, csp: bool = False):
    """A fresh browser context (its own session) on /analyse; the page's errors collected. ``csp``: keep the app's
    content policy (Playwright's waits, evaluated as strings, then cannot run)."""
    page = browser.new_context(viewport={"width": 1280, "height": 1000}, bypass_csp=not csp,
                               accept_downloads=True).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Console errors, less the browser's own line for each 4xx answer (the tests check those answers themselves).
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
            and errors.append(m.text))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.goto(server.url + "/")
    if not csp:
        page.wait_for_function("window.voltpeakReady === true")
    return page, errors


def _shown(page, name: str, want: dict | None = None, timeout: float = 20_000):
    """Wait for the analysis of ``name`` with the query parameters ``want``; the page's table as it shows it."""
    js = (f"(() => {{ const a = window.voltpeakAnalyse; if (!a || a.line.source !== {json.dumps(name)}) return false;"
          f" const q = new URLSearchParams(a.query); return Object.entries({json.dumps(want or {})})"
          ".every(([k, v]) => q.get(k) === v); })()")
    page.wait_for_function(js, timeout=timeout)
    return page.evaluate("""() => ({
        head: document.querySelector('#cv-head').textContent,
        header: [...document.querySelectorAll('#cv-table thead th')].map(x => x.textContent),
        rows: [...document.querySelectorAll('#cv-table tbody tr')].map(r => [...r.cells].map(c => c.textContent)),
        notes: [...document.querySelectorAll('#cv-notes li')].map(x => x.textContent)})""")


def _expected(path: Path, name: str, cycle=None, analysis=None, names: dict | None = None) -> tuple[dict, dict]:
    """``detect_line`` of the original file, its source (and any other path) replaced by the names the page uses,
    and the table ``detect --table`` prints of it, in pieces."""
    from voltpeak.detect.files import detect_line
    from voltpeak.detect.report import table_parts

    line = detect_line(str(path), cycle, "auto", analysis)
    text = json.dumps(line)
    for old, new in {str(path): name, **(names or {})}.items():
        text = text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
    line = json.loads(text)
    head, header, rows, notes = table_parts(line)
    return line, {"head": head, "header": header, "rows": rows, "notes": notes}


def _formats(shared_data: Path) -> dict[str, tuple[list[Path], str]]:
    """Files of every reader, the name the page shows for each."""
    package = sorted((shared_data / "echemdb").glob("*/*.json"))[0]
    return {"csv": ([EXAMPLES / "cv_01_si.csv"], "cv_01_si.csv"),
            "txt": ([EXAMPLES / "cv_05_bare.txt"], "cv_05_bare.txt"),
            "echemdb": ([package, package.with_suffix(".csv")], package.with_suffix(".csv").name),
            "gamry-dta": ([shared_data / "gamry" / "10mM_F2CA_1M_KOH_pH_14_100mV.DTA"],
                          "10mM_F2CA_1M_KOH_pH_14_100mV.DTA"),
            "gamry-dta-txt": ([shared_data / "gamry" / GAMRY], GAMRY),
            "biologic-mpr": ([shared_data / "biologic" / "cv.mpr"], "cv.mpr"),
            "biologic-mpt": ([shared_data / "biologic" / "cv.mpt"], "cv.mpt")}


@pytest.mark.parametrize("fmt", ["csv", "txt", "echemdb", "gamry-dta", "gamry-dta-txt", "biologic-mpr",
                                 "biologic-mpt"])
def test_each_cv_format_is_uploaded_and_shown_with_detects_numbers(browser, server, shared_data, fmt):
    """Every reader's format, chosen in the file picker (an echemdb package as its .json and .csv together), is
    drawn with its peaks and shows exactly the table `voltpeak detect --table` prints for the file."""
    files, name = _formats(shared_data)[fmt]
    page, errors = _page(browser, server)
    page.set_input_files("#pick", [str(f) for f in files])
    shown = _shown(page, name)
    line, expected = _expected(files[-1] if fmt != "echemdb" else files[1], name)
    assert shown == expected
    assert len(expected["rows"]) == len(line["peaks"]) + 2 * sum(not c["own_peaks"] for c in line["couples"])
    assert page.evaluate("window.voltpeakPlot === undefined && document.querySelector('#cvplot').width > 0")
    markers = page.evaluate("window.voltpeakAnalyse.line.peaks.length")
    assert markers == len(line["peaks"])
    assert page.locator("#uploads .chip").count() == 1 and errors == []


def _blank_for(path: Path, folder: Path) -> Path:
    """A blank recording of the CV's own potential programme: a double layer's current, +1 µA on the way up and -1 µA
    on the way down, with a slope (it covers the CV's potentials, as a blank must)."""
    from voltpeak.read import read

    v = read(path)
    up = np.zeros(len(v))
    for a, b, d in v.sweeps():
        up[a:b] = d
    current = 1e-6 * up + 2e-6 * v.potential_V
    blank = folder / "blank.csv"
    blank.write_text("E / V,I / A\n" + "".join(f"{e:.6f},{i:.6e}\n" for e, i in zip(v.potential_V, current)))
    return blank


def test_corrections_and_the_cycle_change_the_numbers_as_detect_does(browser, server, shared_data, tmp_path):
    """Reference scale (with the file's reference given), iR with R_u, the electrode's area, a blank file and then
    the cycle: each time the page's table is the one `detect --table` prints for detect_line with the same Analysis
    and cycle; potentials move by the reference's shift."""
    from voltpeak.detect import Analysis

    path = shared_data / "gamry" / TWO_CYCLES
    name = TWO_CYCLES.replace(",", "_")
    blank = _blank_for(path, tmp_path)
    page, errors = _page(browser, server)
    page.set_input_files("#pick", [str(blank)])
    page.wait_for_function("window.voltpeakAnalyse && window.voltpeakAnalyse.line.source === 'blank.csv'")
    page.set_input_files("#pick", [str(path)])
    plain = _shown(page, name)
    assert plain == _expected(path, name)[1]
    page.select_option("[name=reference]", "SHE")
    page.select_option("[name=from_reference]", "Ag/AgCl")
    page.fill("[name=ru]", "40")
    page.fill("[name=area]", "0.07")
    page.select_option("[name=blank]", label="blank.csv")
    want = {"reference": "SHE", "from_reference": "Ag/AgCl", "ru": "40", "area": "0.07"}
    analysis = Analysis("SHE", "Ag/AgCl", None, None, str(blank), 40.0, 0.07)
    shown = _shown(page, name, {**want, "blank": page.eval_on_selector("[name=blank]", "s => s.value")})
    line, expected = _expected(path, name, None, analysis, {str(blank): "blank.csv"})
    assert shown == expected
    assert any(n.startswith("corrected: blank blank.csv subtracted") for n in shown["notes"])
    assert any(h.startswith("jp (") for h in shown["header"])  # the area gives current densities
    # The couple's E1/2 moved by Ag/AgCl's +197 mV against SHE, less what iR and the blank moved.
    before = _expected(path, name)[0]["couples"][0]["E_half"]
    assert abs(line["couples"][0]["E_half"] - before - 0.197) < 0.02
    page.select_option("#cycle", "2")
    shown = _shown(page, name, {**want, "cycle": "2"})
    assert shown == _expected(path, name, 2, analysis, {str(blank): "blank.csv"})[1]
    assert {r[0] for r in shown["rows"]} == {"2"}
    # A correction the file cannot take: RHE without a pH is said in one line, and the table stays as it was.
    page.select_option("[name=reference]", "RHE")
    page.wait_for_function("window.voltpeakAnalyseError && /pH/.test(window.voltpeakAnalyseError.message)")
    assert "needs the solution's pH" in page.locator("#error").inner_text()
    assert page.locator("#error").inner_text().count("\n") == 0
    assert "'pH'" in page.locator("#error").inner_text() and "--" not in page.locator("#error").inner_text()
    # What is still shown answers other fields: greyed out, and not for download.
    assert "stale" in page.get_attribute("#cv-table", "class") and page.get_attribute("#dl-csv", "href") is None
    page.select_option("[name=reference]", "SHE")
    page.wait_for_function("!document.querySelector('#cv-table').classList.contains('stale')")
    assert page.get_attribute("#dl-csv", "href")
    assert errors == []


def test_downloads_open_and_hold_what_the_page_shows(browser, server, shared_data):
    """CSV (parses, the rows detect --csv writes), Excel (opens with openpyxl: peaks and files sheets), PNG
    (decodes), SVG (parses) and the JSON line (detect's line), all with the corrections in force."""
    from openpyxl import load_workbook
    from PIL import Image

    from voltpeak.detect import Analysis
    from voltpeak.detect.report import export_table

    path = shared_data / "gamry" / GAMRY
    page, errors = _page(browser, server)
    page.set_input_files("#pick", [str(path)])
    _shown(page, GAMRY)
    page.fill("[name=ru]", "25")
    page.fill("[name=area]", "0.2")
    _shown(page, GAMRY, {"ru": "25", "area": "0.2"})
    line, _ = _expected(path, GAMRY, None, Analysis(ru_ohm=25.0, area_cm2=0.2))
    got = {}
    for fmt in ("csv", "xlsx", "png", "svg", "jsonl"):
        with page.expect_download() as d:
            page.click(f"#dl-{fmt}")
        got[fmt] = Path(d.value.path()).read_bytes()
        assert d.value.suggested_filename.startswith(GAMRY[:-len(".DTA.txt")])
    header, body = export_table([line])
    rows = list(csv.reader(io.StringIO(got["csv"].decode("utf-8"))))
    assert rows[0] == header and len(rows) == len(body) + 1
    assert [float(x) for x in rows[1][3:5]] == [float(x) for x in body[0][3:5]]  # Ep_V, ip_A
    book = load_workbook(io.BytesIO(got["xlsx"]))
    assert book.sheetnames == ["peaks", "files"] and book["peaks"].max_row == len(body) + 1
    assert book["files"]["A2"].value == GAMRY and "iR: E - I x 25 ohm" in book["files"]["G2"].value
    image = Image.open(io.BytesIO(got["png"]))
    image.load()
    assert image.format == "PNG" and image.width > 300
    assert ElementTree.fromstring(got["svg"]).tag.endswith("svg")
    assert json.loads(got["jsonl"]) == line
    assert errors == []


def _figure(v, path: Path, labels: bool = True) -> dict:
    """The CV drawn by matplotlib into ``path`` (its tick labels blanked unless ``labels``); the image fraction of
    each named tick: {"x": {value V: fraction}, "y": {value µA: fraction}}."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(v.potential_V, v.current * 1e6, color="C0")
    ax.set_xticks([-0.4, 0.0, 0.4])
    ax.set_yticks([-10, 0, 10])
    if labels:
        ax.set(xlabel="E / V", ylabel="I / µA")
    else:
        ax.set_xticklabels([])
        ax.set_yticklabels([])
    fig.savefig(path)  # no tight bounding box: the transform below is the image's
    width, height = fig.canvas.get_width_height()
    to_px = ax.transData.transform
    return {"x": {e: to_px((e, 0))[0] / width for e in (-0.4, 0.4)},
            "y": {i: 1 - to_px((0, i))[1] / height for i in (-10, 10)}}


def test_a_figure_is_read_with_its_axes_and_any_model(browser, server, tmp_path):
    """A plot image of a CV: the model's peaks overlaid, their potentials and currents read off the tick labels
    within 10 mV and 5 % of the detector's on the data, the axis reading said (tick labels used); the model list
    holds the shipped models and the trained run, and the run reads the same peaks."""
    from voltpeak.detect import detect_file
    from voltpeak.read import read

    source = EXAMPLES / "cv_01_si.csv"
    truth = sorted((p["direction"], p["potential"], p["current"]) for p in detect_file(str(source), None)["peaks"])
    _figure(read(source), tmp_path / "plot.png")
    page, errors = _page(browser, server)
    page.set_input_files("#pick", [str(tmp_path / "plot.png")])
    page.wait_for_function("window.voltpeakFigure && window.voltpeakFigure.result.upload.name === 'plot.png'",
                           timeout=30_000)
    result = page.evaluate("window.voltpeakFigure.result")
    assert result["warnings"] == [] and result["axes"]["frame"] and not result["hand"]
    found = sorted((p["direction"], p["potential"], p["current"]) for p in result["peaks"])
    assert [d for d, *_ in found] == [d for d, *_ in truth]
    for (_, e, i), (_, e0, i0) in zip(found, truth):
        assert abs(e - e0) < 0.010 and abs(i - i0) < 0.05 * abs(i0)
    text = page.locator("#fig-axes").inner_text()
    assert "potential (x) axis: E / V; tick labels used: -0.4, 0.0, 0.4" in text.replace("−", "-")
    assert page.locator("#fig-peaks tbody tr").count() == len(found)
    assert int(page.eval_on_selector("#figplot", "c => c.dataset.drawn")) >= 1
    models = page.eval_on_selector_all("#model option", "os => os.map(o => o.value)")
    assert models[0] == "default" and {"heatmap", "mllm-small", "run:r1"} <= set(models)
    page.select_option("#model", "run:r1")
    page.wait_for_function("window.voltpeakFigure.result.model === 'run:r1'", timeout=30_000)
    again = sorted((p["direction"], p["potential"]) for p in page.evaluate("window.voltpeakFigure.result.peaks"))
    assert again == [(d, e) for d, e, _ in found]  # the run holds the shipped heatmap's weights
    assert errors == []


def test_axes_set_by_hand_give_the_right_potentials_where_tick_labels_are_blank(browser, server, tmp_path):
    """The same plot with its tick labels blanked: the page says the axes could not be read and the peaks have no
    potential; two clicks per axis on known ticks and their values map the peaks again, within 10 mV and 5 % of
    the detector's on the data."""
    from voltpeak.detect import detect_file
    from voltpeak.read import read

    source = EXAMPLES / "cv_01_si.csv"
    truth = sorted((p["direction"], p["potential"], p["current"]) for p in detect_file(str(source), None)["peaks"])
    ticks = _figure(read(source), tmp_path / "blank-ticks.png", labels=False)
    page, errors = _page(browser, server)
    page.set_input_files("#pick", [str(tmp_path / "blank-ticks.png")])
    page.wait_for_function("window.voltpeakFigure && window.voltpeakFigure.result.upload.name === 'blank-ticks.png'",
                           timeout=30_000)
    result = page.evaluate("window.voltpeakFigure.result")
    assert any("could not be read" in w for w in result["warnings"])
    assert all("potential" not in p for p in result["peaks"]) and len(result["peaks"]) == 2
    assert "set the axes by hand" in page.locator("#fig-warnings").inner_text()
    page.click("#hand")
    box = page.locator("#figplot").bounding_box()
    values = []
    for (value, fx) in ticks["x"].items():
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + 0.5 * box["height"])
        values.append(value)
    for (value, fy) in ticks["y"].items():
        page.mouse.click(box["x"] + 0.5 * box["width"], box["y"] + fy * box["height"])
        values.append(value)
    for field, value in zip(page.locator("#hand-points input").all(), values):
        field.fill(str(value))
    page.select_option("#x-unit", "V")
    page.select_option("#y-unit", "µA")
    page.click("#map")
    page.wait_for_function("window.voltpeakFigure.result.hand === true", timeout=30_000)
    result = page.evaluate("window.voltpeakFigure.result")
    found = sorted((p["direction"], p["potential"], p["current"]) for p in result["peaks"])
    assert [d for d, *_ in found] == [d for d, *_ in truth]
    for (_, e, i), (_, e0, i0) in zip(found, truth):
        assert abs(e - e0) < 0.010 and abs(i - i0) < 0.05 * abs(i0)
    assert "set by hand" in page.locator("#fig-axes").inner_text()
    assert errors == []


def _drop(page, name: str, data: bytes, mime: str) -> None:
    """Drop a file on the page as a browser does: a drop event carrying it in its DataTransfer."""
    transfer = page.evaluate_handle("""([name, bytes, mime]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
        return dt; }""", [name, list(data), mime])
    page.dispatch_event("#drop", "dragenter", {"dataTransfer": transfer})
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})


def test_a_cv_file_and_a_jpeg_figure_dropped_on_the_page_are_shown(browser, server, tmp_path):
    """Drag and drop (not the file picker): a CSV is analysed as detect does, a JPEG figure read with its axes."""
    from PIL import Image

    from voltpeak.read import read

    source = EXAMPLES / "cv_04_eclab.csv"
    _figure(read(EXAMPLES / "cv_01_si.csv"), tmp_path / "plot.png")  # its ticks: ±10 µA, as _figure sets them
    jpeg = io.BytesIO()
    Image.open(tmp_path / "plot.png").convert("RGB").save(jpeg, "JPEG", quality=90)
    page, errors = _page(browser, server)
    _drop(page, source.name, source.read_bytes(), "text/csv")
    assert _shown(page, source.name) == _expected(source, source.name)[1]
    _drop(page, "plot.jpg", jpeg.getvalue(), "image/jpeg")
    page.wait_for_function("window.voltpeakFigure && window.voltpeakFigure.result.upload.name === 'plot.jpg'",
                           timeout=30_000)
    peaks = page.evaluate("window.voltpeakFigure.result.peaks")
    assert peaks and all("potential" in p and "current" in p for p in peaks)
    assert page.locator("#uploads .chip").count() == 2 and errors == []


def test_a_figure_dropped_while_a_correction_is_being_typed_is_shown(browser, server, tmp_path):
    """A correction field still being edited on a CV sends its change when the figure is dropped: the figure is
    read and shown all the same, no error (the change is not taken for the figure)."""
    from voltpeak.read import read

    _figure(read(EXAMPLES / "cv_01_si.csv"), tmp_path / "after.png")
    page, errors = _page(browser, server)
    page.set_input_files("#pick", [str(EXAMPLES / "cv_01_si.csv")])
    _shown(page, "cv_01_si.csv")
    page.fill("[name=ru]", "12")  # focus stays in the field: its change event comes when the focus leaves
    page.set_input_files("#pick", [str(tmp_path / "after.png")])
    page.wait_for_function("window.voltpeakFigure && window.voltpeakFigure.result.upload.name === 'after.png'",
                           timeout=30_000)
    page.click("#fig-name")
    time.sleep(0.5)  # past the correction's debounce
    assert page.locator("#error").inner_text() == "" and not page.locator("#figure").is_hidden()
    assert len(page.evaluate("window.voltpeakFigure.result.peaks")) == 2 and errors == []


def test_send_to_label_puts_the_cv_on_the_label_page(browser, server):
    """The uploaded CV is copied into the label store's own folder (byte for byte, once however often it is sent)
    and opens on /label, listed under that folder."""
    page, errors = _page(browser, server)
    source = EXAMPLES / "cv_02_ma.csv"
    page.set_input_files("#pick", [str(source)])
    _shown(page, source.name)
    page.click("#send")
    page.wait_for_selector("#sent:not([hidden])")
    href = page.get_attribute("#sent", "href")
    file_id = urllib.parse.unquote(href.split("file=", 1)[1])
    copy = server.root / "labels-uploads" / file_id.split("/", 1)[1]
    assert copy.read_bytes() == source.read_bytes()
    assert page.locator("#send").is_disabled()
    # The same name sent again (another upload): a name of its own, the first copy untouched.
    page.set_input_files("#pick", [str(source)])
    page.wait_for_function("!document.querySelector('#send').disabled")
    page.click("#send")
    page.wait_for_function("document.querySelector('#sent').href.includes('cv_02_ma-2.csv')")
    assert (server.root / "labels-uploads" / "cv_02_ma-2.csv").read_bytes() == copy.read_bytes()
    page.click("#uploads .chip button.open >> nth=0")  # back to the first upload: still sent, to its own copy
    page.wait_for_function(f"document.querySelector('#sent').getAttribute('href') === {json.dumps(href)}")
    page.click("#sent")
    page.wait_for_function(f"window.voltpeakOpened && window.voltpeakOpened.id === {json.dumps(file_id)}")
    assert page.locator("#name").inner_text() == copy.name
    assert "labels-uploads/" in page.locator("#files").inner_text()
    assert any(f["id"] == file_id for f in server.get("/api/files")["files"])
    assert errors == []


def test_the_page_works_under_its_content_policy_and_the_cookie_is_http_only(browser, server, tmp_path):
    """Under the policy the app sends (no inline script or style): a CV dropped through the file picker is drawn,
    no console error; the session cookie is HttpOnly and SameSite=Strict (the page's script cannot read it)."""
    page, errors = _page(browser, server, csp=True)
    assert page.evaluate("document.cookie") == ""
    cookie = next(c for c in page.context.cookies() if c["name"] == "voltpeak_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and len(cookie["value"]) == 43
    source = tmp_path / "three-cycles.csv"
    t = np.linspace(0, 3, 3000, endpoint=False)
    e = -0.2 + 0.8 * (1 - np.abs(2 * (t % 1) - 1))
    i = np.where(2 * (t % 1) < 1, 1, -1) * (1e-6 + 2e-5 / np.cosh((e - 0.25) / 0.05)) + 5e-6 * e
    source.write_text("E / V,I / A\n" + "".join(f"{a:.6f},{b:.6e}\n" for a, b in zip(e, i)))
    page.set_input_files("#pick", [str(source)])
    page.wait_for_selector("#cv-table tbody tr")
    assert page.locator("#cv-head").inner_text() == _expected(source, source.name)[1]["head"]
    assert re.search(r"/analyse\?upload=[\w-]{22}$", page.url)  # a random id: 128 bits
    # The cycles' key: colours set through the style object, which the policy allows (no inline style attribute).
    assert page.locator("#cv-key").inner_text().split() == ["cycle", "1", "cycle", "2", "cycle", "3"]
    swatches = page.eval_on_selector_all("#cv-key .swatch", "s => s.map(x => getComputedStyle(x).backgroundColor)")
    assert len(set(swatches)) == 3 and "rgba(0, 0, 0, 0)" not in swatches
    assert errors == []


def test_a_file_over_the_limit_and_bad_files_are_said_in_one_line_on_the_page(browser, server, tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(200 * 2 ** 20)  # sparse: 200 MB on paper
    html = tmp_path / "photo.png"
    html.write_text("<html><body><script>alert(1)</script></body></html>")
    page, errors = _page(browser, server)
    page.set_input_files("#pick", [str(big)])
    page.wait_for_function("document.querySelector('#error').textContent.length > 0")
    assert page.locator("#error").inner_text() == "big.csv is 200 MB: over the 25 MB limit a file"
    page.set_input_files("#pick", [str(html)])
    page.wait_for_function("/photo.png/.test(document.querySelector('#error').textContent)")
    assert page.locator("#error").inner_text() == "photo.png: not a PNG image (its bytes are not one)"
    assert page.locator("#uploads .chip").count() == 0 and errors == []


def _multipart(files: list[tuple[str, bytes]], boundary: str = "vp-boundary") -> bytes:
    out = b""
    for name, data in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


class Client:
    """One browser session over plain HTTP: its cookie, sent back on every request."""

    def __init__(self, server):
        self.port, self.cookie = server.port, None
        self.request("GET", "/api/analyse/uploads")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        head = {**(headers or {}), **({"Cookie": f"voltpeak_session={self.cookie}"} if self.cookie else {})}
        conn.request(method, path, body=body, headers=head)
        r = conn.getresponse()
        data = r.read()
        found = re.search(r"voltpeak_session=([\w-]+)", r.getheader("set-cookie") or "")
        if found and self.cookie is None:
            self.cookie = found.group(1)
        conn.close()
        return r.status, json.loads(data) if data[:1] in (b"{", b"[") else data

    def upload(self, files: list[tuple[str, bytes]]):
        return self.request("POST", "/api/analyse/upload", _multipart(files),
                            {"Content-Type": "multipart/form-data; boundary=vp-boundary"})


def _stream_upload(client: Client, size: int, chunked: bool) -> tuple[int, dict]:
    """A 200 MB file sent as it would stream from disk (never held in memory here), with its Content-Length or
    chunked; the server's answer."""
    head = _multipart([("huge.csv", b"")])[:-len(b"\r\n--vp-boundary--\r\n")]
    tail = b"\r\n--vp-boundary--\r\n"
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=60)
    conn.putrequest("POST", "/api/analyse/upload")
    conn.putheader("Content-Type", "multipart/form-data; boundary=vp-boundary")
    conn.putheader("Cookie", f"voltpeak_session={client.cookie}")
    if chunked:
        conn.putheader("Transfer-Encoding", "chunked")
    else:
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    block = b"0.1,1e-6\n" * 7000
    try:
        for data in [head] + [block] * (size // len(block)) + [tail]:
            conn.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        if chunked:
            conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server stopped reading at the limit
    r = conn.getresponse()
    reply = json.loads(r.read())
    conn.close()
    return r.status, reply


def _bomb_png(side: int) -> bytes:
    """A PNG whose header says ``side`` × ``side`` pixels (a decompression bomb's shape) in a few bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.mark.slow  # a served app in a process of its own
def test_bad_uploads_get_a_4xx_with_a_reason_and_leave_nothing(server):
    """Random bytes named .DTA, an empty file, 200 MB (declared and chunked: stopped at the 25 MB limit), a path as
    a name, an HTML file named .png, a decompression bomb, a program, a package's .json without its .csv, a body
    that is not multipart: each a 4xx with its reason; nothing of them is kept."""
    client = Client(server)
    noise = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    cases = [([("bomb.png", _bomb_png(20_000))], 422, "bomb.png: over the 40 megapixels taken"),
             ([("big.png", _bomb_png(8_000))], 422, "big.png: 8000×8000 pixels, over the 40 megapixels"),
             ([("noise.DTA", noise)], 422, "noise.DTA: binary content"),
             ([("empty.csv", b"")], 422, "empty.csv: an empty file"),
             ([("../../x.csv", b"E,I\n0,1\n")], 400, "'../../x.csv': a file name, not a path"),
             ([("page.png", b"<!doctype html><html><body>hi</body></html>")], 422, "page.png: not a PNG image"),
             ([("tool.exe", b"MZ\x90\x00")], 415, "tool.exe: not a file voltpeak reads"),
             ([("package.json", b'{"resources": []}')], 422, "package.json: an echemdb data package needs its .csv"),
             ([("a.csv", b"E,I\n"), ("b.csv", b"E,I\n")], 400, "one CV an upload"),
             ([("a.png", b"x"), ("b.csv", b"x"), ("c.csv", b"x")], 400, "at most 2 files")]
    for files, status, reason in cases:
        code, reply = client.upload(files)
        assert (code, reply["detail"][:len(reason)]) == (status, reason), files[0][0]
    code, reply = client.request("POST", "/api/analyse/upload", b"E,I\n0,1\n", {"Content-Type": "text/csv"})
    assert code == 415 and "multipart/form-data" in reply["detail"]
    for chunked in (False, True):
        code, reply = _stream_upload(client, 200 * 2 ** 20, chunked)
        assert code == 413 and "over the upload limit of 25 MB" in reply["detail"], reply
    assert client.request("GET", "/api/analyse/uploads")[1]["uploads"] == []
    session = server.root / "area" / hashlib.sha256(client.cookie.encode()).hexdigest()[:32]
    assert not session.exists() or list(session.iterdir()) == []  # no upload folder, no file left behind
    # An id of no upload, or a malformed one: 404, never a 500.
    for path in ("/api/analyse/AAAAAAAAAAAAAAAAAAAAAA/cv", "/api/analyse/..%2F..%2Fetc/cv",
                 "/api/analyse/x/export/csv", "/api/analyse/AAAAAAAAAAAAAAAAAAAAAA/image"):
        assert client.request("GET", path)[0] == 404, path


@pytest.mark.slow  # a served app in a process of its own
def test_twenty_uploads_from_four_sessions_at_once_are_all_answered_and_kept_apart(server):
    """4 sessions × 5 uploads sent together from 20 threads: every one answered 200; each session lists exactly
    its own five, each analysis is the detect line of the file that session sent under that name, and no session
    reaches another's upload (404)."""
    from voltpeak.detect import detect_file

    examples = sorted(EXAMPLES.glob("cv_*.csv"))
    clients = [Client(server) for _ in range(4)]
    jobs = [(k, j, examples[(3 * k + j) % len(examples)]) for k in range(4) for j in range(5)]
    start = threading.Barrier(len(jobs))

    def send(job):
        k, j, path = job
        start.wait()
        return job, clients[k].upload([(f"s{k}-{j}-{path.name}", path.read_bytes())])

    with ThreadPoolExecutor(len(jobs)) as pool:
        answers = list(pool.map(send, jobs))
    assert [code for _, (code, _) in answers] == [200] * 20
    ids = {}
    for (k, j, path), (_, reply) in answers:
        assert reply["name"] == f"s{k}-{j}-{path.name}" and reply["kind"] == "cv"
        ids[reply["id"]] = (k, j, path)
    assert len(ids) == 20
    for k, client in enumerate(clients):
        listed = client.request("GET", "/api/analyse/uploads")[1]["uploads"]
        assert sorted(u["name"] for u in listed) == sorted(f"s{k}-{j}-{p.name}" for kk, j, p in ids.values()
                                                           if kk == k)
    for upload_id, (k, j, path) in ids.items():
        code, reply = clients[k].request("GET", f"/api/analyse/{upload_id}/cv")
        expected = detect_file(str(path), None)
        assert code == 200 and reply["line"]["peaks"] == expected["peaks"]
        assert reply["line"]["source"] == f"s{k}-{j}-{path.name}"
        assert clients[(k + 1) % 4].request("GET", f"/api/analyse/{upload_id}/cv")[0] == 404


def test_uploads_expire_and_a_temporary_area_goes_with_the_server(tmp_path):
    """In the app itself (FastAPI's TestClient, real files): an upload unused past its lifetime is gone (404) and
    swept from disk; a server without --uploads keeps its uploads in a temporary folder it deletes when it stops."""
    from fastapi.testclient import TestClient

    from voltpeak.serve import ServeConfig, create_app

    config = ServeConfig(db=tmp_path / "labels.sqlite", uploads=tmp_path / "area", upload_lifetime_s=1.0)
    with TestClient(create_app(config)) as client:
        files = {"file": ("cv.csv", (EXAMPLES / "cv_01_si.csv").read_bytes())}
        first = client.post("/api/analyse/upload", files=files).json()["id"]
        assert client.get(f"/api/analyse/{first}/cv").status_code == 200
        time.sleep(1.3)
        assert client.get(f"/api/analyse/{first}/cv").status_code == 404
        client.post("/api/analyse/upload", files=files)  # a later upload sweeps what expired
        assert not any(p.name == first for p in (tmp_path / "area").rglob("*"))
    app = create_app(ServeConfig(db=tmp_path / "labels.sqlite"))
    area = app.state.uploads.root
    with TestClient(app) as client:
        assert client.post("/api/analyse/upload", files=files).json()["kind"] == "cv"
        assert len(list(area.rglob("cv.csv"))) == 1
    assert not area.exists()


def test_numbers_out_of_range_are_a_422_naming_the_field_not_a_server_error(tmp_path):
    """An R_u or hand-set axis values whose corrected numbers overflow are refused with the field's name (they were
    a 500: JSON has no infinity); detect's messages name the page's fields, not the command line's options."""
    from fastapi.testclient import TestClient

    from voltpeak.read import read
    from voltpeak.serve import ServeConfig, create_app

    with TestClient(create_app(ServeConfig(db=tmp_path / "labels.sqlite", uploads=tmp_path / "area"))) as client:
        files = {"file": ("cv.csv", (EXAMPLES / "cv_01_si.csv").read_bytes())}
        cv = client.post("/api/analyse/upload", files=files).json()["id"]
        reply = client.get(f"/api/analyse/{cv}/cv", params={"ru": "1e308"})
        assert reply.status_code == 422 and reply.json()["detail"].startswith("R_u (ohm): 1e+308 is out of range")
        reply = client.get(f"/api/analyse/{cv}/cv", params={"reference": "RHE"})
        assert reply.status_code == 422 and "'the file's reference'" in reply.json()["detail"]
        ticks = _figure(read(EXAMPLES / "cv_01_si.csv"), tmp_path / "f.png", labels=False)
        image = client.post("/api/analyse/upload", files={"file": ("f.png", (tmp_path / "f.png").read_bytes())})
        axes = {"x": [[min(ticks["x"].values()), 1e308], [max(ticks["x"].values()), -1e308]], "x_unit": "V",
                "y": [[0.2, 5], [0.8, -5]], "y_unit": "µA"}
        reply = client.post(f"/api/analyse/{image.json()['id']}/figure", json={"model": "default", "axes": axes})
        assert reply.status_code == 422 and "the axes' values" in reply.json()["detail"]


def test_names_are_sanitised_not_trusted():
    from voltpeak.serve.uploads import Refused, safe_name, suffix_of

    assert safe_name("Messung Ü (1).csv") == "Messung Ü (1).csv"
    assert safe_name('<img src=x onerror="alert(1)">.csv') == "_img src_x onerror__alert(1)__.csv"
    assert safe_name("..hidden.DTA") == "hidden.DTA"
    assert safe_name("a" * 300 + ".mpr") == "a" * 116 + ".mpr"
    assert suffix_of("x.DTA.txt") == ".dta" and suffix_of("x.TXT") == ".txt"
    for bad in ("../../x.csv", "a/b.csv", "a\\b.csv", "..", "", "x\x00.csv"):
        with pytest.raises(Refused) as e:
            safe_name(bad)
        assert e.value.status == 400


@pytest.mark.slow  # a served app in a process of its own
def test_the_front_page_is_the_analysis_page_and_every_page_links_it(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/")
    r = conn.getresponse()
    assert r.status in (302, 307) and r.getheader("location") == "/analyse"
    conn.close()
    for page in ("analyse", "label", "review", "runs"):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", f"/{page}")
        html = conn.getresponse().read().decode()
        conn.close()
        assert all(f'href="/{p}"' in html for p in ("analyse", "label", "review", "runs")), page
