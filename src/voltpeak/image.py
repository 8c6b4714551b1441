"""Plot images as a viewer shows them: the one way every stage opens a picture.

A PNG with an alpha channel (Vega/Altair and matplotlib ``transparent=True`` exports) stores its transparent
background as black pixels of alpha 0: dropping the alpha, as ``Image.convert("RGB")`` does, makes the whole plot
black. A viewer composites it on white, and so does ``on_white``.
"""

from __future__ import annotations


def on_white(image):
    """A PIL image as RGB, any transparency composited on white (a palette image's transparent colour too)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info) or \
            (image.mode in ("RGB", "L") and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image.convert("RGB")
