"""Read a plot's axes: where the frame is, what its tick labels and titles say, and the pixel → value maps.

    from voltpeak.axes import read_axes
    axes = read_axes(Image.open("figure.png"))
    axes.potential_V(0.41), axes.current(0.2), axes.reversed, axes.warnings

The stage between an image model's peaks (x, y fractions of the image) and an electrochemist's numbers (V, A).
Each axis map is fitted robustly on the tick labels read by OCR (``voltpeak.axes.ocr``), so one misread label does
not move it; the titles give quantity, unit, reference and any multiplier. What cannot be read stays absent and a
warning says why: a number is never guessed. ``manual_axes`` takes the values at the frame's edges from the user
instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from voltpeak.axes.fit import AxisMap, robust_fit
from voltpeak.axes.frame import Box, Layout, find_frame, inner_layouts, layout
from voltpeak.axes.text import POTENTIAL_UNITS, Title, multiplier_of, parse_number, parse_title

__all__ = ["AxesReading", "AxisReading", "read_axes", "read_file", "manual_axes", "parse_title", "robust_fit",
           "find_frame"]

MAX_POTENTIAL_V = 10.0  # a tick value beyond ±10 V on a potential axis is a misreading
MIN_WINDOW_MV = 5.0  # tick values spanning less than this under a title in mV are volts (no CV sweeps 5 mV)
WEAK = 0.5  # an axis map of lower confidence does not overrule the image model's direction
MIN_AGREEING = 3  # tick labels that must agree on a map (2 when only 2 of at most 3 were read)


@dataclass
class Label:
    text: str
    value: float | None
    box: Box
    confidence: float
    inlier: bool = False

    def to_record(self) -> dict:
        return {"text": self.text, "value": self.value, "box": self.box.to_list(),
                "confidence": round(self.confidence, 3), "inlier": self.inlier}


@dataclass
class AxisReading:
    """One axis as read: ``map`` gives printed values from pixels; ``factor`` turns printed values into SI (V, A,
    or A/m² for a current density); either may be None when it could not be read."""

    axis: str  # "x" or "y"
    labels: list[Label] = field(default_factory=list)
    map: AxisMap | None = None
    scale: str = "linear"  # or "log"
    title: Title | None = None
    factor: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def quantity(self) -> str | None:
        return self.title.quantity if self.title else ("E" if self.axis == "x" else None)

    @property
    def unit(self) -> str | None:
        return self.title.unit if self.title else None

    @property
    def confidence(self) -> float:
        """How far the map can be trusted, 0–1: the share of agreement (two labels on it: 1/3, three: 2/3, four or
        more: 1) times the OCR confidence of those labels, or more where many agree (six or more: 1); 0 without a
        map, 1 for a map given by hand."""
        if self.map is None:
            return 0.0
        if not self.labels:  # given by hand (``manual_axes``)
            return 1.0
        agreeing = [lab.confidence for lab in self.labels if lab.inlier]
        if not agreeing:
            return 0.0
        n = len(agreeing)
        # Many labels on one straight line are their own evidence, whatever the OCR engine's scores say.
        return min(1.0, (n - 1) / 3) * max(float(np.mean(agreeing)), min(1.0, (n - 2) / 4))

    @property
    def weak(self) -> bool:
        """A map on weak evidence (``confidence`` under ``WEAK``): it may give values, never overrule the plot's
        direction as the image model sees it."""
        return self.confidence < WEAK

    def si(self, pixel: float) -> float | None:
        """The SI value (V, A or A/m²) at an image pixel coordinate, or None when the axis was not read."""
        if self.map is None or self.factor is None or self.scale != "linear":
            return None
        return float(self.map.value(pixel)) * self.factor

    def to_record(self) -> dict:
        t = self.title
        return {"quantity": self.quantity, "unit": self.unit, "reference": t.reference if t else None,
                "confidence": round(self.confidence, 3), "negated": bool(t and t.negated),
                "title": t.text if t else None, "scale": self.scale, "factor_to_si": self.factor,
                "map": None if self.map is None else {"offset": self.map.offset, "slope": self.map.slope,
                                                      "residual_px": round(self.map.residual_px, 3)},
                "labels": [lab.to_record() for lab in self.labels]}


@dataclass
class AxesReading:
    """Both axes of one image (pixels ``width`` × ``height``), the frame, and why anything is missing."""

    width: int
    height: int
    frame: Box | None
    x: AxisReading
    y: AxisReading
    source: str = "read"  # or "manual"

    @property
    def warnings(self) -> list[str]:
        return ([] if self.frame else ["no plot frame found"]) + self.x.warnings + self.y.warnings

    @property
    def reversed(self) -> bool | None:
        """Whether potential decreases to the right (the US convention), or None when the x axis was not read."""
        return None if self.x.map is None else self.x.map.slope < 0

    @property
    def up_is_cathodic(self) -> bool | None:
        """Whether a peak pointing up on the image is cathodic, as the axes say (potential decreasing to the right,
        or a y title of minus the current, and not both); None where the x map is missing or weak."""
        if self.x.map is None or self.x.weak:
            return None
        return (self.x.map.slope < 0) != bool(self.y.title and self.y.title.negated)

    @property
    def quantity(self) -> str:
        return "j" if self.y.quantity == "j" else "I"

    def potential_V(self, x_fraction: float) -> float | None:
        return self.x.si(x_fraction * self.width)

    def current(self, y_fraction: float) -> float | None:
        return self.y.si(y_fraction * self.height)

    def to_record(self) -> dict:
        return {"source": self.source, "frame": None if self.frame is None else self.frame.to_list(),
                "reversed": self.reversed, "x": self.x.to_record(), "y": self.y.to_record()}


def _minus_first(mask: np.ndarray) -> bool:
    """Whether a label's ink (H, W bool) starts with a minus sign: a flat bar at mid-height, at least 1.5 times as
    long as thick, before more ink (touching it or not)."""
    cols = np.flatnonzero(mask.any(axis=0))
    if len(cols) < 3:
        return False
    full = mask.shape[0]
    bar = None  # the rows of the bar, the same in each of its columns
    length = 0
    for c in range(cols[0], cols[-1] + 1):
        rows = np.flatnonzero(mask[:, c])
        if len(rows) == 0:
            if length:  # a blank column ends the bar
                break
            continue
        if bar is None and rows[-1] - rows[0] < max(2, 0.3 * full):
            bar = (rows[0], rows[-1])
        if bar is None or rows[0] < bar[0] or rows[-1] > bar[1]:
            break
        length += 1
    else:
        return False  # nothing after the bar
    if bar is None:
        return False
    thick = bar[1] - bar[0] + 1
    # Mid-height: a serif 1's flag (upper quarter) and foot (bottom) are not minus signs.
    return bool(length >= 1.5 * thick and bar[0] >= 0.3 * full and bar[1] < 0.8 * full
                and length < 0.6 * (cols[-1] - cols[0] + 1))


def _read_labels(grey: np.ndarray, ink: np.ndarray, boxes: list[Box], reader, again: bool = False,
                 turn: int = 0) -> list[Label]:
    """Each box's number (``turn``: quarter turns of the crops first, -1 for labels written bottom to top)."""
    boxes = [b for b in boxes if min(b.width, b.height) >= 2 and max(b.width, b.height) >= 4]
    crops = [np.rot90(grey[max(0, b.y0 - 1):b.y1 + 1, max(0, b.x0 - 1):b.x1 + 1], turn) for b in boxes]
    found = reader.numbers_again(crops) if again else [reader.number(c) for c in crops]
    labels = []
    for b, (text, conf) in zip(boxes, found):
        value = parse_number(text)
        if value is not None and value > 0 and _minus_first(np.rot90(ink[b.y0:b.y1, b.x0:b.x1], turn)):
            value = -value  # OCR often drops U+2212; the bar is plain in the pixels
        labels.append(Label(text, value, b, conf))
    return labels


