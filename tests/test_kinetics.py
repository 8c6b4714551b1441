"""Electrode kinetics from the cycle's fit: k0, α and ψ of slow couples (cvsim, an independent simulator), pairing
by the fit, the class from the fitted rate, and what is withheld."""

import numpy as np
import pytest

cvsim = pytest.importorskip("cvsim.mechanisms", reason="cvsim is a test dependency: pip install -e '.[test]'")

from voltpeak.detect import analyse  # noqa: E402
from voltpeak.detect.files import classify  # noqa: E402
from voltpeak.detect.fit import psi_nicholson  # noqa: E402
from voltpeak.voltammogram import Voltammogram  # noqa: E402

D = 1e-5  # cm²/s
F_RT = 96485.33212 / (8.314462618 * 298.15)


def slow(e0, k0, alpha, rate=0.1, start=0.5, switch=-0.5):
    """cvsim's current of one quasi-reversible couple (1 mM, D = 1e-5 cm²/s), IUPAC: (E, i)."""
    E, i = cvsim.E_q(start, switch, e0, rate, 1.0, D, D, alpha, k0, step_size=1.0).simulate()
    return np.asarray(E), np.asarray(i)


def noisy(E, i, snr, seed=0, rate=None):
    """``i`` with white noise at ``snr`` (peak / deviation), 10 % charging current and a sloped background."""
    ip = np.abs(i).max()
    y = i + 0.1 * ip * np.sign(np.gradient(E)) + 0.1 * ip * E
    return Voltammogram(E, y + np.random.default_rng(seed).normal(0, ip / snr, len(E)), scan_rate_V_s=rate)


@pytest.mark.parametrize("k0, alpha", [(1e-3, 0.35), (3e-4, 0.6), (3e-3, 0.5)])
def test_k0_and_alpha_of_a_slow_couple(k0, alpha):
    """cvsim's couple (ΔEp 90–400 mV) at SNR 50: the fit's k0 within a factor 1.5 of the truth with a stated
    uncertainty, α within 0.05, E1/2 within 5 mV; the class is kinetic, never "chemically coupled", though a slow
    couple's ipa/ipc is not 1 where α ≠ ½."""
    E, i = slow(0.0, k0, alpha)
    _, couples = analyse(noisy(E, i, 50, rate=0.1))
    assert len(couples) == 1 and couples[0].method == "fit"
    c = couples[0]
    kin = c.kinetics
    assert kin["k0_cm_s"] == pytest.approx(k0, rel=0.5)
    assert 1 < kin["k0_sd_factor"] < 1.5
    assert kin["alpha"] == pytest.approx(alpha, abs=0.05) and 0 < kin["alpha_sd"] < 0.1
    assert kin["psi"] == pytest.approx(k0 / np.sqrt(np.pi * D * F_RT * 0.1), rel=0.5)
    own_e_half = (E[np.argmax(i)] + E[np.argmin(i)]) / 2
    assert c.e_half_V == pytest.approx(own_e_half, abs=0.005)
    assert classify(c, abs(c.ipa / c.ipc)) in ("quasi-reversible", "irreversible")


def test_nicholsons_working_curve_cross_checks_the_fitted_psi():
    """ψ from ΔEp on Nicholson's table (n = 1, 25 °C): 1 → 84 mV, 0.5 → 105, 0.35 → 121, 0.25 → 141, 0.1 → 212
    (past 200 mV, the irreversible limit); the fitted ψ and the one from ΔEp agree within 30 % on a couple in the
    curve's range."""
    for psi, dep in ((1.0, 0.084), (0.5, 0.105), (0.35, 0.121), (0.25, 0.141), (0.1, 0.212)):
        assert psi_nicholson(dep) == pytest.approx(psi, rel=0.15)
    assert psi_nicholson(0.059) is None  # reversible: beyond what ΔEp can tell
    k0 = 0.5 * np.sqrt(np.pi * D * F_RT * 0.1)
    E, i = slow(0.0, k0, 0.5)
    (c,) = analyse(noisy(E, i, 80, rate=0.1))[1]
    assert c.kinetics["psi"] == pytest.approx(0.5, rel=0.3)
    assert c.kinetics["psi_nicholson"] == pytest.approx(c.kinetics["psi"], rel=0.3)


