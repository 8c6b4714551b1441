"""``voltpeak predict``: peaks from plot images with a trained model, one DESIGN line per image.

    voltpeak predict --model runs/x/checkpoints/last/model plot1.png plot2.png -o pred.jsonl
    voltpeak predict --model default ds/test.jsonl     # every image of a built split

Shipped models live in ``voltpeak/models/shipped/<name>`` and are chosen by name (``--model heatmap``,
``--model mllm-small``); ``--model default`` is the one named in ``shipped/default`` (the best on the validation
holdout). ``--model`` also takes a saved model folder or a run directory (its newest checkpoint), Qwen-VL fine-tunes
included (a folder with ``voltpeak.json``: an adapter checkpoint or a merged model; ``--backend vllm`` or ``swift``
generate them elsewhere with the same output). An answer that cannot be read gives ``"error"`` and no peaks, never a
crash.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from voltpeak.errors import InputError

SHIPPED = Path(__file__).resolve().parent.parent / "models" / "shipped"


def model_dir(name: str) -> Path:
    """The folder of a saved model: a shipped model's name, ``default``, a model folder or a run directory."""
    if name == "default" and (SHIPPED / "default").is_file():
        name = (SHIPPED / "default").read_text().strip()
    path = SHIPPED / name if name and "/" not in name and (SHIPPED / name).is_dir() else Path(name)
    if (path / "checkpoints" / "last").exists():  # a run directory: its newest checkpoint
        path = path / "checkpoints" / (path / "checkpoints" / "last").read_text().strip()
        path = path / "model" if (path / "model").is_dir() else path  # Qwen checkpoints are the model
    if (path / "voltpeak.json").is_file():  # a Qwen-VL fine-tune (adapter or merged)
        return path
    if not (path / "config.json").is_file() or not (path / "model.safetensors").is_file():
        raise InputError(f"{name}: not a saved voltpeak model (config.json + model.safetensors, or voltpeak.json)"
                         + (" — no model is shipped in this checkout" if name == "default" else ""))
    return path


def image_inputs(inputs: list[str]) -> list[tuple[str, Path]]:
    """(source as given, image path) for image files and for the images of built split JSONL files."""
    out = []
    for item in inputs:
        p = Path(item)
        if p.suffix == ".jsonl" and p.is_file():
            for line in p.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    image = json.loads(line)["images"][0]
                    out.append((image, p.parent / image))
        else:
            out.append((item, p))
    return out


def open_images(chunk: list[tuple[str, Path]]) -> tuple[list, list[int], dict[int, dict]]:
    """(RGB images, their indices in ``chunk``, by index the output lines of the files that cannot be read)."""
    from PIL import Image, UnidentifiedImageError

    images, good, failed = [], [], {}
    for k, (source, path) in enumerate(chunk):
        try:
            with Image.open(path) as im:
                images.append(im.convert("RGB"))
            good.append(k)
        except (OSError, UnidentifiedImageError) as e:
            failed[k] = {"source": source, "peaks": [], "text": None, "error": f"cannot read image: {e}"}
    return images, good, failed


def predict(model, items: list[tuple[str, Path]], batch_size: int = 16, progress=lambda x: x):
    """Yield one output line per (source, image path)."""
    from voltpeak.dataset.answer import AnswerError
    from voltpeak.models.heatmap import HeatmapNet
    from voltpeak.models.mllm import letterbox
    from voltpeak.peak import Peak
    from voltpeak.train.data import Collator, predict_prompt, read_answer

    if getattr(model, "kind", None) == "qwen":
        from voltpeak.models.qwen import predict_lines

        yield from predict_lines(model, items, batch_size, progress)
        return
    detector = isinstance(model, HeatmapNet)
    if not detector:
        prefix = Collator.of(model).prefix(predict_prompt(model.config))
    device = next(model.parameters()).device
    for a in progress(range(0, len(items), batch_size)):
        chunk = items[a:a + batch_size]
        images, good, lines = open_images(chunk)
        pixels, boxes = [], []
        for k, im in zip(good, images):
            tensor, box = letterbox(im, model.config.image_size)
            pixels.append(tensor)
            boxes.append((k, box))
        if pixels and detector:
            found = model.detect(torch.stack(pixels).to(device), [box for _, box in boxes])
            for (k, _), peaks in zip(boxes, found):
                # The detector's raw output is its scored peak list; records carry the score as an extra key.
                records = [{**Peak(p["direction"], x=p["x"], y=p["y"]).to_record(), "score": p["score"]}
                           for p in peaks]
                lines[k] = {"source": chunk[k][0], "peaks": records, "text": json.dumps(records), "error": None}
        elif pixels:
            ids = torch.tensor([prefix] * len(pixels), device=device)
            texts = model.generate(torch.stack(pixels).to(device), ids)
            for (k, box), text in zip(boxes, texts):
                line = {"source": chunk[k][0], "peaks": [], "text": text, "error": None}
                try:
                    found = read_answer(text, box, model.config.location_bins, model.config.image_size)
                    line["peaks"] = [Peak(p["direction"], x=round(p["x"], 5), y=round(p["y"], 5)).to_record()
                                     for p in found]
                except AnswerError as e:
                    line["error"] = str(e)
                lines[k] = line
        for k in range(len(chunk)):
            yield lines[k]
