"""Shared fixtures: the real data in ../shared (tests skip with a clear message when it is absent)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "benchmarks"))  # cvsim_cases, shared with the benchmarks


@pytest.fixture(scope="session")
def shared_data() -> Path:
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip(f"real CV files not found: {data} is absent (clone the project beside its shared/ folder)")
    return data
