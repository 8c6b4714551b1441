"""The simulator against analytic CV theory (shared/notes/electrochemistry.md) and against cvsim."""

import json
import subprocess
import sys

import numpy as np
import pytest

from voltpeak.errors import InputError
from voltpeak.simulate import Conditions, RedoxCouple, reduction_current, simulate_cv
from voltpeak.simulate.background import background
from voltpeak.simulate.batch import simulate_batch, simulate_to_folder
from voltpeak.simulate.config import SimulationConfig
from voltpeak.simulate.diffusion import adsorbed_reduction_current, ee_reduction_current, surface_coverage
from voltpeak.simulate.ir import currents_with_ir
from voltpeak.simulate.waveform import potential_programme

F, R = 96485.33212, 8.314462618
T = 298.15
f = F / (R * T)
AREA = np.pi * 0.15**2
D = 1e-5


def cv(e_half_window=0.5, step=0.001, rate=0.1, **couple):
    """Cathodic-first CV of one couple with E° = 0 (IUPAC current), and its potentials."""
    t, E = potential_programme(e_half_window, (-e_half_window,), 1, step, rate)
    i = -reduction_current(E, step / rate, 0.0, area_cm2=AREA, temperature_K=T, **couple)
    half = len(E) // 2
    return E, i, half


def extrema(E, i, half):
    return E[:half][np.argmin(i[:half])], E[half:][np.argmax(i[half:])]


@pytest.mark.parametrize("n", [1, 2])
def test_randles_sevcik(n):
    E, i, half = cv(n=n)
    ip = 0.4463 * n * F * AREA * 1e-6 * np.sqrt(n * f * 0.1 * D)
    assert -i[:half].min() == pytest.approx(ip, rel=0.01)


@pytest.mark.parametrize("n", [1, 2])
def test_reversible_peak_potentials(n):
    step = 0.0002
    E, i, half = cv(step=step, n=n)
    epc, epa = extrema(E, i, half)
    tol = 0.001 + step
    assert epc == pytest.approx(-0.0285 / n, abs=tol)  # Ep − E1/2 = −1.109 RT/nF
    assert epa - epc == pytest.approx(0.057 / n, abs=tol)  # switch 0.5 V past E°


def test_unequal_diffusion_shifts_e_half():
    E, i, half = cv(step=0.0002, d_ox_cm2_s=1e-5, d_red_cm2_s=0.5e-5)
    epc, epa = extrema(E, i, half)
    e_half = 0.5 / f * np.log(0.5)  # E1/2 = E° + (RT/2F) ln(D_R/D_O)
    assert (epa + epc) / 2 == pytest.approx(e_half, abs=0.0012)


@pytest.mark.parametrize("psi, delta_ep_mV", [(20, 61), (7, 63), (5, 65), (3, 68), (2, 72), (1, 84), (0.75, 92),
                                              (0.5, 105), (0.35, 121), (0.25, 141), (0.1, 212)])
def test_nicholson_psi_table(psi, delta_ep_mV):
    # Nicholson's table holds for a switch ~0.2 V past E°; farther switches widen ΔEp at small ψ (218 mV at ψ = 0.1
    # and 0.7 V), which is why cvsim's "far past the wave" values differ.
    k0 = psi * np.sqrt(np.pi * D * f * 0.1)
    E, i, half = cv(e_half_window=0.2 + delta_ep_mV / 2000, step=0.0005, k0_cm_s=k0)
    epc, epa = extrema(E, i, half)
    assert (epa - epc) * 1000 == pytest.approx(delta_ep_mV, abs=3 + 0.5)


def test_irreversible_peak_potential_and_width():
    alpha, k0 = 0.5, 1e-5
    step = 0.0002
    t, E = potential_programme(0.3, (-0.8,), 1, step, 0.1)
    i = reduction_current(E, step / 0.1, 0.0, area_cm2=AREA, temperature_K=T, k0_cm_s=k0, alpha=alpha)
    half = int(np.argmin(E))
    p = int(np.argmax(i[:half]))
    ep = -(1 / (alpha * f)) * (0.780 + np.log(np.sqrt(D) / k0) + np.log(np.sqrt(alpha * f * 0.1)))
    assert E[p] == pytest.approx(ep, abs=0.001 + step)
    ep_half = np.interp(i[p] / 2, i[:p], E[:p])  # rising foot: current increases as E decreases
    assert (ep_half - E[p]) * 1000 == pytest.approx(47.7 / alpha, abs=1 + 1000 * step)
    ip = 0.4958 * F * AREA * 1e-6 * np.sqrt(alpha * f * 0.1 * D)
    assert i[p] == pytest.approx(ip, rel=0.01)


