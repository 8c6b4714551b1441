"""Sweep and cycle segmentation: turning points survive jitter and noise in E; partial sweeps; cycles follow E."""

import numpy as np
import pytest

from voltpeak.voltammogram import Voltammogram, branch_asymmetry, cycle_numbers, sweeps, turning_points


def triangle(vertices, step=0.001):
    """Piecewise-linear potential through the given vertices (V), sampled every ``step`` V."""
    parts = []
    for a, b in zip(vertices[:-1], vertices[1:]):
        n = int(round(abs(b - a) / step))
        parts.append(np.linspace(a, b, n + 1)[:-1])
    parts.append([vertices[-1]])
    return np.concatenate(parts)


def test_one_cycle_from_a_vertex():
    E = triangle([0.5, -0.5, 0.5])
    sw = sweeps(E)
    assert [d for *_, d in sw] == [-1, 1]
    assert sw[0][1] - 1 == sw[1][0] == 1000  # the turning point is shared
    assert cycle_numbers(E).max() == 1


def test_jitter_and_noise_in_potential_do_not_split_sweeps():
    rng = np.random.default_rng(0)
    E = triangle([-0.5, 0.4, -0.5, 0.4, -0.5], step=0.0005)
    E_noisy = E + rng.normal(0, 0.0015, len(E))  # 1.5 mV jitter on 0.5 mV steps: E is far from monotonic
    sw = sweeps(E_noisy)
    assert [d for *_, d in sw] == [1, -1, 1, -1]
    turns = turning_points(E_noisy)
    assert np.all(np.abs(turns - np.array([1800, 3600, 5400])) <= 15)


def test_mid_window_start_gives_whole_cycles():
    # Start at 0 V going down, as Gamry's VINIT inside the window: 0 -> -0.5 -> +0.5 -> -0.5 -> +0.5 -> 0.
    E = triangle([0.0, -0.5, 0.5, -0.5, 0.5, 0.0])
    c = cycle_numbers(E)
    assert c.max() == 2
    first_back = np.flatnonzero(c == 2)[0]
    # Cycle 2 starts where E returns to the start potential moving down again (in the third sweep).
    assert abs(E[first_back]) <= 0.01 and E[first_back + 1] < E[first_back]
    assert c[-1] == 2  # the short last sweep back to 0 V completes cycle 2, it starts no cycle 3


def test_vertex_start_several_cycles():
    E = triangle([-0.5, 0.4] * 3 + [-0.5])
    c = cycle_numbers(E)
    assert c.max() == 3
    # Each cycle is one anodic and one cathodic sweep of 900 samples each.
    assert [int((c == k).sum()) for k in (1, 2, 3)] == [1800, 1800, 1801]


def test_short_first_and_last_sweeps_are_kept():
    # Recording starts 15 mV before the lower vertex and stops 40 mV after the last upper vertex.
    E = triangle([-0.485, -0.5, 0.5, -0.5, 0.5, 0.46])
    sw = sweeps(E)
    assert [d for *_, d in sw] == [-1, 1, -1, 1, -1]
    assert sw[0][1] - sw[0][0] == 16


def test_single_sweep_and_constant_potential():
    assert [d for *_, d in sweeps(np.linspace(0, 1, 100))] == [1]
    assert cycle_numbers(np.linspace(0, 1, 100)).tolist() == [1] * 100
    assert sweeps(np.zeros(50)) == []
    assert turning_points(np.zeros(50)).size == 0


def test_branch_asymmetry_tells_the_current_convention():
    E = triangle([0.5, -0.5, 0.5])
    charging = np.where(np.gradient(E) > 0, 1.0, -1.0) * 1e-6  # IUPAC: anodic-going branch above
    assert branch_asymmetry(E, charging) == pytest.approx(1.0, abs=0.01)
    assert branch_asymmetry(E, -charging) == pytest.approx(-1.0, abs=0.01)


def test_voltammogram_checks_quantity():
    with pytest.raises(ValueError, match="quantity"):
        Voltammogram([0, 1], [0, 1], quantity="Q")
