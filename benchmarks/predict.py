"""Benchmark of the image models: images/s of ``voltpeak predict``, training samples/s, and accuracy.

    python benchmarks/predict.py [--model heatmap --model mllm-small] [--dataset DIR] [--holdout DIR] [--n 256]

For each model (shipped names, model folders or run directories; default: every shipped model): prediction
images/s on this machine (batch 32), training samples/s of the model (a few steps of its own loss, batch 16), and
image-space P/R/F1, sample accuracy and median localisation error on the test split of ``--dataset`` and of each
``--holdout`` (folders from ``voltpeak build``; without ``--dataset`` a small one is built from fresh simulations).
The anchor row is the figure issue 8 quotes for a 0.85 M-parameter heatmap U-Net (31 images/s, F1 0.962).
``--slices`` adds P/R/F1 per slice of each set: 1, 2–4 or 5–12 curves, IUPAC vs US axes, sharp (adsorbed) vs broad
(diffusion) and noisy (SNR < 50) vs clean for simulated sources, real. ``--axes N`` adds, per model, the axis
reader's per-slice table on N foreign plots (matplotlib style sheets and gnuplot; ``benchmarks/axes.py``).
Leave-one-program-out (detectors trained without one plotting program, scored on it) is ``benchmarks/programs.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from common import curves_slice, record  # noqa: E402

from voltpeak.models import (  # noqa: E402
    SHIPPED,
    load_model,  # noqa: E402
    model_dir,
)
from voltpeak.train import collator_for, evaluate_model  # noqa: E402
from voltpeak.train.data import load_split  # noqa: E402


def small_dataset(folder: Path, n: int) -> Path:
    from voltpeak.dataset import BuildConfig, build, load_pool, make_plan
    from voltpeak.simulate.batch import simulate_to_folder
    from voltpeak.simulate.config import SimulationConfig

    simulate_to_folder(200, folder / "pool", 99, SimulationConfig())
    build(make_plan([load_pool(str(folder / "pool"))], [], n * 10, 99, BuildConfig()), folder / "ds")
    return folder / "ds"


def sample_slices(folder: Path, n: int) -> list[list[str]]:
    """The slices each of the first ``n`` test samples belongs to: the number of curves, IUPAC/US axes, and for
    simulated sources sharp (a surface-confined couple) / broad and noisy (SNR < 50) / clean; real CVs are "real"."""
    import json

    truths = [json.loads(line) for line in (folder / "truth_test.jsonl").read_text().splitlines()[:n]]
    manifest = json.loads((folder / "manifest.json").read_text())
    params = {}
    for pool in manifest["pools"]:
        spec = pool["spec"].partition("=")[2] or pool["spec"]
        truth = Path(spec) / "truth.jsonl" if Path(spec).is_dir() else Path(spec)
        if truth.is_file():
            for line in truth.read_text().splitlines():
                rec = json.loads(line)
                params[Path(rec["source"]).name] = (rec.get("params"), rec.get("peaks") or [])
    out = []
    for t in truths:
        keys = [curves_slice(t.get("curves", 1)),
                "US axes" if (t.get("style") or {}).get("us_convention") else "IUPAC axes"]
        found = [params.get(Path(src).name) for src in t.get("sources", [])]
        if found and all(f and f[0] for f in found):
            keys.append("sharp (adsorbed)" if any(c.get("mechanism") == "ads" for f in found
                                                  for c in f[0]["couples"]) else "broad (diffusion)")
            snr = [max((abs(p.get("current") or 0) for p in f[1]), default=0) / f[0]["conditions"]["noise_A"]
                   if f[0]["conditions"].get("noise_A") else float("inf") for f in found]
            keys.append("noisy (SNR < 50)" if min(snr) < 50 else "clean")
            keys.append("simulated")
        else:
            keys.append("real")
        out.append(keys)
    return out


def slice_rows(model, examples, keys: list[list[str]], batch_size: int) -> list[tuple[str, dict]]:
    """P/R/F1 and median distance of each slice (samples predicted once)."""
    from voltpeak.evaluate import match_peaks, summarise
    from voltpeak.peak import Peak
    from voltpeak.predict import predict

    lines = list(predict(model, [(ex.image, Path(ex.image)) for ex in examples], batch_size))
    matchings = [match_peaks([Peak.from_record(p) for p in line["peaks"]],
                             [Peak(p["direction"], x=p["x"], y=p["y"]) for p in ex.peaks], space="image")
                 for line, ex in zip(lines, examples)]
    names = sorted({k for ks in keys for k in ks})
    return [(name, {**summarise([m for m, ks in zip(matchings, keys) if name in ks], space="image"),
                    "samples": sum(name in ks for ks in keys)}) for name in names]


def training_rate(model, examples, batch_size: int = 16, steps: int = 3) -> float:
    """Samples/s of forward + backward + AdamW steps on the model's own training loss."""
    collator = collator_for(model)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)
    batches = [collator([examples[(k * batch_size + i) % len(examples)] for i in range(batch_size)])
               for k in range(steps)]
    t = time.perf_counter()
    for batch in batches:
        (model.batch_loss(batch, "cpu") / max(1, model.batch_count(batch))).backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    return steps * batch_size / (time.perf_counter() - t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="repeatable; default: every shipped model")
    parser.add_argument("--dataset", help="a built dataset folder (its test split)")
    parser.add_argument("--holdout", action="append", default=[], help="built folders of unseen sources/styles")
    parser.add_argument("--n", type=int, default=256, help="images per set")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--slices", action="store_true", help="also a table per slice of each set")
    parser.add_argument("--axes", type=int, default=0, metavar="N",
                        help="also the axis reader's per-slice table on N foreign plots")
    args = parser.parse_args()
    names = args.model or (sorted(p.name for p in SHIPPED.iterdir() if p.is_dir()) if SHIPPED.is_dir() else [])
    if not names:
        print("no model to benchmark: none is shipped; pass --model DIR", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(args.dataset) if args.dataset else small_dataset(Path(tmp), args.n)
        sets = [("test", dataset)] + [(Path(h).name, Path(h)) for h in args.holdout]
        print("| model | images/s | training samples/s | set | P / R / F1 | sample acc. | median distance |")
        print("|---|---|---|---|---|---|---|")
        print("| anchor (issue 8: 0.85 M U-Net, 256 px) | 31 | – | hidden styles | 0.968 / 0.956 / 0.962 | 0.847 | – |")
        for name in names:
            model = load_model(model_dir(name))
            speed = None
            for set_name, folder in sets:
                examples = load_split(folder, "test", args.n)
                t = time.perf_counter()
                m = evaluate_model(model, examples, args.batch_size)
                speed = speed or m["samples"] / (time.perf_counter() - t)
                train_speed = training_rate(model, load_split(dataset, "train", 64)) if set_name == "test" else None
                record("predict", f"{name}: F1 / sample accuracy, {set_name} ({m['samples']} plots)",
                       f"{m['f1']:.3f} / {m['sample_accuracy']:.3f}", "anchor 0.962 / 0.847 (hidden styles)")
                print(f"| {name} | {speed:.1f} | {f'{train_speed:.1f}' if train_speed else ''} | {set_name} "
                      f"({m['samples']}) | {m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f} | "
                      f"{m['sample_accuracy']:.3f} | {m['median_distance'] or float('nan'):.4f} |")
            record("predict", f"{name}: images/s, 2 cores", f"{speed:.1f}", "anchor 31")
        if args.slices:
            print("\n| model | set | slice | samples | P / R / F1 | sample acc. | median distance |")
            print("|---|---|---|---|---|---|---|")
            for name in names:
                model = load_model(model_dir(name))
                for set_name, folder in sets:
                    examples = load_split(folder, "test", args.n)
                    for slice_name, m in slice_rows(model, examples, sample_slices(folder, len(examples)),
                                                    args.batch_size):
                        print(f"| {name} | {set_name} | {slice_name} | {m['samples']} | {m['precision']:.3f} / "
                              f"{m['recall']:.3f} / {m['f1']:.3f} | {m['sample_accuracy']:.3f} | "
                              f"{m['median_distance'] or float('nan'):.4f} |")
    if args.axes:
        import axes

        for name in names:
            print(f"\n### axes read, {name}: {args.axes} foreign plots\n")
            axes.table(*axes.run(args.axes, name, 4), name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
