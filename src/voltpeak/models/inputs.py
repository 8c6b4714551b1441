"""The images a model is asked about, opened: the one step every model kind and backend shares before its own.

A file that cannot be opened becomes its output line with an ``error`` (never an exception), as the contract's predict
lines say.
"""

from __future__ import annotations

from pathlib import Path

from voltpeak.image import for_reading
from voltpeak.read import CV_SUFFIXES


def open_images(chunk: list[tuple[str, Path]]) -> tuple[list, list[int], dict[int, dict]]:
    """(RGB images, their indices in ``chunk``, by index the output lines of the files that cannot be read)."""
    from PIL import Image, UnidentifiedImageError

    images, good, failed = [], [], {}
    for k, (source, path) in enumerate(chunk):
        try:
            with Image.open(path) as im:
                images.append(for_reading(im))
            good.append(k)
        except (OSError, UnidentifiedImageError) as e:
            hint = ("; a CV data file? voltpeak detect reads those" if Path(path).suffix.lower() in CV_SUFFIXES
                    else "")
            failed[k] = {"source": source, "peaks": [], "text": None, "error": f"cannot read image: {e}{hint}"}
    return images, good, failed
