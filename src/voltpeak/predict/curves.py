"""One peak per curve: a model's candidate peaks checked against the curves drawn, at the image's own resolution.

An image model sees a plot at 256 px and marks one peak where the peaks of neighbouring curves of an overlay lie a
few pixels apart (a scan-rate series, repeated cycles). Here each candidate is looked at again on the full image:

- the plot's line colours are found inside its frame (``find_curves``: the colours most ink pixels share; grid
  lines, text and a legend's sample lines left out);
- each colour's curve is followed as one branch (``traced``: the top-most pixels of that colour for a peak
  pointing up, the bottom-most for one pointing down, tracked along the branch's slope so that a crossing curve or
  the other branch is not followed where this one is hidden);
- every other curve with its own extremum near the candidate, standing out of that curve's own noise, gets its own
  peak, placed on its trace; the candidate itself keeps the model's place (a noisy trace's top pixels wander);
- a candidate with no extremum of its own beside a peak already kept on its curve is a noise wiggle and dropped.

Whether a peak points up is read once per image from the candidates' directions and the branches they lie on
(``up_is_anodic``). Where no curve can be followed (no frame, no line colour there) the candidate stays as the
model gave it. ``sweep_sense`` reads which way the branches were swept from the peaks' shapes, for the direction
checks of ``refine_line``, which ``voltpeak.predict`` runs on every output line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GRID_FRACTION = 0.6  # a colour covering this share of a frame row or column there is a grid line or a spine
MIN_COLOUR_PX = 40  # pixels of one colour for it to count as a curve's
WINDOW = 0.025  # half-width of the columns searched for a curve's extremum at a candidate (frame widths)
OTHERS = 2.0  # other curves' extrema are searched this many windows either side
REACH = 3  # the envelope is followed this many windows either side to measure prominence
NOISE_PROMINENCE = 3.0  # an extremum must stand this many times the curve's noise (px, after smoothing) out
MIN_PROMINENCE_PX = 2.5
ADDED = 2.0  # how many times that a peak of another curve than the candidate's must stand out


@dataclass
class Curves:
    """Per line colour of a plot, the mask of its pixels inside the frame (frame coordinates), and what follows
    from it."""

    x0: int
    y0: int
    masks: list[np.ndarray]  # K × (H, W) bool
    edges: dict = field(init=False, repr=False)  # (colour, up) → per column its top- (up) or bottom-most row, or NaN
    noise_px: list[float] = field(init=False)  # per colour: scatter of its top edge about a smooth line (px)

    def __post_init__(self):
        self.edges = {(k, up): envelope(mask, 0, mask.shape[1], up) for k, mask in enumerate(self.masks)
                      for up in (True, False)}
        self.noise_px = [_noise(self.edges[k, True]) for k in range(len(self.masks))]


def find_curves(rgb: np.ndarray, frame, background: np.ndarray) -> Curves | None:
    """The curves drawn inside ``frame`` (a Box) of an RGB image, by colour; None when none can be found."""
    inset = 3  # off the spines and the tick marks drawn inward
    x0, y0 = frame.x0 + inset, frame.y0 + inset
    area = rgb[y0:frame.y1 - inset, x0:frame.x1 - inset].astype(np.int16)
    if area.shape[0] < 20 or area.shape[1] < 20:
        return None
    far = np.abs(area - background[None, None, :].astype(np.int16)).max(axis=2)
    ink = far > 60
    # Grid lines and spines: rows and columns mostly covered by ink.
    ink[ink.mean(axis=1) > GRID_FRACTION] = False
    ink[:, ink.mean(axis=0) > GRID_FRACTION] = False
    if ink.sum() < MIN_COLOUR_PX:
        return None
    rows, cols = np.nonzero(ink)
    pixels = area[rows, cols]
    # Line colours are the colours most pixels share (a line's core); anti-aliased edges spread over many.
    quantised = (pixels // 8).astype(np.int32)
    keys = (quantised[:, 0] << 10) | (quantised[:, 1] << 5) | quantised[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    order = np.argsort(-counts)
    centres: list[np.ndarray] = []
    for key, count in zip(values[order], counts[order]):
        if count < MIN_COLOUR_PX:
            break
        colour = np.array([(key >> 10) & 31, (key >> 5) & 31, key & 31]) * 8 + 4
        if all(np.abs(colour - c).max() > 24 and not _blend(colour, c, background) for c in centres):
            centres.append(colour)
        if len(centres) == 16:
            break
    if not centres:
        return None
    centres_arr = np.array(centres, dtype=np.int16)
    distance = np.abs(pixels[:, None, :] - centres_arr[None]).max(axis=2)  # (N, K)
    nearest = distance.argmin(axis=1)
    reach = np.maximum(20, 0.3 * np.abs(centres_arr - background).max(axis=1))
    close = distance[np.arange(len(nearest)), nearest] <= reach[nearest]
    masks = []
    for k in range(len(centres)):
        pick = close & (nearest == k)
        mask = np.zeros(ink.shape, dtype=bool)
        mask[rows[pick], cols[pick]] = True
        mask = _main_trace(mask)
        if mask.sum() >= MIN_COLOUR_PX and _curve_like(mask):
            masks.append(mask)
    return Curves(x0, y0, masks) if masks else None


def _blend(colour: np.ndarray, line: np.ndarray, background: np.ndarray) -> bool:
    """Whether ``colour`` is ``line`` faded towards the background (an anti-aliased edge of that line)."""
    direction = line - background
    norm = float(direction @ direction)
    if norm == 0:
        return False
    t = float((colour - background) @ direction) / norm
    return 0.15 < t < 0.95 and np.abs(background + t * direction - colour).max() < 16


def _main_trace(mask: np.ndarray) -> np.ndarray:
    """The mask without small pieces far from the main trace: a legend's sample line, text of that colour.
    Pieces are joined across small gaps first (dashes, markers, a crossing curve): on a grid of 4 × 4 px
    blocks, where blocks touching at a corner are one piece."""
    from scipy import ndimage

    h, w = mask.shape
    blocks = np.pad(mask, ((0, -h % 4), (0, -w % 4))).reshape((h + 3) // 4, 4, (w + 3) // 4, 4).any(axis=(1, 3))
    labels, count = ndimage.label(blocks, structure=np.ones((3, 3)))
    if count <= 1:
        return mask
    index = np.arange(1, count + 1)
    sizes = ndimage.sum(blocks, labels, index=index)
    spans = np.array([s[1].stop - s[1].start for s in ndimage.find_objects(labels)])
    keep = np.zeros(count + 1, dtype=bool)
    keep[index[(spans >= 0.25 * spans.max()) | (sizes >= 0.25 * sizes.max())]] = True
    full = np.repeat(np.repeat(keep[labels], 4, axis=0), 4, axis=1)[:h, :w]
    return mask & full


def _curve_like(mask: np.ndarray) -> bool:
    """Whether a colour's pixels draw a curve across the plot: not grid lines (dashed ones escape the grid test:
    most of their pixels lie in a few rows or columns they cover a quarter of), not text (many short strokes
    in each column), and reaching across a fifth of the frame."""
    h, w = mask.shape
    total = mask.sum()
    rows, cols = mask.sum(axis=1), mask.sum(axis=0)
    on_lines = rows[rows > 0.25 * w].sum() + cols[cols > 0.25 * h].sum()
    used = np.flatnonzero(cols)
    if on_lines > 0.5 * total or used[-1] - used[0] < 0.2 * w:
        return False
    starts = (mask & ~np.vstack([np.zeros((1, w), bool), mask[:-1]])).sum(axis=0)
    return float(np.median(starts[used])) <= 4


def _noise(edge: np.ndarray) -> float:
    """Scatter (px) of a colour's top edge (``Curves.edges``, NaN where empty) about its 9-column running median,
    over the columns it has: the curve's own noise."""
    from scipy import ndimage

    top = edge[np.isfinite(edge)]
    if len(top) < 20:
        return 1.0
    smooth = ndimage.median_filter(top, size=9, mode="nearest")
    jumps = np.abs(top - smooth)
    return float(max(0.5, 1.4826 * np.median(jumps)))