cvsim = pytest.importorskip("cvsim.mechanisms", reason="cvsim is a test dependency: pip install -e '.[test]'")


@pytest.mark.parametrize("k0", [None, 1e-2, 1e-3, 1e-5])
def test_against_cvsim(k0):
    if k0 is None:
        Es, Is = cvsim.E_rev(0.4, -0.4, 0.0, 0.1, 1.0, D, 0.7 * D).simulate()
    else:
        Es, Is = cvsim.E_q(0.4, -0.4, 0.0, 0.1, 1.0, D, 0.7 * D, 0.4, k0).simulate()
    t, E = potential_programme(0.4, (-0.4,), 1, 0.001, 0.1)
    np.testing.assert_allclose(E, Es, atol=1e-9)
    i = -reduction_current(E, 0.01, 0.0, area_cm2=AREA, temperature_K=298.0, d_red_cm2_s=0.7 * D,
                           k0_cm_s=np.inf if k0 is None else k0, alpha=0.4)
    half = len(E) // 2
    for sl, pick in ((slice(0, half), np.argmin), (slice(half, None), np.argmax)):
        a, b = pick(i[sl]), pick(np.asarray(Is)[sl])
        assert abs(E[sl][a] - Es[sl][b]) <= 0.001 + 0.001
        assert i[sl][a] == pytest.approx(Is[sl][b], rel=0.01)


def test_sum_of_exponentials_history_matches_the_exact_sum():
    # 100 columns x 3,000 steps take the fast path; one column takes the exact O(N²) sum.
    t, E = potential_programme(0.75, (-0.75,), 1, 0.0005, 0.1)
    k0 = np.geomspace(1e-5, 1e-1, 100)
    fast = reduction_current(np.tile(E[:, None], (1, 100)), 0.005, 0.0, k0_cm_s=k0)
    for m in (0, 50, 99):
        exact = reduction_current(E, 0.005, 0.0, k0_cm_s=k0[m])
        np.testing.assert_allclose(fast[:, m], exact, rtol=0, atol=1e-5 * np.abs(exact).max())


def test_truth_shoulders_and_noise():
    cond = Conditions(start_V=0.5, vertices_V=(-0.5,), cdl_F=2e-6, rc_s=0.002, slope_A_V=2e-6, noise_A=1e-7)
    # Two reversible couples 70 mV apart: their cathodic waves merge into one peak and a shoulder.
    sim = simulate_cv([RedoxCouple(0.0), RedoxCouple(-0.07)], cond, np.random.default_rng(1))
    assert len(sim.shoulders) >= 1
    assert all(p.direction in ("anodic", "cathodic") for p in sim.truth)
    assert np.std(sim.noisy.current - sim.clean.current) == pytest.approx(1e-7, rel=0.1)
    again = simulate_cv([RedoxCouple(0.0), RedoxCouple(-0.07)], cond, np.random.default_rng(1))
    np.testing.assert_array_equal(again.noisy.current, sim.noisy.current)


def test_truth_is_the_visible_peaks_and_fainter_ones_are_recorded_with_their_prominence():
    """Truth peaks reach 1 % of the noiseless current range (the bar before faint peaks were recorded: the same
    peaks); peaks down to 0.1 % are kept apart as faint, each record with its prominence, so a graph of one cycle
    can judge them against its own range."""
    from voltpeak.simulate.cv import FAINT_FRACTION, VISIBLE_FRACTION
    from voltpeak.simulate.truth import true_peaks

    sims = simulate_batch(SimulationConfig(cycles=(1, 2)), 11, range(40))
    assert sum(len(sim.faint) for sim in sims) >= 5
    for sim in sims:
        scale = np.ptp(sim.clean.current)
        before = true_peaks(sim.clean, VISIBLE_FRACTION)
        assert [(p.direction, p.index) for p in sim.truth] == [(p.direction, p.index) for p in before]
        assert all(FAINT_FRACTION * scale <= p.prominence < VISIBLE_FRACTION * scale for p in sim.faint)
        record = sim.truth_record("x.csv")
        assert [r["prominence"] for r in record["peaks"]] == pytest.approx([p.prominence for p in sim.truth],
                                                                          rel=1e-3)
        assert len(record["faint"]) == len(sim.faint)


