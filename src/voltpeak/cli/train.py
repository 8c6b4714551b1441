"""``voltpeak train --config FILE``: train a model into a run directory (the 'ml' extra)."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    t = sub.add_parser("train", help="train a model from a config (writes a run directory)",
                       description="Train a model (the custom MLLM; the heatmap detector with model kind "
                                   "'heatmap'; Qwen2.5-VL with LoRA, kind 'qwen') on a dataset from voltpeak build: "
                                   "warm-up + cosine schedule, "
                                   "gradient accumulation, checkpoints, validation F1 of its predictions, "
                                   "metrics.jsonl. --resume continues a killed run from its last checkpoint.")
    t.add_argument("--config", required=True, metavar="FILE", help="JSON training config (see configs/)")
    t.add_argument("--resume", action="store_true", help="continue the run in the config's 'out' folder")
    t.add_argument("--backend", choices=("voltpeak", "swift"), default="voltpeak",
                   help="voltpeak (default): in process (Qwen-VL through TRL's SFTTrainer); swift: write and run "
                        "the `swift sft` command of a Qwen-VL config in the ms-swift environment (make swift-env)")
    t.set_defaults(func=run)


def needs(args) -> tuple[str, ...]:
    return ("ml",)


def run(args) -> int:
    from voltpeak.train import TrainConfig, train

    config = TrainConfig.load(args.config)
    log = lambda text: print(text, file=sys.stderr)  # noqa: E731
    if args.backend == "swift":
        from voltpeak.train.swift import train_swift

        folder = train_swift(config, resume=args.resume, log=log)
    else:
        folder = train(config, resume=args.resume, log=log)
    print(f"run written to {folder}", file=sys.stderr)
    return 0
