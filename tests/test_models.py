"""The custom MLLM on tiny configs: forward/backward/generate, masking, one-line config errors, save/load, and predict
lines that carry an unreadable answer as an error (training it: test_train.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from conftest import TINY, tiny_mllm

from voltpeak.errors import InputError
from voltpeak.models.mllm import MLLM
from voltpeak.train import TrainConfig
from voltpeak.train.data import Collator, load_split


def test_forward_backward_generate_and_masking(dataset):
    torch.manual_seed(0)
    model = tiny_mllm()
    examples = load_split(dataset, "train", 4)
    batch = Collator.of(model)(examples)
    labels, mask = batch["labels"], batch["attention_mask"]
    # Supervised: the answer and its EOS only; padding is masked in both the attention and the labels.
    eos = model.tokenizer.convert_tokens_to_ids("</s>")
    for row_labels, row_ids, row_mask in zip(labels, batch["input_ids"], mask):
        supervised = row_ids[row_labels != -100]
        assert supervised[-1] == eos and int((row_labels == eos).sum()) == 1
        assert (row_labels[row_mask == 0] == -100).all()
        head = 1 + model.image_tokens + len(model.tokenizer.encode("Peaks?", add_special_tokens=False))
        assert (row_labels[:head] == -100).all()
    logits, loss, count = model(batch["pixels"], batch["input_ids"], mask, labels)
    assert logits.shape[:2] == batch["input_ids"].shape and count == int((labels[:, 1:] != -100).sum())
    (loss / count).backward()
    assert all(p.grad is not None for p in model.connector.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.vision.parameters())
    texts = model.generate(batch["pixels"][:2], torch.tensor([Collator.of(model).prefix("Peaks?")] * 2), 5)
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)
    # A fresh tokenizer decodes location tokens as a reloaded one does (validation runs on the fresh one).
    ids = model.tokenizer.encode("<s>anodic<x003><y017></s><pad>", add_special_tokens=False)
    assert model.decode(ids) == "anodic<x003><y017>"
    with pytest.raises(ValueError, match="placeholders"):
        model.embed(batch["pixels"][:1], batch["input_ids"][:1, model.image_tokens:])


@pytest.mark.parametrize("change, words", [({"vision": "vit"}, "vision must be one of conv, clip, heatmap"),
                                           ({"dtype": "float8"}, "dtype must be one of"),
                                           ({"lm_layers": 0}, "lm_layers must be at least 1")])
def test_a_wrong_model_config_is_one_line_at_once(change, words):
    """Checked when the config is read (train validates its config first), not a KeyError deep in building."""
    with pytest.raises(InputError, match=words):
        TrainConfig(dataset="x", model={**TINY, **change}).validate()


def test_save_load_round_trip(tmp_path, dataset):
    torch.manual_seed(1)
    model = tiny_mllm().eval()
    batch = Collator.of(model)(load_split(dataset, "train", 2))
    model.save_pretrained(tmp_path / "m")
    loaded = MLLM.from_pretrained(tmp_path / "m")
    with torch.no_grad():
        a = model(batch["pixels"], batch["input_ids"], batch["attention_mask"])[0]
        b = loaded(batch["pixels"], batch["input_ids"], batch["attention_mask"])[0]
    assert torch.equal(a, b)
    prefix = torch.tensor([Collator.of(model).prefix("Peaks?")])
    assert model.generate(batch["pixels"][:1], prefix, 8) == loaded.generate(batch["pixels"][:1], prefix, 8)


@pytest.mark.slow
def test_predict_reports_errors_without_crashing(tmp_path, dataset):
    model = tiny_mllm()
    model.save_pretrained(tmp_path / "m")
    (tmp_path / "bad.png").write_text("not an image")
    image = str(dataset / json.loads((dataset / "train.jsonl").read_text().splitlines()[0])["images"][0])
    done = subprocess.run([sys.executable, "-m", "voltpeak", "predict", "--model", str(tmp_path / "m"), image,
                           str(tmp_path / "bad.png")], capture_output=True, text=True, timeout=300)
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert [line["source"] for line in lines] == [image, str(tmp_path / "bad.png")]
    assert lines[1]["error"].startswith("cannot read image") and lines[1]["peaks"] == []
    assert isinstance(lines[0]["text"], str) and (lines[0]["error"] is None or lines[0]["peaks"] == [])
    assert done.returncode == 2  # an unreadable input
    missing = subprocess.run([sys.executable, "-m", "voltpeak", "predict", "--model", str(tmp_path / "nope"), image],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "not a saved voltpeak model" in missing.stderr


