"""Samples of a ``voltpeak build`` dataset as model inputs: letterboxed pixels, token ids, labels, and the answer
text in the model's own format (the dataset's JSON answer, or location tokens)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from voltpeak.answer import IMAGE_TOKEN
from voltpeak.errors import InputError
from voltpeak.models.inputs import Letterbox, letterbox
from voltpeak.models.mllm import EOS, predict_prompt, prompt_ids


@dataclass
class Example:
    """One training/validation sample: image path, prompt, target text, the truth peaks (fractions), and whether
    the plot is drawn in the US convention (potential decreasing to the right, cathodic current up)."""

    image: str
    prompt: str
    target: str
    peaks: list = field(default_factory=list)
    reversed: bool = False


def load_split(folder: str | Path, split: str, limit: int | None = None) -> list[Example]:
    """The samples of ``split`` in a built dataset: image, prompt, the dataset's answer, truth peaks."""
    folder = Path(folder)
    swift, truth = folder / f"{split}.jsonl", folder / f"truth_{split}.jsonl"
    if not swift.is_file() or not truth.is_file():
        raise InputError(f"{folder}: no {split}.jsonl / truth_{split}.jsonl (build it with voltpeak build)")
    out = []
    with open(swift, encoding="utf-8") as a, open(truth, encoding="utf-8") as b:
        for line, truth_line in zip(a, b):
            row, t = json.loads(line), json.loads(truth_line)
            prompt = row["messages"][0]["content"].replace(IMAGE_TOKEN, "")
            out.append(Example(str(folder / row["images"][0]), prompt, row["messages"][1]["content"], t["peaks"],
                               bool((t.get("style") or {}).get("us_convention", False))))
            if limit and len(out) >= limit:
                break
    return out


def training_data(dataset, train_limit: int = 0, val_samples: int = 0) -> tuple[list[Example], list[Example]]:
    """(training samples, validation samples) of a training config's ``dataset``: one built folder, or a list of
    them whose training splits are joined (e.g. simulated graphs + graphs of real CVs); validation comes from the
    first folder's val split (its test split when val is empty)."""
    folders = [dataset] if isinstance(dataset, (str, Path)) else list(dataset)
    if not folders:
        raise InputError("the training config's 'dataset' names no folder")
    examples = [ex for folder in folders for ex in load_split(folder, "train")]
    first = Path(folders[0])
    val = "val" if (first / "val.jsonl").is_file() and (first / "val.jsonl").stat().st_size else "test"
    return examples[:train_limit or None], load_split(first, val, val_samples or None)


def target_text(example: Example, box: Letterbox, bins: int, size: int) -> str:
    """What the model learns to write: location tokens over the square input, or the dataset's answer."""
    if not bins:
        return example.target
    parts = []
    for p in sorted(example.peaks, key=lambda p: (p["x"], p["y"])):
        x, y = box.to_input(p["x"], p["y"])
        bx = min(bins - 1, max(0, int(x / size * bins)))
        by = min(bins - 1, max(0, int(y / size * bins)))
        parts.append(f"{p['direction']}<x{bx:03d}><y{by:03d}>")
    return "".join(parts) or "none"


class Images:
    """Letterboxed input tensors of image files, kept as uint8 after the first read when ``cache`` (a training
    run reads each image once per epoch; 256² RGB is 192 kB)."""

    def __init__(self, size: int, cache: bool = False):
        self.size, self.cache, self.stored = size, cache, {}

    def __call__(self, path: str) -> tuple[torch.Tensor, Letterbox]:
        if path in self.stored:
            data, box = self.stored[path]
            return data.float().div_(127.5).sub_(1.0), box
        from PIL import Image

        with Image.open(path) as im:
            tensor, box = letterbox(im, self.size)
        if self.cache:
            self.stored[path] = (((tensor + 1.0) * 127.5).round().to(torch.uint8), box)
            return self.stored[path][0].float().div_(127.5).sub_(1.0), box
        return tensor, box


