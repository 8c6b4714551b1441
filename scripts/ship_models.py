"""Copy trained models into the package (src/voltpeak/models/shipped/<name>) and name the default.

    python scripts/ship_models.py heatmap=runs/heatmap mllm-small=runs/mllm-small --dataset data/images

Each NAME=RUN copies the run's newest checkpoint model. Every shipped model is then scored on the validation split
of ``--dataset`` (image space, the contract's matcher); ``shipped/default`` names the best F1, the model that
``voltpeak predict --model default`` uses.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from voltpeak.models import (  # noqa: E402
    SHIPPED,
    load_model,  # noqa: E402
    model_dir,
)
from voltpeak.train import evaluate_model  # noqa: E402
from voltpeak.train.data import load_split  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="NAME=RUN")
    parser.add_argument("--dataset", required=True, help="a built dataset (its val split picks the default)")
    parser.add_argument("--n", type=int, default=400, help="validation images to score")
    args = parser.parse_args()
    for item in args.runs:
        name, run = item.split("=", 1)
        target = SHIPPED / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(model_dir(run), target)
        config = json.loads((target / "config.json").read_text())
        if config.get("vision_config"):  # the tower's weights are in the model: drop this machine's path
            config["vision_path"] = None
            (target / "config.json").write_text(json.dumps(config, indent=1))
        (target / "README.md").write_text(f"Copied from {run} by scripts/ship_models.py.\n")
    examples = load_split(args.dataset, "val", args.n)
    scores = {}
    for folder in sorted(p for p in SHIPPED.iterdir() if p.is_dir()):
        scores[folder.name] = evaluate_model(load_model(folder), examples)["f1"]
        print(f"{folder.name}: F1 {scores[folder.name]:.3f} on {len(examples)} validation images")
    best = max(scores, key=scores.get)
    (SHIPPED / "default").write_text(best + "\n")
    print(f"default: {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
