"""Hungarian matching and metrics (docs/contracts.md, "Evaluation") in data and image space and on JSON Lines."""

import json

import pytest

from voltpeak.errors import InputError
from voltpeak.evaluate import data_tolerance_V, match_peaks, summarise
from voltpeak.evaluate.files import evaluate_files
from voltpeak.peak import Peak


def A(e, **kw):
    return Peak("anodic", e, **kw)


def C(e, **kw):
    return Peak("cathodic", e, **kw)


def test_tolerance_is_20_mV_or_2_percent_of_the_window():
    assert data_tolerance_V((-0.5, 0.5)) == pytest.approx(0.020)
    assert data_tolerance_V((-1.0, 1.5)) == pytest.approx(0.050)
    assert data_tolerance_V(None) == pytest.approx(0.020)


def test_matches_within_tolerance_and_only_same_direction():
    truth = [A(0.100), C(0.040)]
    pred = [C(0.100), A(0.119), C(0.061)]
    m = match_peaks(pred, truth, window_V=(-0.5, 0.5))
    assert m.tp == [(1, 0)]  # the cathodic prediction at 0.100 may not match the anodic truth there
    assert m.fp == [0, 2]  # 21 mV away: beyond 20 mV
    assert m.fn == [1]
    assert m.errors == [pytest.approx(0.019)]


def test_hungarian_beats_greedy():
    # Greedy nearest-first would pair 0.098 with 0.110 and leave 0.125 unmatched (0.125 - 0.080 > 0.02).
    truth = [A(0.080), A(0.110)]
    pred = [A(0.098), A(0.125)]
    m = match_peaks(pred, truth, tolerance=0.02)
    assert sorted(m.tp) == [(0, 0), (1, 1)] and m.fp == [] and m.fn == []


def test_tolerance_boundary_is_inclusive_despite_rounding():
    assert match_peaks([A(0.100)], [A(0.080)], tolerance=0.02).tp == [(0, 0)]  # 0.1 - 0.08 > 0.02 in floats


def test_image_space_uses_fractions():
    truth = [Peak("anodic", x=0.50, y=0.20), Peak("cathodic", x=0.40, y=0.80)]
    pred = [Peak("anodic", x=0.512, y=0.215), Peak("cathodic", x=0.40, y=0.83)]
    m = match_peaks(pred, truth, space="image")
    assert m.tp == [(0, 0)] and m.fp == [1] and m.fn == [1]
    assert m.errors[0] == pytest.approx((0.012**2 + 0.015**2) ** 0.5)


def test_peaks_missing_coordinates_count_as_errors():
    m = match_peaks([Peak("anodic", x=0.1, y=0.1)], [A(0.1)], space="data")
    assert m.tp == [] and m.fp == [0] and m.fn == [0]


def test_same_cycle_option():
    truth = [A(0.1, cycle=1), A(0.1, cycle=2)]
    pred = [A(0.1, cycle=2)]
    assert match_peaks(pred, truth).tp == [(0, 0)]  # the contract's rule ignores cycles: the first truth matches
    assert match_peaks(pred, truth, same_cycle=True).tp == [(0, 1)]


def test_summary_metrics_by_hand():
    m1 = match_peaks([A(0.10), C(0.00)], [A(0.10), C(0.005)])  # 2 TP, errors 0 and 5 mV
    m2 = match_peaks([A(0.30), A(0.50)], [A(0.31), C(0.20)])  # 1 TP (10 mV), 1 FP, 1 FN
    s = summarise([m1, m2])
    assert (s["tp"], s["fp"], s["fn"]) == (3, 1, 1)
    assert s["precision"] == pytest.approx(0.75) and s["recall"] == pytest.approx(0.75)
    assert s["f1"] == pytest.approx(0.75) and s["accuracy"] == pytest.approx(0.6)
    assert s["sample_accuracy"] == pytest.approx(0.5)
    assert s["median_abs_dE_mV"] == pytest.approx(5.0)


def test_empty_predictions_and_truths():
    s = summarise([match_peaks([], [])])
    assert s["f1"] == 1.0 and s["sample_accuracy"] == 1.0
    s = summarise([match_peaks([], [A(0.1)])])
    assert s["precision"] == 0.0 and s["recall"] == 0.0 and s["f1"] == 0.0


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_files_unparseable_missing_and_renamed_sources(tmp_path):
    truth = write_jsonl(tmp_path / "t.jsonl", [
        {"source": "data/a.csv", "peaks": [A(0.1).to_record()], "window": [-1, 1]},
        {"source": "data/b.csv", "peaks": [C(0.2).to_record(), A(0.3).to_record()], "window": [-1, 1]},
        {"source": "data/c.csv", "peaks": [A(0.4).to_record()]},
    ])
    pred = write_jsonl(tmp_path / "p.jsonl", [
        {"source": "/elsewhere/a.csv", "peaks": [A(0.13).to_record()]},  # matched by file name; 30 mV < 40 mV
        {"source": "data/b.csv", "peaks": [], "text": "garbage", "error": "could not parse"},
        {"source": "data/z.csv", "peaks": [A(0.1).to_record()]},
    ])
    r = evaluate_files(truth, pred)
    m = r["metrics"]
    assert (m["tp"], m["fp"], m["fn"]) == (1, 0, 3)
    assert r["unparseable"] == ["data/b.csv"] and r["missing"] == ["data/c.csv"]
    assert r["unexpected"] == ["data/z.csv"]
    assert r["per_source"][0]["tp"] == [[0, 0]] and r["per_source"][0]["tolerance"] == pytest.approx(0.04)
    assert r["per_source"][1]["fn"] == [0, 1] and r["per_source"][1]["error"] == "could not parse"


@pytest.mark.parametrize("content, message", [
    ("not json\n", "not JSON"),
    ("[1, 2]\n", "expected a JSON object"),
    ('{"peaks": []}\n', "has no 'source'"),
    ('{"source": "a", "peaks": [{"potential": 0.1, "direction": "up"}]}\n', "direction"),
    ('{"source": "a", "peaks": [{"direction": "anodic"}]}\n', "needs 'potential'"),
])
def test_bad_jsonl_is_a_clear_error(tmp_path, content, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    good = write_jsonl(tmp_path / "good.jsonl", [{"source": "a", "peaks": []}])
    with pytest.raises(InputError, match=message):
        evaluate_files(bad, good)