def envelope(mask: np.ndarray, a: int, b: int, up: bool) -> np.ndarray:
    """Per column a..b-1 the top-most (``up``) or bottom-most row of the mask, NaN where the column is empty."""
    part = mask[:, a:b]
    has = part.any(axis=0)
    rows = part.argmax(axis=0) if up else part.shape[0] - 1 - part[::-1].argmax(axis=0)
    out = rows.astype(float)
    out[~has] = np.nan
    return out


def traced(mask: np.ndarray, a: int, b: int, up: bool, start: int, row: float | None) -> np.ndarray:
    """One branch of a curve through columns a..b-1, followed from column ``start`` (of the slice) outwards: in
    each column the edge (top for ``up``, else bottom) of the run of pixels nearest where the branch is heading
    (its last row plus its last slope) or where it was (it turns at an extremum); NaN where no run lies within 4 px
    plus the slope of those (the branch hidden under another curve: not the other branch, nor a crossing curve of a
    like colour). ``row``: where to start (None: the extreme run at the first column that has one)."""
    part = mask[:, a:b]
    n = b - a
    out = np.full(n, np.nan)
    # The run edges of every column at once, as Python lists (the walk below is sequential).
    edge = part & ~np.vstack([np.zeros((1, n), bool), part[:-1]]) if up else \
        part & ~np.vstack([part[1:], np.zeros((1, n), bool)])
    cols, rows = np.nonzero(edge.T)
    if len(cols) == 0:
        return out
    bounds = np.searchsorted(cols, np.arange(n + 1)).tolist()
    rows = rows.tolist()
    present = [c for c in range(n) if bounds[c + 1] > bounds[c]]
    after = [c for c in present if c >= start]
    first = after[0] if after else present[-1]
    for step in (1, -1):
        last, at, slope = row, first, 0.0
        for c in range(first, n if step > 0 else -1, step):
            edges = rows[bounds[c]:bounds[c + 1]]
            if not edges:
                continue
            if last is None:
                pick = edges[0] if up else edges[-1]
            else:
                heading = last + slope * (c - at)

                def miss(r, heading=heading, last=last):  # off its heading, or off where it was (at its turn)
                    return min(abs(r - heading), abs(r - last))

                pick = min(edges, key=miss)
                if miss(pick) > 4 + abs(slope) * abs(c - at):
                    continue
                slope = 0.5 * slope + 0.5 * (pick - last) / (c - at) if c != at else slope
            out[c] = pick
            last, at = pick, c
        row = out[first] if np.isfinite(out[first]) else row
    return out