def _read_axis(reading: AxisReading, boxes: list[Box], grey, ink, reader, glyph: float) -> None:
    """Tick labels read and fitted (``glyph``: the height of a line of label text, px). Where they disagree, other
    readings are tried and the one that agrees best kept: "m×10ⁿ" with negative exponents (kept on a tie: no CV's
    axis counts in 10⁵ A), y labels turned the other way, and a second OCR engine.

    y labels written along the axis (R's default) are read after a quarter turn: their boxes are a glyph wide, where
    labels lying flat are a glyph tall."""
    centre = (lambda b: b.cx) if reading.axis == "x" else (lambda b: b.cy)
    along = reading.axis == "y" and bool(boxes) and (np.median([abs(b.width - glyph) for b in boxes])
                                                     < np.median([abs(b.height - glyph) for b in boxes]))
    turn = -1 if along else 0
    reading.labels = _read_labels(grey, ink, boxes, reader, turn=turn)
    _fit_axis(reading, centre)
    # (the turn a reading was made at, None: whichever is kept by then; how to make it)
    tries = [(turn, lambda: _exponents_negated(reading.labels))]
    if reading.axis == "y":
        tries.append((-1 - turn, lambda: _read_labels(grey, ink, boxes, reader, turn=-1 - turn)))
    tries.append((None, lambda: _read_labels(grey, ink, boxes, reader, again=True, turn=turn)))
    for k, (turned, again) in enumerate(tries):
        agreeing = len(reading.map.inliers) if reading.map else 0
        if k and agreeing >= len(reading.labels) - 1:
            return
        labels = again()
        if labels is None:
            continue
        second = AxisReading(reading.axis, labels)
        _fit_axis(second, centre)
        if second.map is not None and len(second.map.inliers) + (k == 0) > agreeing:
            reading.labels, reading.map, reading.scale, reading.warnings = (second.labels, second.map, second.scale,
                                                                            second.warnings)
            turn = turn if turned is None else turned