def test_truth_maxima_and_prominences_are_scipys_definition():
    """The truth's own maxima (no detector code, no scipy.signal at import) are scipy.signal.find_peaks' maxima
    and prominences, flat tops (rounded random walks) included."""
    from scipy.signal import find_peaks

    from voltpeak.simulate.truth import maxima

    rng = np.random.default_rng(1)
    for y in [rng.normal(size=200).cumsum() for _ in range(100)] + [np.round(rng.normal(size=300).cumsum())
                                                                    for _ in range(100)]:
        found, prominences = maxima(y)
        expected, props = find_peaks(y, prominence=0)
        np.testing.assert_array_equal(found, expected)
        np.testing.assert_allclose(prominences, props["prominences"], rtol=0, atol=1e-12)


def test_charging_relaxes_as_a_first_order_filter():
    """The charging current's relaxation (one exponential per stretch) is scipy's lfilter of the same filter."""
    from scipy.signal import lfilter

    from voltpeak.simulate.background import relax

    x = np.repeat([1.0, -1.0, 1.0, 0.0, -1.0], [50, 300, 300, 1, 200])
    for decay in (0.0, 0.3, 0.9, 0.999):
        np.testing.assert_allclose(relax(x, decay), lfilter([1 - decay], [1, -decay], x, zi=[decay * x[0]])[0],
                                   rtol=0, atol=1e-12)


def test_truth_keeps_a_sharp_spike_by_the_switch_and_drops_turning_point_effects():
    """The truth's own turning-point rule (voltpeak.simulate.truth, no detector code): on one anodic sweep of
    1 V, a spike of 40 % of the range 10 mV before the switch is a peak; the same spike at 10 % is not (within 2 %
    of the window only a major peak is); a one-sided roll-over 40 mV before the switch is not; a peak mid-sweep
    is, at its sub-step potential."""
    from voltpeak.simulate.truth import true_peaks
    from voltpeak.voltammogram import Voltammogram

    E = np.concatenate([np.linspace(0, 1, 1001), np.linspace(1, 0, 1001)[1:]])
    up = np.arange(len(E)) <= 1000  # the anodic sweep, its switching sample included

    def gauss(centre, height, width=0.004):
        return height * np.exp(-((E - centre) / width) ** 2) * up

    base = gauss(0.5003, 1.0, 0.03) - 1.0 * ~up  # a mid-sweep peak, and the return sweep 1 A below
    major = true_peaks(Voltammogram(E, base + gauss(0.99, 0.8)))
    assert [round(p.potential, 4) for p in major] == pytest.approx([0.5003, 0.99], abs=2e-4)
    assert [round(p.potential, 4) for p in true_peaks(Voltammogram(E, base + gauss(0.99, 0.2)))] == [0.5003]
    rollover = np.where(up & (E > 0.9), 0.5 * np.minimum(E - 0.9, 0.06) / 0.06 - 1.5 * np.maximum(E - 0.96, 0), 0)
    assert [round(p.potential, 4) for p in true_peaks(Voltammogram(E, base + rollover))] == [0.5003]


@pytest.mark.parametrize("couple, conditions, message", [
    (dict(e0_V=0, c_ox_mM=-1), {}, "c_ox_mM"),
    (dict(e0_V=0, mechanism="ECE"), {}, "mechanism"),
    (dict(e0_V=0, alpha=1.2), {}, "alpha"),
    (dict(e0_V=0, d_ox_cm2_s=0), {}, "d_ox_cm2_s"),
    (dict(e0_V=0), dict(vertices_V=(0.2,), start_V=0.2), "zero width"),
    (dict(e0_V=0), dict(step_V=2.0), "step"),
    (dict(e0_V=0), dict(scan_rate_V_s=-1), "scan rate"),
])
def test_invalid_parameters_are_named(couple, conditions, message):
    base = dict(start_V=0.5, vertices_V=(-0.5,))
    base.update(conditions)
    with pytest.raises(InputError, match=message):
        simulate_cv([RedoxCouple(**couple)], Conditions(**base))


