"""Shared fixtures: the real data in ../shared (tests skip with a clear message when it is absent)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "benchmarks"))  # cvsim_cases, shared with the benchmarks


@pytest.fixture(autouse=True, scope="module")
def _no_web_plot_browser_left_open():
    """The web engines' Chromium (``voltpeak.render.web``) closed after each test module: Playwright's sync API
    allows one driver a thread, and the browser tests of other modules start their own."""
    yield
    web = sys.modules.get("voltpeak.render.web")
    if web is not None:
        web.BROWSER.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that reaches a program this machine lacks (Tesseract's model, R's ggplot2, vl-convert, Chromium:
    ``MissingProgram``, whose message says what to install) is skipped with that message, not failed. .ci/run
    installs them all."""
    from voltpeak.errors import MissingProgram

    try:
        return (yield)
    except MissingProgram as e:
        pytest.skip(f"not installed here: {e}")


SLOW_FIXTURES = {"browser", "lab"}  # a real Chromium; a served app in a process of its own


def pytest_collection_modifyitems(items):
    """Tests that drive a browser or a served app are ``slow`` (``pytest -m "not slow"`` leaves them out) whether
    or not their author marked them."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


MISSING = re.compile(r"error: .*needs .*: (apt-get|pip) install")  # the command line's missing-program line


def voltpeak_cli(*args, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    """``python -m voltpeak ARGS`` in a subprocess; skips the test where the command says a program or extra it
    needs is not installed here (as ``pytest_runtest_call`` does in process)."""
    proc = subprocess.run([sys.executable, "-m", "voltpeak", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)
    if proc.returncode == 2 and MISSING.search(proc.stderr):
        pytest.skip(f"not installed here: {proc.stderr.strip()}")
    return proc


@pytest.fixture(scope="session")
def shared_data() -> Path:
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip(f"real CV files not found: {data} is absent (clone the project beside its shared/ folder)")
    return data


@pytest.fixture(scope="session")
def dataset(tmp_path_factory) -> Path:
    """A small built dataset: 20 graphs of one simulated CV each (for the model tests)."""
    from voltpeak.dataset import BuildConfig, build, load_pool, make_plan
    from voltpeak.simulate.batch import simulate_to_folder
    from voltpeak.simulate.config import SimulationConfig

    root = tmp_path_factory.mktemp("plots")
    simulate_to_folder(16, root / "sim", 5, SimulationConfig(cycles=(1, 1), couples=(1, 2)), workers=1)
    config = BuildConfig(unit=8, min_pixels=160 * 28 * 28, max_pixels=200 * 28 * 28, max_curves=1,
                         curve_weights=(1.0,))
    build(make_plan([load_pool(str(root / "sim"))], [], 20, 1, config), root / "ds", workers=1)
    return root / "ds"


def score_on_training_images(model: str | Path, dataset: Path, n: int, folder: Path) -> dict:
    """``voltpeak predict --model MODEL`` on the first ``n`` training images, then ``voltpeak evaluate`` in image
    space (files written in ``folder``), both through the command line's own entry point in this process (a
    subprocess would add only its start-up): the metrics."""
    import json

    from voltpeak.cli import main

    folder.mkdir(parents=True, exist_ok=True)
    lines = (dataset / "train.jsonl").read_text().splitlines()[:n]
    truths = (dataset / "truth_train.jsonl").read_text().splitlines()[:n]
    subset = dataset / f"first-{n}.jsonl"  # image paths are relative to the dataset
    subset.write_text("".join(x + "\n" for x in lines))
    (folder / "truth.jsonl").write_text("".join(x + "\n" for x in truths))
    assert main(["predict", "--model", str(model), str(subset), "-o", str(folder / "pred.jsonl"), "--force"]) == 0
    assert main(["evaluate", "--truth", str(folder / "truth.jsonl"), "--pred", str(folder / "pred.jsonl"),
                 "--space", "image", "-o", str(folder / "metrics.json")]) == 0
    return json.loads((folder / "metrics.json").read_text())["metrics"]


@pytest.fixture(scope="module")
def pool():
    """24 simulated CVs of two cycles as a labelled pool (render and dataset tests compose graphs from it)."""
    from voltpeak.dataset.pool import LabelledCV
    from voltpeak.simulate.batch import simulate_batch
    from voltpeak.simulate.config import SimulationConfig

    cvs = simulate_batch(SimulationConfig(cycles=(1, 2)), 5, range(24))
    return [LabelledCV(cv.noisy, cv.truth, f"sim{k}", f"sim{k}", "simulated") for k, cv in enumerate(cvs)]


TINY = {"image_size": 64, "vision_channels": [8, 16, 16], "lm_hidden": 32, "lm_layers": 1, "lm_heads": 2,
        "lm_intermediate": 64, "location_bins": 32, "max_new_tokens": 60, "prompt": "Peaks?"}  # a tiny MLLM


def tiny_mllm(**changes):
    """A tiny MLLM (``TINY`` with ``changes``) with a tokenizer of its prompt and answer words."""
    from voltpeak.models.mllm import MLLM, MLLMConfig, train_tokenizer

    tokenizer = train_tokenizer(["anodic cathodic none Peaks?"] * 4, location_bins=32, vocab_size=60)
    return MLLM.build(MLLMConfig.from_dict({**TINY, **changes}), tokenizer)


CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright drives it (no browser download)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, one per test module (each test opens its own pages)."""
    if not CHROMIUM.is_file():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()

