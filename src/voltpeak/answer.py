"""The answer format every model of voltpeak writes and reads, the prompts that ask for it, and Qwen's resize.

An answer is a JSON list with one object per peak, left to right::

    [{"label": "anodic", "point_2d": [412, 133], "potential": 0.215, "current": 12.4},
     {"label": "cathodic", "point_2d": [377, 301], "potential": 0.148, "current": -11.9}]

- ``label``: ``anodic`` (a maximum on an anodic-going sweep) or ``cathodic``;
- ``point_2d``: the peak in absolute pixels of the image the model sees (x from the left, y from the top), as
  Qwen2.5-VL grounds points: its processor's resized image (``smart_resize``);
- ``potential``, ``current``: the peak read off the axes, in the units printed on them (as drawn: under the US
  convention the printed current is cathodic-positive).

An image without peaks is ``[]``. ``parse_answer`` reads this format tolerantly (code fences, prose around the
list, single quotes, trailing commas, missing keys, a truncated last object, or ``anodic (x, y)`` lines).
"""

from __future__ import annotations

import json
import math
import re

PROMPTS = (
    "Find every peak of the cyclic voltammogram(s) in this plot. Answer with a JSON list: for each peak its label "
    "(anodic or cathodic), its point_2d in pixels, and its potential and current in the units of the axes.",
    "Locate all anodic and cathodic peaks in this CV plot. Give a JSON list of objects with label, point_2d "
    "[x, y], potential and current (axis units).",
    "This image shows cyclic voltammetry data. List each current peak as JSON: label (anodic/cathodic), "
    "point_2d, potential, current.",
    "Mark the peaks of every curve in this voltammogram. Output JSON only: [{\"label\": ..., \"point_2d\": [x, y], "
    "\"potential\": ..., \"current\": ...}, ...].",
    "Where are the oxidation (anodic) and reduction (cathodic) peaks in this graph? Reply with a JSON list giving "
    "label, point_2d, potential and current for each.",
)
IMAGE_TOKEN = "<image>"


class AnswerError(ValueError):
    """An answer that holds no readable peak list."""


def format_answer(peaks: list[dict]) -> str:
    """The answer text for peaks given as dicts with ``label``, ``point_2d`` ([x, y] pixels), ``potential`` and
    ``current`` (axis units); written left to right, values rounded to what the axes resolve."""
    ordered = sorted(peaks, key=lambda p: (p["point_2d"][0], p["point_2d"][1]))
    return json.dumps([{"label": p["label"], "point_2d": [int(round(v)) for v in p["point_2d"]],
                        "potential": _significant(p["potential"], 4), "current": _significant(p["current"], 3)}
                       for p in ordered], ensure_ascii=False)


def _significant(value: float, digits: int) -> float:
    if value == 0 or not math.isfinite(value):
        return 0.0
    return round(value, max(0, digits - 1 - int(math.floor(math.log10(abs(value))))))


_LINE = re.compile(r"(anodic|cathodic)\D{0,20}?\(?\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)?", re.I)


def parse_answer(text: str) -> list[dict]:
    """Peaks from a model's answer: dicts with ``direction`` and, where given, ``x_px``, ``y_px``, ``potential``,
    ``current``. Raises ``AnswerError`` when no peak list can be read (an empty list ``[]`` is a valid answer)."""
    if text is None:
        raise AnswerError("no answer")
    body = re.sub(r"```(?:json)?", "", text).strip()
    items = _json_list(body)
    if items is None:
        lines = [{"label": m.group(1), "point_2d": [float(m.group(2)), float(m.group(3))]}
                 for m in _LINE.finditer(body)]
        if not lines:
            raise AnswerError(f"no peak list in the answer: {text[:80]!r}")
        items = lines
    peaks = []
    for item in items:
        if not isinstance(item, dict):
            continue
        label = str(item.get("label", item.get("direction", ""))).lower()
        direction = "anodic" if "anod" in label or "oxid" in label else "cathodic" if (
            "cathod" in label or "reduc" in label) else None
        if direction is None:
            continue
        peak = {"direction": direction}
        point = item.get("point_2d", item.get("point"))
        if isinstance(point, (list, tuple)) and len(point) == 2 and all(_number(v) for v in point):
            peak["x_px"], peak["y_px"] = float(point[0]), float(point[1])
        for key in ("potential", "current"):
            if _number(item.get(key)):
                peak[key] = float(item[key])
        if len(peak) > 1:
            peaks.append(peak)
    if not peaks and items:
        raise AnswerError(f"no readable peak in the answer: {text[:80]!r}")
    return peaks


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _json_list(body: str) -> list | None:
    """The first JSON list in ``body``, repaired where a model typically breaks it; None when there is none."""
    start = body.find("[")
    if start < 0:
        return None
    chunk = body[start:]
    end = chunk.rfind("]")
    candidates = [chunk[:end + 1]] if end > 0 else []
    # A truncated answer: keep the complete objects.
    last = chunk.rfind("}")
    if last > 0:
        candidates.append(chunk[:last + 1] + "]")
    for candidate in candidates:
        for fixed in (candidate, re.sub(r",\s*([\]}])", r"\1", candidate.replace("'", '"'))):
            try:
                value = json.loads(fixed)
            except json.JSONDecodeError:
                continue
            if isinstance(value, list):
                return value
    objects = []
    for m in re.finditer(r"\{[^{}]*\}", chunk):
        try:
            objects.append(json.loads(re.sub(r",\s*}", "}", m.group(0).replace("'", '"'))))
        except json.JSONDecodeError:
            continue
    return objects or None


def smart_resize(height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56,
                 max_pixels: int = 14 * 14 * 4 * 1280) -> tuple[int, int]:
    """The (height, width) Qwen2-VL/Qwen2.5-VL processors resize an image to: each side a multiple of ``factor``,
    the area within [min_pixels, max_pixels], the aspect ratio kept as far as that allows."""
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"aspect ratio over 200: {height}x{width}")
    h = round(height / factor) * factor
    w = round(width / factor) * factor
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return h, w