def test_config_file_errors(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps({"snr": [15, 100], "colour": "red"}))
    with pytest.raises(InputError, match="unknown setting 'colour'"):
        SimulationConfig.load(bad)
    bad.write_text(json.dumps({"c_mM": [-1, 2]}))
    with pytest.raises(InputError, match="'c_mM' must be positive"):
        SimulationConfig.load(bad)
    bad.write_text(json.dumps({"step_V": [5.0]}))
    with pytest.raises(InputError, match="step_V"):
        SimulationConfig.load(bad)
    bad.write_text(json.dumps({"snr": [15]}))
    with pytest.raises(InputError, match=r"'snr' must be a range \[low, high\]"):
        SimulationConfig.load(bad)
    bad.write_text(json.dumps({"reversible": [0.1, 0.2]}))
    with pytest.raises(InputError, match="'reversible' must be a number"):
        SimulationConfig.load(bad)


def test_batch_equals_single_and_runs_are_deterministic(tmp_path):
    config = SimulationConfig(cycles=(1, 2))
    batch = simulate_batch(config, 7, range(12))
    for k in (0, 5, 11):
        rng = np.random.default_rng([7, k])
        couples, cond = config.sample(rng)
        single = simulate_cv(couples, cond, rng)
        # Batches sum the far history by exponentials (weights within 1e-6): agree to 1 ppm of the current range.
        scale = np.abs(single.noisy.current).max()
        np.testing.assert_allclose(batch[k].noisy.current, single.noisy.current, rtol=0, atol=1e-6 * scale)
        assert [p.potential for p in batch[k].truth] == pytest.approx([p.potential for p in single.truth])
    a = simulate_to_folder(12, tmp_path / "a", 7, config, workers=2)
    b = simulate_to_folder(12, tmp_path / "b", 7, config, workers=1)
    assert a.read_text() == b.read_text()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(p.name for p in (tmp_path / "b").iterdir())
    for p in (tmp_path / "a").glob("cv_*"):
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes()


@pytest.mark.slow
def test_simulate_command_and_the_detector_on_its_output(tmp_path):
    out = tmp_path / "sim"
    run = [sys.executable, "-m", "voltpeak", "simulate", "--n", "24", "--out", str(out), "--seed", "3"]
    proc = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    truth = [json.loads(x) for x in (out / "truth.jsonl").read_text().splitlines()]
    assert len(truth) == 24 and len(list(out.glob("cv_*.csv"))) == 24
    assert {"peaks", "shoulders", "window", "params"} <= set(truth[0])
    again = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--force" in again.stderr
    files = sorted(str(p) for p in out.glob("cv_*.csv"))
    det = subprocess.run([sys.executable, "-m", "voltpeak", "detect", *files, "-o", str(tmp_path / "d.jsonl")],
                         capture_output=True, text=True, timeout=300)
    assert det.returncode == 0, det.stderr
    ev = subprocess.run([sys.executable, "-m", "voltpeak", "evaluate", "--truth", str(out / "truth.jsonl"),
                         "--pred", str(tmp_path / "d.jsonl")], capture_output=True, text=True, timeout=300)
    assert json.loads(ev.stdout)["f1"] >= 0.9


def test_ec_against_cvsim_with_slow_chemistry():
    # cvsim's E_qC uses e^{−k} per step, i.e. Δt = 1 s: compare at 1 mV and 1 mV/s, with kΔt small.
    kf, kb = 0.01, 0.005
    Es, Is = cvsim.E_qC(0.4, -0.4, 0.0, 0.001, 1.0, D, D, 0.5, 1e-2, kf, kb).simulate()
    t, E = potential_programme(0.4, (-0.4,), 1, 0.001, 0.001)
    i = -reduction_current(E, 1.0, 0.0, area_cm2=AREA, temperature_K=298.0, k0_cm_s=1e-2, mechanism=1,
                           k_f_s=kf, k_b_s=kb)
    half = len(E) // 2
    Is = np.asarray(Is)
    for sl, pick in ((slice(0, half), np.argmin), (slice(half, None), np.argmax)):
        a, b = pick(i[sl]), pick(Is[sl])
        assert abs(E[sl][a] - Es[sl][b]) <= 0.002
        assert i[sl][a] == pytest.approx(Is[sl][b], rel=0.01)


