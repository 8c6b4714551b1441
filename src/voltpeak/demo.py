"""``voltpeak demo``: the whole loop on embedded defaults, in a few minutes on a laptop CPU.

1. the classical detector on the bundled simulated CV files, scored against their exact truth (data space);
2. simulate a pool of labelled CVs, and a second pool of other CVs for a holdout;
3. build a small dataset of plot images from them (answers, truth, splits);
4. (``--train-minutes M``) train a small heatmap detector for about M minutes and draw its loss curve;
5. predict with the shipped default model on the test split and the holdout (and, given ``--real DIR``, a folder
   of real CV files, on plots of those CVs: truth from the bundled hand labels, ``examples/labels``, for the files
   of the project's collection found there, else the classical detector's proposals; then the classical detector
   on the same hand-labelled CVs), evaluate everything with the contract's matcher;
6. write a report folder: ``index.html`` (metrics table, detector vs model, the worst samples drawn with truth and
   prediction), the predictions and metrics as JSON, and print the ``voltpeak serve`` command that opens them.
"""

from __future__ import annotations

import html
import json
import shutil
import sys
import time
from importlib import resources
from pathlib import Path

from voltpeak.errors import InputError
from voltpeak.rundir import read_metrics

COLOURS = {"tp": (26, 138, 58), "fp": (210, 105, 30), "fn": (194, 24, 91)}
WORST = 8  # samples drawn per set in the report


def examples_dir() -> Path:
    """The folder of bundled example CVs and their truth.jsonl."""
    return Path(str(resources.files("voltpeak") / "examples"))


def hand_labels_dir() -> Path:
    """The bundled hand labels of real CVs (``*.jsonl``, sources relative to the folder of the project's collection
    of real CV files, which is kept outside the package)."""
    return examples_dir() / "labels"


def _write_jsonl(path: Path, lines: list[dict]):
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")


def _detect_all(paths: list[str], out_path: Path, cycle: int | None = None) -> list[dict]:
    from voltpeak.detect import detect_line

    lines = [detect_line(p, cycle) for p in paths]
    _write_jsonl(out_path, lines)
    return lines


def _say(step: str, text: str):
    print(f"{step} {text}", flush=True)


def _build(out: Path, pools: list[str], holdouts: list[str], n: int, seed: int, splits, **config) -> Path:
    from voltpeak.dataset import BuildConfig, build, load_pool, make_plan

    plan = make_plan([load_pool(p) for p in pools], [load_pool(p) for p in holdouts], n, seed,
                     BuildConfig(splits=splits, unit=100, **config))
    build(plan, out, workers=2)
    return out


def _predict_split(model, folder: Path, split: str, out: Path) -> Path:
    """Predict the images of a built split into ``out`` (contract lines, sources as in the truth)."""
    from voltpeak.predict import image_inputs, predict

    items = image_inputs([str(folder / f"{split}.jsonl")])
    _write_jsonl(out, list(predict(model, items, 32)))
    return out


def _train(dataset: Path, out: Path, minutes: float) -> Path:
    """A small heatmap detector trained for ``minutes`` of wall time (the loop's own budget: it stops in time to
    validate and save, its schedule spread over the budget)."""
    from voltpeak.train import TrainConfig, train

    config = TrainConfig(dataset=str(dataset), out=str(out), steps=1_000_000, minutes=minutes, batch_size=16,
                         lr=0.002, warmup_steps=20, val_every=100, val_samples=32, save_every=100, threads=2, model={
                             "kind": "heatmap", "image_size": 256, "channels": [16, 24, 32, 48, 64], "stem": 4})
    return train(config, log=lambda s: print("    " + s, flush=True))