def _exponents_negated(labels: list[Label]) -> list[Label] | None:
    """The labels with each "m×10ⁿ" read as m×10⁻ⁿ (a superscript minus is small; OCR loses it, as in gnuplot's
    "1×10⁻⁵" read "1x105"); None when no label has such a form."""
    import re

    out, changed = [], False
    for lab in labels:
        m = re.match(r"^(.*[×xX*]10\^?)(\d{1,2})$", lab.text.replace(" ", ""))
        value = parse_number(f"{m.group(1)}-{m.group(2)}") if m and lab.value is not None else None
        if value is None:
            out.append(Label(lab.text, lab.value, lab.box, lab.confidence))
            continue
        changed = True
        out.append(Label(lab.text, float(np.copysign(value, lab.value)), lab.box, lab.confidence))
    return out if changed else None


def _fit_axis(reading: AxisReading, centre) -> None:
    read = [lab for lab in reading.labels if lab.value is not None]
    m = robust_fit([centre(lab.box) for lab in read], [lab.value for lab in read]) if len(read) >= 2 else None
    # Two labels may make a map where no more were found (R draws three or four); two of many agree by chance.
    need = 2 if len(read) == 2 and len(reading.labels) <= 3 else MIN_AGREEING
    if m is not None and len(m.inliers) >= need:
        for k in m.inliers:
            read[k].inlier = True
        reading.map = m
    elif _is_log(reading.labels):
        reading.scale = "log"
        reading.warnings.append(f"{reading.axis} axis: logarithmic; its values are not given")
    elif len(read) < 2:
        reading.warnings.append(f"{reading.axis} axis: fewer than two tick labels could be read")
    else:
        reading.warnings.append(f"{reading.axis} axis: the tick labels read do not agree on a linear scale")


def _is_log(labels: list[Label]) -> bool:
    """Tick labels of a log axis: powers of ten drawn as 10 with a raised exponent, which OCR reads as "10-5",
    "105" or "6x107" (minor labels), on at least two labels that do not fit a linear scale."""
    import re

    powers = [lab for lab in labels if re.search(r"(^|[x×])10[-−]?\d", lab.text.replace(" ", ""))]
    return len(powers) >= 2 and len(powers) >= len(labels) / 2


def read_axes(image, reader=None) -> AxesReading:
    """Read both axes of a plot image (a PIL image or an (H, W, 3) uint8 array): around its frame, or, where no
    potential axis is read there, along axes that cross inside the plot (``inner_layouts``)."""
    from voltpeak.axes import ocr
    from voltpeak.image import for_reading

    rgb = np.asarray(for_reading(image)) if hasattr(image, "convert") else np.asarray(image)
    height, width = rgb.shape[:2]
    lay = layout(rgb)
    reader = reader or ocr.reader()
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    reading = None
    if lay is not None:
        reading = _read_layout(lay, grey, reader, width, height)
        if reading.x.map is not None:
            return reading
    for inner in inner_layouts(rgb)[:3]:
        second = _read_layout(inner, grey, reader, width, height)
        if second.x.map is not None:
            return second
    if reading is None:
        x, y = AxisReading("x"), AxisReading("y")
        x.warnings.append("x axis: not read (no plot frame found)")
        y.warnings.append("y axis: not read (no plot frame found)")
        reading = AxesReading(width, height, None, x, y)
    return reading


