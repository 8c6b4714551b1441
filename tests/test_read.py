"""Readers: header styles and units, data packages, Gamry 6/7 layouts, BioLogic, every shared file, bad input."""

import io
import json

import numpy as np
import pytest

from voltpeak.errors import ReadError
from voltpeak.read import read
from voltpeak.read.units import parse_column
from voltpeak.read.write import STYLES
from voltpeak.read.write import write_table as write_table_style
from voltpeak.voltammogram import Voltammogram

E = np.round(np.concatenate([np.linspace(0.5, -0.5, 101), np.linspace(-0.5, 0.5, 101)[1:]]), 6)
I_A = np.round(1e-5 * np.sin(7 * E) + 2e-6, 12)


@pytest.mark.parametrize("header, kind, factor", [
    ("E / V", "E", 1.0), ("Potential (V)", "E", 1.0), ("Ewe/V", "E", 1.0), ("E", "E", 1.0),
    ("E [mV]", "E", 1e-3), ("E / V vs Ag/AgCl", "E", 1.0), ("WE(1).Potential (V)", "E", 1.0),
    ("I / mA", "I", 1e-3), ("Current (uA)", "I", 1e-6), ("<I>/mA", "I", 1e-3), ("I", "I", 1.0),
    ("i / µA", "I", 1e-6), ("Im", "I", 1.0), ("I [nA]", "I", 1e-9),
    ("j / mA cm-2", "j", 10.0), ("j / A m-2", "j", 1.0), ("Current density (mA/cm^2)", "j", 10.0),
    ("j / µA cm⁻²", "j", 0.01), ("j", "j", 1.0),
    ("t / s", "t", 1.0), ("time/s", "t", 1.0), ("Time (ms)", "t", 1e-3),
    ("control/V", None, 1.0), ("cycle number", None, 1.0), ("(Q-Qo)/C", None, 1.0),
    ("E_V", "E", 1.0), ("E_mV", "E", 1e-3), ("I_uA", "I", 1e-6), ("current_mA", "I", 1e-3),
    ("j_mA_cm2", "j", 10.0), ("t_s", "t", 1.0), ("time_min", "t", 60.0), ("E_we", "E", 1.0),
])
def test_header_quantity_and_unit(header, kind, factor):
    col = parse_column(header)
    assert col.kind == kind
    if kind:
        assert col.factor == pytest.approx(factor)


def test_reference_electrode_from_header():
    assert parse_column("E / V vs Ag/AgCl").reference == "Ag/AgCl"
    assert parse_column("Potential (V vs. SCE)").reference == "SCE"


def write_table(path, header, rows, delim=",", decimal="."):
    """A table with any header wording (the package's own writer only writes its styles)."""
    buffer = io.StringIO()
    np.savetxt(buffer, np.asarray(rows), fmt="%.9g", delimiter=delim, header=delim.join(header), comments="")
    text = buffer.getvalue()
    path.write_text(text.replace(".", ",") if decimal == "," else text, encoding="utf-8")
    return path


@pytest.mark.parametrize("style", list(STYLES))
@pytest.mark.parametrize("quantity", ["I", "j"])
def test_writer_styles_round_trip(tmp_path, style, quantity):
    t = np.arange(len(E)) * 0.01
    v = Voltammogram(E, I_A * (1e4 if quantity == "j" else 1.0), t, quantity=quantity)
    back = read(write_table_style(v, tmp_path / f"cv_{style}.txt", style))
    assert back.quantity == quantity
    np.testing.assert_allclose(back.potential_V, E, atol=1e-9)
    np.testing.assert_allclose(back.current, v.current, rtol=1e-7)
    np.testing.assert_allclose(back.time_s, t, atol=1e-9)


@pytest.mark.parametrize("header, delim, decimal, i_factor, quantity", [
    (["E / V", "I / mA"], ",", ".", 1e-3, "I"),
    (["Potential (V)", "Current (uA)"], "\t", ".", 1e-6, "I"),
    (["Ewe/V", "<I>/mA"], ";", ",", 1e-3, "I"),
    (["E", "I"], " ", ".", 1.0, "I"),
    (["t / s", "E / V vs SCE", "j / mA cm-2"], ",", ".", 10.0, "j"),
    (["E / V", "I / µA"], "\t", ",", 1e-6, "I"),
])
def test_table_round_trip(tmp_path, header, delim, decimal, i_factor, quantity):
    values = I_A / i_factor
    rows = [(E[k], values[k]) if len(header) == 2 else (0.01 * k, E[k], values[k]) for k in range(len(E))]
    path = write_table(tmp_path / "cv.csv", header, rows, delim, decimal)
    v = read(path)
    np.testing.assert_allclose(v.potential_V, E, rtol=0, atol=1e-9)
    np.testing.assert_allclose(v.current, I_A, rtol=1e-6, atol=0)
    assert v.quantity == quantity
    assert v.source == str(path)