def _extremum(profile: np.ndarray, lo: int, hi: int, smoothing: int) -> tuple[float, float, float] | None:
    """The strongest interior maximum of ``-profile`` (rows grow downwards: the top is the minimum row) within
    columns lo..hi-1 of ``profile``: (column, row, prominence in px), or None where there is none."""
    from scipy.signal import find_peaks

    filled = _fill(profile)
    if filled is None:
        return None
    smooth = np.convolve(np.pad(filled, smoothing // 2, mode="edge"), np.ones(smoothing) / smoothing, mode="valid")
    height = -smooth
    found, props = find_peaks(height, prominence=0)
    seen = np.isfinite(profile)
    # The extremum itself must be drawn, not bridged (a dashed line or another curve may cover a few columns).
    inside = [(i, p) for i, p in zip(found, props["prominences"]) if lo <= i < hi and seen[max(0, i - 3):i + 4].any()]
    if not inside:
        return None
    i, prominence = max(inside, key=lambda ip: ip[1])
    # A flat top: its middle (find_peaks gives the left end of a plateau of the smoothed line).
    flat = np.flatnonzero(np.abs(smooth - smooth[i]) <= 0.5)
    run = flat[(flat >= i) & (flat < i + len(flat))]
    right = i
    for j in run:
        if j == right + 1:
            right = j
        elif j > right:
            break
    centre = (i + right) / 2
    return float(centre), float(smooth[i]), float(prominence)


def _fill(profile: np.ndarray) -> np.ndarray | None:
    """The profile with gaps (NaN) bridged linearly; None when under half of it is known."""
    known = np.flatnonzero(~np.isnan(profile))
    if len(known) < max(5, 0.5 * len(profile)):
        return None
    return np.interp(np.arange(len(profile)), known, profile[known])


def per_curve(records: list[dict], curves: Curves | None, shape: tuple) -> list[dict]:
    """The predicted peak records of one image (``shape``: its pixels' array shape) checked and split per curve
    (see the module's docstring).

    ``records``: peak records with ``x``/``y`` fractions and ``direction``."""
    if not records or curves is None:
        return records
    anodic_up = up_is_anodic(records, curves, shape)
    height, width = shape[:2]
    fh, fw = curves.masks[0].shape
    half = max(4, int(WINDOW * fw))
    near = max(4.0, 0.04 * fh)  # a candidate this far from every curve is on none that can be followed
    out: list[dict] = []
    taken: dict[tuple[int, bool], list[float]] = {}  # per colour and orientation, the columns given a peak
    for rec in sorted(records, key=lambda r: -r.get("score", 1.0)):
        cx = rec["x"] * width - curves.x0
        cy = rec["y"] * height - curves.y0
        a, b = int(max(0, cx - REACH * half)), int(min(fw, cx + REACH * half + 1))
        lo, hi = int(cx - half) - a, int(cx + half + 1) - a
        # Other curves' peaks drift further with the scan rate (a slow couple's by tens of mV).
        wide = max(0, int(cx - OTHERS * half) - a), int(cx + OTHERS * half + 1) - a
        if b - a < 3 * half or not 0 <= cx < fw:
            out.append(rec)
            continue
        centre = int(cx) - a
        up = (rec["direction"] == "anodic") == anodic_up
        # The candidate's own curve: the one whose branch of that orientation passes closest to it.
        gap, nearest = min((_gap(curves, k, a + centre, up, cy), k) for k in range(len(curves.masks)))
        if gap > near:
            out.append(rec)  # no curve to judge by: the model's word stands
            continue
        found = []  # (colour, column, row, prominence, noise) of each curve's extremum there
        for k, mask in enumerate(curves.masks):
            branch = traced(mask, a, b, up, centre, cy if k == nearest else None)
            # Noisier traces are smoothed over more columns before their extremum is taken.
            smoothing = 5 if curves.noise_px[k] < 2 else 15
            ext = _extremum(branch if up else fh - 1 - branch, *((lo, hi) if k == nearest else wide),
                            smoothing)  # heights from the bottom where down
            if ext is None:
                continue
            col, row, prominence = ext
            row = row if up else fh - 1 - row
            edge = curves.edges[k, up][a + int(round(col))]
            if k != nearest and not abs(edge - row) <= 3:
                continue  # not the curve's outer branch there (its trace began on the other one)
            found.append((k, a + col, row, prominence, curves.noise_px[k] / np.sqrt(smoothing)))
        # The candidate's own peak: the extremum nearest to it, on whichever curve.
        gaps = [np.hypot(col - cx, row - cy) for _, col, row, _, _ in found]
        own = int(np.argmin(gaps)) if gaps and min(gaps) <= max(near, half) else None
        if own is None:
            # Nothing to judge it by, the model's word stands; unless it sits beside a peak of its curve: a wiggle.
            if not _beside(taken, nearest, up, cx, REACH * half):
                taken.setdefault((nearest, up), []).append(cx)
                out.append(rec)
        else:
            k, col, _, prominence, noise = found[own]
            weak = prominence < max(MIN_PROMINENCE_PX, NOISE_PROMINENCE * noise)
            # Not a peak already given, nor a wiggle beside one; placed by the model (a noisy trace's top pixels
            # wander).
            if not (_beside(taken, k, up, col, 2) or (weak and _beside(taken, k, up, col, REACH * half))):
                taken.setdefault((k, up), []).append(col)
                out.append(rec)
        # Other curves' peaks there, placed on their traces; they must stand out twice as far.
        for j, (k, col, row, prominence, noise) in enumerate(found):
            if j == own or prominence < ADDED * max(MIN_PROMINENCE_PX, NOISE_PROMINENCE * noise) or \
                    _beside(taken, k, up, col, 2):
                continue
            taken.setdefault((k, up), []).append(col)
            out.append({**rec, "x": round(float((col + curves.x0) / width), 4),
                        "y": round(float((row + curves.y0) / height), 4)})
    return sorted(out, key=lambda r: (r["x"], r["y"]))


def _beside(taken: dict, k: int, up: bool, col: float, distance: float) -> bool:
    """Whether curve ``k`` already has a peak of that orientation within ``distance`` columns of ``col``."""
    return any(abs(col - c) <= distance for c in taken.get((k, up), []))


def _gap(curves: Curves, k: int, column: int, up: bool, row: float) -> float:
    """How far (px) the top-most (``up``) or bottom-most pixels of curve ``k`` pass from ``row`` within 2 columns of
    ``column``; infinite where the curve has none there."""
    here = curves.edges[k, up][max(0, column - 2):column + 3]
    return float(np.nanmin(np.abs(here - row))) if np.isfinite(here).any() else np.inf


def up_is_anodic(records: list[dict], curves: Curves, shape: tuple) -> bool:
    """Whether the records' anodic peaks point up on the image: each record votes with the outer branch (top- or
    bottom-most pixels of a colour) passing closest to it; one record's branch may be hidden under another curve,
    not most records'. The model's directions decide the plot's sense, this only reads it back."""
    height, width = shape[:2]
    votes = 0
    for rec in records:
        cx, cy = int(rec["x"] * width) - curves.x0, rec["y"] * height - curves.y0
        if not 0 <= cx < curves.masks[0].shape[1]:
            continue
        top = min(_gap(curves, k, cx, True, cy) for k in range(len(curves.masks)))
        bottom = min(_gap(curves, k, cx, False, cy) for k in range(len(curves.masks)))
        if top != bottom:
            votes += 1 if (top < bottom) == (rec["direction"] == "anodic") else -1
    return votes >= 0


def sweep_sense(records: list[dict], curves: Curves | None, shape: tuple) -> int:
    """Which way the branch of the peaks pointing up is swept, read from the peaks' shapes: a diffusion peak rises
    steeply and falls off slowly in the direction of its sweep. Each peak whose two sides differ clearly (one drops
    1.5 times as far as the other over 6 % of the frame) votes: +1 where the up-pointing branch runs to the right,
    −1 to the left (a down-pointing peak's tail tells the other branch's way). +1 or −1 only where peaks pointing
    up and peaks pointing down both vote and every vote agrees, else 0: adsorption, stripping and catalytic peaks
    have other shapes (a deposition peak on a real CV can fall off steeply towards its vertex), and no single
    kind of peak decides."""
    if not records or curves is None:
        return 0
    height, width = shape[:2]
    fh, fw = curves.masks[0].shape
    reach = max(6, int(0.06 * fw))
    votes: dict[bool, set] = {True: set(), False: set()}
    for rec in records:
        cx, cy = int(rec["x"] * width) - curves.x0, rec["y"] * height - curves.y0
        if not reach <= cx < fw - reach:
            continue
        gap, k, up = min((_gap(curves, k, cx, up, cy), k, up) for k in range(len(curves.masks)) for up in (True, False))
        if gap > max(4.0, 0.04 * fh):
            continue
        branch = traced(curves.masks[k], cx - reach, cx + reach + 1, up, reach, cy)
        if not np.isfinite(branch[[0, reach, -1]]).all():
            continue
        sign = 1 if up else -1  # heights up the image
        left, right = sign * (branch[0] - branch[reach]), sign * (branch[-1] - branch[reach])
        if max(left, right) < 5 or max(left, right) < 1.5 * max(min(left, right), 1.0):
            continue
        tail_right = right < left
        votes[up].add(1 if tail_right == up else -1)
    both = votes[True] | votes[False]
    return next(iter(both)) if votes[True] and votes[False] and len(both) == 1 else 0


def distinct(records: list[dict], within: float = 0.004) -> list[dict]:
    """The records without repeats: a peak of the same direction within ``within`` (image fractions, both ways)
    of one kept before (a language model may write a peak twice)."""
    kept: list[dict] = []
    for rec in records:
        if not any(r["direction"] == rec["direction"] and abs(r["x"] - rec["x"]) <= within
                   and abs(r["y"] - rec["y"]) <= within for r in kept):
            kept.append(rec)
    return kept


def refine_line(line: dict, image, reading) -> None:
    """An output line's peaks checked and split per curve on the full image (``per_curve``), in the
    frame the axis reader found (found here when the axes were not read), and their directions checked against
    the peaks' shapes (``sweep_sense``):

    - the axes read with confidence and the shapes disagree (peaks of both branches, all agreeing): the plot shows
      the current as instruments record it, cathodic positive, and every direction turns, with a warning;
    - a weak potential map (two labels, poor OCR), which the model was not told, that disagrees with the model:
      the map is the misreading and is dropped (``reading`` loses its x map), with a warning."""
    from voltpeak.axes.frame import background, find_frame

    rgb = np.asarray(image)
    frame = reading.frame if reading is not None else find_frame(rgb)
    curves = find_curves(rgb, frame, background(rgb)) if frame is not None and line["peaks"] else None
    line["peaks"] = per_curve(line["peaks"], curves, rgb.shape)
    if reading is None or reading.x.map is None or curves is None or not line["peaks"]:
        return
    negated = bool(reading.y.title and reading.y.title.negated)
    if reading.up_is_cathodic is None:  # a weak map: the model has decided by itself, and it stands
        if ((reading.x.map.slope < 0) != negated) != (not up_is_anodic(line["peaks"], curves, rgb.shape)):
            reading.x.map = None
            reading.x.warnings.append("x axis: the few tick labels read contradict the plot's direction as the "
                                      "model sees it; not used")
        return
    sense = sweep_sense(line["peaks"], curves, rgb.shape)
    # The up-pointing branch is anodic where it runs towards positive potentials.
    if sense and ((sense > 0) == (reading.x.map.slope < 0)) != reading.up_is_cathodic and not negated:
        for rec in line["peaks"]:
            rec["direction"] = "cathodic" if rec["direction"] == "anodic" else "anodic"
        reading.y.warnings.append("y axis: the peaks' shapes show cathodic currents plotted positive (as "
                                  "instruments record them); directions read that way")
        line["sign"] = "cathodic-positive"
