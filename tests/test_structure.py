"""The import graph runs one way through the stages: train → predict → models. A model does not know who predicts
with it, and predicting needs nothing of training (a user with a saved model never imports the training code)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "voltpeak"


def imported(package: str) -> dict[str, set[str]]:
    """Per module file of ``package`` (a folder of src/voltpeak), the voltpeak modules it imports, anywhere in it
    (function-level imports count: they run too)."""
    out = {}
    for path in sorted((SRC / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("voltpeak"):
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names if a.name.startswith("voltpeak"))
        out[str(path.relative_to(SRC))] = names
    return out


@pytest.mark.parametrize("package, forbidden", [("predict", ("voltpeak.train",)),
                                                ("models", ("voltpeak.predict", "voltpeak.train"))])
def test_imports_run_one_way(package, forbidden):
    wrong = {f"{module} imports {name}" for module, names in imported(package).items() for name in names
             if name.startswith(forbidden)}
    assert not wrong, sorted(wrong)


def test_the_check_sees_function_level_imports():
    """The graph is read from the source, so an import inside a function counts (as it did before the split)."""
    found = imported("models")
    assert "voltpeak.models.inputs" in found["models/qwen.py"]


def test_the_last_checkpoint_pointer_is_written_in_one_place(tmp_path):
    """Every backend points ``checkpoints/last`` through ``mark_last`` (atomic); none writes it by hand."""
    from voltpeak.train.rundir import mark_last

    by_hand = [str(p.relative_to(SRC)) for p in (SRC / "train").glob("*.py")
               if '"last").write_text' in p.read_text(encoding="utf-8")]
    assert by_hand == []
    (tmp_path / "last").write_text("step-000001")
    mark_last(tmp_path, "step-000002")
    assert (tmp_path / "last").read_text() == "step-000002" and not (tmp_path / ".last.tmp").exists()