def test_ec_converges_with_the_step_and_fast_chemistry_removes_the_reverse_peak():
    def peaks(step, kf, kb=0.01):
        t, E = potential_programme(0.4, (-0.4,), 1, step, 0.01)
        E2 = np.tile(E[:, None], (1, 2))  # two columns: the fast history path, as in batches
        i = -reduction_current(E2, step / 0.01, 0.0, area_cm2=AREA, mechanism=1, k_f_s=kf, k_b_s=kb)[:, 0]
        half = len(E) // 2
        return i[:half].min(), i[half:].max()

    coarse, fine = peaks(0.001, 1.0), peaks(0.0002, 1.0)  # kΔt = 0.1 and 0.02
    assert coarse[0] == pytest.approx(fine[0], rel=0.01) and coarse[1] == pytest.approx(fine[1], rel=0.02)
    slow, fast = peaks(0.001, 1e-4, 0.0), peaks(0.001, 100.0, 0.0)
    assert slow[1] / -slow[0] > 0.5  # a reverse peak survives slow chemistry
    assert fast[1] / -fast[0] < 0.05  # and vanishes when R is consumed quickly


def test_catalytic_plateau_current():
    kc = 50.0  # 1/s, fast enough for a steady catalytic plateau at 10 mV/s
    t, E = potential_programme(0.3, (-0.4,), 1, 0.001, 0.01)
    i = reduction_current(E, 0.1, 0.0, area_cm2=AREA, mechanism=2, k_f_s=kc)
    plateau = i[np.argmin(E)]
    assert plateau == pytest.approx(F * AREA * 1e-6 * np.sqrt(D * kc), rel=0.02)  # i_cat = nFAC√(Dk)


@pytest.mark.parametrize("e2, k1, k2", [(-0.2, 1e-2, 1e-3), (-0.05, 1e-1, 1e-1), (0.1, 1e-2, 1e-2)])
def test_ee_against_cvsim(e2, k1, k2):
    Es, Is = cvsim.EE(0.4, -0.6, 0.0, e2, 0.1, 1.0, D, 0.8 * D, 0.6 * D, 0.5, 0.4, k1, k2).simulate()
    t, E = potential_programme(0.4, (-0.6,), 1, 0.001, 0.1)
    np.testing.assert_allclose(E, Es, atol=1e-9)
    i = -ee_reduction_current(E, 0.01, 0.0, e2, AREA, 1e-6, D, 0.8 * D, 0.6 * D, k1, k2, 0.5, 0.4, 298.0)
    Is = np.asarray(Is)
    half = len(E) // 2
    for sl, pick in ((slice(0, half), np.argmin), (slice(half, None), np.argmax)):
        a, b = pick(i[sl]), pick(Is[sl])
        assert abs(E[sl][a] - Es[sl][b]) <= 0.002
        assert i[sl][a] == pytest.approx(Is[sl][b], rel=0.01)
    # Batched EE columns give the same currents as one column at a time.
    both = ee_reduction_current(np.column_stack([E, E]), 0.01, 0.0, [e2, e2 - 0.1], AREA, 1e-6, D, 0.8 * D,
                                0.6 * D, k1, k2, 0.5, 0.4, 298.0)
    np.testing.assert_allclose(both[:, 0], -i, rtol=1e-6, atol=1e-12)


