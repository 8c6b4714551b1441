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


def test_the_cli_reaches_training_only_to_train():
    """Each command's module imports what its command runs: predicting (any backend) needs nothing of training,
    so only ``cli/train.py`` imports ``voltpeak.train``."""
    wrong = sorted(module for module, names in imported("cli").items() if module != "cli/train.py"
                   and any(name.startswith("voltpeak.train") for name in names))
    assert wrong == []
    assert "voltpeak.train" in {n.rsplit(".", 1)[0] if n.count(".") > 1 else n for n in imported("cli")["cli/train.py"]}


def test_the_check_sees_function_level_imports():
    """The graph is read from the source, so an import inside a function counts (as it did before the split)."""
    found = imported("models")
    assert "voltpeak.peak" in found["models/qwen.py"]  # imported inside answer_line only


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
    """``predict`` asks each model for ``predict_batch`` (PIL images in, output lines out); it does not branch on
    the model's class, and every model kind of the table keeps the contract: the predict and saving half for all,
    the training half for the kinds voltpeak's own loop trains."""
    from voltpeak.models import KINDS

    text = (SRC / "predict" / "__init__.py").read_text(encoding="utf-8")
    assert "isinstance(model" not in text and "HeatmapNet" not in text and "models.qwen" not in text
    for kind in KINDS.values():
        cls = kind.model_class()
        names = ["predict_batch", "trainable_parameters", "meant_to_train", "parts", "save_pretrained",
                 "from_pretrained", "build", "train", "eval"]
        if kind.trainer == "loop":
            names += ["batch_loss", "batch_count"]
        for name in names:
            assert callable(getattr(cls, name, None)), f"{cls.__name__} lacks {name}"
        assert kind.config_class()().kind == kind.name


def test_model_kinds_are_decided_in_one_table():
    """What kind a model is gets decided in ``models/kinds.py`` only: no ``kind ==`` branch and no isinstance test
    on a model or config class anywhere else in the package (the CLI included)."""
    import re

    branch = re.compile(r'kind"?\)?\s*(==|!=)|isinstance\(\w+, \(?(HeatmapNet|MLLM|QwenVL|HeatmapConfig|MLLMConfig|'
                        r'QwenConfig)\b|get\("kind"')
    found = [f"{p.relative_to(SRC)}:{n}" for p in SRC.rglob("*.py") if p.parts[-2] not in ("read", "simulate")
             and p.name != "kinds.py" and p.relative_to(SRC).as_posix() != "serve/runs.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if branch.search(line)]
    assert found == []


def test_kinds_load_what_they_save(tmp_path):
    """A saved model is found again as its kind by its marker file (``config.json``'s kind, or ``voltpeak.json``)."""
    from voltpeak.models import HeatmapConfig, HeatmapNet, load_model, model_dir, saved_kind

    HeatmapNet.build(HeatmapConfig(channels=(8, 16, 24))).save_pretrained(tmp_path / "m")
    assert saved_kind(tmp_path / "m").name == "heatmap" and model_dir(str(tmp_path / "m")) == tmp_path / "m"
    assert type(load_model(tmp_path / "m")) is HeatmapNet
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "voltpeak.json").write_text('{"kind": "qwen"}')
    (tmp_path / "q" / "config.json").write_text('{"model_type": "qwen2_5_vl"}')  # the base model's, no kind
    assert saved_kind(tmp_path / "q").name == "qwen"
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "config.json").write_text("not json")
    assert saved_kind(tmp_path / "x") is None and saved_kind(tmp_path / "none") is None


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
