"""The dataset stage: graphs composed from a pool mark the peaks they show, builds are deterministic and shardable,
the JSONL goes through datasets and a Qwen2.5-VL processor, and answers round-trip through the parser (drawing the
graphs: test_render.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from voltpeak.answer import AnswerError, format_answer, parse_answer, smart_resize
from voltpeak.dataset import (
    BuildConfig,
    build,
    compose,
    load_pool,
    make_plan,
)
from voltpeak.dataset.pool import LabelledCV
from voltpeak.errors import InputError
from voltpeak.render import ENGINES, FAMILIES, sample_style
from voltpeak.simulate.batch import simulate_to_folder
from voltpeak.simulate.config import SimulationConfig

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def sim_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate_to_folder(30, out, 3, SimulationConfig(cycles=(1, 2)), workers=1)
    return out


@pytest.mark.slow
def test_a_missing_plotting_program_is_a_one_line_error(sim_folder, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # as if vl-convert were not installed
    with pytest.raises(InputError, match="pip install vl-convert-python"):
        BuildConfig.load(_config(tmp_path, engine_weights={"raster": 1, "vega": 1}))
    # No R on the PATH: `voltpeak build` says what to install, exit code 2, no traceback.
    run = subprocess.run([sys.executable, "-m", "voltpeak", "build", "--pool", str(sim_folder), "--n", "2",
                          "--out", str(tmp_path / "out"), "--config",
                          str(_config(tmp_path, engine_weights={"raster": 1, "ggplot": 1}))],
                         capture_output=True, text=True, env={"PATH": str(tmp_path)})
    assert run.returncode == 2 and "apt-get install r-base-core r-cran-ggplot2" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_engine_weights_by_name_or_in_order(tmp_path, monkeypatch):
    # Weights by name leave the others at 0; an old config's list in ENGINES order may stop early (engines added
    # later weigh 0) and loads with a warning that names them; an unknown name or too many weights is a one-line
    # error. A missing web library names the extra to install.
    by_name = BuildConfig.load(_config(tmp_path, engine_weights={"raster": 0.7, "plotly": 0.3}))
    assert by_name.engine_weights == {e: 0.7 if e == "raster" else 0.3 if e == "plotly" else 0.0 for e in ENGINES}
    with pytest.warns(FutureWarning, match=r'read in the order raster, matplotlib; name them instead: '
                                           r'\{"raster": 1, "matplotlib": 2\}'):
        in_order = BuildConfig.load(_config(tmp_path, engine_weights=[1, 2]))
    assert list(in_order.engine_weights.values())[:3] == [1, 2, 0.0]
    assert BuildConfig.load(in_order.save(tmp_path / "again.json")) == in_order  # saved by name: no warning
    assert BuildConfig.load(_config(tmp_path, family_weights={"us": 1})).family_weights == {
        f: float(f == "us") for f in FAMILIES}
    with pytest.raises(InputError, match="unknown name 'gnuplot'"):
        BuildConfig.load(_config(tmp_path, engine_weights={"gnuplot": 1}))
    with pytest.raises(InputError, match="more than the"):
        BuildConfig.load(_config(tmp_path, engine_weights=[1] * (len(ENGINES) + 1)))
    # The command line says the warning in one line.
    run = subprocess.run([sys.executable, "-m", "voltpeak", "build", "--pool", str(tmp_path / "none"), "--n", "2",
                          "--out", str(tmp_path / "out"), "--config", str(_config(tmp_path, engine_weights=[1]))],
                         capture_output=True, text=True)
    assert run.stderr.splitlines()[0] == ('warning: engine_weights given as a list, read in the order raster; name '
                                          'them instead: {"raster": 1}')
    monkeypatch.setitem(sys.modules, "bokeh", None)
    with pytest.raises(InputError, match=r"pip install 'voltpeak\[plots\]'"):
        BuildConfig.load(_config(tmp_path, engine_weights={"bokeh": 1}))


def test_smart_resize_matches_transformers():
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as theirs

    rng = np.random.default_rng(0)
    for h, w in rng.integers(20, 3000, size=(300, 2)):
        for lo, hi in ((56 * 56, 28 * 28 * 1280), (256 * 28 * 28, 512 * 28 * 28)):
            assert smart_resize(int(h), int(w), 28, lo, hi) == theirs(int(h), int(w), 28, lo, hi)


def test_answer_round_trip_and_tolerant_parsing():
    peaks = [{"label": "cathodic", "point_2d": [377.4, 301.6], "potential": 0.14812, "current": -11.937},
             {"label": "anodic", "point_2d": [412, 133], "potential": 0.2153, "current": 12.44}]
    text = format_answer(peaks)
    assert json.loads(text)[0] == {"label": "cathodic", "point_2d": [377, 302], "potential": 0.1481, "current": -11.9}
    parsed = parse_answer(text)
    assert [(p["direction"], p["x_px"], p["y_px"]) for p in parsed] == [("cathodic", 377, 302), ("anodic", 412, 133)]
    assert parse_answer("[]") == []
    # What models do to the format.
    assert len(parse_answer("```json\n" + text + "\n```")) == 2
    assert len(parse_answer("Here are the peaks: " + text + " Hope this helps.")) == 2
    assert len(parse_answer(text.replace('"', "'").replace("}]", "},]"))) == 2
    assert len(parse_answer(text[:-20])) == 1  # truncated: the complete object survives
    assert parse_answer("anodic peak at (412, 133)\ncathodic (377, 302)")[1] == {
        "direction": "cathodic", "x_px": 377.0, "y_px": 302.0}
    for bad in ("no peaks here", "", '[{"label": "maximum", "point_2d": [1, 2]}]'):
        with pytest.raises(AnswerError):
            parse_answer(bad)


def _config(tmp_path: Path, **fields) -> Path:
    path = tmp_path / "build.json"
    path.write_text(json.dumps({"unit": 4, "min_pixels": 160 * 28 * 28, "max_pixels": 256 * 28 * 28, **fields}))
    return path


def _files(folder: Path) -> dict[str, bytes]:
    skip = {"build.json"}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in skip and "parts" not in p.parts}


def test_build_is_deterministic_and_shards_merge_to_the_same_bytes(sim_folder, tmp_path):
    # Every engine and the degradations in the mix: same bytes whatever the workers or shards.
    config = BuildConfig.load(_config(tmp_path, engine_weights=dict.fromkeys(ENGINES[:5], 1), degrade_fraction=0.5))
    pools = [load_pool(str(sim_folder))]
    holdouts = [load_pool(f"other={sim_folder / 'truth.jsonl'}")]
    plan = make_plan(pools, holdouts, 14, 9, config)
    one = build(plan, tmp_path / "one", workers=2)
    assert one["counts"]["train"] + one["counts"]["val"] + one["counts"]["test"] == 14
    assert one["counts"]["holdout_other"] == 1
    again = build(make_plan(pools, holdouts, 14, 9, config), tmp_path / "again", workers=1)
    assert again == one
    assert _files(tmp_path / "one") == _files(tmp_path / "again")
    assert build(plan, tmp_path / "sharded", shard=(2, 2), workers=1) is None  # not all units yet
    assert not (tmp_path / "sharded" / "train.jsonl").exists()
    assert build(plan, tmp_path / "sharded", shard=(1, 2), workers=1) == one
    assert _files(tmp_path / "sharded") == _files(tmp_path / "one")
    other = build(make_plan(pools, holdouts, 14, 10, config), tmp_path / "seed10", workers=1)
    assert other["images_sha256"] != one["images_sha256"]


def test_splits_keep_groups_apart_and_holdouts_out_of_training(sim_folder, tmp_path):
    config = BuildConfig.load(_config(tmp_path))
    plan = make_plan([load_pool(str(sim_folder))], [load_pool(f"held=detect:{HERE.parent / 'src/voltpeak/examples'}")],
                     30, 2, config)
    groups = {s: {cv.group for cv in cvs} for s, cvs in plan.splits.items()}
    assert not groups["train"] & groups["val"] and not groups["train"] & groups["test"]
    assert not groups["val"] & groups["test"]
    assert all(cv.origin == "detector" for cv in plan.splits["holdout_held"])
    build(plan, tmp_path / "ds", workers=2)
    for split in ("train", "val", "test"):
        for line in (tmp_path / "ds" / f"truth_{split}.jsonl").read_text().splitlines():
            row = json.loads(line)
            assert row["split"] == split
            assert all(s in {cv.source for cv in plan.splits[split]} for s in row["sources"])


def test_dataset_loads_and_passes_a_qwen_processor(sim_folder, tmp_path):
    sys.path.insert(0, str(HERE))
    from datasets import load_dataset
    from tiny_qwen import tiny_processor

    plan = make_plan([load_pool(str(sim_folder))], [], 10, 4, BuildConfig.load(_config(tmp_path)))
    manifest = build(plan, tmp_path / "ds", workers=1)
    out = tmp_path / "ds"
    swift = load_dataset("json", data_files={s: str(out / f"{s}.jsonl") for s in ("train", "val", "test")
                                             if manifest["counts"][s]})
    parquet = load_dataset("parquet", data_files={k: str(out / v) for k, v in manifest["hf_data_files"].items()})
    assert parquet["train"].num_rows == swift["train"].num_rows == manifest["counts"]["train"]
    texts = [m["content"] for row in swift["train"] for m in row["messages"]]
    processor = tiny_processor(texts)
    for split in swift:
        truths = [json.loads(x) for x in (out / f"truth_{split}.jsonl").read_text().splitlines()]
        for row, hf_row, truth in zip(swift[split], parquet[split], truths):
            assert len(row["images"]) == 1 and row["messages"][0]["content"].count("<image>") == 1
            image = Image.open(out / row["images"][0])
            assert hf_row["images"][0].tobytes() == image.convert(hf_row["images"][0].mode).tobytes()
            prompt = row["messages"][0]["content"].replace("<image>", "")
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]},
                        {"role": "assistant", "content": [{"type": "text", "text": row["messages"][1]["content"]}]}]
            text = processor.apply_chat_template(messages, tokenize=False)
            batch = processor(text=[text], images=[image], return_tensors="np")
            t, gh, gw = batch["image_grid_thw"][0]
            # The processor keeps the image as drawn, so point_2d pixels are pixels of what the model sees.
            assert (gh * 14, gw * 14) == (image.height, image.width)
            assert (batch["input_ids"][0] == processor.image_token_id).sum() == t * gh * gw // 4
            # Every answer reads back: labels, points (to the pixel) and fractions of the truth.
            parsed = parse_answer(row["messages"][1]["content"])
            assert len(parsed) == len(truth["peaks"])
            expected = sorted((p["direction"], p["x"] * image.width, p["y"] * image.height) for p in truth["peaks"])
            got = sorted((p["direction"], p["x_px"], p["y_px"]) for p in parsed)
            for (d1, x1, y1), (d2, x2, y2) in zip(expected, got):
                # point_2d is rounded to the pixel; the truth keeps fractions to 6 decimals (≤ 1e-3 px here).
                assert d1 == d2 and abs(x1 - x2) <= 0.501 and abs(y1 - y2) <= 0.501


@pytest.mark.slow
def test_build_command_resumes_and_rejects_bad_input(sim_folder, tmp_path):
    config = _config(tmp_path)
    run = [sys.executable, "-m", "voltpeak", "build", "--pool", str(sim_folder), "--n", "8", "--seed", "1",
           "--config", str(config), "--workers", "1"]
    out = tmp_path / "ds"
    proc = subprocess.run(run + ["--out", str(out), "--shard", "1/2"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    first = {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*.done")}
    assert len(first) == 1 and not (out / "manifest.json").exists()
    proc = subprocess.run(run + ["--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    done = {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*.done")}
    assert len(done) == 2 and all(done[k] == v for k, v in first.items())  # finished units were not redone
    assert json.loads((out / "manifest.json").read_text())["counts"]["train"] >= 1
    # A different build into the same folder is refused; bad specs give one line and exit code 2.
    for extra, message in ((["--out", str(out), "--n", "9"], "different build"),
                           (["--out", str(tmp_path / "x"), "--shard", "3/2"], "--shard"),
                           (["--out", str(tmp_path / "y"), "--pool", str(tmp_path / "missing")], "no such")):
        proc = subprocess.run(run + extra, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_potential_only_labels_are_placed_on_the_curve(tmp_path):
    """Hand labels read off a plot give potentials only: the pool places each on a sweep of its direction, at the
    extremum near its potential, and its current comes from there (checked against the examples' exact truth)."""
    from voltpeak.dataset.pool import load_pool

    examples = Path(__file__).resolve().parent.parent / "src" / "voltpeak" / "examples"
    truths = [json.loads(line) for line in (examples / "truth.jsonl").read_text().splitlines()]
    hand = [{"source": str(examples / t["source"]),
             "peaks": [{"potential": round(p["potential"], 3) + 0.004, "direction": p["direction"], "cycle": 1}
                       for p in t["peaks"]]} for t in truths]
    (tmp_path / "hand.jsonl").write_text("".join(json.dumps(h) + "\n" for h in hand))
    pool = load_pool(str(tmp_path / "hand.jsonl"))
    for cv, t in zip(pool.cvs, truths):
        v = cv.voltammogram
        span = np.ptp(v.current)
        for placed, exact in zip(cv.peaks, t["peaks"]):
            assert placed.direction == exact["direction"] and placed.cycle == 1
            assert abs(placed.potential - exact["potential"]) <= 0.015  # offset + rounding + the 10 mV window
            assert abs(placed.current - exact["current"]) <= 0.1 * span  # on its tip, not on the other branch
            assert v.current[placed.index] == placed.current
    bad = [{"source": str(examples / truths[0]["source"]), "peaks": [{"potential": 5.0, "direction": "anodic"}]}]
    (tmp_path / "bad.jsonl").write_text(json.dumps(bad[0]) + "\n")
    from voltpeak.errors import InputError

    with pytest.raises(InputError, match="lies on no anodic-going sweep"):
        load_pool(str(tmp_path / "bad.jsonl"))


def test_a_cv_labelled_on_one_cycle_is_drawn_at_that_cycle(pool):
    """A hand labeller marks one cycle of a multi-cycle CV; its other cycles are unlabelled, not free of peaks, so
    a graph must draw a labelled cycle (before: half the graphs of two-cycle real CVs showed cycle 2 with no truth
    peaks). A CV labelled on every cycle is still drawn at any of them."""
    from voltpeak.dataset.compose import _one_cycle

    full = next(cv for cv in pool if {p.cycle for p in cv.peaks} == {1, 2})
    second_only = replace(full, peaks=[p for p in full.peaks if p.cycle == 2], origin="labelled", faint=[])
    rng = np.random.default_rng(0)
    drawn = [_one_cycle(rng, second_only) for _ in range(40)]
    assert {cycle for _, _, cycle in drawn} == {2}
    assert all(len(peaks) == sum(p.cycle == 2 for p in full.peaks) for _, peaks, _ in drawn)
    assert {cycle for _, _, cycle in (_one_cycle(rng, full) for _ in range(40))} == {1, 2}


def test_a_graph_marks_the_peaks_visible_on_its_own_current_axis(pool):
    """A peak is marked when its prominence reaches 1 % of the graph's plotted current range: a small curve beside
    a big one loses its faint peaks, and a faint peak of the whole record is marked where it is plain."""
    fractions = (0.002, 0.006, 0.03, 0.3)  # of each CV's own current range, taken in turn
    rich = [replace(cv, peaks=[replace(p, prominence=fractions[k % 4] * cv.size) for k, p in enumerate(cv.peaks)],
                    faint=[replace(p, prominence=0.5 * cv.size) for p in cv.peaks[:1]]) for cv in pool]
    by_source = {cv.source: cv for cv in rich}
    dropped = added = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        graph = compose(rng, rich, sample_style(rng, "classic"), curve_weights=(0, 0, 1))
        span = np.ptp(np.concatenate([c.current for c in graph.curves])) / abs(graph.current_factor)
        for k, source in enumerate(graph.sources):
            cv = by_source[source]
            cycle = {p.cycle for p in graph.peaks if p.curve == k}
            if not cycle:
                continue  # nothing marked: which cycle was drawn is not recorded
            marked = sorted(round(p.potential_V, 6) for p in graph.peaks if p.curve == k)
            candidates = [p for p in cv.peaks + cv.faint if p.cycle in cycle]
            expected = sorted(round(p.potential, 6) for p in candidates if p.prominence >= 0.01 * span)
            assert marked == expected, (seed, source)
            dropped += len(candidates) - len(expected)
            added += sum(p.cycle in cycle for p in cv.faint)
    assert dropped >= 10 and added >= 10


def test_a_faint_peak_of_the_record_is_marked_in_the_cycle_it_is_plain_in():
    """A CV that starts beyond its formal potentials opens with a Cottrell spike 30 times its peaks: on the whole
    record the anodic peak near -0.85 V of cycle 2 is under 1 % of the range (faint), on a graph of cycle 2 it is
    7 % of the plotted range and is marked."""
    from voltpeak.simulate import Conditions, RedoxCouple, simulate_cv

    couples = [RedoxCouple(-0.8732, c_ox_mM=0.668, alpha=0.565, d_ox_cm2_s=4.68e-6, d_red_cm2_s=6.75e-6,
                           mechanism="EE", e0_2_V=-1.0327, k0_2_cm_s=0.0239, alpha_2=0.404, d_int_cm2_s=3.23e-6),
               RedoxCouple(-0.6485, c_ox_mM=2.056, alpha=0.380, d_ox_cm2_s=3.13e-6, d_red_cm2_s=1.93e-5),
               RedoxCouple(-0.3233, c_ox_mM=0.0, c_red_mM=0.705, alpha=0.650, d_ox_cm2_s=5.57e-6,
                           d_red_cm2_s=4.95e-6)]
    conditions = Conditions(start_V=-1.0702, vertices_V=(0.4555,), cycles=2, step_V=0.0005, scan_rate_V_s=0.0206,
                            cdl_F=1.1e-6, rc_s=1.1e-4)
    sim = simulate_cv(couples, conditions, np.random.default_rng(0))

    def near(peaks, cycle):
        return [p for p in peaks if p.direction == "anodic" and p.cycle == cycle and abs(p.potential + 0.85) < 0.03]

    assert not near(sim.truth, 2) and near(sim.faint, 2)
    cv = LabelledCV(sim.noisy, sim.truth, "s.csv", "s", "simulated", faint=sim.faint)
    cycles = set()
    for seed in range(12):
        rng = np.random.default_rng(seed)
        graph = compose(rng, [cv], sample_style(rng, "classic"))
        cycle = graph.peaks[0].cycle
        cycles.add(cycle)
        marked = [p for p in graph.peaks if p.direction == "anodic" and abs(p.potential_V + 0.85) < 0.03]
        assert len(marked) == (cycle == 2), (seed, cycle)
    assert cycles == {1, 2}


def test_the_hand_labels_split_into_two_fixed_halves_by_system(shared_data):
    """The detector learns from plots of one half of the hand-labelled systems and is measured on the other: the
    halves are disjoint and cover every labelled CV; no echemdb paper and no Gamry system (a compound at several
    scan rates) has CVs in both."""
    from voltpeak.dataset.pool import hand_half, hand_label_lines

    labels = HERE.parent / "src" / "voltpeak" / "examples" / "labels"
    every = hand_label_lines(labels, shared_data)
    halves = {h: hand_label_lines(labels, shared_data, half=h) for h in ("train", "test")}
    sources = {h: {x["source"] for x in lines} for h, lines in halves.items()}
    assert not sources["train"] & sources["test"]
    assert sources["train"] | sources["test"] == {x["source"] for x in every}
    assert all(len(s) >= 0.3 * len(every) for s in sources.values())
    papers = {h: {x["group"] for x in lines if "/echemdb/" in x["source"]} for h, lines in halves.items()}
    assert papers["train"] and papers["test"] and not papers["train"] & papers["test"]
    for system in ("20MM_2,7-AQDS_1M_KOH", "10mM_F4CA_pH_14_1M_KOH", "10mM_F2CA_1M_KOH_pH_14"):
        files = [Path(x["source"]).name for x in every if Path(x["source"]).name.startswith(system)]
        assert len(files) >= 3 and len({hand_half(f"gamry/{f}") for f in files}) == 1
    with pytest.raises(ValueError, match="half must be train or test"):
        hand_label_lines(labels, shared_data, half="val")


def test_a_scan_rate_series_of_ten_curves_in_a_colormap(sim_folder, tmp_path):
    """Overlays as papers publish them (configs/build-overlays.json): up to 12 curves, series re-simulated at as
    many scan rates (peak currents growing with the rate), drawn in a colormap with one colour per curve; each truth
    peak names its curve."""
    from voltpeak.dataset.compose import compose
    from voltpeak.render.figure import cycle

    colours = cycle("cmap:viridis", 10)
    assert len(set(colours)) == 10 and colours[0] == "#482475"
    pool = load_pool(str(sim_folder)).cvs
    style = sample_style(np.random.default_rng(0), "classic")
    seen = 0
    for seed in range(30):
        graph = compose(np.random.default_rng(seed), pool, style, max_curves=12, curve_weights=(0,) * 9 + (1, 1, 1),
                        series_fraction=1.0)
        if not graph.series:
            continue
        seen += 1
        assert len(graph.curves) >= 10 and {p.curve for p in graph.peaks} <= set(range(len(graph.curves)))
        rates = [float(c.label.split()[0]) * (1e-3 if "mV/s" in c.label else 1.0) for c in graph.curves]
        assert all(b > a for a, b in zip(rates, rates[1:])) and rates[-1] >= 10 * rates[0]
    assert seen >= 3
    config = BuildConfig.load(Path(__file__).resolve().parent.parent / "configs" / "build-overlays.json")
    assert config.max_curves == 12
    with pytest.raises(InputError, match="max_curves must be 1–12"):
        BuildConfig(max_curves=13, curve_weights=(1,) * 13).validate()