def test_adsorbed_couple_peak_width_and_laviron():
    t, E = potential_programme(0.4, (-0.4,), 1, 0.0005, 0.1)
    i = -adsorbed_reduction_current(E, 0.005, 0.0, 1, AREA, 1e-10)
    half = len(E) // 2
    ip = F * f * AREA * 0.1 * 1e-10 / 4  # n²F²AvΓ/4RT
    assert -i[:half].min() == pytest.approx(ip, rel=0.001) and i[half:].max() == pytest.approx(ip, rel=0.001)
    assert abs(E[:half][np.argmin(i[:half])]) <= 0.0005  # at E°, ΔEp = 0
    wide = E[:half][i[:half] < i[:half].min() / 2]
    assert (wide.max() - wide.min()) * 1000 == pytest.approx(3.53 / f * 1000, abs=1.0)  # 90.6 mV
    gaps = []
    for ks in (1e3, 10.0, 1.0):
        i = -adsorbed_reduction_current(E, 0.005, 0.0, 1, AREA, 1e-10, ks)
        gaps.append(E[half:][np.argmax(i[half:])] - E[:half][np.argmin(i[:half])])
    assert gaps[0] < 0.003 < gaps[1] < gaps[2]  # Laviron: ΔEp grows as k_s falls


@pytest.mark.parametrize("g", [-3.8, -2.0, 2.0])
def test_frumkin_layer_peak_height_width_and_charge(g):
    # Frumkin: θ/(1 − θ)·e^{g(θ − ½)} = e^η. Peak at E°, i_p = F²AvΓ/((4 + g)RT), and the half-height width from
    # the isotherm in closed form; the charge under the peak stays FAΓ whatever g.
    eta = np.linspace(-15, 15, 7)  # θ itself, not the solver, limits the check further out (1 − θ ~ e^−η)
    theta = surface_coverage(eta, g)
    np.testing.assert_allclose(np.log(theta / (1 - theta)) + g * (theta - 0.5), eta, atol=1e-9)
    np.testing.assert_array_equal(surface_coverage(eta, 0.0), 1 / (1 + np.exp(-eta)))
    step, rate, gamma = 0.00001, 0.1, 1e-10  # a step far under the sharpest width (~4 mV at g = −3.8)
    t, E = potential_programme(0.3, (-0.3,), 1, step, rate)
    i = -adsorbed_reduction_current(E, step / rate, 0.0, 1, AREA, gamma, interaction=g)
    half = len(E) // 2
    assert -i[:half].min() == pytest.approx(F * f * AREA * rate * gamma / (4 + g), rel=0.002)
    assert i[half:].max() == pytest.approx(-i[:half].min(), rel=1e-6)
    assert abs(E[:half][np.argmin(i[:half])]) <= 1.5 * step  # the step before or after E°
    h = 1 / (2 * (4 + g))  # half of the largest θ(1 − θ)/(1 + gθ(1 − θ))
    w = h / (1 - g * h)
    th = (1 - np.sqrt(1 - 4 * w)) / 2
    fwhm = 2 * abs(np.log(th / (1 - th)) + g * (th - 0.5)) / f
    wide = E[:half][i[:half] < i[:half].min() / 2]
    assert wide.max() - wide.min() == pytest.approx(fwhm, abs=2 * step)
    assert -i[:half].sum() * step / rate == pytest.approx(F * AREA * gamma, rel=1e-4)  # tails past ±0.3 V: ~1e-5


def test_frumkin_layer_through_resistance_matches_the_layer_at_e_eff():
    couples = [RedoxCouple(0.0, mechanism="ads", gamma_mol_cm2=2e-10, interaction=-3.0),
               RedoxCouple(0.2, mechanism="ads", gamma_mol_cm2=1e-10, interaction=-3.5, k_s_per_s=50.0)]
    cond = Conditions(start_V=0.4, vertices_V=(-0.3,), ru_ohm=200.0, cdl_F=1e-6, step_V=0.0005)
    t, E = potential_programme(0.4, (-0.3,), 1, 0.0005, 0.1)
    own, charging, e_eff = currents_with_ir([(couples, cond, E)])[0]
    assert np.abs(e_eff - (E - 200.0 * (sum(own) + charging))).max() < 1e-9
    for c, i in zip(couples, own):
        alone = c.current(e_eff, cond)
        assert np.abs(i - alone).max() < 1e-6 * np.abs(alone).max()
    with pytest.raises(InputError, match="interaction must be above -4"):
        RedoxCouple(0.0, mechanism="ads", interaction=-4.0).validate()


