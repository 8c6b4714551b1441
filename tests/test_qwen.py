"""Qwen2.5-VL on a tiny model built from a config with a tokenizer trained here (offline, CPU): forward, backward,
generate; LoRA only on the language model; each freeze mode trains exactly the parts it names (counted); the
preflight refusal; coordinates round-tripped through the processor's own resize; the TRL path for 2 steps into a
run directory; predict's parse or parse error; the ms-swift command line; and, where the ms-swift environment
exists, swift sft + swift infer + voltpeak evaluate for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_qwen import tiny_qwen

from voltpeak.answer import PROMPTS
from voltpeak.errors import InputError
from voltpeak.models.qwen import (
    Geometry,
    QwenConfig,
    QwenVL,
    answer_line,
    load_processor,
    to_fractions,
    to_pixels,
)
from voltpeak.train import TrainConfig, preflight, train
from voltpeak.train.swift import sft_command

ROOT = Path(__file__).resolve().parent.parent
R = 4  # LoRA rank of these tests


@pytest.fixture(scope="module")
def tiny(dataset, tmp_path_factory) -> Path:
    answers = [json.loads(line)["messages"][1]["content"] for line in (dataset / "train.jsonl").open()]
    return tiny_qwen(tmp_path_factory.mktemp("qwen") / "tiny", list(PROMPTS) + answers)


def _qwen(tiny: Path, **changes) -> QwenVL:
    return QwenVL.build(QwenConfig.from_dict({"path": str(tiny), "lora_r": R, "max_new_tokens": 12, **changes}))


def _image(width=200, height=150, dot=None):
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (width, height), "white")
    if dot:
        x, y = dot[0] * width, dot[1] * height
        ImageDraw.Draw(im).ellipse([x - 3, y - 3, x + 3, y + 3], fill="black")
    return im


def test_forward_backward_generate(tiny):
    model = _qwen(tiny, vision="frozen", merger="full")
    proc = model.processor
    text = proc.apply_chat_template(model.messages() + [{"role": "assistant", "content": [
        {"type": "text", "text": '[{"label": "anodic", "point_2d": [10, 20]}]'}]}])
    inputs = proc(images=[_image()], text=[text], return_tensors="pt")
    assert "mm_token_type_ids" in inputs  # the 3-D rotary positions of the image tokens
    out = model.model(**inputs, labels=inputs["input_ids"])
    assert torch.isfinite(out.loss) and out.loss.item() > 0
    out.loss.backward()
    grads = {name: p.grad for name, p in model.model.named_parameters() if p.requires_grad}
    # lora_B starts at zero (the adapter begins as the identity), so it is what the first step moves.
    assert all(g is not None and g.abs().sum() > 0 for n, g in grads.items() if "lora_B" in n)
    assert any(g is not None and g.abs().sum() > 0 for n, g in grads.items() if "merger" in n)
    assert all(p.grad is None for n, p in model.model.named_parameters() if _part(n) == "vision")
    texts, sizes = model.generate([_image(), _image(300, 120)])
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)
    assert sizes == [Geometry.of(proc).resized(150, 200), Geometry.of(proc).resized(120, 300)]


def _lora_size(model: QwenVL, part: str, base_names) -> int:
    """What LoRA of rank R adds to the Linear layers ``base_names`` of a part: R × (in + out) each."""
    modules = dict(model.model.base_model.model.named_modules())
    return sum(R * (modules[n].in_features + modules[n].out_features) for n in base_names)


def _counts_of_base(tiny: Path) -> dict[str, int]:
    from transformers import AutoModelForImageTextToText

    from voltpeak.models.qwen import part_of

    base = AutoModelForImageTextToText.from_pretrained(tiny)
    out = {"vision": 0, "merger": 0, "language": 0}
    for name, p in base.named_parameters():
        out[part_of(name)] += p.numel()
    return out


@pytest.mark.parametrize("vision,merger", [("full", "full"), ("lora", "lora"), ("frozen", "frozen"),
                                           ("full", "frozen"), ("frozen", "lora")])
def test_each_freeze_mode_trains_exactly_the_parts_it_names(tiny, vision, merger):
    model = _qwen(tiny, vision=vision, merger=merger)
    base = _counts_of_base(tiny)
    lora_layers = {part: [n.removesuffix(".lora_A.default") for n, _ in model.model.base_model.model.named_modules()
                          if n.endswith("lora_A.default") and _part(n) == part] for part in base}
    # LoRA targets: every attention/MLP projection of the language model, never the vision tower unless asked.
    assert len(lora_layers["language"]) == 2 * 7  # 2 layers × q, k, v, o, gate, up, down
    assert all("language_model" in n for n in lora_layers["language"])
    assert bool(lora_layers["vision"]) == (vision == "lora")
    assert bool(lora_layers["merger"]) == (merger == "lora")
    expected = {"language": _lora_size(model, "language", lora_layers["language"])}
    for part, mode in (("vision", vision), ("merger", merger)):
        expected[part] = {"full": base[part], "frozen": 0,
                          "lora": _lora_size(model, part, lora_layers[part])}[mode]
    assert model.trainable_parameters() == expected
    assert preflight(model, log=lambda s: None) == expected


def _part(name: str) -> str:
    from voltpeak.models.qwen import part_of

    return part_of(name)


def test_qwen2_vl_is_served_by_the_same_code(dataset, tmp_path):
    answers = [json.loads(line)["messages"][1]["content"] for line in (dataset / "train.jsonl").open()]
    folder = tiny_qwen(tmp_path / "qwen2", list(PROMPTS) + answers, family="qwen2_vl")
    assert json.loads((folder / "config.json").read_text())["model_type"] == "qwen2_vl"
    model = _qwen(folder, vision="full", merger="lora")
    base = _counts_of_base(folder)
    counts = model.trainable_parameters()
    assert counts["vision"] == base["vision"] and 0 < counts["merger"] < base["merger"] and counts["language"] > 0
    texts, sizes = model.generate([_image(301, 217)])
    assert isinstance(texts[0], str) and sizes == [Geometry.of(model.processor).resized(217, 301)]


def test_preflight_refuses_a_vision_tower_the_config_trains_but_is_frozen(tiny):
    model = _qwen(tiny, vision="full")
    for name, p in model.model.named_parameters():  # the original work's bug: the vision tower left frozen
        if _part(name) == "vision":
            p.requires_grad_(False)
    with pytest.raises(InputError, match="trains vision but it has no trainable parameter"):
        preflight(model, log=lambda s: None)


@pytest.mark.parametrize("width,height,max_pixels", [(200, 150, 28 * 28 * 1280), (301, 217, 28 * 28 * 1280),
                                                     (640, 480, 100 * 28 * 28), (97, 350, 60 * 28 * 28)])
def test_points_round_trip_through_the_processors_resize(tiny, width, height, max_pixels):
    proc = load_processor(tiny, max_pixels=max_pixels)
    fraction = (0.37, 0.61)
    inputs = proc(images=[_image(width, height, fraction)], text=["<|vision_start|><|image_pad|><|vision_end|>"],
                  return_tensors="pt")
    grid = inputs["image_grid_thw"][0].tolist()
    geometry = Geometry.of(proc)
    size = geometry.of_grid(grid)
    assert geometry.patch == 14 and size == geometry.resized(height, width)  # our smart_resize agrees with it
    assert size[0] * size[1] <= max_pixels and size[0] % 28 == 0 and size[1] % 28 == 0
    # Undo the processor's patching: where is the dot in the image the model sees?
    m, p = 2, 14
    patches = inputs["pixel_values"].reshape(grid[1] // m, grid[2] // m, m, m, 3, 2, p, p)[:, :, :, :, :, 0]
    pixels = patches.permute(4, 0, 2, 5, 1, 3, 6).reshape(3, size[0], size[1]).sum(0).numpy()
    y, x = np.unravel_index(np.argmin(pixels), pixels.shape)
    px, py = to_pixels(*fraction, size)
    assert abs(x + 0.5 - px) <= 2.5 and abs(y + 0.5 - py) <= 2.5
    assert to_fractions(px, py, size) == pytest.approx(fraction, abs=1e-12)


def test_answers_become_fractions_or_a_parse_error():
    lines = [answer_line(text, (224, 280)) for text in (
        '[{"label": "anodic", "point_2d": [140, 56]}, {"label": "cathodic", "point_2d": [70, 112]}]',
        "I see no list here", "[]")]
    assert lines[0]["error"] is None
    assert [(p["direction"], p["x"], p["y"]) for p in lines[0]["peaks"]] == [("anodic", 0.5, 0.25),
                                                                           ("cathodic", 0.25, 0.5)]
    assert lines[1]["peaks"] == [] and "no peak list" in lines[1]["error"]
    assert lines[2] == {"peaks": [], "text": "[]", "error": None}
    own = answer_line('[{"label": "anodic", "point_2d": [140, 56], "potential": 215, "current": 12.4}]', (224, 280))
    assert (own["peaks"][0]["answer_potential"], own["peaks"][0]["answer_current"]) == (215, 12.4)


@pytest.mark.slow
def test_trl_path_runs_two_steps_into_a_run_directory_and_predict_reads_it(tiny, dataset, tmp_path):
    config = TrainConfig(dataset=str(dataset), out=str(tmp_path / "run"), steps=2, batch_size=2, lr=1e-3,
                         warmup_steps=1, val_every=2, val_samples=2, save_every=2, vision_lr=1e-4,
                         model={"kind": "qwen", "path": str(tiny), "lora_r": R, "max_new_tokens": 12,
                                "merge": True})
    logged = []
    run = train(config, log=logged.append)
    assert logged[0] == "trainable parameters: vision 58,816, merger 24,800, language 8,192"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and all(np.isfinite(r["loss"]) for r in rows)
    # The logged validation is the saved model's: its predictions on the validation samples, scored again here.
    from voltpeak.predict import predict
    from voltpeak.train import evaluate_model
    from voltpeak.train.data import training_data

    validation = training_data(str(dataset), 0, 2)[1]
    checkpoint = run / "checkpoints" / (run / "checkpoints" / "last").read_text()
    reloaded = QwenVL.from_pretrained(checkpoint)
    assert {f"val_{k}": v for k, v in evaluate_model(reloaded, validation, batch_size=8).items()} == {
        k: v for k, v in rows[-1].items() if k.startswith("val_")}
    assert json.loads((run / "config.json").read_text())["model"]["kind"] == "qwen"
    assert {"adapter_model.safetensors", "voltpeak.json", "optimizer.pt"} <= {p.name for p in checkpoint.iterdir()}
    # The saved adapter holds the trained vision tower: reloaded, it is the trained one, not the base.
    trained = {n: p for n, p in reloaded.model.named_parameters() if "modules_to_save" in n and "blocks.0" in n}
    base = dict(QwenVL.build(reloaded.config).model.named_parameters())
    assert trained and any(not torch.equal(p, base[n]) for n, p in trained.items())
    image = dataset / json.loads((dataset / "train.jsonl").open().readline())["images"][0]
    done = subprocess.run([sys.executable, "-m", "voltpeak", "predict", "--model", str(run), str(image)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout)
    expected = next(predict(reloaded, [(str(image), image)]))
    assert line["source"] == str(image) and line["text"] == expected["text"]
    assert line["peaks"] == expected["peaks"] and line["error"] == expected["error"]
    assert not (run / "merged" / "adapter_config.json").exists()  # plain weights, for release and vLLM
    assert QwenVL.from_pretrained(run / "merged").config.path == str((run / "merged").resolve())


@pytest.mark.slow
def test_trl_run_resumes_from_its_last_checkpoint(tiny, dataset, tmp_path):
    """A run killed after step 2 (its step-3 checkpoint never written) resumes to the losses of the whole run."""
    import shutil

    from voltpeak.rundir import mark_last

    config = TrainConfig(dataset=str(dataset), out=str(tmp_path / "run"), steps=3, batch_size=2, warmup_steps=1,
                         val_every=10, val_samples=1, save_every=1, model={"kind": "qwen", "path": str(tiny),
                                                                           "lora_r": R, "max_new_tokens": 4})
    run = train(config, log=lambda s: None)
    whole = [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    with pytest.raises(InputError, match="holds a run"):
        train(config, log=lambda s: None)
    shutil.rmtree(run / "checkpoints" / "checkpoint-3")
    mark_last(run, "checkpoint-2")
    train(config, resume=True, log=lambda s: None)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert [r["loss"] for r in rows] == pytest.approx(whole, rel=1e-4) and len(set(whole)) == 3
    assert (run / "checkpoints" / "last").read_text() == "checkpoint-3"
    state = json.loads((run / "checkpoints" / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3 and [e["step"] for e in state["log_history"] if "loss" in e] == [1, 2, 3]


def test_a_merged_model_answers_as_the_adapter_did(tiny, tmp_path):
    model = _qwen(tiny, vision="full", merger="lora")
    torch.manual_seed(1)
    with torch.no_grad():  # stand-ins for training: move the adapters and the wholly trained vision tower
        for p in model.model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    proc = model.processor
    inputs = proc(images=[_image(dot=(0.3, 0.4))], text=[proc.apply_chat_template(model.messages())],
                  return_tensors="pt")
    model.model.eval()
    with torch.no_grad():
        before = model.model(**inputs).logits
    merged = QwenVL.from_pretrained(model.merge(tmp_path / "merged"))
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    with torch.no_grad():
        after = merged.model(**inputs).logits
    assert torch.allclose(before, after, atol=1e-4)
    base = QwenVL.build(QwenConfig(path=str(tiny)))
    with torch.no_grad():
        assert not torch.allclose(base.model(**inputs).logits, after, atol=1e-3)


@pytest.mark.slow
def test_qwen_config_errors_are_one_line(tmp_path, dataset):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"dataset": str(dataset), "out": str(tmp_path / "run"),
                               "model": {"kind": "qwen", "path": str(tmp_path / "nowhere")}}))
    done = subprocess.run([sys.executable, "-m", "voltpeak", "train", "--config", str(bad)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "nowhere" in done.stderr
    bad.write_text(json.dumps({"dataset": str(dataset), "model": {"kind": "qwen", "path": "x", "vision": "half"}}))
    with pytest.raises(InputError, match="vision must be full, lora or frozen"):
        TrainConfig.load(bad).validate()


@pytest.mark.parametrize("vision,merger,freeze_vit,freeze_aligner,whole", [
    ("full", "full", "true", "true", ["visual"]),
    ("lora", "frozen", "false", "true", None),
    ("full", "frozen", "true", "true", ["visual.patch_embed", "visual.blocks.0", "visual.blocks.1"]),
    ("frozen", "full", "true", "true", ["visual.merger"])])
def test_swift_command_follows_the_config(tiny, tmp_path, vision, merger, freeze_vit, freeze_aligner, whole):
    config = TrainConfig(dataset="ds", lr=2e-4, vision_lr=2e-5, connector_lr=1e-4, steps=7, precision="bf16")
    qwen = QwenConfig(path=str(tiny), vision=vision, merger=merger, dtype="bf16")
    env, argv = sft_command(config, qwen, tmp_path, tmp_path / "out", (3136, 200704))
    args = dict(zip(argv[1::2], argv[2::2]))
    assert argv[0] == "sft" and env["MAX_PIXELS"] == "200704" and env["HF_HUB_OFFLINE"] == "1"
    assert args["--model"] == str(tiny) and args["--model_type"] == "qwen2_5_vl"
    assert args["--freeze_vit"] == freeze_vit and args["--freeze_aligner"] == freeze_aligner
    assert args["--tuner_type"] == "lora" and args["--max_steps"] == "7" and args["--torch_dtype"] == "bfloat16"
    assert args["--dataset"] == str(tmp_path / "train.jsonl")
    assert ("--vit_lr" in argv) == (vision != "frozen")
    if whole:
        k = argv.index("--modules_to_save")
        assert argv[k + 1:k + 1 + len(whole)] == whole
    else:
        assert "--modules_to_save" not in argv


def _swift() -> str | None:
    for candidate in (os.environ.get("VOLTPEAK_SWIFT"), str(ROOT / ".venv-swift" / "bin" / "swift")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.mark.skipif(_swift() is None, reason="the ms-swift environment is absent (make swift-env, or set "
                                             "VOLTPEAK_SWIFT to its swift executable)")
@pytest.mark.slow
def test_swift_sft_infer_and_evaluate_on_a_tiny_qwen_with_real_token_ids(dataset, tmp_path):
    answers = [json.loads(line)["messages"][1]["content"] for line in (dataset / "train.jsonl").open()]
    model = tiny_qwen(tmp_path / "tiny-real-ids", list(PROMPTS) + answers, real_ids=True)
    assert json.loads((model / "config.json").read_text())["image_token_id"] == 151655  # ms-swift hard-codes it
    config = TrainConfig(dataset=str(dataset), out=str(tmp_path / "run"), steps=2, batch_size=2, warmup_steps=1,
                         val_every=2, val_samples=4, save_every=2, vision_lr=1e-4,
                         model={"kind": "qwen", "path": str(model), "lora_r": R, "max_new_tokens": 16,
                                "merge": True})
    (tmp_path / "config.json").write_text(json.dumps(asdict(config)))
    env = {**os.environ, "VOLTPEAK_SWIFT": _swift()}
    done = subprocess.run([sys.executable, "-m", "voltpeak", "train", "--backend", "swift", "--config",
                           str(tmp_path / "config.json")], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    run = tmp_path / "run"
    assert "swift sft --model" in (run / "swift_sft.sh").read_text()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    truths = (dataset / "truth_val.jsonl").read_text().splitlines(True)[:4]
    assert [r["step"] for r in rows] == [1, 2] and rows[-1]["val_samples"] == len(truths) > 0
    assert "Trainable" in (run / "swift.log").read_text()
    truth = tmp_path / "truth_val.jsonl"
    truth.write_text("".join(truths))
    scored = subprocess.run([sys.executable, "-m", "voltpeak", "evaluate", "--truth", str(truth), "--pred",
                             str(run / "predictions_val.jsonl"), "--space", "image"],
                            capture_output=True, text=True, timeout=120)
    assert scored.returncode == 0, scored.stderr
    metrics = json.loads(scored.stdout)
    assert metrics["sources"] == len(truths) and metrics["f1"] == rows[-1]["val_f1"]
    assert "sources without a prediction" not in scored.stderr
    # predict --backend swift (swift infer) reads the run's checkpoint and writes contract lines.
    image = dataset / "images" / Path(json.loads(truths[0])["source"]).name
    out = subprocess.run([sys.executable, "-m", "voltpeak", "predict", "--backend", "swift", "--model", str(run),
                          str(image)], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-1000:]
    line = json.loads(out.stdout)
    assert line["source"] == str(image) and isinstance(line["text"], str)
    # The merged model and the adapter checkpoint both load in voltpeak's own (transformers) backend.
    for folder in (run / "merged", run):
        out = subprocess.run([sys.executable, "-m", "voltpeak", "predict", "--model", str(folder),
                              str(dataset / "images" / Path(json.loads(truth.read_text().splitlines()[0])[
                                  "source"]).name)], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-1000:]
        assert isinstance(json.loads(out.stdout)["text"], str)
