"""The images a model is asked about: opened (the one step every model kind and backend shares before its own), and
letterboxed into the square input of voltpeak's own models.

A file that cannot be opened becomes its output line with an ``error`` (never an exception), as the contract's predict
lines say.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from voltpeak.image import for_reading
from voltpeak.read import CV_SUFFIXES


@dataclass
class Letterbox:
    """How an image was fitted into the model's square input: scale and offsets (pixels)."""

    scale: float
    offset_x: float
    offset_y: float
    width: int
    height: int

    def to_fraction(self, x_in: float, y_in: float) -> tuple[float, float]:
        """A point of the square input (pixels) → fractions of the original image."""
        return (x_in - self.offset_x) / self.scale / self.width, (y_in - self.offset_y) / self.scale / self.height

    def to_input(self, fx: float, fy: float) -> tuple[float, float]:
        return fx * self.width * self.scale + self.offset_x, fy * self.height * self.scale + self.offset_y


def letterbox(image, size: int) -> tuple[torch.Tensor, Letterbox]:
    """A PIL image fitted (aspect kept) into a white ``size``² square, as a normalised (3, size, size) tensor."""
    from PIL import Image

    from voltpeak.image import on_white

    image = on_white(image)
    scale = size / max(image.width, image.height)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    ox, oy = (size - w) // 2, (size - h) // 2
    canvas.paste(image.resize((w, h), Image.BILINEAR), (ox, oy))
    array = np.asarray(canvas, dtype=np.float32) / 255.0
    tensor = torch.from_numpy((array - 0.5) / 0.5).permute(2, 0, 1)
    return tensor, Letterbox(w / image.width, ox, oy, image.width, image.height)


def letterboxed(images: list, size: int, device) -> tuple[torch.Tensor, list[Letterbox]]:
    """PIL ``images`` letterboxed into ``size``² inputs: one (B, 3, size, size) batch on ``device``, and each box."""
    pairs = [letterbox(im, size) for im in images]
    return torch.stack([tensor for tensor, _ in pairs]).to(device), [box for _, box in pairs]


def open_images(chunk: list[tuple[str, object]]) -> tuple[list, list[int], dict[int, dict]]:
    """(RGB images, their indices in ``chunk``, by index the output lines of the files that cannot be read) for
    (source, image path or PIL image) items."""
    from PIL import Image, UnidentifiedImageError

    images, good, failed = [], [], {}
    for k, (source, path) in enumerate(chunk):
        if not isinstance(path, (str, Path)):  # an image already in memory
            images.append(for_reading(path))
            good.append(k)
            continue
        try:
            with Image.open(path) as im:
                images.append(for_reading(im))
            good.append(k)
        except (OSError, UnidentifiedImageError) as e:
            hint = ("; a CV data file? voltpeak detect reads those" if Path(path).suffix.lower() in CV_SUFFIXES
                    else "")
            failed[k] = {"source": source, "peaks": [], "text": None, "error": f"cannot read image: {e}{hint}"}
    return images, good, failed
