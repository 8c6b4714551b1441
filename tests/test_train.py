"""The training stage: the learning-rate schedule and time budgets, killed runs that resume to the same losses, a
tiny model that overfits to F1 1, two processes under torchrun, and training splits joined from several datasets."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from conftest import TINY, score_on_training_images, tiny_mllm

from voltpeak.errors import InputError
from voltpeak.models.mllm import MLLM, MLLMConfig, train_tokenizer
from voltpeak.train import TrainConfig, lr_at, preflight, train


def test_freeze_lora_and_preflight(tmp_path):
    frozen = tiny_mllm(freeze_vision=True)
    assert frozen.trainable_parameters()["vision"] == 0 and preflight(frozen, log=lambda *_: None)["lm"] > 0
    # The frozen-vision-tower bug: the config trains the tower, yet it has nothing to train.
    broken = tiny_mllm()
    for p in broken.vision.parameters():
        p.requires_grad_(False)
    with pytest.raises(InputError, match="vision"):
        preflight(broken, log=lambda *_: None)
    # LoRA on a pretrained LM (saved here) with a CLIP tower: only LoRA weights train in the LM.
    from transformers import CLIPVisionConfig, CLIPVisionModel, LlamaConfig, LlamaForCausalLM

    CLIPVisionModel(CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                     num_attention_heads=2, image_size=64, patch_size=16)).save_pretrained(
        tmp_path / "clip")
    tokenizer = train_tokenizer(["anodic cathodic"], location_bins=8, vocab_size=40)
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                 num_hidden_layers=1, num_attention_heads=2)).save_pretrained(tmp_path / "llama")
    model = MLLM.build(MLLMConfig(image_size=64, vision="clip", vision_path=str(tmp_path / "clip"),
                                  lm_path=str(tmp_path / "llama"), lora_rank=4, location_bins=8), tokenizer)
    names = [n for n, p in model.lm.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n for n in names)
    assert model.image_tokens == 16 and model.trainable_parameters()["vision"] > 0
    ids = torch.tensor([[1] + [model.image_token_id] * 16 + [5, 6]])
    logits, _, _ = model(torch.zeros(1, 3, 64, 64), ids, torch.ones_like(ids))
    assert logits.shape == (1, 19, len(tokenizer))


def test_learning_rate_schedule():
    c = TrainConfig(dataset="x", steps=100, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_at(1, c) == pytest.approx(0.1) and lr_at(10, c) == pytest.approx(1.0)
    assert lr_at(55, c) == pytest.approx(0.55) and lr_at(100, c) == pytest.approx(0.1)
    assert all(lr_at(s, c) >= lr_at(s + 1, c) for s in range(10, 100))


@pytest.mark.slow
def test_a_time_budget_bounds_the_run_and_its_schedule(dataset, tmp_path):
    """``minutes``: the run stops (validated and saved) within its wall time, however many ``steps`` it was
    given, and its cosine schedule reaches the bottom at the budget's end."""
    import time

    config = _config(dataset, tmp_path / "budget", steps=1_000_000, minutes=0.1, val_every=1_000_000,
                     save_every=1_000_000)
    t = time.perf_counter()
    run = train(config, log=lambda *_: None)
    took = time.perf_counter() - t
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert took < 6 + 3, took  # 6 s budget; a closing validation's worth of slack
    assert 2 < len(rows) < 1_000_000 and "val_f1" in rows[-1]
    assert (run / "checkpoints" / "last").read_text() == f"step-{len(rows):06d}"
    assert rows[-1]["lr"] < 0.3 * config.lr  # the schedule ran down with the time, not with the million steps
    with pytest.raises(InputError, match="minutes"):
        TrainConfig(dataset="x", minutes=-1).validate()
    # Resuming a run whose budget is spent says so; it used to start the schedule (and the budget) over.
    with pytest.raises(InputError, match="time budget of 0.1 min is spent"):
        train(config, resume=True, log=lambda *_: None)


