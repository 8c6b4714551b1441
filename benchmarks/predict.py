"""Benchmark of the image models: images/s of ``voltpeak predict``, training samples/s, and accuracy.

    python benchmarks/predict.py [--model heatmap --model mllm-small] [--dataset DIR] [--holdout DIR] [--n 256]

For each model (shipped names, model folders or run directories; default: every shipped model): prediction
images/s on this machine (batch 32), training samples/s of the model (a few steps of its own loss, batch 16), and
image-space P/R/F1, sample accuracy and median localisation error on the test split of ``--dataset`` and of each
``--holdout`` (folders from ``voltpeak build``; without ``--dataset`` a small one is built from fresh simulations).
The anchor row is the figure issue 8 quotes for a 0.85 M-parameter heatmap U-Net (31 images/s, F1 0.962).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import torch  # noqa: E402

from voltpeak.models import load_model  # noqa: E402
from voltpeak.predict import SHIPPED, model_dir  # noqa: E402
from voltpeak.train import batch_count, batch_loss, collator_for, evaluate_model  # noqa: E402
from voltpeak.train.data import load_split  # noqa: E402


def small_dataset(folder: Path, n: int) -> Path:
    from voltpeak.dataset import BuildConfig, build, load_pool, make_plan
    from voltpeak.simulate.batch import simulate_to_folder
    from voltpeak.simulate.config import SimulationConfig

    simulate_to_folder(200, folder / "pool", 99, SimulationConfig())
    build(make_plan([load_pool(str(folder / "pool"))], [], n * 10, 99, BuildConfig()), folder / "ds")
    return folder / "ds"


def training_rate(model, examples, batch_size: int = 16, steps: int = 3) -> float:
    """Samples/s of forward + backward + AdamW steps on the model's own training loss."""
    collator = collator_for(model)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)
    batches = [collator([examples[(k * batch_size + i) % len(examples)] for i in range(batch_size)])
               for k in range(steps)]
    t = time.perf_counter()
    for batch in batches:
        (batch_loss(model, batch, "cpu") / max(1, batch_count(batch))).backward()
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
                print(f"| {name} | {speed:.1f} | {f'{train_speed:.1f}' if train_speed else ''} | {set_name} "
                      f"({m['samples']}) | {m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f} | "
                      f"{m['sample_accuracy']:.3f} | {m['median_distance'] or float('nan'):.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