def test_table_with_preamble_and_footer(tmp_path):
    text = "Instrument: X\nScan rate: 100 mV/s\n\nPotential/V, Current/A\n"
    text += "".join(f"{e:.6f}, {i:.6e}\n" for e, i in zip(E, I_A)) + "End of data\n"
    p = tmp_path / "chi.txt"
    p.write_text(text)
    v = read(p)
    assert len(v) == len(E)
    np.testing.assert_allclose(v.current, I_A, rtol=1e-6)


def test_names_and_units_on_two_rows(tmp_path):
    text = "Potential\tCurrent\nV\tmA\n" + "".join(f"{e:.6f}\t{i * 1e3:.6e}\n" for e, i in zip(E, I_A))
    p = tmp_path / "two_rows.txt"
    p.write_text(text)
    v = read(p)
    np.testing.assert_allclose(v.current, I_A, rtol=1e-6)


def test_whitespace_table_with_spaced_headers(tmp_path):
    text = "E / V      I / uA\n" + "".join(f"{e:.6f}   {i * 1e6:.6e}\n" for e, i in zip(E, I_A))
    p = tmp_path / "spaced.txt"
    p.write_text(text)
    np.testing.assert_allclose(read(p).current, I_A, rtol=1e-6)


def test_nan_rows_are_dropped_and_counted(tmp_path):
    rows = [(E[k], np.nan if k % 10 == 3 else I_A[k]) for k in range(len(E))]
    v = read(write_table(tmp_path / "nan.csv", ["E / V", "I / A"], rows))
    assert len(v) == len(E) - 20
    assert v.meta["rows_dropped_not_finite"] == 20
    assert np.isfinite(v.current).all()
    # Missing values in the first rows, before any number, are a gap too, not a second header row.
    rows = [(np.nan, np.nan)] * 2 + [(E[k], I_A[k]) for k in range(len(E))]
    v = read(write_table(tmp_path / "nan-first.csv", ["E / V", "I / A"], rows))
    assert len(v) == len(E) and v.meta.get("rows_dropped_not_finite", 0) == 0


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"   \n\n", "empty file"),
    (bytes(range(256)) * 8, "binary content"),
    (b"a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n", "no potential column"),
    (b"E / V,Q / C\n1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n", "no current column"),
    (b"1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n", "no header row"),
    (b"just some words\nand more words\n", "no table of numbers"),
    (b"E / V,I / A\n" + b"nan,nan\n" * 10, "no table of numbers"),
    (b"E / V,I / A\n3,4\n" + b"1,nan\n2,\n" * 3 + b"4,5\n", "fewer than 5 rows"),
])
def test_bad_tables_fail_with_one_line(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(ReadError, match=message) as err:
        read(p)
    assert "\n" not in str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ReadError, match="no such file"):
        read(tmp_path / "nope.csv")
    with pytest.raises(ReadError, match="is a directory"):
        read(tmp_path)


def test_datapackage_units_come_from_the_descriptor(tmp_path):
    write_table(tmp_path / "cv.csv", ["t", "E", "j"], [(0.01 * k, E[k], I_A[k] * 1e6) for k in range(len(E))])
    descriptor = {"resources": [{"name": "cv", "path": "cv.csv", "schema": {"fields": [
        {"name": "t", "unit": "s"}, {"name": "E", "unit": "V", "reference": "RHE"},
        {"name": "j", "unit": "uA cm-2"}]},
        "metadata": {"echemdb": {"figureDescription": {"scanRate": {"value": 50, "unit": "mV / s"}}}}}]}
    (tmp_path / "cv.json").write_text(json.dumps(descriptor))
    for path in (tmp_path / "cv.json", tmp_path / "cv.csv"):  # the CSV reads through the descriptor beside it
        v = read(path)
        assert v.quantity == "j" and v.reference == "RHE"
        np.testing.assert_allclose(v.current, I_A * 1e6 * 1e-2, rtol=1e-6)  # µA/cm² -> A/m²
        assert v.scan_rate_V_s == pytest.approx(0.05)


