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


def test_the_run_directory_is_written_and_read_through_one_module(tmp_path):
    """Every backend and reader names the run directory's files through ``voltpeak.rundir``: none spells
    ``metrics.jsonl`` or writes ``checkpoints/last`` by hand; the pointer is replaced atomically."""
    from voltpeak.rundir import mark_last, newest_checkpoint

    spelled = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if p.name != "rundir.py"
               and ('"metrics.jsonl"' in (text := p.read_text(encoding="utf-8")) or '"last").write_text' in text
                    or '/ "last"' in text)]
    assert spelled == []
    (tmp_path / "checkpoints").mkdir()
    assert newest_checkpoint(tmp_path) is None
    mark_last(tmp_path, "step-000001")
    mark_last(tmp_path, "step-000002")
    assert newest_checkpoint(tmp_path) == tmp_path / "checkpoints" / "step-000002"
    assert not (tmp_path / "checkpoints" / ".last.tmp").exists()


def test_training_backends_share_one_validation_scorer():
    """voltpeak's loop, TRL and ms-swift score validation with ``voltpeak.train.validate.score``; none reaches
    into another backend's private helpers."""
    for module in ("train/loop.py", "train/sft.py", "train/swift.py"):
        text = (SRC / module).read_text(encoding="utf-8")
        assert "from voltpeak.train.loop import _" not in text and "def _score" not in text, module
    for module in ("train/sft.py", "train/swift.py"):
        assert "voltpeak.train.validate" in imported("train")[module], module


def test_predict_calls_the_model_contract_not_its_kind():
    """``predict`` asks each model for ``predict_batch``; it does not branch on the model's class, and every model
    kind voltpeak trains keeps the whole contract."""
    from voltpeak.models import MLLM, HeatmapNet

    text = (SRC / "predict" / "__init__.py").read_text(encoding="utf-8")
    assert "isinstance(model" not in text and "HeatmapNet" not in text
    for cls in (HeatmapNet, MLLM):
        for name in ("predict_batch", "batch_loss", "batch_count", "meant_to_train", "trainable_parameters",
                     "parts", "save_pretrained", "from_pretrained"):
            assert callable(getattr(cls, name, None)), f"{cls.__name__} lacks {name}"


@pytest.mark.parametrize("make", [
    lambda: __import__("voltpeak.train", fromlist=["x"]).TrainConfig(dataset="ds", steps=7, minutes=1.5),
    lambda: __import__("voltpeak.simulate.config", fromlist=["x"]).SimulationConfig(snr=(20.0, 40.0)),
    lambda: __import__("voltpeak.dataset", fromlist=["x"]).BuildConfig(max_curves=2),
    lambda: __import__("voltpeak.models", fromlist=["x"]).HeatmapConfig(channels=(8, 16, 24), threshold=0.45),
    lambda: __import__("voltpeak.models", fromlist=["x"]).MLLMConfig(vision="heatmap", vision_config={"stem": 2}),
    lambda: __import__("voltpeak.models.qwen", fromlist=["x"]).QwenConfig(path="/models/q", extra={"a": 1}),
], ids=["train", "simulate", "build", "heatmap", "mllm", "qwen"])
def test_configs_save_and_load_themselves(make, tmp_path):
    config = make()
    assert type(config).load(config.save(tmp_path / "c.json")) == config


def test_a_wrong_model_setting_is_one_line_naming_the_file(tmp_path):
    import json

    from voltpeak.errors import InputError
    from voltpeak.models import MLLMConfig

    (tmp_path / "config.json").write_text(json.dumps({"vision": "vit"}))
    with pytest.raises(InputError, match=r"config\.json: vision must be one of conv, clip, heatmap, got 'vit'"):
        MLLMConfig.load(tmp_path / "config.json")


def test_render_engines_do_not_import_the_dispatcher():
    """``render.draw`` dispatches to the engines; the engines (programs, raster, web) take their shared types and
    helpers from ``render.figure``, so no engine imports ``render.draw`` (``from voltpeak.render import draw``
    counts too) and the render package has no import circle."""
    found = imported("render")
    for module in ("render/programs.py", "render/raster.py", "render/web.py", "render/figure.py"):
        text = (SRC / module).read_text(encoding="utf-8")
        assert "voltpeak.render.draw" not in found[module], module
        assert "from voltpeak.render import draw" not in text, module
