"""Benchmark of a trained model: images/s of ``voltpeak predict`` and training samples/s, and its accuracy.

    python benchmarks/predict.py [--model default] [--dataset DIR] [--split test] [--n 64]

Rows: prediction images/s on this machine (batched greedy generation), training samples/s of the model's own
config (a few steps), and image-space P/R/F1 and sample accuracy on ``--split`` of ``--dataset`` (a folder from
``voltpeak build``; without one, a small dataset is built from fresh simulations).
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

from voltpeak.models.mllm import MLLM  # noqa: E402
from voltpeak.predict import model_dir  # noqa: E402
from voltpeak.train import evaluate_model  # noqa: E402
from voltpeak.train.data import Collator, load_split  # noqa: E402


def small_dataset(folder: Path, n: int) -> Path:
    from voltpeak.dataset import BuildConfig, build, load_pool, make_plan
    from voltpeak.simulate.batch import simulate_to_folder
    from voltpeak.simulate.config import SimulationConfig

    simulate_to_folder(200, folder / "pool", 99, SimulationConfig())
    build(make_plan([load_pool(str(folder / "pool"))], [], n * 10, 99, BuildConfig()), folder / "ds")
    return folder / "ds"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--dataset", help="a built dataset folder")
    parser.add_argument("--split", default="test")
    parser.add_argument("--n", type=int, default=64, help="images to predict")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    model = MLLM.from_pretrained(model_dir(args.model))
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(args.dataset) if args.dataset else small_dataset(Path(tmp), args.n)
        t = time.perf_counter()
        m = evaluate_model(model, load_split(dataset, args.split, args.n), args.batch_size)
        rate = m["samples"] / (time.perf_counter() - t)
        print("| measurement | value |")
        print("|---|---|")
        print(f"| predict, {m['samples']} images, batch {args.batch_size} | {rate:.1f} images/s |")
        print(f"| image space on {args.split} ({m['samples']} images): P / R / F1, sample accuracy | "
              f"{m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f}, {m['sample_accuracy']:.3f} "
              f"({m['parse_errors']} unreadable answers) |")
        examples = load_split(dataset, "train", 64)
        collator = Collator.of(model)
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
        batch_size, steps = 16, 3
        t = time.perf_counter()
        for k in range(steps):
            batch = collator([examples[(k * batch_size + i) % len(examples)] for i in range(batch_size)])
            _, loss, count = model(batch["pixels"], batch["input_ids"], batch["attention_mask"], batch["labels"])
            (loss / count).backward()
            optimizer.step()
            optimizer.zero_grad()
        print(f"| training, batch {batch_size} | {steps * batch_size / (time.perf_counter() - t):.1f} samples/s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