def _read_layout(lay: Layout, grey: np.ndarray, reader, width: int, height: int) -> AxesReading:
    """Both axes read from one layout's label and title boxes."""
    x, y = AxisReading("x"), AxisReading("y")
    if lay.background.mean() < 128:  # a dark theme: ink light on dark
        grey = 255 - grey
    _read_axis(x, lay.x_labels, grey, lay.ink, reader, lay.glyph)
    _read_axis(y, lay.y_labels, grey, lay.ink, reader, lay.glyph)
    _read_title(x, lay.x_title, grey, reader, rotate=False)
    _read_title(y, lay.y_title, grey, reader, rotate=True)
    _offset_text(y, lay, grey, reader)
    _units(x)
    _units(y)
    return AxesReading(width, height, lay.frame, x, y)


def read_file(path: str, threads: int | None = None) -> AxesReading | None:
    """``read_axes`` of an image file, OCR on ``threads`` threads (None: all cores); None when the file cannot be
    opened (the caller reports that)."""
    from PIL import Image, UnidentifiedImageError

    from voltpeak.axes import ocr

    try:
        with Image.open(path) as im:
            return read_axes(im, ocr.reader(threads))  # read as a viewer shows it (``read_axes``)
    except (OSError, UnidentifiedImageError):
        return None


def _read_title(reading: AxisReading, box: Box | None, grey: np.ndarray, reader, rotate: bool) -> None:
    if box is None:
        return
    crop = grey[max(0, box.y0 - 1):box.y1 + 1, max(0, box.x0 - 1):box.x1 + 1]
    # A y title reads bottom to top: a quarter turn clockwise makes it a line (the other turn where that one
    # gives no unit: some programs write it top to bottom).
    best = None
    for k in ((-1, 1) if rotate else (0,)):
        line = np.rot90(crop, k=k)
        text, conf = reader.text(line)
        title = parse_title(text, reading.axis)
        if reading.axis == "y" and (title.unit in (None, "A") or title.unit.startswith("µ")):
            # RapidOCR now and then drops a µ ("I/A", "<I>/LA"), or reads a small serif p as µ; Tesseract's
            # letter there (p, y, U...) is checked by its glyph: a p closes its bowl, a µ does not.
            text, symbols, _ = reader.symbols(line)
            second = parse_title(_micro(text, symbols), "y")
            if title.unit in (None, "A") and second.unit not in (None, "A"):
                title = second
            elif title.unit and title.unit.startswith("µ") and (second.unit or "").startswith("p"):
                title.unit, title.factor = "p" + title.unit[1:], title.factor and title.factor * 1e-6
        key = (title.unit is not None, conf)
        if best is None or key > best[0]:
            best = (key, title)
        if title.unit is not None:
            break
    reading.title = best[1]


def _micro(text: str, symbols: list[tuple[str, np.ndarray]]) -> str:
    """``text`` with a µ that OCR read as p, y, u, w or W put right (``symbols``: its characters, spaces
    aside, with their glyphs). A true p before A (pA) closes its bowl, a µ does not: the glyph's hole decides."""
    chars = [c for c, _ in symbols]
    for i in range(len(chars) - 1):
        nxt = chars[i + 1] if chars[i + 1] != "a" or i + 2 >= len(chars) else chars[i + 2]
        if nxt == "A" and chars[i] in "pyuwWµμ" and not (chars[i] == "p" and _has_hole(symbols[i][1])):
            chars[i] = "µ"
            if chars[i + 1] == "a":  # "paA": the µ's two strokes read as two letters
                chars[i + 1] = ""
    fixed, out = iter(chars), []
    for c in text:  # the corrected characters back into the text with its spaces
        out.append(c if c.isspace() else next(fixed, c))
    return "".join(out)


