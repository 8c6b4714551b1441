"""``voltpeak serve`` end to end: a real server process, driven in a real headless Chromium (Debian's chromium +
Playwright). Labelling a real CV by clicks (snapped, saved, reloaded), keyboard acceptance of suggestions, undo/redo,
export against the expected truth JSONL, review filtering, run curves drawn, a SIGKILL right after an acknowledged
label, path traversal and an HTML-injection file name."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

GAMRY = "10mM_1_2_DAAQ_1_2_ChCl_EG_negative.DTA.txt"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # the test server is local even where a proxy is set


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``voltpeak serve`` in its own process on a free port."""

    def __init__(self, *args: str):
        self.args, self.port, self.proc = args, _port(), None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "voltpeak", "serve", "--port", str(self.port), *self.args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url + "/api/runs", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"voltpeak serve exited: {self.proc.stdout.read()}") from None
                time.sleep(0.1)
        raise RuntimeError("voltpeak serve did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def send(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + path, method=method, data=json.dumps(body or {}).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, {}

    def raw(self, path: str) -> int:
        """Status of a GET sent byte for byte (no client-side normalisation of ``..``)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)


@pytest.fixture
def lab(shared_data, tmp_path) -> Path:
    """A folder of CVs to label: two real Gamry files (copies) and a simulated one."""
    folder = tmp_path / "cvs"
    folder.mkdir()
    names = sorted(p.name for p in (shared_data / "gamry").iterdir() if p.name.upper().endswith(("DTA", "DTA.TXT")))
    for name in [GAMRY] + [n for n in names if n != GAMRY][:1]:
        shutil.copy(shared_data / "gamry" / name, folder / name)
    return folder


def _page(browser, url: str):
    # Playwright evaluates its waits as strings, which the app's CSP (script-src 'self') forbids: bypass it here, so
    # the HTML-injection test checks the escaping itself, not the CSP behind it.
    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.goto(url)
    return page, errors


def _expected_snap(v, sweep: int, index: int) -> int:
    """The sample a click at ``index`` of ``sweep`` must snap to, computed here from the definition: the largest
    current × direction within 3 % of the sweep's samples on either side (IUPAC file)."""
    a, b, direction = v.sweeps()[sweep]
    half = max(3, int(0.03 * (b - a)))
    lo, hi = max(0, index - half), min(b - a, index + half + 1)
    return lo + int(np.argmax(v.current[a + lo:a + hi] * direction))


def test_label_a_real_cv_by_clicking_then_keyboard_export(browser, lab, tmp_path):
    from voltpeak.detect import detect
    from voltpeak.read import read

    v = read(lab / GAMRY)
    sweeps = v.sweeps()
    # Three peaks to click near: the detector's two, and the current maximum at the anodic turn (a sweep's end).
    targets = []
    for p in detect(v)[:2]:
        k = next(k for k, (a, b, _) in enumerate(sweeps) if a <= p.index < b)
        targets.append((k, p.index - sweeps[k][0]))
    # and one more local extremum of a sweep, where no other sweep passes close by on screen
    from scipy.signal import argrelextrema

    span_i, span_e = np.ptp(v.current), np.ptp(v.potential_V)

    def clear(k: int, i: int) -> bool:
        a, b, _ = sweeps[k]
        others = np.r_[0:a, b:len(v)]
        near = np.abs(v.potential_V[others] - v.potential_V[a + i]) < 0.02 * span_e
        return not near.any() or np.abs(v.current[others][near] - v.current[a + i]).min() > 0.08 * span_i

    for k, (a, b, d) in enumerate(sweeps):
        order = int(0.03 * (b - a))
        for i in argrelextrema(v.current[a:b] * d, np.greater, order=order)[0]:
            if 0.1 * (b - a) < i < 0.9 * (b - a) and clear(k, i) and all(
                    abs(i - t) > 2 * order for s, t in targets if s == k) and len(targets) < 3:
                targets.append((k, int(i)))
    assert len(targets) == 3
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page, errors = _page(browser, server.url + "/label")
        page.wait_for_function("window.voltpeakOpened && window.voltpeakSuggested")
        assert page.evaluate("window.voltpeakOpened.id") == f"0/{GAMRY}"
        expected = []
        for sweep, index in targets:
            box = page.locator("#plot").bounding_box()
            a = sweeps[sweep][0]
            sx, sy = page.evaluate(f"window.voltpeakPlot.toScreen({v.potential_V[a + index]}, {v.current[a + index]})")
            page.mouse.click(box["x"] + sx + 3, box["y"] + sy - 2)  # near the peak, not on it
            expected.append((sweep, _expected_snap(v, sweep, index)))
            page.wait_for_function(f"window.voltpeakLabels && window.voltpeakLabels.length === {len(expected)}")
        # Drag the third label onto the other sweep: it moves there, snapped to that sweep's extremum.
        third = next(x for x in page.evaluate("window.voltpeakLabels") if (x["sweep"], x["idx"]) == expected[2])
        box = page.locator("#plot").bounding_box()
        fx, fy = page.evaluate(f"window.voltpeakPlot.toScreen({third['potential']}, {third['current']})")
        other = 1 - expected[2][0]
        oa, ob, _ = sweeps[other]
        j = int(np.argmin(np.abs(v.potential_V[oa:ob] - third["potential"])))
        tx, ty = page.evaluate(f"window.voltpeakPlot.toScreen({v.potential_V[oa + j]}, {v.current[oa + j]})")
        page.mouse.move(box["x"] + fx, box["y"] + fy)
        page.mouse.down()
        page.mouse.move(box["x"] + (fx + tx) / 2, box["y"] + (fy + ty) / 2, steps=4)
        page.mouse.move(box["x"] + tx, box["y"] + ty, steps=4)
        page.mouse.up()
        page.wait_for_function(f"window.voltpeakLabels.some(x => x.id === {third['id']} && x.sweep === {other})")
        moved = next(x for x in page.evaluate("window.voltpeakLabels") if x["id"] == third["id"])
        assert abs(moved["idx"] - j) <= max(3, int(0.03 * (ob - oa)))
        page.keyboard.press("z")  # undo the move: back where it was
        page.wait_for_function(f"window.voltpeakLabels.some(x => x.id === {third['id']} && x.sweep === "
                               f"{expected[2][0]} && x.idx === {expected[2][1]})")
        # Undo and redo with the keyboard (the history of this page).
        page.keyboard.press("z")
        page.wait_for_function("window.voltpeakLabels.length === 2")
        page.keyboard.press("y")
        page.wait_for_function("window.voltpeakLabels.length === 3")
        page.reload()
        page.wait_for_function("window.voltpeakOpened && window.voltpeakLabels && window.voltpeakLabels.length === 3")
        saved = page.evaluate("window.voltpeakLabels")
        assert sorted((lab_["sweep"], lab_["idx"]) for lab_ in saved) == sorted(expected)
        for lab_ in saved:
            k = sweeps[lab_["sweep"]][0] + lab_["idx"]
            assert lab_["potential"] == pytest.approx(v.potential_V[k], abs=1e-9)
            assert lab_["direction"] == ("anodic" if sweeps[lab_["sweep"]][2] > 0 else "cathodic")
        page.screenshot(path=str(tmp_path / "label.png"))
        # Done (d) opens the next CV; accept all suggestions (a), done again.
        page.keyboard.press("d")
        page.wait_for_function(f"window.voltpeakOpened.id !== '0/{GAMRY}' && window.voltpeakSuggested === "
                               "window.voltpeakOpened.id")
        second = page.evaluate("window.voltpeakOpened.id")
        suggested = server.get(f"/api/suggestions/{second}")["suggestions"]
        assert suggested
        page.keyboard.press("a")
        page.wait_for_function(f"window.voltpeakLabels.length === {len(suggested)}")
        page.keyboard.press("d")
        page.wait_for_function("document.getElementById('progress').textContent.startsWith('2 done')")
        assert errors == []
    finally:
        server.stop()
    # Export: the truth JSONL voltpeak build reads, one line per CV marked done.
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        with urllib.request.urlopen(server.url + "/api/export") as r:
            lines = [json.loads(x) for x in r.read().decode().splitlines()]
    finally:
        server.stop()
    by_source = {line["source"]: line for line in lines}
    assert set(by_source) == {GAMRY, second.split("/", 1)[1]}
    first = sorted(by_source[GAMRY]["peaks"], key=lambda p: p["potential"])
    want = []
    for sweep, idx in expected:
        k = sweeps[sweep][0] + idx
        want.append({"potential": float(v.potential_V[k]), "current": float(v.current[k]),
                     "direction": "anodic" if sweeps[sweep][2] > 0 else "cathodic",
                     "cycle": int(v.cycle_numbers()[k])})
    assert first == sorted(want, key=lambda p: p["potential"])
    w = read(lab / second.split("/", 1)[1])
    assert sorted(p["potential"] for p in by_source[second.split("/", 1)[1]]["peaks"]) == pytest.approx(
        sorted(float(w.potential_V[p.index]) for p in detect(w)))
    # The export is a pool voltpeak build accepts.
    from voltpeak.dataset.pool import load_pool

    (lab / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert len(load_pool(str(lab / "labels.jsonl")).cvs) == 2


def test_a_double_click_on_the_curve_resets_the_view_and_adds_no_label(browser, lab, tmp_path):
    from voltpeak.detect import detect
    from voltpeak.read import read

    v = read(lab / GAMRY)
    peak = detect(v)[0]
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page, errors = _page(browser, server.url + "/label")
        page.wait_for_function("window.voltpeakOpened && window.voltpeakSuggested && window.voltpeakLabels")
        box = page.locator("#plot").bounding_box()
        sx, sy = page.evaluate(f"window.voltpeakPlot.toScreen({peak.potential}, {peak.current})")
        page.mouse.wheel(0, -300)  # zoomed in: the double-click must bring the whole CV back
        page.mouse.dblclick(box["x"] + sx, box["y"] + sy)
        page.wait_for_timeout(600)
        assert page.evaluate("window.voltpeakLabels.length") == 0
        view, extent = page.evaluate("[window.voltpeakPlot.view, window.voltpeakPlot.extent()]")
        assert view == pytest.approx(extent)
        sx, sy = page.evaluate(f"window.voltpeakPlot.toScreen({peak.potential}, {peak.current})")
        page.mouse.click(box["x"] + sx, box["y"] + sy)  # one click still labels
        page.wait_for_function("window.voltpeakLabels.length === 1")
        assert errors == []
    finally:
        server.stop()


@pytest.mark.parametrize("width", [1024, 1280])
def test_the_label_page_fits_the_window(browser, lab, tmp_path, width):
    """Every control and the whole plot on screen, no sideways scrolling, at 1024 px as at 1280."""
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page = browser.new_context(viewport={"width": width, "height": 768}, bypass_csp=True).new_page()
        page.goto(server.url + "/label")
        page.wait_for_function("window.voltpeakOpened")
        page.evaluate("document.querySelector('#state').textContent = 'saved'")
        page.screenshot(path=str(tmp_path / f"label-{width}.png"))
        right = page.evaluate("Math.max(...['prev', 'next', 'accept', 'done', 'skip', 'undo', 'redo', 'export', "
                              "'state', 'plot'].map(id => document.getElementById(id).getBoundingClientRect().right))")
        assert right <= width, right
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    finally:
        server.stop()


def test_two_browser_tabs_labelling_one_cv_both_keep_their_labels(browser, lab, tmp_path):
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        tabs = [_page(browser, server.url + f"/label?file=0/{GAMRY}")[0] for _ in range(2)]
        for tab in tabs:
            tab.wait_for_function("window.voltpeakOpened && window.voltpeakSuggested")
        # Each tab accepts one different suggestion through the API its page uses, then clicks one more point.
        suggested = server.get(f"/api/suggestions/0/{GAMRY}")["suggestions"]
        for tab, s in zip(tabs, suggested):
            box = tab.locator("#plot").bounding_box()
            sx, sy = tab.evaluate(f"window.voltpeakPlot.toScreen({s['potential']}, {s['current']})")
            tab.mouse.click(box["x"] + sx + 2, box["y"] + sy)
            tab.wait_for_function("window.voltpeakLabels.length >= 1")
        # Within a refresh period both tabs show both labels; the store has both.
        for tab in tabs:
            tab.wait_for_function("window.voltpeakLabels.length === 2", timeout=10_000)
        assert len(server.get(f"/api/labels/0/{GAMRY}")["labels"]) == 2
    finally:
        server.stop()


def test_suggestions_from_a_shipped_model_land_on_the_cv(lab, tmp_path):
    from voltpeak.read import read
    from voltpeak.serve.suggest import detector_suggestions

    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"), "--suggest", "heatmap")
    try:
        reply = server.get(f"/api/suggestions/0/{GAMRY}")
    finally:
        server.stop()
    v = read(lab / GAMRY)
    model = sorted((s["direction"], s["potential"]) for s in reply["suggestions"])
    detector = sorted((s["direction"], s["potential"]) for s in detector_suggestions(v))
    assert reply["source"] == "heatmap" and {s["origin"] for s in reply["suggestions"]} == {"model"}
    assert [d for d, _ in model] == [d for d, _ in detector]
    assert all(abs(a - b) < 0.01 for (_, a), (_, b) in zip(model, detector))  # within 10 mV of the detector
    for s in reply["suggestions"]:  # each on a sample of a sweep of its own direction
        a, b, d = v.sweeps()[s["sweep"]]
        assert (d > 0) == (s["direction"] == "anodic") and v.potential_V[a + s["idx"]] == s["potential"]


def test_an_acknowledged_label_survives_sigkill(lab, tmp_path):
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        status, reply = server.send("POST", f"/api/labels/0/{GAMRY}", {"sweep": 0, "index": 1690})
        assert status == 200 and len(reply["labels"]) == 1
        server.stop(signal.SIGKILL)
        server.start()
        assert server.get(f"/api/labels/0/{GAMRY}")["labels"] == reply["labels"]
    finally:
        server.stop()


def test_two_tabs_editing_one_cv_keep_every_label(lab, tmp_path):
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:  # what two tabs send, interleaved: each adds its own label, one deletes its own; none is lost
        _, a = server.send("POST", f"/api/labels/0/{GAMRY}", {"sweep": 0, "index": 1690})
        _, b = server.send("POST", f"/api/labels/0/{GAMRY}", {"sweep": 1, "index": 2400})
        _, c = server.send("POST", f"/api/labels/0/{GAMRY}", {"sweep": 1, "index": 900})
        assert server.send("DELETE", f"/api/labels/0/{GAMRY}/{c['ids'][0]}")[0] == 200
        ids = {x["id"] for x in server.get(f"/api/labels/0/{GAMRY}")["labels"]}
        assert ids == {a["ids"][0], b["ids"][0]}
    finally:
        server.stop()


def test_path_traversal_and_oversized_requests_are_refused(lab, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("E,I\n0,1\n1,2\n")
    truth, pred = tmp_path / "t.jsonl", tmp_path / "p.jsonl"
    truth.write_text(json.dumps({"source": "../secret.png", "peaks": []}) + "\n")
    pred.write_text(json.dumps({"source": "../secret.png", "peaks": []}) + "\n")
    (tmp_path / "secret.png").write_bytes(b"\x89PNG")
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"), "--truth", str(truth), "--pred",
                    str(pred), "--images", str(lab))
    try:
        for path in ("/api/cv/0/../secret.csv", "/api/cv/0/..%2Fsecret.csv", "/api/cv/0/%2e%2e/secret.csv",
                     f"/api/cv/0/{tmp_path}/secret.csv", "/api/cv/0//etc/passwd", "/api/cv/1/secret.csv",
                     "/static/../app.py", "/static/..%2Fapp.py", "/api/review/image/0",
                     "/api/labels/0/..%2Fsecret.csv"):
            assert server.raw(path) in (400, 404), path
        assert server.raw(f"/api/cv/0/{GAMRY}") == 200
        status, _ = server.send("POST", f"/api/status/0/{GAMRY}", {"status": "x" * 70_000})
        assert status == 413
    finally:
        server.stop()


def test_an_html_injection_file_name_is_shown_as_text(browser, lab, tmp_path):
    name = '<img src=x onerror="alert(1)">.csv'
    shutil.copy(Path(__file__).parent.parent / "src" / "voltpeak" / "examples" / "cv_01_si.csv", lab / name)
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page, errors = _page(browser, server.url + "/label?file=" + urllib.parse.quote("0/" + name))
        page.wait_for_function("window.voltpeakOpened")
        assert page.evaluate("window.voltpeakOpened.id") == "0/" + name
        assert page.locator("#name").inner_text() == name
        assert name in page.locator("#files").inner_text()
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert errors == []  # no alert dialog, no script error
    finally:
        server.stop()


def _review_set(tmp_path: Path) -> tuple[Path, Path, set[str]]:
    """Six image samples in image space; the ones missing a predicted peak (FN) are returned."""
    from PIL import Image

    folder = tmp_path / "ds"
    (folder / "images").mkdir(parents=True)
    truth, pred, with_fn = [], [], set()
    for k in range(6):
        src = f"images/s{k}.png"
        Image.new("RGB", (280, 196), (255, 255, 255)).save(folder / src)
        peaks = [{"direction": "anodic", "x": 0.3, "y": 0.2}, {"direction": "cathodic", "x": 0.6, "y": 0.7}]
        predicted = peaks[: 2 - k % 3]  # k % 3 == 1: one FN, == 2: two FN
        if k == 4:
            predicted = predicted + [{"direction": "anodic", "x": 0.9, "y": 0.1}]  # an FP too
        truth.append({"source": src, "peaks": peaks, "style": {"family": "classic" if k < 3 else "origin"}})
        pred.append({"source": src, "peaks": predicted, "text": json.dumps(predicted), "error": None})
        if len(predicted) - (k == 4) < 2:
            with_fn.add(src)
    (folder / "truth.jsonl").write_text("".join(json.dumps(t) + "\n" for t in truth))
    (folder / "pred.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pred))
    return folder / "truth.jsonl", folder / "pred.jsonl", with_fn


def test_review_filters_to_samples_with_false_negatives(browser, tmp_path):
    truth, pred, with_fn = _review_set(tmp_path)
    server = Server("--truth", str(truth), "--pred", str(pred), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page, errors = _page(browser, server.url + "/review")
        page.wait_for_function("window.voltpeakReview && window.voltpeakReview.length === 6")
        page.check("input[value=has_fn]")
        page.wait_for_function(f"window.voltpeakReview.length === {len(with_fn)}")
        assert set(page.evaluate("window.voltpeakReview")) == with_fn
        shown = page.locator(".sample .src").all_inner_texts()
        assert set(shown) == with_fn
        page.wait_for_function("[...document.querySelectorAll('.sample canvas')].every(c => c.dataset.drawn)")
        # The overlay draws the FN ring in its colour on the first card's image.
        card = page.locator(".sample canvas").first
        card.screenshot(path=str(tmp_path / "review-card.png"))
        from PIL import Image

        pixels = np.asarray(Image.open(tmp_path / "review-card.png").convert("RGB")).astype(int)
        magenta = (abs(pixels[..., 0] - 0xC2) < 40) & (pixels[..., 1] < 80) & (abs(pixels[..., 2] - 0x5B) < 50)
        assert magenta.sum() > 20
        page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
        assert errors == []
        page_json = server.get("/api/review?filter=has_fn&sort=worst")
        assert page_json["rows"][0]["fn"] == 2 and page_json["metrics"]["fn"] == 6 and page_json["metrics"]["fp"] == 1
    finally:
        server.stop()


def test_review_page_keeps_its_own_content_policy(browser, tmp_path):
    """The review page under the content policy the app sends (the other tests bypass it for Playwright's waits):
    no console error (its key's inline styles were blocked: three errors, the key drawn black), and the key in its
    colours."""
    truth, pred, _ = _review_set(tmp_path)
    server = Server("--truth", str(truth), "--pred", str(pred), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        console = []
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.goto(server.url + "/review")
        page.wait_for_selector(".sample .src")
        page.wait_for_timeout(300)
        assert console == []
        assert page.locator(".key-map").evaluate("e => getComputedStyle(e).color") == "rgb(21, 101, 192)"
        assert page.locator(".key-frame").evaluate("e => getComputedStyle(e).color") == "rgb(255, 111, 0)"
    finally:
        server.stop()


def test_review_tags_wrong_directions_and_keeps_its_filters_in_the_url(browser, tmp_path):
    """A plot whose peaks were all found in place but called the wrong way is tagged and filtered as such; the
    filters live in the URL; an empty filter says so instead of scoring nothing."""
    from PIL import Image

    folder = tmp_path / "ds"
    (folder / "images").mkdir(parents=True)
    peaks = [{"direction": "anodic", "x": 0.3, "y": 0.2}, {"direction": "cathodic", "x": 0.6, "y": 0.7}]
    swapped = [{**p, "direction": "cathodic" if p["direction"] == "anodic" else "anodic"} for p in peaks]
    truth, pred = [], []
    for k, predicted in enumerate([peaks, swapped, peaks[:1]]):
        src = f"images/s{k}.png"
        Image.new("RGB", (280, 196), (255, 255, 255)).save(folder / src)
        truth.append({"source": src, "peaks": peaks})
        pred.append({"source": src, "peaks": predicted, "error": None})
    (folder / "truth.jsonl").write_text("".join(json.dumps(t) + "\n" for t in truth))
    (folder / "pred.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pred))
    server = Server("--truth", str(folder / "truth.jsonl"), "--pred", str(folder / "pred.jsonl"),
                    "--db", str(tmp_path / "labels.sqlite"))
    try:
        assert [r["direction"] for r in server.get("/api/review?sort=source")["rows"]] == [0, 2, 0]
        page, errors = _page(browser, server.url + "/review")
        page.wait_for_function("window.voltpeakReview && window.voltpeakReview.length === 3")
        page.check("input[value=direction]")
        page.wait_for_function("window.voltpeakReview.length === 1")
        assert page.evaluate("window.voltpeakReview") == ["images/s1.png"]
        assert "2 found in place, wrong direction" in page.locator(".sample .meta").inner_text()
        assert "filter=direction" in page.url
        # The detail view: the plot large, every peak in a table with its role, then Escape back to the grid.
        page.wait_for_function("document.querySelector('.sample canvas')?.dataset.drawn === '1'")
        page.locator(".sample canvas").first.click()
        page.wait_for_function("document.querySelector('#detail canvas')?.dataset.drawn === '1'")
        cells = [row.split("\t") for row in page.locator("#detail tbody tr").all_inner_texts()]
        assert sorted((c[0], c[1], c[2]) for c in cells) == [
            ("pred", "FP", "▲ anodic"), ("pred", "FP", "▼ cathodic"), ("truth", "FN", "▲ anodic"),
            ("truth", "FN", "▼ cathodic")]
        small = page.locator(".sample canvas").first.bounding_box()["width"]
        assert page.locator("#detail canvas").bounding_box()["width"] > 2 * small
        page.keyboard.press("Escape")
        page.wait_for_function("!document.querySelector('#detail')")
        page.goto(page.url)  # the link keeps the filter
        page.wait_for_function("window.voltpeakReview && window.voltpeakReview.length === 1")
        assert page.is_checked("input[value=direction]")
        page.check("input[value=perfect]")
        page.wait_for_function("window.voltpeakReview.length === 0")
        assert page.locator("#summary").inner_text().startswith("no samples match these filters")
        assert errors == []
    finally:
        server.stop()


@pytest.mark.parametrize("absolute", [False, True])
def test_review_in_data_space_draws_the_raw_cv(browser, lab, tmp_path, absolute):
    """Also with sources as ``voltpeak detect /abs/path`` writes them, the truth kept in another folder."""
    from voltpeak.detect import detect
    from voltpeak.read import read

    v = read(lab / GAMRY)
    found = [p.to_record() for p in detect(v)]
    folder, source = (tmp_path / "report", str((lab / GAMRY).resolve())) if absolute else (lab, GAMRY)
    folder.mkdir(exist_ok=True)
    (folder / "truth.jsonl").write_text(json.dumps({"source": source, "peaks": found}) + "\n")
    (folder / "pred.jsonl").write_text(json.dumps({"source": source, "peaks": found[:1], "text": "", "error": None})
                                       + "\n")
    server = Server("--truth", str(folder / "truth.jsonl"), "--pred", str(folder / "pred.jsonl"), "--space", "data",
                    "--db", str(tmp_path / "labels.sqlite"))
    try:
        assert len(server.get("/api/review/cv/0")["sweeps"]) == len(v.sweeps())
        page, errors = _page(browser, server.url + "/review")
        page.wait_for_function("document.querySelector('.sample canvas')?.dataset.drawn === '1'")
        assert "FN 1" in page.locator(".sample .meta").inner_text()
        # The detail view says the current's unit (it showed raw amperes, "-1.73e-4").
        page.locator(".sample canvas").first.click()
        cell = page.locator("#detail tbody tr td").nth(6).inner_text()
        assert re.fullmatch(r"-?\d+(\.\d+)? [µmn]?A", cell), cell
        # A label with a potential and no current is drawn on the CV (on a sweep of its direction), not at I = 0.
        cv = {"sweeps": [{"direction": 1, "cycle": 1, "E": [0.0, 0.1, 0.2], "I": [1.0, 5.0, 2.0]},
                         {"direction": -1, "cycle": 1, "E": [0.2, 0.1, 0.0], "I": [-1.0, -4.0, -2.0]}]}
        assert page.evaluate("cv => onCurve(cv, {direction: 'anodic', potential: 0.11})", cv) == 5.0
        assert page.evaluate("cv => onCurve(cv, {direction: 'cathodic', potential: 0.09, cycle: 1})", cv) == -4.0
        assert page.evaluate("cv => onCurve(cv, {direction: 'cathodic', potential: 0.1, cycle: 2})", cv) is None
        assert errors == []
    finally:
        server.stop()


def test_review_shows_the_axis_reading_and_potentials(browser, tmp_path):
    """A plot drawn by matplotlib, predicted with its axes read: the card draws the label boxes (blue) and the
    fitted tick positions (orange) over the image, and says units, reference, convention and couples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    folder = tmp_path / "ds"
    (folder / "images").mkdir(parents=True)
    e = np.concatenate([np.linspace(-0.4, 0.6, 300), np.linspace(0.6, -0.4, 300)])
    i = np.concatenate([10 * np.exp(-((e[:300] - 0.12) / 0.05) ** 2) + 1, -9 * np.exp(-((e[300:] - 0.06) / 0.05) ** 2)
                        - 1])
    fig, ax = plt.subplots(figsize=(5, 3.8), dpi=100)
    ax.plot(e, i)
    ax.set_xlabel("E / V vs Ag/AgCl")
    ax.set_ylabel("I / µA")
    fig.tight_layout()
    fig.savefig(folder / "images" / "cv.png")
    plt.close(fig)
    done = subprocess.run([sys.executable, "-m", "voltpeak", "predict", "--model", "default", "images/cv.png"],
                          cwd=folder, capture_output=True, text=True, timeout=300)
    line = json.loads(done.stdout)
    assert sorted(p["direction"] for p in line["peaks"]) == ["anodic", "cathodic"]
    (folder / "pred.jsonl").write_text(done.stdout)
    truth = {"source": "images/cv.png", "peaks": [{k: p[k] for k in ("direction", "x", "y")} for p in line["peaks"]]}
    (folder / "truth.jsonl").write_text(json.dumps(truth) + "\n")
    server = Server("--truth", str(folder / "truth.jsonl"), "--pred", str(folder / "pred.jsonl"),
                    "--db", str(tmp_path / "labels.sqlite"))
    try:
        page, errors = _page(browser, server.url + "/review")
        page.wait_for_function("document.querySelector('.sample canvas')?.dataset.drawn === '1'")
        words = page.locator(".sample .axes").inner_text()
        assert "x: E / V vs Ag/AgCl" in words and "y: I / µA" in words and "convention: IUPAC" in words
        assert "couple: E1/2 9" in words  # (0.12 + 0.06) / 2 = 90 mV
        page.locator(".sample canvas").first.screenshot(path=str(tmp_path / "card.png"))
        pixels = np.asarray(Image.open(tmp_path / "card.png").convert("RGB")).astype(int)
        below = pixels[int(0.86 * len(pixels)):]  # the x tick labels' row: no curve there, only their boxes
        blue = (abs(below[..., 0] - 0x15) < 40) & (abs(below[..., 1] - 0x65) < 40) & (below[..., 2] > 150)
        orange = (pixels[..., 0] > 220) & (abs(pixels[..., 1] - 0x6F) < 40) & (pixels[..., 2] < 60)
        assert blue.sum() > 100 and orange.sum() > 30
        assert errors == []
    finally:
        server.stop()


def test_runs_page_draws_curves(browser, tmp_path):
    for name, warm in (("with-warmup", 20), ("no-warmup", 0)):
        run = tmp_path / "runs" / name
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"warmup_steps": warm, "model": {"kind": "heatmap"}}))
        rows = [{"step": s, "loss": 2.0 * np.exp(-s / (60 + warm)) + 0.1, "lr": 1e-3 * min(1, s / max(1, warm))}
                for s in range(1, 201)]
        for r in rows[49::50]:
            r["val_f1"] = 1 - r["loss"] / 2.5
        (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"step": 20')
    server = Server("--runs", str(tmp_path / "runs"), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page, errors = _page(browser, server.url + "/runs")
        page.wait_for_function("window.voltpeakRunsDrawn && window.voltpeakRunsDrawn.length === 2")
        assert "best val F1" in page.locator("#runs").inner_text()
        page.locator("#c-loss").screenshot(path=str(tmp_path / "loss.png"))
        page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
        from PIL import Image

        pixels = np.asarray(Image.open(tmp_path / "loss.png").convert("RGB")).astype(int)
        blue = (pixels[..., 2] > 150) & (pixels[..., 0] < 90) & (pixels[..., 1] < 160)  # the first run's colour
        red = (pixels[..., 0] > 170) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)  # the second run's
        assert blue.sum() > 150 and red.sum() > 150
        assert errors == []
    finally:
        server.stop()


def test_a_run_validated_once_is_drawn_and_its_list_line_is_whole(browser, tmp_path):
    run = tmp_path / "runs" / "a-run-with-a-rather-long-name-validated-once"
    run.mkdir(parents=True)
    rows = [{"step": s, "loss": 1.0 / s, "lr": 1e-3} for s in range(1, 31)]
    rows[-1].update({"val_f1": 0.8, "val_sample_accuracy": 0.6})
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    server = Server("--runs", str(tmp_path / "runs"), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page, errors = _page(browser, server.url + "/runs")
        page.wait_for_function("window.voltpeakRunsDrawn && window.voltpeakRunsDrawn.length === 1")
        line = page.locator("#runs li").first
        assert "30 steps · best val F1 0.800" in line.inner_text()
        assert page.evaluate("(() => { const li = document.querySelector('#runs li');"
                             " return li.scrollWidth <= li.clientWidth; })()")
        from PIL import Image

        for chart in ("val_f1", "val_sample_accuracy"):
            page.locator(f"#c-{chart}").screenshot(path=str(tmp_path / f"{chart}.png"))
            pixels = np.asarray(Image.open(tmp_path / f"{chart}.png").convert("RGB")).astype(int)
            blue = (pixels[..., 2] > 150) & (pixels[..., 0] < 90) & (pixels[..., 1] < 160)  # the run's colour
            assert blue.sum() > 12, chart  # its one point, as a dot
        assert errors == []
    finally:
        server.stop()


def test_the_label_list_holds_cv_files_only(shared_data, tmp_path):
    from voltpeak.serve.app import list_cv_files

    folder = tmp_path / "cvs"
    shutil.copytree(shared_data / "echemdb" / sorted(p.name for p in (shared_data / "echemdb").iterdir()
                                                      if p.is_dir())[0], folder / "paper")
    (folder / "config.json").write_text("{}")  # what voltpeak simulate writes beside its CVs
    (folder / ".hidden.csv").write_text("E,I\n")
    ids = [i for i, _ in list_cv_files([folder])]
    csvs = sorted(f"0/paper/{p.name}" for p in (folder / "paper").glob("*.csv"))
    assert ids == csvs  # one entry per data package (its CSV), no config, no hidden file


def test_the_label_sidebar_groups_names_in_full_and_keeps_the_open_file_in_sight(browser, shared_data, lab,
                                                                                 tmp_path):
    """Folders as groups, names whole, a BioLogic recording once (.mpr beside its .mpt), no symlink out of the
    folder, the open file scrolled into view, and the suggester named."""
    from voltpeak.serve.app import list_cv_files

    long = "a-" + "very-long-file-name-" * 4 + ".csv"
    (lab / "deeper").mkdir()
    shutil.copy(lab / GAMRY, lab / "deeper" / long)
    for suffix in (".mpr", ".mpt"):
        shutil.copy(shared_data / "biologic" / f"cv{suffix}", lab / "deeper" / f"cv{suffix}")
    outside = tmp_path / "outside.csv"
    shutil.copy(lab / GAMRY, outside)
    (lab / "link.csv").symlink_to(outside)
    for k in range(30):  # enough files that the last one starts out of sight
        shutil.copy(lab / GAMRY, lab / "deeper" / f"zz-{k:02d}.DTA")
    ids = [i for i, _ in list_cv_files([lab])]
    assert "0/deeper/cv.mpr" in ids and "0/deeper/cv.mpt" not in ids and "0/link.csv" not in ids
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page = browser.new_context(viewport={"width": 1024, "height": 600}, bypass_csp=True).new_page()
        page.goto(server.url + "/label?file=" + urllib.parse.quote("0/deeper/zz-29.DTA"))
        page.wait_for_function("window.voltpeakOpened && window.voltpeakSuggested")
        groups = page.locator("#files li.group").all_inner_texts()
        assert groups == ["cvs/", "cvs/deeper/"], groups
        item = page.locator("#files li", has_text=long)
        assert long in item.inner_text()
        assert page.evaluate("[...document.querySelectorAll('#files li')].every(li => li.scrollWidth <= "
                             "li.clientWidth)")
        assert page.locator("#files li.current").is_visible()
        li, box = page.evaluate("[document.querySelector('#files li.current').getBoundingClientRect().toJSON(),"
                                " document.querySelector('aside').getBoundingClientRect().toJSON()]")
        assert box["top"] <= li["top"] and li["bottom"] <= box["bottom"] + 1, (li, box)  # in sight (to a pixel)
        assert page.locator("#suggester").inner_text() == "suggestions: the classical detector"
    finally:
        server.stop()


@pytest.mark.slow
def test_serve_refuses_bad_arguments_in_one_line(tmp_path):
    for args in (["--data", str(tmp_path / "nowhere")], ["--truth", str(tmp_path / "t.jsonl")]):
        done = subprocess.run([sys.executable, "-m", "voltpeak", "serve", *args], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr



@pytest.mark.slow
def test_serve_on_a_busy_port_says_so_before_any_url(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "voltpeak", "serve", "--port", str(port), "--db",
                               str(tmp_path / "labels.sqlite")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "http://" not in done.stderr


def test_unreadable_cvs_are_marked_and_explained_not_a_server_error(browser, lab, tmp_path):
    """An empty CSV, random bytes and a two-row CSV beside real files: the API answers 422 with the reason
    `voltpeak detect` gives, the page says it under the plot, and the file list marks the file."""
    (lab / "empty.csv").write_text("")
    (lab / "random.csv").write_bytes(np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8).tobytes())
    (lab / "two.csv").write_text("E,I\n0.1,1e-6\n")
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        for name, reason in (("empty.csv", "empty file"), ("random.csv", "binary content"),
                             ("two.csv", "fewer than 5 rows")):
            for api in ("cv", "suggestions"):
                with pytest.raises(urllib.error.HTTPError) as e:
                    server.get(f"/api/{api}/0/{name}")
                assert e.value.code == 422 and reason in json.loads(e.value.read())["detail"]
        page, errors = _page(browser, server.url + "/label?file=" + urllib.parse.quote("0/two.csv"))
        page.wait_for_function("document.querySelector('#error').textContent.length > 0")
        message = page.locator("#error").inner_text()
        assert message == "two.csv: fewer than 5 rows with both potential and current", message
        marked = page.locator("#files li.unreadable")
        assert set(marked.all_inner_texts()) == {"unreadable empty.csv", "unreadable random.csv",
                                                 "unreadable two.csv"}
        assert errors == []
        page.locator("#files li", has_text=GAMRY).click()  # a good file still opens after a bad one
        page.wait_for_function(f"window.voltpeakOpened && window.voltpeakOpened.id === '0/{GAMRY}'")
        assert page.locator("#error").inner_text() == ""
    finally:
        server.stop()


def test_the_label_page_shows_the_analysis_voltpeak_detect_gives(browser, lab, tmp_path):
    """The open CV's couples (E1/2, ΔEp, ipa/ipc, class, reverse baseline) and per-peak measures, as `voltpeak
    detect` reports them for the file; an unreadable file's analysis is a 422, never a 500."""
    from voltpeak.detect import detect_file

    expected = detect_file(str(lab / GAMRY), None)
    (lab / "broken.csv").write_text("E / V,I / A\n")
    server = Server("--data", str(lab), "--db", str(tmp_path / "labels.sqlite"))
    try:
        page, errors = _page(browser, server.url + "/label?file=" + urllib.parse.quote("0/" + GAMRY))
        page.wait_for_function("window.voltpeakAnalysis")
        couples = page.locator("#couples tbody tr")
        assert couples.count() == len(expected["couples"]) >= 1
        cells = couples.nth(0).locator("td").all_text_contents()
        first = expected["couples"][0]
        assert cells[1] == f"{first['E_half']:.4f}" and cells[2] == f"{first['delta_Ep'] * 1000:.1f}"
        assert cells[5] == f"{first['ipa_ipc']:.3f}" and cells[6] == first["class"]
        assert cells[7] == first["reverse_baseline"]
        assert page.locator("#measures tbody tr").count() == len(expected["peaks"])
        assert page.locator("#measures tbody tr").nth(0).locator("td").nth(2).text_content() == \
            f"{expected['peaks'][0]['potential']:.4f}"
        assert errors == []
        status, _ = server.send("GET", "/api/analysis/" + urllib.parse.quote("0/broken.csv"))
        assert status == 422
    finally:
        server.stop()
