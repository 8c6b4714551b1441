"""Where a plot's frame, tick labels and axis titles lie in the image: plain array work, no OCR.

The frame is the rectangle the data are drawn in. It is found from long lines (spines, grid lines, the edges of a
filled panel as ggplot2 or plotly draw it): rows and columns where at least ``LINE_FRACTION`` of the pixels differ
from the background. The bottom edge is the lowest such row, the left edge the leftmost such column; the other two
edges are where those lines end. Tick labels are the first band of ink outside the bottom and left edges (after
the tick marks), axis titles the next band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LINE_FRACTION = 0.4  # of the image width (height) a row (column) must cover to be a spine, grid line or panel edge
TICK_FRACTION = 0.004  # of the image width: the thickest tick mark (3 px below 1,000 px wide, 6 px at 1,600)
MIN_INK_PX = 6  # a band of fewer ink pixels is specks (the faint ends of tick marks), not text
INK_CONTRAST = 90  # a pixel is ink when a channel differs from the background by more than this (0–255), or
# by more than half the text's own contrast where that is lower


@dataclass
class Box:
    """A rectangle in pixels: columns [x0, x1), rows [y0, y1) from the top-left corner."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def to_list(self) -> list[int]:
        return [int(self.x0), int(self.y0), int(self.x1), int(self.y1)]


@dataclass
class Layout:
    """What lies around a plot's frame: the frame, each tick label's ink box, and each axis title's box."""

    frame: Box
    x_labels: list[Box]
    y_labels: list[Box]
    x_title: Box | None
    y_title: Box | None
    y_offset: Box | None  # a multiplier or offset text above the frame's top-left corner (matplotlib's "1e−5")
    glyph: int  # the height of the x labels' text (px; 10 without x labels)
    background: np.ndarray  # RGB
    ink: np.ndarray  # (H, W) bool: text and lines


def background(rgb: np.ndarray) -> np.ndarray:
    """The background colour: the most common colour of the image's border pixels."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int32)
    keys = (border[:, 0] << 16) | (border[:, 1] << 8) | border[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    key = int(values[np.argmax(counts)])
    return np.array([key >> 16, (key >> 8) & 255, key & 255], dtype=np.int32)


def contrast(rgb: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """(H, W) uint8: how far each pixel is from the background colour (largest channel difference)."""
    out = np.zeros(rgb.shape[:2], dtype=np.uint8)
    for c in range(3):  # channel by channel in uint8: 3× faster than one int16 array
        channel = rgb[:, :, c]
        level = np.uint8(bg[c])
        np.maximum(out, np.maximum(channel, level) - np.minimum(channel, level), out=out)
    return out


def find_frame(rgb: np.ndarray, distance: np.ndarray | None = None) -> Box | None:
    """The plot's frame (the rectangle of the data), or None when no long lines frame a plot. ``distance`` is
    ``contrast(rgb, background(rgb))`` when the caller has it.

    Rows (columns) count as frame lines where an unbroken run of non-background pixels covers ``LINE_FRACTION``
    of the width (height): spines and solid grid lines, not a rotated axis title, whose glyphs leave gaps. A filled
    panel (ggplot2, plotly, Solarized) counts by its colour: rows where that one colour covers as much.
    """
    if distance is None:
        distance = contrast(rgb, background(rgb))
    height, width = distance.shape
    non_bg = distance > 12
    rows = _longest_run(non_bg) >= LINE_FRACTION * width
    cols = _longest_run(non_bg.T) >= LINE_FRACTION * height
    panel = _panel(rgb, non_bg)
    if panel is not None:
        rows |= panel.sum(axis=1) >= LINE_FRACTION * width
        cols |= panel.sum(axis=0) >= LINE_FRACTION * height
        non_bg = non_bg | panel
    rows, cols = np.flatnonzero(rows), np.flatnonzero(cols)
    if len(rows) == 0 or len(cols) == 0:
        return None
    bottom, left = int(rows[-1]), int(cols[0])
    x0, x1 = _run(non_bg[bottom], left)
    y0, y1 = _run(non_bg[:, left], bottom)
    # Beyond the lowest and the leftmost line only a line longer than a tick mark is frame: the grid of a plot
    # without spines runs on to the frame's edge; a tick mark or a label centred on the corner must not count.
    y1 = bottom + 1 + _beyond(non_bg[bottom + 1:, left], bottom - y0)
    x0 = left - _beyond(non_bg[bottom, :left][::-1], x1 - left)
    if panel is not None:
        # The panel is the frame where its rectangle reaches further than the runs along its edges, which white
        # grid or zero lines thicker than a run's bridged gap cut short (plotly's default at 2×).
        pc = np.flatnonzero(panel.sum(axis=0) >= LINE_FRACTION * height)
        pr = np.flatnonzero(panel.sum(axis=1) >= LINE_FRACTION * width)
        # Only a panel with room for tick labels left of and below it: a page's backdrop reaching the image's
        # edges (a web page screenshot) is no plot.
        inset = len(pc) and len(pr) and pc[0] > 0.03 * width and pr[-1] + 1 < 0.97 * height
        if inset and (pc[-1] + 1 - pc[0]) * (pr[-1] + 1 - pr[0]) > (x1 - x0) * (y1 - y0):
            x0, x1, y0, y1 = int(pc[0]), int(pc[-1]) + 1, int(pr[0]), int(pr[-1]) + 1
    if x1 - x0 < LINE_FRACTION * width or y1 - y0 < LINE_FRACTION * height:
        return None
    return Box(x0, y0, x1, y1)


def _beyond(line: np.ndarray, extent: int) -> int:
    """How far an unbroken line runs on from ``line[0]``, where that is longer than a tick mark: over 8 px and
    3 % of the frame's ``extent`` (px); else 0."""
    stop = np.flatnonzero(~line)
    length = int(stop[0]) if len(stop) else len(line)
    return length if length > max(8, 0.03 * extent) else 0