def test_sloping_double_layer_and_breakdown_currents():
    t, E = potential_programme(-0.5, (0.5,), 1, 0.001, 0.1)
    cond = Conditions(start_V=-0.5, vertices_V=(0.5,), cdl_F=1e-5, cdl_slope_V=0.8, onset_A=(2e-6, 5e-6),
                      onset_width_V=0.04)
    i = background(E, t, cond)

    def expected(e, direction):  # ±Cdl(E)·v, plus −2 µA·e^{(−0.5 − E)/0.04} and 5 µA·e^{(E − 0.5)/0.04}
        return direction * 1e-6 * (1 + 0.8 * e) - 2e-6 * np.exp((-0.5 - e) / 0.04) + 5e-6 * np.exp((e - 0.5) / 0.04)

    for e in (-0.45, 0.2, 0.46):
        up, down = np.flatnonzero(np.isclose(E, e))[[0, -1]]
        assert i[up] == pytest.approx(expected(e, 1), rel=1e-3)
        assert i[down] == pytest.approx(expected(e, -1), rel=1e-3)
    assert i[int(np.argmax(E))] == pytest.approx(expected(0.5, 1), rel=0.01)


def test_sloping_double_layer_through_resistance_is_self_consistent():
    # With R_u the solver charges C_dl(E) itself: E_eff = E − R_u·(faradaic + charging), and the charging current
    # far from the couple is −C_dl·(1 + slope·E)·v on the cathodic sweep.
    t, E = potential_programme(0.5, (-0.5,), 1, 0.001, 0.1)
    cond = Conditions(start_V=0.5, vertices_V=(-0.5,), ru_ohm=500.0, cdl_F=1e-5, cdl_slope_V=1.0)
    own, charging, e_eff = currents_with_ir([([RedoxCouple(0.0)], cond, E)])[0]
    assert np.abs(e_eff - (E - 500.0 * (own[0] + charging))).max() < 1e-9
    k = np.flatnonzero(np.isclose(E, 0.3))[0]
    assert charging[k] == pytest.approx(-1e-5 * 1.3 * 0.1, rel=0.02)
    np.testing.assert_allclose(simulate_cv([RedoxCouple(0.0)], cond).clean.current, own[0] + charging)


def test_surface_features_through_the_config():
    # Sharp spikes, couples close to the switch, sloping double layers and breakdown currents are drawn when
    # switched on; off (the defaults) they leave every CV as it was.
    on = SimulationConfig(mechanism_weights=(0, 0, 0, 0, 1), couples=(2, 3), ads_sharpness=(10.0, 40.0),
                          near_switch=1.0, edge_margin_V=0.1, cdl_slope=(-1.0, 1.0), onset=1.0)
    cvs = simulate_batch(on, 3, range(12))
    for cv in cvs:
        lo, hi = cv.clean.window_V
        assert all(-3.9 <= c.interaction <= -3.6 for c in cv.couples)  # g = 4/s − 4, s in [10, 40]
        assert min(min(c.e0_V - lo, hi - c.e0_V) for c in cv.couples) < 0.1
        assert cv.conditions.cdl_slope_V != 0 and all(a > 0 for a in cv.conditions.onset_A)
    # A 2-40 mV spike is a truth peak: its width at half height is a few samples.
    spikes = [p for cv in cvs for p in cv.truth]
    assert len(spikes) >= 24
    off = SimulationConfig()
    plain = simulate_batch(off, 3, range(4))
    assert all(c.interaction == 0 for cv in plain for c in cv.couples)
    assert all(cv.conditions.cdl_slope_V == 0 and cv.conditions.onset_A == (0.0, 0.0) for cv in plain)


def test_every_mechanism_through_the_config():
    config = SimulationConfig(mechanism_weights=(1, 1, 1, 1, 1), couples=(2, 3))
    cvs = simulate_batch(config, 11, range(30))
    seen = {c.mechanism for cv in cvs for c in cv.couples}
    assert seen == {"E", "EC", "ECcat", "EE", "ads"}
    assert all(np.isfinite(cv.noisy.current).all() for cv in cvs)
    assert sum(len(cv.truth) for cv in cvs) > 30