GAMRY_7 = """EXPLAIN\r
TAG\tCV\r
TITLE\tLABEL\tCyclic Voltammetry\tTest &Identifier\r
SCANRATE\tQUANT\t5,00000E+001\tScan Rate (mV/s)\r
FRAMEWORKVERSION\tLABEL\t7.10\tFramework Version\r
OCVCURVE\tTABLE\t2\r
\tPt\tT\tVf\tIm\r
\t#\ts\tV vs. Ref.\tA\r
\t0\t0,1\t0,1\t0\r
\t1\t0,2\t0,1\t0\r
CURVE1\tTABLE\t{n1}\r
\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver\tCycle\tTemp\r
\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits\t#\tdeg C\r
{rows1}CURVE2\tTABLE\t{n2}\r
\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver\tCycle\tTemp\r
\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits\t#\tdeg C\r
{rows2}"""


def test_gamry_framework7_layout_with_decimal_commas(tmp_path):
    def rows(idx):
        return "".join(f"\t{k}\t{0.02 * k:.3f}\t{E[k]:.6E}\t{I_A[k]:.6E}\t0\t0\t0\t5\t...........\t1\t25\r\n"
                       .replace(".", ",").replace(",,,,,,,,,,,", "...........") for k in idx)
    half = len(E) // 2
    text = GAMRY_7.format(n1=half, rows1=rows(range(half)), n2=len(E) - half, rows2=rows(range(half, len(E))))
    p = tmp_path / "cv7.DTA"
    p.write_text(text)
    v = read(p)
    np.testing.assert_allclose(v.potential_V, E, atol=1e-6)
    np.testing.assert_allclose(v.current, I_A, rtol=1e-5)
    assert v.scan_rate_V_s == pytest.approx(0.05)
    assert v.meta["curves"] == 2  # the OCV table is not part of the CV


SHARED_FAILURES = {
    "gamry/LICENSE": "no table of numbers found",
    "echemdb/LICENSE.md": "no table of numbers found",
}


def shared_files():
    from conftest import SHARED

    data = SHARED / "data"
    if not data.is_dir():
        return []
    def package_csv(p):  # read through its descriptor, which is listed itself
        return p.suffix == ".csv" and p.with_suffix(".json").exists()

    return sorted(str(p.relative_to(data)) for p in data.rglob("*")
                  if p.is_file() and p.name != "README.md" and not package_csv(p))


@pytest.mark.parametrize("name", shared_files() or ["(no shared data)"])
def test_every_shared_file_reads_or_fails_clearly(shared_data, name):
    path = shared_data / name
    if name in SHARED_FAILURES:
        with pytest.raises(ReadError, match=SHARED_FAILURES[name]):
            read(path)
        return
    v = read(path)
    assert len(v) >= 100 and np.isfinite(v.potential_V).all() and np.isfinite(v.current).all()
    assert v.window_V[1] - v.window_V[0] > 0.05  # a potential window in V, not mV or µV
    assert len(v.sweeps()) >= 1


def test_biologic_text_export_equals_binary(shared_data):
    for stem in ("cv", "cv.issue_149", "cv.issue_217", "cva.issue_202"):
        binary = read(shared_data / "biologic" / f"{stem}.mpr")
        text = read(shared_data / "biologic" / f"{stem}.mpt")
        np.testing.assert_allclose(text.potential_V, binary.potential_V, atol=1e-6)
        np.testing.assert_allclose(text.current, binary.current, rtol=1e-5, atol=1e-13)


def test_gamry_curves_are_joined_and_cycles_follow_the_potential(shared_data):
    # CYCLES 2, three CURVE tables (the last holds one point): two cycles by the potential.
    v = read(shared_data / "gamry" / "20MM_2,7-AQDS_1M_KOH_100mVs_0.5step_2.DTA.txt")
    assert v.meta["curves"] == 3 and len(v) == 2801 + 2800 + 1
    assert v.cycle_numbers().max() == 2
    assert v.scan_rate_V_s == pytest.approx(0.1, rel=1e-4)
    # Mid-window start (0 V, down to -0.5, up to +0.5): the short third table completes cycle 2.
    v = read(shared_data / "gamry" / "5mM_1,2_Sodium_NQ_4_S_0.5M_NaCl_500mV.DTA.txt")
    c = v.cycle_numbers()
    assert c.max() == 2 and c[-1] == 2


def test_datapackage_from_shared(shared_data):
    v = read(shared_data / "echemdb" / "abd_1998_electrochemical_1103" / "abd_1998_electrochemical_1103_f1_solid.json")
    assert v.quantity == "j" and v.reference == "SCE"
    assert v.meta["citation"] == "abd_1998_electrochemical_1103"