def _longest_run(mask: np.ndarray) -> np.ndarray:
    """Per row, the length of the longest run of True."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    rows, cols = np.nonzero(np.diff(padded, axis=1))
    lengths = cols[1::2] - cols[::2]  # starts and ends alternate within each row
    out = np.zeros(mask.shape[0], dtype=np.int64)
    np.maximum.at(out, rows[::2], lengths)
    return out


def _panel(rgb: np.ndarray, non_bg: np.ndarray) -> np.ndarray | None:
    """Pixels of a filled plot panel: the commonest non-background colour, where it covers over 15 % of the
    image; else None."""
    sample = rgb[::4, ::4][non_bg[::4, ::4]].astype(np.int32)
    if len(sample) < 0.15 * non_bg[::4, ::4].size:
        return None
    keys = (sample[:, 0] << 16) | (sample[:, 1] << 8) | sample[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    if counts.max() < 0.15 * non_bg[::4, ::4].size:
        return None
    key = int(values[np.argmax(counts)])
    colour = np.array([key >> 16, (key >> 8) & 255, key & 255], dtype=np.int16)
    return np.abs(rgb.astype(np.int16) - colour).max(axis=2) <= 3


def _run(line: np.ndarray, near: int, gap: int = 3) -> tuple[int, int]:
    """The longest run of True in ``line`` (gaps up to ``gap`` bridged) that reaches within ``gap`` of ``near``;
    [start, end) — a spine's extent, through the tick marks and grid lines that cross it."""
    idx = np.flatnonzero(line)
    if len(idx) == 0:
        return 0, 0
    breaks = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    best = max(range(len(starts)), key=lambda k: (starts[k] - gap <= near < ends[k] + gap, ends[k] - starts[k]))
    return int(starts[best]), int(ends[best])