def _curve(run: Path, png: Path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = read_metrics(run)
    fig = Figure(figsize=(7, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], color="#1f77b4")
    ax.set(xlabel="step", ylabel="loss", yscale="log", title="training loss")
    val = [r for r in rows if "val_f1" in r]
    ax = fig.add_subplot(1, 2, 2)
    ax.plot([r["step"] for r in val], [r["val_f1"] for r in val], "o-", color="#d62728")
    ax.set(xlabel="step", ylabel="F1", ylim=(0, 1), title="validation F1")
    fig.tight_layout()
    fig.savefig(png)


def _draw_worst(result: dict, truth: Path, pred: Path, images: Path, out: Path, prefix: str) -> list[dict]:
    """The worst samples of an evaluation drawn with truth (rings) and prediction (dots), coloured TP/FP/FN."""
    from PIL import Image, ImageDraw

    truths = {o["source"]: o for o in map(json.loads, truth.read_text().splitlines())}
    preds = {o["source"]: o for o in map(json.loads, pred.read_text().splitlines())}
    worst = sorted(result["per_source"], key=lambda r: -(len(r["fp"]) + len(r["fn"])))[:WORST]
    drawn = []
    for k, r in enumerate(w for w in worst if w["fp"] or w["fn"]):
        src = r["source"]
        with Image.open(images / src) as im:
            im = im.convert("RGB")
        draw, (w, h) = ImageDraw.Draw(im), im.size
        t_peaks, p_peaks = truths[src]["peaks"], (preds.get(r["prediction"]) or {}).get("peaks") or []
        matched_t, matched_p = {j for _, j in r["tp"]}, {i for i, _ in r["tp"]}
        for j, p in enumerate(t_peaks):
            x, y = p["x"] * w, p["y"] * h
            draw.ellipse([x - 7, y - 7, x + 7, y + 7], outline=COLOURS["tp" if j in matched_t else "fn"], width=2)
        for i, p in enumerate(p_peaks):
            x, y = p["x"] * w, p["y"] * h
            draw.ellipse([x - 3.5, y - 3.5, x + 3.5, y + 3.5], fill=COLOURS["tp" if i in matched_p else "fp"])
        name = f"{prefix}-worst-{k}.png"
        im.save(out / name)
        drawn.append({"image": name, "source": src, "tp": len(r["tp"]), "fp": len(r["fp"]), "fn": len(r["fn"])})
    return drawn


def _html(rows: list[dict], comparison: list[dict], worst: dict[str, list[dict]], curve: str | None,
          serve: str) -> str:
    e = html.escape
    head = ("<tr><th>model</th><th>set</th><th>space</th><th>sources</th><th>precision</th><th>recall</th>"
            "<th>F1</th><th>sample accuracy</th><th>median localisation error</th></tr>")
    body = "".join(
        f"<tr><td>{e(r['model'])}</td><td>{e(r['set'])}</td><td>{e(r['space'])}</td><td>{r['sources']}</td>"
        f"<td>{r['precision']:.3f}</td><td>{r['recall']:.3f}</td><td>{r['f1']:.3f}</td>"
        f"<td>{r['sample_accuracy']:.3f}</td><td>{e(r['error'])}</td></tr>" for r in rows)
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'><title>voltpeak demo report</title>",
             "<link rel='icon' href='data:,'><style>body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222}",
             "table{border-collapse:collapse;margin:8px 0 18px}td,th{border-bottom:1px solid #ddd;padding:3px 10px;",
             "text-align:left}.grid{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;max-width:420px}",
             "figure img{max-width:420px;border:1px solid #ccc}.tp{color:#1a8a3a}.fp{color:#d2691e}",
             ".fn{color:#c2185b}code{background:#f3f3f3;padding:2px 4px}</style></head><body>",
             "<h1>voltpeak demo report</h1>",
             "<p>Peaks found by the classical detector (in the data of CV files) and by the shipped image model (in "
             "plots), each scored with the contract's Hungarian matching: |ΔE| ≤ max(20 mV, 2 % of the window) in data "
             "space, distance ≤ 0.02 of the image in image space.</p>",
             f"<h2>Metrics</h2><table>{head}{body}</table>"]
    if comparison:
        parts.append("<h2>Detector vs model on the real CVs</h2><table><tr><th>method</th><th>what it reads</th>"
                     "<th>truth</th><th>P</th><th>R</th><th>F1</th></tr>" + "".join(
                         f"<tr><td>{e(c['method'])}</td><td>{e(c['reads'])}</td><td>{e(c['truth'])}</td>"
                         f"<td>{c['precision']:.3f}</td><td>{c['recall']:.3f}</td><td>{c['f1']:.3f}</td></tr>"
                         for c in comparison) + "</table>")
    if curve:
        parts.append(f"<h2>Short training run</h2><img src='{e(curve)}' alt='training curves'>")
    parts.append("<h2>Worst samples</h2><p><span class='tp'>● true positive</span> · <span class='fp'>● false "
                 "positive (prediction)</span> · <span class='fn'>○ false negative (truth)</span>; rings are the "
                 "truth, dots the prediction. An orange dot inside a magenta ring is a peak found at the right "
                 "place with the wrong direction (anodic for cathodic).</p>")
    for name, drawn in worst.items():
        parts.append(f"<h3>{e(name)}</h3><div class='grid'>" + "".join(
            f"<figure><img src='{e(d['image'])}' alt='{e(d['source'])}'><figcaption>{e(d['source'])}: TP {d['tp']}, "
            f"FP {d['fp']}, FN {d['fn']}</figcaption></figure>" for d in drawn) + "</div>")
    parts.append(f"<h2>Look closer</h2><p>Every sample, filterable, in the web app: <code>{e(serve)}</code></p>"
                 "</body></html>")
    return "".join(parts)


