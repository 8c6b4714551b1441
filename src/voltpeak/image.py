"""Plot images as a viewer shows them: the one way every stage opens a picture.

A PNG with an alpha channel (Vega/Altair and matplotlib ``transparent=True`` exports) stores its transparent
background as black pixels of alpha 0: dropping the alpha, as ``Image.convert("RGB")`` does, makes the whole plot
black. A viewer composites it on white, and so does ``on_white``. ``for_reading`` also brings a poster-sized
export (a 600 dpi figure, 6000 px wide) down to a screen's size, where tick labels are the size OCR reads best.
"""

from __future__ import annotations

MAX_SIDE = 2000  # px: a larger image is read at MAX_SIDE / 1.25 on its longer side
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")  # files taken for plot images


def on_white(image):
    """A PIL image as RGB, any transparency composited on white (a palette image's transparent colour too)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image.convert("RGB")


def for_reading(image):
    """``on_white(image)``, shrunk (aspect kept) when its longer side exceeds ``MAX_SIDE``. Positions given as
    fractions of the image (as peaks are) are the same on both."""
    from PIL import Image

    image = on_white(image)
    side = max(image.size)
    if side <= MAX_SIDE:
        return image
    scale = 0.8 * MAX_SIDE / side
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)
