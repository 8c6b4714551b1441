"""Text in small image crops: tick labels by Tesseract, axis titles by RapidOCR's recogniser.

Chosen by measurement (docs/experiments.md, "OCR engines"), both offline and on our own crops only (never the
whole image): Tesseract's LSTM (``tesserocr`` on Debian's ``tesseract-ocr`` English model) with a digit whitelist
read every tick label of a 80-plot check right, where RapidOCR misread mono-font zeros as U; RapidOCR's PP-OCRv4
recogniser (ONNX, shipped in the ``rapidocr-onnxruntime`` wheel) reads the µ of µA that Tesseract reads as p, y,
U or H.
"""

from __future__ import annotations

import glob
import os
from functools import lru_cache

import numpy as np
from PIL import Image

from voltpeak.errors import MissingProgram

NUMBER_CHARS = "0123456789.,-−+eE×x^"
_ZERO = str.maketrans({"U": "0", "O": "0", "o": "0", "D": "0"})
TEXT_HEIGHT_PX = 36  # Tesseract reads best with glyphs about this tall
PAD_PX = 12


def _tessdata() -> str:
    """The folder holding ``eng.traineddata``: ``TESSDATA_PREFIX``, else Debian's (or another system's) location."""
    candidates = [os.environ.get("TESSDATA_PREFIX", "")] + sorted(
        glob.glob("/usr/share/tesseract-ocr/*/tessdata"), reverse=True) + ["/usr/share/tessdata",
                                                                             "/usr/local/share/tessdata"]
    for folder in candidates:
        if folder and os.path.isfile(os.path.join(folder, "eng.traineddata")):
            return folder.rstrip("/") + "/"
    raise MissingProgram("reading plot axes needs Tesseract's English model: apt-get install tesseract-ocr "
                         "(or set TESSDATA_PREFIX to a folder with eng.traineddata)")


class Reader:
    """Tesseract for numbers (and characters with their glyphs), RapidOCR for text; kept open."""

    def __init__(self, threads: int | None = None):
        try:
            from tesserocr import OEM, PSM, PyTessBaseAPI
        except ImportError:
            raise MissingProgram("reading plot axes needs tesserocr: pip install 'voltpeak[ocr]'") from None
        path = _tessdata()
        self._numbers = PyTessBaseAPI(path=path, lang="eng", psm=PSM.SINGLE_LINE, oem=OEM.LSTM_ONLY)
        self._numbers.SetVariable("tessedit_char_whitelist", NUMBER_CHARS)
        self._text = PyTessBaseAPI(path=path, lang="eng", psm=PSM.SINGLE_LINE, oem=OEM.LSTM_ONLY)
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            raise MissingProgram("reading plot axes needs rapidocr-onnxruntime: pip install 'voltpeak[ocr]'") from None
        # ``threads``: the recogniser's; None lets ONNX Runtime use every core (one process reading), 1 suits
        # several worker processes reading side by side. (Tesseract here runs on one thread.)
        self._recogniser = RapidOCR(**({"intra_op_num_threads": threads, "inter_op_num_threads": 1}
                                       if threads else {})).text_rec
        # RapidOCR pads every line to 320 px wide (at 48 px tall) for its batches; our crops go one or a few at a
        # time, so each is read at its own width: 1.4× faster, the same readings on 240 foreign plots.
        self._recogniser.rec_image_shape = [3, 48, 48]

    def number(self, crop: np.ndarray) -> tuple[str, float]:
        """The characters of a number in ``crop`` (H, W grey, ink dark on light), and a confidence 0–1."""
        self._numbers.SetImage(prepare(crop))
        try:
            return self._numbers.GetUTF8Text().strip(), max(0.0, self._numbers.MeanTextConf()) / 100
        except RuntimeError:  # no text in the crop
            return "", 0.0

    def numbers_again(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Numbers read a second way (RapidOCR, batched), for an axis whose Tesseract readings disagree
        (the dotted zero of mono fonts reads as 8 there); its "U" and "O" for 0 put right."""
        if not crops:
            return []
        found, _ = self._recogniser([np.asarray(prepare(c).convert("RGB")) for c in crops])
        return [(t.strip().translate(_ZERO), float(s)) for t, s in found]

    def text(self, crop: np.ndarray) -> tuple[str, float]:
        """One line of any text in ``crop``, and a confidence 0–1."""
        (text, score), = self._recogniser([np.asarray(prepare(crop).convert("RGB"))])[0]
        return text.strip(), float(score)

    def symbols(self, crop: np.ndarray) -> tuple[str, list[tuple[str, np.ndarray]], float]:
        """A line of text, each of its characters (spaces aside) with its glyph's pixels (grey, from the upscaled
        crop Tesseract read), and the confidence: for checks OCR gets wrong, such as µ read as p."""
        from tesserocr import RIL, iterate_level

        image = prepare(crop)
        pixels = np.asarray(image)
        self._text.SetImage(image)
        self._text.Recognize()
        out = []
        for r in iterate_level(self._text.GetIterator(), RIL.SYMBOL):
            try:
                char, box = r.GetUTF8Text(RIL.SYMBOL), r.BoundingBox(RIL.SYMBOL)
            except RuntimeError:  # tesserocr's way of saying "no text here"
                continue
            if char and box:
                x0, y0, x1, y1 = box
                out.append((char, pixels[y0:y1, x0:x1]))
        try:
            text = self._text.GetUTF8Text().strip()
        except RuntimeError:
            return "", [], 0.0
        return text, out, max(0.0, self._text.MeanTextConf()) / 100


@lru_cache(maxsize=2)
def reader(threads: int | None = None) -> Reader:
    """The process's ``Reader`` (opening the models takes ~0.4 s), kept open."""
    return Reader(threads)


def prepare(crop: np.ndarray) -> Image.Image:
    """A grey crop scaled so its ink is ``TEXT_HEIGHT_PX`` tall, contrast stretched, on a white margin."""
    crop = crop.astype(np.float32)
    lo, hi = float(crop.min()), float(crop.max())
    if hi - lo < 1:
        hi = lo + 1
    crop = (crop - lo) / (hi - lo) * 255
    scale = TEXT_HEIGHT_PX / max(crop.shape[0], 1)
    image = Image.fromarray(crop.astype(np.uint8))
    image = image.resize((max(1, round(crop.shape[1] * scale)), TEXT_HEIGHT_PX), Image.Resampling.BICUBIC)
    canvas = Image.new("L", (image.width + 2 * PAD_PX, image.height + 2 * PAD_PX), 255)
    canvas.paste(image, (PAD_PX, PAD_PX))
    return canvas

