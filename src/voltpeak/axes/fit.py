"""A robust pixel → value map of one axis from its tick labels: one misread label must not move it."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np


@dataclass
class AxisMap:
    """value = offset + slope × pixel (pixels from the image's left or top edge; values as printed)."""

    offset: float
    slope: float
    inliers: list[int]  # indices of the labels that agree with the map
    residual_px: float  # RMS distance of the inliers from the map, pixels

    def value(self, pixel):
        return self.offset + self.slope * np.asarray(pixel, dtype=float)


def robust_fit(pixels, values, tolerance_px: float = 2.5) -> AxisMap | None:
    """The line through the most labels (every pair tried, as RANSAC would on so few), refitted on those by least
    squares; None with fewer than two labels that agree.

    Parameters
    ----------
    pixels, values : array-like
        Each tick label's centre (pixels) and the number read from it.
    tolerance_px : float
        How far from the map (pixels) a label may sit and still agree with it.
    """
    p, v = np.asarray(pixels, dtype=float), np.asarray(values, dtype=float)
    best: tuple | None = None
    for i, j in combinations(range(len(p)), 2):
        if p[i] == p[j] or v[i] == v[j]:
            continue
        slope = (v[j] - v[i]) / (p[j] - p[i])
        offset = v[i] - slope * p[i]
        distance = np.abs((v - offset) / slope - p)  # in pixels
        inliers = np.flatnonzero(distance <= tolerance_px)
        key = (len(inliers), -float(np.sum(distance[inliers] ** 2)))
        if best is None or key > best[0]:
            best = (key, inliers)
    if best is None:
        return None
    inliers = best[1]
    slope, offset = np.polyfit(p[inliers], v[inliers], 1)
    residual = np.sqrt(np.mean(((v[inliers] - offset) / slope - p[inliers]) ** 2))
    return AxisMap(float(offset), float(slope), inliers.tolist(), float(residual))
