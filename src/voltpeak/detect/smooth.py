"""Noise estimate and a fast Savitzky–Golay smoother for the detector's hot path."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def noise_std(current: np.ndarray) -> float:
    """Robust standard deviation of white noise on a smooth signal, from second differences.

    For white noise of std σ, the second difference has std σ√6; the median absolute deviation makes the
    estimate ignore the few large differences at turning points and steep waves.
    """
    if len(current) < 3:
        return 0.0
    d2 = current[:-2] - 2 * current[1:-1] + current[2:]
    if len(d2) > 2000:
        d2 = d2[:: len(d2) // 1000]  # 1,000 differences pin the median within a few %; no need for more
    half = len(d2) // 2
    median = np.partition(np.abs(d2), half)[half]  # np.median is 4x slower and needs no more precision here
    return float(1.4826 * median / np.sqrt(6))


NOISE_BLOCK = 64  # samples per block of the local noise estimate


def blockwise(x: np.ndarray, reduce, block: int = NOISE_BLOCK) -> np.ndarray:
    """Per sample of ``x``, ``reduce`` (a function of a 2-D array and ``axis=1``) over its block of ``block``
    samples, the largest of that and the two neighbouring blocks' values (a local level that does not dip at a
    block's edge)."""
    n = len(x)
    full = n // block
    parts = [x[:full * block].reshape(full, block)] if full else []
    if n % block or not full:  # a short last block: the record's last ``block`` samples (all of it, if fewer)
        parts.append(x[-block:].reshape(1, -1))
    level = np.concatenate([reduce(part, axis=1) for part in parts])
    wide = np.maximum(level, np.maximum(np.r_[level[1:], level[-1]], np.r_[level[0], level[:-1]]))
    return np.repeat(wide, block)[:n]


def local_noise(current: np.ndarray, block: int = NOISE_BLOCK) -> np.ndarray:
    """White-noise standard deviation around each sample (``noise_std`` of each block of ``block`` samples, see
    ``blockwise``): a recording may be quiet in one region and noisy in another, and one figure for the whole
    record lets the noisy part's spikes pass for peaks."""
    n = len(current)
    if n < 3:
        return np.zeros(n)
    d2 = np.abs(current[:-2] - 2 * current[1:-1] + current[2:])
    sigma = 1.4826 * blockwise(d2, np.median, block) / np.sqrt(6)
    # Sample k's second difference is centred on k + 1; the first and last samples take their neighbours'.
    return np.r_[sigma[:1], sigma, sigma[-1:]]


SPIKE_FACTOR = 8.0  # a sample this many local noise deviations off both its neighbours' range is a spike


def despike(current: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``current`` with single-sample spikes (a potentiostat's range switch, a glitch) replaced by the nearer
    of their neighbours: a sample beyond both neighbours by over ``SPIKE_FACTOR`` times the local noise (a median
    filter of three, applied only there). A real peak, however sharp, rises over more than one sample, so its apex
    stays within reach of a neighbour and is kept."""
    if len(current) < 3:
        return current
    mid, left, right = current[1:-1], current[:-2], current[2:]
    high, low = np.maximum(left, right), np.minimum(left, right)
    bar = SPIKE_FACTOR * np.maximum(noise[1:-1], 1e-300)
    # Far beyond both neighbours, and farther from them than they are from each other: an isolated sample.
    out_up = (mid - high > bar) & (mid - high > 2 * (high - low))
    out_down = (low - mid > bar) & (low - mid > 2 * (high - low))
    if not (out_up.any() or out_down.any()):
        return current
    fixed = current.copy()
    fixed[1:-1] = np.where(out_up, high, np.where(out_down, low, mid))
    return fixed


def smoothed_noise(noise: float, m: int) -> float:
    """White noise of std ``noise`` after a quadratic Savitzky–Golay window of ``m`` samples (about 1.5/√m)."""
    return noise * (1.5 / np.sqrt(m) if m >= 5 else 1.0)


def window_length(noise: float, scale: float, step_V: float, max_window_V: float, n: int,
                  target_fraction: float) -> int:
    """Odd Savitzky–Golay window (samples) that brings smoothed noise near ``target_fraction * scale``.

    A quadratic SG window of m samples cuts white noise by about 1.5/√m; the window never spans more than
    ``max_window_V`` of potential (so peaks keep their shape) nor a quarter of the sweep.
    """
    if scale <= 0 or noise <= 0:
        return 1
    m = (1.5 * noise / (target_fraction * scale)) ** 2
    m = min(m, max_window_V / max(step_V, 1e-9), n / 4)
    m = int(m) | 1
    return m if m >= 5 else 1


@lru_cache(maxsize=64)
def _operators(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre kernel and edge matrices of a quadratic SG filter of odd length m (edges: fit over the first/last m)."""
    x = np.arange(m, dtype=float)
    V = np.vander(x - x.mean(), 3, increasing=True)
    hat = V @ np.linalg.pinv(V)  # projection onto quadratics: row i gives the smoothed value at sample i
    k = m // 2
    return hat[k][::-1].copy(), hat[:k].copy(), hat[m - k:].copy()


def savgol(y: np.ndarray, m: int) -> np.ndarray:
    """Quadratic Savitzky–Golay smoothing with window ``m``, polynomial fits at the edges (as scipy's 'interp')."""
    if m < 5 or len(y) < m:
        return y
    kernel, left, right = _operators(m)
    out = np.empty_like(y)
    k = m // 2
    out[k:len(y) - k] = np.convolve(y, kernel, mode="valid")
    out[:k] = left @ y[:m]
    out[len(y) - k:] = right @ y[-m:]
    return out