def _has_hole(glyph: np.ndarray) -> bool:
    """Whether a glyph (grey, ink dark) encloses background: a bowl, as in p."""
    from scipy import ndimage

    if glyph.size == 0:
        return False
    paper = np.pad(glyph > 200, 1, constant_values=True)  # faint thin strokes (a serif bowl) count as ink
    labels, count = ndimage.label(paper)
    return count > 1


def _offset_text(reading: AxisReading, lay: Layout, grey: np.ndarray, reader) -> None:
    """A multiplier printed above the y axis (matplotlib's "1e−5", "×10⁻⁵") scales every tick label."""
    box = lay.y_offset
    if box is None or box.height > 3 * max((b.height for b in lay.y_labels), default=12):
        return
    text, _ = reader.text(grey[max(0, box.y0 - 1):box.y1 + 1, max(0, box.x0 - 1):box.x1 + 1])
    m = multiplier_of(text)
    if m is not None and reading.title is not None:
        reading.title.multiplier *= m
        if reading.title.factor is not None:
            reading.title.factor *= m
    elif m is not None:
        reading.warnings.append(f"y axis: a multiplier {text!r} was read but no unit")


def _units(reading: AxisReading) -> None:
    """The SI factor: from the title; for potentials without a readable unit, V or mV from the tick values
    (a CV window in volts lies within ±5 V; hundreds mean mV) with a warning. Potentials beyond ±10 V are a
    misreading: the map is dropped."""
    if reading.map is None:
        return
    values = [lab.value for lab in reading.labels if lab.inlier]
    largest = max(abs(v) for v in values)
    if reading.axis == "x" and reading.title is not None and reading.title.unit == "mV" and \
            max(values) - min(values) < MIN_WINDOW_MV:
        # Ticks 0.1 apart under a title in mV: no CV sweeps a few mV; the title's unit is a slip for V.
        reading.title.unit, reading.title.factor = "V", POTENTIAL_UNITS["V"]
        reading.warnings.append(f"x axis: the title says mV, but the ticks span {max(values) - min(values):g}; "
                                "read as V")
    if reading.title is not None and reading.title.factor is not None:
        reading.factor = reading.title.factor
    elif reading.axis == "x":
        unit = "mV" if largest > 5 else "V"
        reading.factor = POTENTIAL_UNITS[unit]
        if reading.title is None:
            reading.title = Title("", "E", unit, reading.factor, None)
        else:
            reading.title.unit, reading.title.factor = unit, reading.factor
        reading.warnings.append(f"x axis: no unit read; {unit} inferred from the tick values")
    else:
        reading.warnings.append("y axis: the current unit could not be read; currents are not given")
    if reading.axis == "x" and largest * reading.factor > MAX_POTENTIAL_V:
        # Pieces of overlapping labels can agree on a line of their own ("50", "40"... read from "0.50.40").
        reading.warnings.append(f"x axis: tick values up to {largest:g} {reading.unit} are no CV's potentials; "
                                "not used")
        reading.map = None


def manual_axes(width: int, height: int, frame: Box | None, x: tuple[float, float, str] | None,
                y: tuple[float, float, str] | None) -> AxesReading:
    """Axes given by hand: the values at the frame's left and right edges (x) and bottom and top edges (y), each
    with its unit ("V", "mV", "µA", "mA cm-2"...). Without a frame found, the image's own edges are used."""
    frame_box = frame or Box(0, 0, width, height)
    readings = []
    for axis, given in (("x", x), ("y", y)):
        r = AxisReading(axis)
        if given is not None:
            lo, hi, unit = given
            title = parse_title(f"({unit})" if axis == "y" else f"E ({unit})", axis)
            a, b = (frame_box.x0, frame_box.x1) if axis == "x" else (frame_box.y1, frame_box.y0)
            slope = (hi - lo) / (b - a)
            r.map = AxisMap(lo - slope * a, slope, [], 0.0)
            r.title, r.factor = title, title.factor
            if title.factor is None:
                r.warnings.append(f"{axis} axis: unit {unit!r} not understood")
        readings.append(r)
    reading = AxesReading(width, height, frame, readings[0], readings[1], source="manual")
    if frame is None:
        reading.x.warnings.append("no plot frame found: the given values are taken at the image's edges")
    return reading
