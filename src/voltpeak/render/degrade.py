"""What real pictures of plots go through before a model sees them: JPEG compression, rescaling, low resolution,
greyscale, a frame or a window's chrome around a screenshot. Each keeps the image's size and moves the located
points with the pixels (continuous coordinates, pixel i spanning [i, i + 1)).
"""

from __future__ import annotations

import io

import numpy as np

from voltpeak.render.figure import Rendered, encode_png

DEGRADATIONS = ("jpeg", "low_resolution", "greyscale", "frame", "screenshot")


def degrade(drawn: Rendered, rng: np.random.Generator, only: str | None = None) -> tuple[Rendered, list[str]]:
    """``drawn`` put through one to three different degradations drawn at random (or ``only`` the one named);
    (the result, their names in the order applied). The same generator state gives the same bytes."""
    from PIL import Image

    if only is None:
        picked = rng.choice(len(DEGRADATIONS), size=int(rng.integers(1, 4)), replace=False)
        names = [DEGRADATIONS[k] for k in picked]
    else:
        names = [only]
    image = Image.open(io.BytesIO(drawn.png)).convert("RGB")
    points = drawn.points_px.astype(float).copy()
    W, H = image.size
    # Geometry first (a frame, then the window around it), then resolution, colour and compression last, as a
    # figure is framed, captured, shrunk and saved.
    names.sort(key=("frame", "screenshot", "low_resolution", "greyscale", "jpeg").index)
    for name in names:
        if name == "frame":
            image, points = _inset(image, points, rng, chrome=False)
        elif name == "screenshot":
            image, points = _inset(image, points, rng, chrome=True)
        elif name == "low_resolution":
            # Drawn at a lower dpi and blown up again: soft edges, thick blurred text.
            f = float(rng.uniform(0.35, 0.75))
            small = image.resize((max(1, round(W * f)), max(1, round(H * f))), Image.Resampling.BILINEAR)
            image = small.resize((W, H), Image.Resampling.BICUBIC)
        elif name == "greyscale":
            image = image.convert("L").convert("RGB")
        elif name == "jpeg":
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=int(rng.integers(20, 91)),
                       subsampling=int(rng.choice([0, 2])))
            image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    png = encode_png(np.asarray(image))
    return Rendered(png, W, H, points, drawn.offset_text, drawn.colours), names


def _inset(image, points: np.ndarray, rng: np.random.Generator, chrome: bool):
    """The plot shrunk into a border (a thick frame), or into a window with a title bar and a tool strip (a
    screenshot of instrument software), the whole the original size."""
    from PIL import Image, ImageDraw

    W, H = image.size
    if chrome:
        top = int(rng.integers(int(0.06 * H), int(0.14 * H) + 1))
        side = int(rng.integers(2, max(3, int(0.03 * W))))
        left, right, bottom = side, side, side + int(rng.integers(0, int(0.05 * H) + 1))
        border = tuple(int(v) for v in rng.integers(200, 236, size=3))
    else:
        left, right, top, bottom = (int(v) for v in rng.integers(3, max(4, int(0.06 * min(W, H))), size=4))
        border = (0, 0, 0) if rng.random() < 0.5 else tuple(int(v) for v in rng.integers(60, 200, size=3))
    inner = (W - left - right, H - top - bottom)
    canvas = Image.new("RGB", (W, H), border)
    canvas.paste(image.resize(inner, Image.Resampling.LANCZOS), (left, top))
    if chrome:
        draw = ImageDraw.Draw(canvas)
        draw.rectangle([0, 0, W, top * 0.55], fill=tuple(int(v) for v in rng.integers(40, 120, size=3)))
        for k in range(int(rng.integers(3, 9))):  # tool buttons
            x = left + 6 + k * top * 0.5
            draw.rectangle([x, top * 0.62, x + top * 0.3, top * 0.92], outline=(90, 90, 90))
    scale = np.array([inner[0] / W, inner[1] / H])
    return canvas, points * scale + np.array([left, top], dtype=float)
