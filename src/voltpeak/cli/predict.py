"""``voltpeak predict INPUT...``: peaks of plot images with a trained model (the 'ml' extra; 'ocr' to read axes)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from voltpeak.cli.common import EXIT_BAD_INPUT, Output, positive_int, progress
from voltpeak.errors import InputError


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="peaks from plot images with a trained model",
                       description="Peaks of plot images (PNG/JPEG files, or the images of a built split .jsonl) "
                                   "with a saved model: one JSON line per image with peaks (x, y fractions; potential "
                                   "in V and current in A where the plot's axes were read), the axes read, couples, "
                                   "the raw text, a warning for what could not be read and an error when the answer "
                                   "could not be read.")
    p.add_argument("--model", default="default", metavar="M",
                   help="a shipped model (default, heatmap, mllm-small), a saved model or a run directory "
                        "(default: default, the shipped detector)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="images, or split .jsonl files of a built dataset")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", help="write here instead of stdout")
    p.add_argument("--batch-size", type=positive_int, default=16, help="images per generation batch (default 16)")
    p.add_argument("--backend", choices=("transformers", "vllm", "swift"), default="transformers",
                   help="how a Qwen-VL model generates: transformers (CPU/GPU, default), vllm (GPU, optional "
                        "extra; a merged model), swift (swift infer in the ms-swift environment); same output")
    p.add_argument("--threads", type=positive_int, help="CPU threads (default: torch's choice)")
    p.add_argument("--no-axes", action="store_true",
                   help="do not read the plots' axes (peaks in x, y only; the model guesses the plot's direction)")
    p.add_argument("--x-axis", metavar="LEFT,RIGHT,UNIT",
                   help="the potential axis by hand: the values at the frame's left and right edges and the unit "
                        "(e.g. -0.8,0.6,V; use --x-axis=... for a negative first value); skips axis reading")
    p.add_argument("--y-axis", metavar="BOTTOM,TOP,UNIT",
                   help="the current axis by hand: values at the frame's bottom and top edges and the unit "
                        "(e.g. -20,30,uA or -1,2,mA/cm2)")
    p.add_argument("--force", action="store_true", help="overwrite OUT.jsonl if it exists")
    p.set_defaults(func=run)


def needs(args) -> tuple[str, ...]:
    return ("ml",) if args.no_axes else ("ml", "ocr")  # the axis reader is the OCR


def run(args) -> int:
    from voltpeak.models import load_model, model_dir, saved_kind
    from voltpeak.predict import image_inputs, predict, with_axes

    axes = axes_option(args)
    folder = model_dir(args.model)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    items = image_inputs(args.inputs)
    if args.backend not in saved_kind(folder).backends:
        raise InputError(f"--backend {args.backend} runs Qwen-VL models; {args.model} is not one")
    if args.backend == "vllm":
        from voltpeak.predict.vllm import predict_vllm

        lines = with_axes(predict_vllm(folder, items), items, axes)
    elif args.backend == "swift":
        from voltpeak.predict.swift import predict_swift

        lines = with_axes(predict_swift(folder, items, Path(tempfile.mkdtemp(prefix="voltpeak-swift-")),
                                        log=lambda text: print(text, file=sys.stderr)), items, axes)
    else:
        lines = predict(load_model(folder), items, args.batch_size,
                        progress=lambda it: progress(it, "predict", "batch", -(-len(items) // args.batch_size)),
                        axes=axes)
    out = Output(args.output, args.force)
    failed = completed = False
    try:
        for line in lines:
            failed |= line["error"] is not None and line["text"] is None
            out.write(line)
        completed = True
    finally:
        out.close(keep=completed)  # an interrupted run leaves no file that looks finished
    return EXIT_BAD_INPUT if failed else 0


def axes_option(args):
    """The axes ``predict`` is given: "auto", "off", or a function giving the hand-set values at the frame's
    edges."""
    if args.x_axis is None and args.y_axis is None:
        return "off" if args.no_axes else "auto"

    def edges(text: str | None, option: str):
        if text is None:
            return None
        parts = text.split(",")
        try:
            lo, hi = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            raise InputError(f"{option} {text!r}: expected LOW,HIGH,UNIT, e.g. -0.8,0.6,V or -20,30,uA") from None
        if len(parts) != 3 or lo == hi or not parts[2].strip():
            raise InputError(f"{option} {text!r}: expected LOW,HIGH,UNIT, e.g. -0.8,0.6,V or -20,30,uA")
        return lo, hi, parts[2].strip()

    x, y = edges(args.x_axis, "--x-axis"), edges(args.y_axis, "--y-axis")

    def manual(image):
        import numpy as np

        from voltpeak.axes import find_frame, manual_axes

        return manual_axes(image.width, image.height, find_frame(np.asarray(image)), x, y)

    return manual