def _row(model: str, set_name: str, space: str, metrics: dict) -> dict:
    err = metrics.get("median_distance") if space == "image" else metrics.get("median_abs_dE_mV")
    text = "–" if err is None else (f"{err:.4f} of the image" if space == "image" else f"{err:.1f} mV")
    return {"model": model, "set": set_name, "space": space, "sources": metrics["sources"],
            "precision": metrics["precision"], "recall": metrics["recall"], "f1": metrics["f1"],
            "sample_accuracy": metrics["sample_accuracy"], "error": text}


def run_demo(out: str, force: bool = False, train_minutes: float = 0.0, n: int = 240, seed: int = 7,
             real: str | None = None) -> int:
    """The demo into the report folder ``out``; ``real``: a folder of real CV files to plot and score too (none:
    those rows are skipped). Raises InputError for a non-empty ``out`` without ``force`` or a missing ``real``."""
    from voltpeak.evaluate.files import evaluate_files
    from voltpeak.models import SHIPPED, load_model, model_dir
    from voltpeak.simulate.batch import simulate_to_folder
    from voltpeak.simulate.config import SimulationConfig

    if real is not None and not Path(real).is_dir():
        raise InputError(f"--real {real}: no such folder (give a folder of real CV files)")
    out_dir = Path(out)
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise InputError(f"{out} exists and is not empty; use --force to replace it")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows, worst, comparison = [], {}, []

    ex = examples_dir()
    files = sorted(str(p) for p in ex.iterdir() if p.name.startswith("cv_"))
    _say("1/6", f"the classical detector on {len(files)} bundled simulated CV files, against their exact truth")
    _detect_all(files, out_dir / "examples_detect.jsonl")
    result = evaluate_files(ex / "truth.jsonl", out_dir / "examples_detect.jsonl")
    rows.append(_row("classical detector", "bundled CV files", "data", result["metrics"]))

    _say("2/6", "simulating 160 labelled CVs for the dataset and 60 other CVs for its holdout")
    simulate_to_folder(160, out_dir / "pool", seed, SimulationConfig(), workers=2)
    simulate_to_folder(60, out_dir / "pool-holdout", seed + 1000, SimulationConfig(), workers=2)

    train_n = 1400 if train_minutes else 0
    _say("3/6", f"building {n + train_n} plot images of them (+{n // 2} holdout), answers and truth")
    splits = (train_n, 40 if train_n else 0, n)
    dataset = _build(out_dir / "dataset", [f"sim={out_dir / 'pool'}"], [f"other={out_dir / 'pool-holdout'}"],
                     n + train_n + splits[1], seed, splits, holdout_n=n // 2)

    curve = None
    if train_minutes:
        _say("4/6", f"training a small heatmap detector for about {train_minutes:g} min")
        run = _train(dataset, out_dir / "run", train_minutes)
        _curve(run, out_dir / "training.png")
        curve = "training.png"
    else:
        _say("4/6", "no training (voltpeak demo --train-minutes 3 trains a small detector first)")

    if not (SHIPPED / "default").is_file():
        raise InputError("no shipped model in this installation (src/voltpeak/models/shipped)")
    name = (SHIPPED / "default").read_text().strip()
    model = load_model(model_dir("default"))
    models = [(f"shipped {name}", model)]
    if train_minutes:
        from voltpeak.models import model_dir as find

        models.append(("demo-trained", load_model(find(str(out_dir / "run")))))
    _say("5/6", f"predicting with {', '.join(m for m, _ in models)} and evaluating")
    if real is None:
        _say("   ", "no --real folder given: real CVs skipped (voltpeak demo --real DIR adds a folder of CV files)")
    sets = [("test", "test"), ("holdout (other CVs)", "holdout_other")]
    for label, model_ in models:
        for set_name, split in sets:
            pred = _predict_split(model_, dataset, split, out_dir / f"pred_{label.split()[-1]}_{split}.jsonl")
            result = evaluate_files(dataset / f"truth_{split}.jsonl", pred, "image")
            rows.append(_row(label, set_name, "image", result["metrics"]))
            if label == models[0][0]:
                worst[f"{label}: {set_name}"] = _draw_worst(result, dataset / f"truth_{split}.jsonl", pred, dataset,
                                                           out_dir, split)
    if real is not None:
        comparison = _real(Path(real), out_dir, model, models[0][0], rows, worst, seed)

    metrics = out_dir / "metrics.json"
    metrics.write_text(json.dumps({"rows": rows, "detector_vs_model": comparison}, indent=1), encoding="utf-8")
    test_pred = out_dir / f"pred_{name}_test.jsonl"
    serve = (f"voltpeak serve --truth {dataset / 'truth_test.jsonl'} --pred {test_pred} --data {out_dir / 'pool'}"
             + (f" --runs {out_dir}" if train_minutes else ""))
    (out_dir / "index.html").write_text(_html(rows, comparison, worst, curve, serve), encoding="utf-8")
    _say("6/6", f"report written: {out_dir / 'index.html'}")
    print(f"\n{'model':<24} {'set':<28} {'space':<6} {'P':>6} {'R':>6} {'F1':>6} {'sample acc.':>11}")
    for r in rows:
        print(f"{r['model']:<24} {r['set']:<28} {r['space']:<6} {r['precision']:6.3f} {r['recall']:6.3f} "
              f"{r['f1']:6.3f} {r['sample_accuracy']:11.3f}")
    print(f"\ndone in {time.perf_counter() - started:.0f} s. Open the report: {out_dir / 'index.html'}")
    print(f"look at every sample in the web app:\n  {serve}")
    print("your own files: voltpeak detect YOUR_FILE.DTA --cycle 1   (CSV/TXT, echemdb, Gamry .DTA, BioLogic)")
    sys.stdout.flush()
    return 0


def _real(real: Path, out_dir: Path, model, label: str, rows: list, worst: dict, seed: int) -> list[dict]:
    """Plots of the real CVs in ``real`` (the bundled hand labels for the files of the project's collection found
    there, else the detector's proposals on every CV file): the model on the plots, the classical detector on the
    same hand-labelled CVs' data."""
    from voltpeak.dataset.pool import hand_label_lines
    from voltpeak.evaluate.files import evaluate_files

    labelled = [x for x in hand_label_lines(hand_labels_dir(), real) if Path(x["source"]).is_file()]
    hand = bool(labelled)
    truth = out_dir / "real_truth.jsonl"
    if hand:
        _write_jsonl(truth, labelled)
        pool = f"real={truth}"
        what = "hand labels (voltpeak/examples/labels)"
    else:
        pool = f"real=detect:{real}"
        what = "the classical detector's proposals"
    _say("   ", f"real CVs: plots of the CVs in {real}, truth = {what}")
    folder = _build(out_dir / "real", [pool], [], 120, seed, (0, 0, 1))
    pred = _predict_split(model, folder, "test", out_dir / "pred_real_test.jsonl")
    result = evaluate_files(folder / "truth_test.jsonl", pred, "image")
    rows.append(_row(label, "real CVs (plots)", "image", result["metrics"]))
    worst[f"{label}: real CVs"] = _draw_worst(result, folder / "truth_test.jsonl", pred, folder, out_dir, "real")
    comparison = [{"method": label, "reads": "plots of the CVs (120 graphs of 1–4 curves)", "truth": what,
                   **{k: result["metrics"][k] for k in ("precision", "recall", "f1")}}]
    if hand:  # the detector on the same CVs, cycle 1, in data space
        sources = [json.loads(x) for x in truth.read_text().splitlines()]
        _detect_all([s["source"] for s in sources], out_dir / "real_detect.jsonl", cycle=1)
        scored = evaluate_files(truth, out_dir / "real_detect.jsonl")
        rows.append(_row("classical detector", "real CVs (files, cycle 1)", "data", scored["metrics"]))
        comparison.append({"method": "classical detector", "reads": "the CV files (cycle 1)", "truth": what,
                           **{k: scored["metrics"][k] for k in ("precision", "recall", "f1")}})
    return comparison
