"""What ``voltpeak predict`` is asked about: image files, the images of built split JSONL files, or images already in
memory (the web app hands the plot it drew)."""

from __future__ import annotations

import json
from pathlib import Path

from voltpeak.errors import InputError


def image_inputs(inputs: list[str]) -> list[tuple[str, Path]]:
    """(source as given, image path) for image files and for the images of built split JSONL files."""
    out = []
    for item in inputs:
        p = Path(item)
        if p.suffix == ".jsonl" and p.is_file():
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    image = json.loads(line)["images"][0]
                except (ValueError, KeyError, IndexError, TypeError):
                    raise InputError(f"{item}:{n}: not a line of a built split (a JSON object with \"images\"); "
                                     "predict takes images or the train/val/test .jsonl of voltpeak build") from None
                out.append((image, p.parent / image))
        else:
            out.append((item, p))
    return out