def test_uncompensated_resistance_is_self_consistent_and_shifts_peaks():
    t, E = potential_programme(0.5, (-0.5,), 1, 0.001, 0.1)
    gaps, shifts = [], []
    for ru in (0.0, 1e-3, 300.0, 1000.0, 3000.0):
        cond = Conditions(start_V=0.5, vertices_V=(-0.5,), ru_ohm=ru, cdl_F=1e-6)
        sim = simulate_cv([RedoxCouple(0.0)], cond)
        E_, I_ = sim.clean.potential_V, sim.clean.current
        half = len(E_) // 2
        epc, epa = E_[:half][np.argmin(I_[:half])], E_[half:][np.argmax(I_[half:])]
        gaps.append(epa - epc)
        shifts.append((-epc - 0.0285, -I_[:half].min() * ru))
        if ru > 0:
            couples = [RedoxCouple(0.0), RedoxCouple(-0.25, k0_cm_s=0.003, mechanism="EC", k_f_s=2.0),
                       RedoxCouple(0.25, mechanism="ads", k_s_per_s=50.0)]
            own, charging, e_eff = currents_with_ir([(couples, cond, E)])[0]
            assert np.abs(e_eff - (E - ru * (sum(own) + charging))).max() < 1e-9  # E_eff = E − R_u I
            # Each couple's current is its own current at E_eff: the Newton steps converged.
            for c, i in zip(couples, own):
                alone = c.current(e_eff, cond)
                assert np.abs(i - alone).max() < 1e-7 * np.abs(alone).max()
    # A vanishing resistance gives the resistance-free CV; more resistance, wider ΔEp.
    assert gaps[1] == pytest.approx(gaps[0], abs=0.0011)
    assert gaps[1] < gaps[2] < gaps[3] < gaps[4]
    # The cathodic peak moves by the order of the iR drop at the peak (more than it: the wave is also stretched).
    for (shift, drop) in shifts[2:]:
        assert 0.5 * drop < shift + 0.001 and shift <= 2 * drop + 0.001


def test_charging_relaxes_with_ru_cdl():
    ru, cdl = 500.0, 2e-6  # τ = 1 ms = 1 step at 1 mV and 1 V/s
    cond = Conditions(start_V=0.5, vertices_V=(-0.5,), ru_ohm=ru, cdl_F=cdl, scan_rate_V_s=1.0)
    own, charging, _ = currents_with_ir([([RedoxCouple(0.0, c_ox_mM=1e-9)], cond,
                                          potential_programme(0.5, (-0.5,), 1, 0.001, 1.0)[1])])[0]
    turn = len(charging) // 2
    after = charging[turn:turn + 8] - cdl * 1.0  # approaches +Cdl·v after the switch
    ratio = after[1:] / after[:-1]
    assert np.allclose(ratio, ratio[0], rtol=1e-3)
    # The implicit step of an RC circuit: each step keeps τ/(τ + Δt) of the deviation, τ = R_u·C_dl.
    assert ratio[0] == pytest.approx(ru * cdl / (ru * cdl + 1e-3), rel=1e-3)


def test_resistance_with_ee_couples():
    # EE couples through R_u: each couple's current is its own current at E_eff, and ΔEp of the second wave grows.
    t, E = potential_programme(0.5, (-0.6,), 1, 0.001, 0.1)
    couples = [RedoxCouple(0.1, mechanism="EE", e0_2_V=-0.25, k0_2_cm_s=0.01), RedoxCouple(0.3)]
    gaps = []
    for ru in (0.0, 2000.0):
        cond = Conditions(start_V=0.5, vertices_V=(-0.6,), ru_ohm=ru, cdl_F=1e-6)
        I_ = simulate_cv(couples, cond).clean.current
        if ru:
            own, charging, e_eff = currents_with_ir([(couples, cond, E)])[0]
            assert np.abs(e_eff - (E - ru * (sum(own) + charging))).max() < 1e-9
            for c, i in zip(couples, own):
                alone = c.current(e_eff, cond)
                assert np.abs(i - alone).max() < 1e-7 * np.abs(alone).max()
        half = len(E) // 2
        cathodic = np.argmin(np.where(E[:half] < -0.1, I_[:half], np.inf))
        anodic = half + np.argmax(np.where(E[half:] < -0.1, I_[half:], -np.inf))
        gaps.append(E[anodic] - E[cathodic])
    assert gaps[1] > gaps[0] + 0.01