class HeatmapCollator:
    """Batches for the heatmap detector: pixels, boxes and the heatmap/offset targets of the truth peaks. With
    ``augment``, changes that keep the labels right: the RGB channels permuted (half the images) or the image
    turned grey (a fifth); a fraction ``shrink`` shrunk by a factor of ``SCALES`` along each axis (drawn apart:
    other aspect ratios too) and placed anywhere on the white square, as plots sit in figures with wide margins or
    in other shapes (measured: their tick labels then shrink past reading, and the reversed-axes head, taught on
    them, lost the US convention; so it does not learn from shrunk images)."""

    SCALES = (0.6, 1.0)

    def __init__(self, model, cache: bool = False, augment: bool = False, shrink: float = 0.0):
        self.model, self.images, self.augment = model, Images(model.config.image_size, cache), augment
        self.shrink = shrink

    def __call__(self, examples: list[Example]) -> dict:
        from voltpeak.models.heatmap import DIRECTIONS

        pixels, boxes, peaks, flags, readable = [], [], [], [], []
        for ex in examples:
            tensor, box = self.images(ex.image)
            if self.augment:
                draw = torch.rand(1).item()
                if draw < 0.5:
                    tensor = tensor[torch.randperm(3)]
                elif draw < 0.7:
                    tensor = (tensor * torch.tensor([0.299, 0.587, 0.114])[:, None, None]).sum(0).expand(3, -1, -1)
            at = [(DIRECTIONS.index(p["direction"]), *box.to_input(p["x"], p["y"])) for p in ex.peaks]
            shrunk = self.augment and torch.rand(1).item() < self.shrink
            if shrunk:
                lo, hi = self.SCALES
                sx, sy = (lo + (hi - lo) * torch.rand(2)).tolist()
                tensor, at = shrink(tensor, at, sx, sy, *torch.rand(2).tolist())
            pixels.append(tensor)
            boxes.append(box)
            peaks.append(at)
            flags.append(ex.reversed)
            readable.append(not shrunk)
        return {"pixels": torch.stack(pixels), **self.model.targets(peaks, flags, readable), "boxes": boxes}


def shrink(tensor: torch.Tensor, at: list[tuple], sx: float, sy: float, u: float, v: float):
    """A (3, S, S) input shrunk by ``sx``/``sy`` (≤ 1) and placed on white at a fraction ``u``/``v`` of the room
    left, with its peaks (direction, x, y in input pixels) moved along: x → x·w/S + left (a pixel's edges map to
    edges, so its centre maps to its centre)."""
    from torch.nn import functional as F

    size = tensor.shape[-1]
    w, h = max(1, round(size * sx)), max(1, round(size * sy))
    left, top = round(u * (size - w)), round(v * (size - h))
    out = torch.ones_like(tensor)  # white in the [-1, 1] scale
    out[:, top:top + h, left:left + w] = F.interpolate(tensor[None], size=(h, w), mode="bilinear",
                                                       antialias=True, align_corners=False)[0]
    return out, [(d, x * w / size + left, y * h / size + top) for d, x, y in at]


class Collator:
    """Batches: pixels, input ids ([BOS] image placeholders, prompt, answer, EOS), attention mask, labels that
    supervise the answer and EOS only; padding on the right, masked. With ``prompt`` every sample gets that
    prompt instead of its own wording."""

    def __init__(self, tokenizer, image_tokens: int, image_size: int, bins: int, prompt: str | None = None,
                 cache: bool = False):
        self.tokenizer, self.image_tokens, self.size, self.bins = tokenizer, image_tokens, image_size, bins
        self.prompt, self.images = prompt, Images(image_size, cache)

    @classmethod
    def of(cls, model, fixed_prompt: bool = True, cache: bool = False) -> Collator:
        return cls(model.tokenizer, model.image_tokens, model.config.image_size, model.config.location_bins,
                   predict_prompt(model.config) if fixed_prompt else None, cache)

    def prefix(self, prompt: str) -> list[int]:
        return prompt_ids(self.tokenizer, self.image_tokens, prompt)

    def __call__(self, examples: list[Example]) -> dict:
        pixels, ids, labels, boxes = [], [], [], []
        eos = self.tokenizer.convert_tokens_to_ids(EOS)
        pad = self.tokenizer.convert_tokens_to_ids("<pad>")
        for ex in examples:
            tensor, box = self.images(ex.image)
            pixels.append(tensor)
            boxes.append(box)
            head = self.prefix(self.prompt or ex.prompt)
            answer = self.tokenizer.encode(target_text(ex, box, self.bins, self.size), add_special_tokens=False)
            ids.append(head + answer + [eos])
            labels.append([-100] * len(head) + answer + [eos])
        longest = max(len(x) for x in ids)
        batch_ids = torch.full((len(ids), longest), pad, dtype=torch.long)
        batch_labels = torch.full((len(ids), longest), -100, dtype=torch.long)
        mask = torch.zeros((len(ids), longest), dtype=torch.long)
        for k, (x, y) in enumerate(zip(ids, labels)):
            batch_ids[k, :len(x)] = torch.tensor(x)
            batch_labels[k, :len(y)] = torch.tensor(y)
            mask[k, :len(x)] = 1
        return {"pixels": torch.stack(pixels), "input_ids": batch_ids, "attention_mask": mask,
                "labels": batch_labels, "boxes": boxes}