def test_a_reversible_couple_withholds_k0_and_alpha_and_a_file_without_a_rate_gives_psi_only():
    E, i = cvsim.E_rev(0.5, -0.5, 0.0, 0.1, 1.0, D, D, step_size=1.0).simulate()
    (c,) = analyse(noisy(np.asarray(E), np.asarray(i), 50, rate=0.1))[1]
    assert "k0_cm_s" not in c.kinetics and "alpha" not in c.kinetics
    assert "reversible" in c.kinetics["withheld"]["k0_cm_s"]
    assert classify(c, abs(c.ipa / c.ipc)) == "reversible"
    E, i = slow(0.0, 1e-3, 0.5)
    (c,) = analyse(noisy(E, i, 50))[1]  # no time, no stated rate
    assert "k0_cm_s" not in c.kinetics and "scan rate" in c.kinetics["withheld"]["k0_cm_s"]
    assert c.kinetics["psi"] > 0


def test_interleaved_slow_couples_are_paired_by_the_fit():
    """Two slow couples whose waves interleave (A's cathodic, B's cathodic, A's anodic, B's anodic): pairing by
    the nearest peaks would join A's anodic peak to B's cathodic one; the fit pairs each couple's own waves."""
    E, a = slow(0.05, 2e-4, 0.5, rate=0.2)
    _, b = slow(-0.15, 5e-4, 0.5, rate=0.2)
    _, couples = analyse(noisy(E, a + b, 60, rate=0.2))
    assert len(couples) == 2 and all(c.method == "fit" for c in couples)
    for e0, i, c in zip((-0.15, 0.05), (b, a), couples):
        assert c.e_pa_V == pytest.approx(E[np.argmax(i)], abs=0.01)
        assert c.e_pc_V == pytest.approx(E[np.argmin(i)], abs=0.01)
        assert c.kinetics["E0"] == pytest.approx(e0, abs=0.01)


def test_a_very_slow_couple_is_paired_across_half_a_volt_only_as_the_fits_couple():
    """k0 = 1e-4 cm/s at 0.5 V/s: ΔEp ≈ 0.6 V, past the 0.5 V a nearest-peak pairing allows; the fit explains
    both waves as one couple. Two unrelated Gaussian peaks 0.6 V apart make no couple."""
    E, i = slow(0.0, 1e-4, 0.5, rate=0.5, start=0.6, switch=-0.6)
    assert E[np.argmax(i)] - E[np.argmin(i)] > 0.5
    (c,) = analyse(noisy(E, i, 50, rate=0.5))[1]
    assert c.method == "fit" and c.e_half_V == pytest.approx((E[np.argmax(i)] + E[np.argmin(i)]) / 2, abs=0.005)
    turn = int(np.argmin(E))
    y = np.where(np.arange(len(E)) <= turn, -np.exp(-((E + 0.3) / 0.05) ** 2), np.exp(-((E - 0.3) / 0.05) ** 2))
    peaks, couples = analyse(Voltammogram(E, y * 1e-5 + np.random.default_rng(1).normal(0, 1e-7, len(E))))
    assert len(peaks) == 2 and couples == []


@pytest.mark.parametrize("k0, k_chem", [(np.inf, 0.1), (1e-3, 0.2)])
def test_a_following_chemical_step_is_fitted_not_explained_by_a_made_up_couple(k0, k_chem):
    """An EC couple (voltpeak's simulator, which cvsim lacks) whose reverse wave is 35–65 % of its forward one:
    the fit takes the chemical step (k_chem within 30 %, k0 within 50 % where finite) rather than add a couple
    that takes up the lost current; the class says "chemically coupled"."""
    from voltpeak.simulate.diffusion import reduction_current

    E = np.r_[np.linspace(0.5, -0.5, 1001), np.linspace(-0.5, 0.5, 1001)[1:]]
    i = -reduction_current(E, 0.01, 0.0, k0_cm_s=k0, mechanism=1, k_f_s=k_chem)  # 0.1 V/s, 1 mV steps
    _, couples = analyse(noisy(E, i, 50, rate=0.1))
    assert len(couples) == 1 and couples[0].method == "fit"
    kin = couples[0].kinetics
    assert kin["k_chem_s"] == pytest.approx(k_chem, rel=0.3)
    if np.isfinite(k0):
        assert kin["k0_cm_s"] == pytest.approx(k0, rel=0.5)
    assert classify(couples[0], abs(couples[0].ipa / couples[0].ipc)) == "chemically coupled"