def test_a_resumed_run_keeps_its_time_budget_and_schedule(dataset, tmp_path):
    """A run stopped part-way through its time budget resumes with the time it had used: its learning rate goes
    on down from where it was, not back up to the top of the cosine."""
    config = _config(dataset, tmp_path / "half", steps=1_000_000, minutes=0.2, warmup_steps=1, val_every=1_000_000,
                     save_every=1)
    run = train(config, stop_after=4, log=lambda *_: None)
    before = [json.loads(x)["lr"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    train(config, resume=True, stop_after=2, log=lambda *_: None)
    after = [json.loads(x)["lr"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert after[:4] == before and len(after) == 6
    assert after[4] <= before[-1] < config.lr  # where the schedule was, onwards


def test_time_budget_schedule():
    c = TrainConfig(dataset="x", steps=1_000_000, warmup_steps=10, min_lr_ratio=0.1, minutes=1)
    assert lr_at(5, c, 0.01) == pytest.approx(0.5)  # warm-up by steps
    assert lr_at(50, c, 0.5) == pytest.approx(0.55) and lr_at(60, c, 1.0) == pytest.approx(0.1)
    # Steps that run out before the budget set the schedule: the last step is annealed however little time it took.
    short = TrainConfig(dataset="x", steps=100, warmup_steps=10, min_lr_ratio=0.1, minutes=60)
    assert lr_at(100, short, 0.2) == pytest.approx(0.1) and lr_at(55, short, 0.2) == pytest.approx(0.55)


def _config(dataset: Path, out: Path, **changes) -> TrainConfig:
    return TrainConfig(**{"dataset": str(dataset), "out": str(out), "model": TINY, "steps": 6, "batch_size": 4,
                          "lr": 3e-3, "warmup_steps": 2, "val_every": 3, "val_samples": 2, "save_every": 3,
                          "tokenizer_vocab": 60, **changes})


def _losses(run: Path) -> list[float]:
    return [json.loads(x)["loss"] for x in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_loss_curve(dataset, tmp_path):
    whole = train(_config(dataset, tmp_path / "whole"), log=lambda *_: None)
    killed = _config(dataset, tmp_path / "killed")
    train(killed, stop_after=4, log=lambda *_: None)  # killed after step 4: the checkpoint of step 3 survives
    assert len(_losses(tmp_path / "killed")) == 4
    with pytest.raises(InputError, match="resume"):
        train(killed, log=lambda *_: None)
    train(killed, resume=True, log=lambda *_: None)
    assert _losses(tmp_path / "killed") == pytest.approx(_losses(whole), rel=1e-5)
    rows = [json.loads(x) for x in (whole / "metrics.jsonl").read_text().splitlines()]
    assert {"val_f1", "val_sample_accuracy", "val_parse_errors"} <= set(rows[2]) and rows[0]["lr"] < rows[1]["lr"]
    assert (whole / "config.json").is_file() and (whole / "checkpoints" / "last").read_text() == "step-000006"
    # What a GPU run needs to continue exactly is saved too: the fp16 loss scale and the GPUs' generators.
    saved = torch.load(whole / "checkpoints" / "step-000006" / "trainer.pt", weights_only=False)
    assert {"scaler", "cuda_rng", "torch_rng", "numpy_rng", "python_rng", "optimizer"} <= set(saved)


@pytest.mark.slow
def test_tiny_model_overfits_eight_samples_to_f1_one(dataset, tmp_path):
    # Loss, masking, generation and parsing fit together: predict + evaluate on the training images give F1 = 1.
    model = {**TINY, "image_size": 96, "vision_channels": [16, 32, 64, 64], "lm_hidden": 96, "lm_intermediate": 192,
             "lm_layers": 2, "location_bins": 48}
    config = _config(dataset, tmp_path / "run", steps=200, batch_size=8, train_limit=8, val_every=200,
                     save_every=200, warmup_steps=20, model=model)
    run = train(config, log=lambda *_: None)
    metrics = score_on_training_images(run, dataset, 8, tmp_path / "score")
    assert metrics["f1"] == 1.0 and metrics["sample_accuracy"] == 1.0, metrics


@pytest.mark.slow
def test_two_processes_train_one_run_under_torchrun(dataset, tmp_path):
    """torchrun (Gloo on CPUs): each process takes its slice of the step's window, gradients are all-reduced as a
    per-token mean of the whole window, process 0 alone writes the run: the same weights and losses as one process
    taking the whole window (without the all-reduce, or with each process's own mean, they differ)."""
    from safetensors.torch import load_file

    config = _config(dataset, tmp_path / "run", steps=4, batch_size=2, train_limit=8, val_every=4, save_every=4,
                     threads=1)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(asdict(config)))
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "voltpeak", "train", "--config", str(path)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    # 8 samples, 2 processes × 2 per step: the third step starts the second epoch (one process: the fifth).
    assert [r["epoch"] for r in rows] == [0, 0, 1, 1]
    one = train(_config(dataset, tmp_path / "one", steps=4, batch_size=4, train_limit=8, val_every=4, save_every=4,
                        threads=1), log=lambda *_: None)
    assert _losses(tmp_path / "run") == pytest.approx(_losses(one), rel=1e-4)
    two = load_file(str(tmp_path / "run" / "checkpoints" / "step-000004" / "model" / "model.safetensors"))
    single = load_file(str(one / "checkpoints" / "step-000004" / "model" / "model.safetensors"))
    assert two.keys() == single.keys()
    # Biases of the convolutions a one-channel-per-group GroupNorm follows get a gradient of zero up to rounding,
    # which Adam's normalisation magnifies: those are left out; every other weight agrees to 1e-5.
    cancelled = {"vision.net.0.bias", "vision.net.3.bias"}
    assert max(float((two[k] - single[k]).abs().max()) for k in two if k not in cancelled) < 1e-5


def test_a_config_may_join_the_training_splits_of_several_datasets(dataset, tmp_path):
    from voltpeak.train.data import training_data

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"dataset": [str(dataset), str(dataset)], "train_limit": 0}))
    config = TrainConfig.load(path)
    config.validate()
    one, val_one = training_data(str(dataset))
    both, val_both = training_data(config.dataset, val_samples=3)
    assert len(both) == 2 * len(one) > 0 and [e.image for e in both[len(one):]] == [e.image for e in one]
    assert [e.image for e in val_both] == [e.image for e in val_one[:3]]
    with pytest.raises(InputError, match="names no folder"):
        training_data([])