def _bands(profile: np.ndarray) -> list[tuple[int, int]]:
    """Runs [start, end) of non-zero entries."""
    on = np.concatenate([[0], (profile > 0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(on))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _split(profile: np.ndarray, min_gap: int) -> list[tuple[int, int]]:
    """Runs of ink along one direction, joined across gaps shorter than ``min_gap`` (the gaps between glyphs of
    one label are shorter than those between labels)."""
    runs = _bands(profile)
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] < min_gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _labels_in_row(profile: np.ndarray, height: int, gap: int | None = None) -> list[tuple[int, int]]:
    """Tick labels along a row of ink (``profile``: ink per column; ``height``: the row's, px): runs joined
    across gaps under 0.9 glyph heights. Crowded labels leave narrower gaps: a run wider than 5 glyph heights (no
    one label is) is split again at a gap 1 px narrower, down to 2 px, until each piece is not."""
    gap = max(3, int(0.9 * height)) if gap is None else gap
    out = []
    for c0, c1 in _split(profile, gap):
        if c1 - c0 > 5 * height and gap > 2:
            out += [(c0 + s, c0 + e) for s, e in _labels_in_row(profile[c0:c1], height, gap - 1)]
        else:
            out.append((c0, c1))
    return out


def _row_labels(strip: np.ndarray, row0: int, col0: int) -> list[Box]:
    """The boxes of the tick labels in ``strip`` (a band of ink lying along an x axis, its first row at image row
    ``row0`` and first column at ``col0``), as ``_labels_in_row`` parts them."""
    boxes = []
    for c0, c1 in _labels_in_row(strip.sum(axis=0), strip.shape[0]):
        rows = np.flatnonzero(strip[:, c0:c1].any(axis=1))
        boxes.append(Box(col0 + c0, row0 + int(rows[0]), col0 + c1, row0 + int(rows[-1]) + 1))
    return boxes


def _drop_ticks(mask: np.ndarray, axis: str, thickest: int = 3) -> np.ndarray:
    """``mask`` without tick marks: thin pieces of ink that reach the spine (the mask's top row for the x axis, its
    right column for the y axis): at most 3 px thick, or ``thickest`` (px) where they are long or squat. Labels keep
    a gap from the spine."""
    from scipy import ndimage

    if mask.size == 0:
        return mask
    labels, _ = ndimage.label(mask)
    out = mask.copy()
    for k, (rows, cols) in enumerate(ndimage.find_objects(labels), 1):
        thick = cols.stop - cols.start if axis == "x" else rows.stop - rows.start
        length = rows.stop - rows.start if axis == "x" else cols.stop - cols.start
        touches = rows.start <= 3 if axis == "x" else cols.stop >= mask.shape[1] - 3
        # High-resolution exports draw ticks thicker (``thickest``), long (major) or squat (minor ticks); a label
        # that close to the spine is neither.
        if touches and (thick <= 3 or (thick <= thickest and (length >= 2 * thick or length <= 1.5 * thick))):
            out[rows, cols] &= labels[rows, cols] != k
    return out


def layout(rgb: np.ndarray, frame: Box | None = None) -> Layout | None:
    """The frame, tick label boxes and title boxes of a plot image (H, W, 3 uint8), or None without a frame."""
    bg = background(rgb)
    distance = contrast(rgb, bg)
    frame = frame or find_frame(rgb, distance)
    if frame is None:
        return None
    # Grey text on a tinted page (Solarized) reaches only ~150 from the background: ink is then half the text's
    # contrast, or thin strokes (a minus, a decimal point) vanish and labels fall apart.
    outside = np.concatenate([distance[frame.y1 + 2:].ravel(), distance[:, :max(0, frame.x0 - 2)].ravel()])
    text = outside[outside > 12]
    ink = distance > (min(INK_CONTRAST, 0.45 * np.percentile(text, 99)) if text.size else INK_CONTRAST)
    height, width = ink.shape
    # Below the frame: tick marks, then the labels, then the title. Tick labels at the frame's ends may overhang
    # its corners by half a label.
    reach = max(8, frame.width // 10)
    xa, xb = max(0, frame.x0 - reach), min(width, frame.x1 + reach)
    below = ink[frame.y1 + 1:, xa:xb].copy()
    below[:, :max(0, frame.x0 - 2 - xa)] &= False  # the y labels' column left of the frame is not the x axis's
    thickest = max(3, int(TICK_FRACTION * width))
    below = _drop_ticks(below, "x", thickest)
    x_labels, x_title = [], None
    rows = below.sum(axis=1)
    bands = [(a, b) for a, b in _bands(rows) if rows[a:b].sum() >= MIN_INK_PX]
    if bands:
        a, b = bands[0]
        x_labels = _row_labels(below[a:b], frame.y1 + 1 + a, xa)
        if x_labels:  # the first label's minus may lie left of the frame, in the columns cleared above
            first = x_labels[0]
            row = ink[first.y0:first.y1, :first.x0].any(axis=0)
            while first.x0 > 0 and row[max(0, first.x0 - 3):first.x0].any():
                first.x0 -= 1
        if len(bands) > 1:
            x_title = _ink_box(ink, frame.y1 + 1 + bands[1][0], frame.y1 + 1 + bands[1][1], xa, xb)
    # Left of the frame: tick marks, labels, title (bands found from the frame outwards).
    top = max(0, frame.y0 - reach)
    left = ink[top:min(height, frame.y1 + reach // 2), :max(0, frame.x0 - 1)].copy()
    for b in x_labels:  # an x label overhanging the corner is not a y label
        left[max(0, b.y0 - top):max(0, b.y1 - top), b.x0:b.x1] = False
    left = _drop_ticks(left, "y", thickest)
    glyph = int(np.median([b.height for b in x_labels])) if x_labels else 10
    y_labels, y_title = _y_side(left, top, glyph, ink)
    # Keep the labels that sit beside the frame (not a legend or title that happens to share the strip).
    x_labels = [b for b in x_labels if b.x1 > frame.x0 - reach // 2 and b.x0 < frame.x1 + reach // 2]
    # A tick label is centred on its tick, within the frame's height: the "1" of a "1e−5" above it is not one.
    y_labels = [b for b in y_labels if frame.y0 - glyph // 2 <= b.cy <= frame.y1 + glyph // 2]
    offset = _ink_box(ink, 0, max(0, frame.y0 - 2), max(0, frame.x0 - reach), frame.x0 + frame.width // 6,
                      skip=y_labels)  # the top y label may reach above the frame
    return Layout(frame, x_labels, y_labels, x_title, y_title, offset, glyph, bg, ink)


def _y_side(left: np.ndarray, top: int, glyph: int, ink: np.ndarray) -> tuple[list[Box], Box | None]:
    """The y tick labels' boxes and the y title's box in ``left`` (the ink left of the frame, tick marks dropped,
    its first row at image row ``top``); ``glyph``: the x labels' height (px).

    Glyphs of one label leave blank columns between them: bands join across gaps under half a glyph's height.
    Where that merges the title into the labels (a band over 1.5 glyphs wide with a "label" over 3 glyphs tall, or
    one that does not reach the band's right edge, where every program aligns its y labels), a third of a glyph is
    tried, then the title is set aside first: the columns up to the last where ink runs on over 2.5 glyphs (as a
    rotated line of text does and a tick label lying flat does not), and 2 px more. R's labels almost touch its
    title.
    """
    cut = 0  # columns [0, cut): the title, once set aside
    for gap, set_aside in ((glyph // 2 + 1, False), (glyph // 3 + 1, False), (glyph // 2 + 1, True)):
        mask = left
        if set_aside:  # the last try (rare): only now the columns are measured
            long = np.flatnonzero(_long_runs(left, glyph // 2 + 1, 2.5 * glyph))
            if not len(long):
                break
            cut = int(long[-1]) + 3
            mask = left.copy()
            mask[:, :cut] = False
        profile = mask[:, ::-1].sum(axis=0)
        bands = [(mask.shape[1] - b, mask.shape[1] - a) for a, b in _split(profile, max(3, gap))
                 if profile[a:b].sum() >= MIN_INK_PX]
        labels = []
        if bands:
            a, b = bands[0]
            strip = mask[:, a:b]
            # A band about one glyph wide holds labels written along the axis (R's default) or very short ones:
            # rows join across the gaps between glyphs. Wider labels lie flat: any blank row parts them.
            narrow = b - a <= 1.5 * glyph
            for r0, r1 in _split(strip.sum(axis=1), glyph // 2 + 1 if narrow else 2):
                cols = np.flatnonzero(strip[r0:r1].any(axis=0))
                labels.append(Box(a + int(cols[0]), top + r0, a + int(cols[-1]) + 1, top + r1))
            if narrow or all(box.height <= 3 * glyph and box.x1 >= b - glyph for box in labels):
                break
    if cut:
        return labels, _ink_box(ink, top, top + left.shape[0], 0, cut)
    return labels, (_ink_box(ink, top, top + left.shape[0], bands[1][0], bands[1][1]) if len(bands) > 1 else None)


def _long_runs(mask: np.ndarray, gap: int, length: float) -> np.ndarray:
    """Per column of ``mask``, whether its ink, joined across gaps under ``gap`` rows, runs on over ``length``."""
    out = np.zeros(mask.shape[1], dtype=bool)
    for c in np.flatnonzero(mask.any(axis=0)):
        runs = _split(mask[:, c].astype(np.int8), gap)
        out[c] = max(r1 - r0 for r0, r1 in runs) > length
    return out


def _ink_box(ink: np.ndarray, r0: int, r1: int, c0: int, c1: int, skip: list[Box] = ()) -> Box | None:
    """The bounding box of the ink in a region, boxes ``skip`` left out, or None."""
    region = ink[r0:r1, c0:c1]
    if skip:
        region = region.copy()
        for b in skip:
            region[max(0, b.y0 - r0):max(0, b.y1 - r0), max(0, b.x0 - c0):max(0, b.x1 - c0)] = False
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    if len(rows) == 0:
        return None
    return Box(c0 + int(cols[0]), r0 + int(rows[0]), c0 + int(cols[-1]) + 1, r0 + int(rows[-1]) + 1)


def inner_layouts(rgb: np.ndarray) -> list[Layout]:
    """Layouts of a plot whose axes cross inside it (graphing calculators, spreadsheets, many web plots): the x
    axis a dark line across the plot with its tick labels just below it, the y axis a dark line down it with its
    labels just left of it. One layout per dark line across with labels under it (straight construction lines are
    dark too: the reader keeps the one whose labels read as a scale), most labels first. The frame is the whole
    image."""
    bg = background(rgb)
    distance = contrast(rgb, bg)
    height, width = distance.shape
    dark = distance > 150  # axis lines are drawn darker than the grid
    ink = distance > INK_CONTRAST
    # Grid lines (and the axes) run through the labels' strips: off the ink, so that labels stand apart.
    ink[_longest_run(distance > 12) >= 0.5 * width] = False
    ink[:, _longest_run((distance > 12).T) >= 0.5 * height] = False
    thickest = max(3, int(TICK_FRACTION * width))
    columns = _lines(_longest_run(dark.T) >= 0.5 * height)
    out = []
    for row in _lines(_longest_run(dark) >= 0.5 * width):
        strip = _drop_ticks(ink[row + 2:min(height, row + 2 + 40)].copy(), "x", thickest)
        rows = strip.sum(axis=1)
        bands = [(a, b) for a, b in _bands(rows) if rows[a:b].sum() >= MIN_INK_PX]
        # The labels: the first band of ink under the line, or the second where markers lie on the axis.
        for a, b in [band for band in bands[:2] if band[0] <= 20]:
            lay = _inner(ink, strip, row, a, b, columns, thickest, bg)
            if lay is not None:
                out.append(lay)
    return sorted(out, key=lambda lay: -len(lay.x_labels))


def _inner(ink: np.ndarray, strip: np.ndarray, row: int, a: int, b: int, columns: list[int], thickest: int,
           bg: np.ndarray) -> Layout | None:
    """The layout of an x axis along image row ``row`` with its labels in rows a..b of ``strip`` (the ink under
    it), and the y axis of ``columns`` with the most labels beside it; None with fewer than two x labels."""
    height, width = ink.shape
    x_labels = _row_labels(strip[a:b], row + 2 + a, 0)
    if x_labels:  # not specks of lines crossing the strip, nor a title running through it
        tall = np.median([b.height for b in x_labels])
        x_labels = [b for b in x_labels if 0.6 * tall <= b.height <= 1.5 * tall and b.width <= 6 * tall]
    if len(x_labels) < 2:
        return None
    glyph = int(np.median([b.height for b in x_labels]))
    best_y = None
    for col in columns:
        left = ink[:, :max(0, col - 1)].copy()
        left[:, :max(0, col - 1 - 8 * glyph)] = False  # labels sit beside the line, not across the plot
        for box in x_labels:  # the labels of the x axis (the "0" at the origin among them) are not y labels
            left[box.y0:box.y1, box.x0:box.x1] = False
        left[max(0, row - 1):row + 2] = False
        labels, _ = _y_side(_drop_ticks(left, "y", thickest), 0, glyph, ink)
        labels = [box for box in labels if box.x1 >= col - 1 - 2 * glyph and 0.5 * glyph <= box.height <= 2 * glyph]
        if best_y is None or len(labels) > len(best_y[1]):
            best_y = (col, labels)
    # Titles: at the axis's far end (a calculator's "Potential (V)" above the x axis's right end), or a rotated
    # line along the image's left edge.
    x_title = _ink_box(ink, max(0, row - 3 * glyph), max(0, row - 2), int(0.75 * width), width)
    y_title = _ink_box(ink, 0, height, 0, max(0, best_y[0] - 8 * glyph - 2)) if best_y else None
    return Layout(Box(0, 0, width, height), x_labels, best_y[1] if best_y else [], x_title, y_title, None, glyph,
                  bg, ink)


def _lines(rows: np.ndarray) -> list[int]:
    """The rows (or columns) flagged in ``rows``, one per run of adjacent ones (its last: a thick line's far
    edge)."""
    flagged = np.flatnonzero(rows)
    if len(flagged) == 0:
        return []
    ends = np.flatnonzero(np.diff(flagged) > 1)
    return [int(flagged[k]) for k in np.append(ends, len(flagged) - 1)]
