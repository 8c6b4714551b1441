"""The heatmap peak detector: target encoding ↔ decoding, a tiny detector that overfits a few plots to F1 = 1
through ``voltpeak train`` / ``predict`` / ``evaluate``, its save/load, and its use as the MLLM's vision tower."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import score_on_training_images

from voltpeak.errors import InputError
from voltpeak.models import load_model
from voltpeak.models.heatmap import HeatmapConfig, HeatmapNet
from voltpeak.models.mllm import MLLM, MLLMConfig, train_tokenizer
from voltpeak.train import TrainConfig, train
from voltpeak.train.data import HeatmapCollator, load_split, shrink
from voltpeak.train.validate import THRESHOLDS

TINY = {"kind": "heatmap", "image_size": 128, "channels": [16, 24, 32, 48], "stem": 2, "stride": 2}


@pytest.mark.parametrize("stem, stride", [(2, 2), (2, 4), (4, 4), (4, 8)])
def test_encoding_then_decoding_gives_the_positions_back(stem, stride):
    net = HeatmapNet(HeatmapConfig.from_dict({**TINY, "stem": stem, "stride": stride}))
    rng = np.random.default_rng(stride)
    # Peaks on a coarse lattice (no two in one Gaussian) with sub-cell jitter, both directions.
    lattice = [(x, y) for x in range(12, 120, 24) for y in range(12, 120, 30)]
    peaks = [[(int(rng.integers(2)), x + rng.uniform(-5, 5), y + rng.uniform(-5, 5)) for x, y in lattice]
             for _ in range(2)]
    t = net.targets(peaks, [False, True])  # the second image in the US convention
    assert int(t["mask"].sum()) == sum(len(p) for p in peaks)
    # Anodic peaks point up on the normal plot, down on the reversed one.
    for b, flip in enumerate((False, True)):
        ups = t["up"][b, 0][t["mask"][b, 0] == 1]
        assert ups.tolist() == [float((d == 0) != flip) for d, x, y in sorted(
            peaks[b], key=lambda p: (round(p[2] / net.config.stride - 0.5), round(p[1] / net.config.stride - 0.5)))]
    output = torch.cat([torch.logit(t["heat"].clamp(1e-6, 1 - 1e-6)), 20 * t["up"] - 10, t["offset"]], 1)
    for truth, found in zip(peaks, net.decode(output, 20 * t["reversed"] - 10, threshold=0.99)):
        assert len(found) == len(truth)
        for d, x, y in truth:
            best = min(found, key=lambda f: (f[1] - x) ** 2 + (f[2] - y) ** 2)
            assert best[0] == d and abs(best[1] - x) < 0.5 and abs(best[2] - y) < 0.5


def test_settings_are_checked():
    with pytest.raises(ValueError, match="stride"):
        HeatmapConfig.from_dict({**TINY, "stride": 3})
    # Saved before the "layout" head was dropped: the shipped head loads, the dropped one is refused.
    assert HeatmapConfig.from_dict({**TINY, "reversed_head": "pooled"}) == HeatmapConfig.from_dict(TINY)
    with pytest.raises(InputError, match="unknown heatmap setting"):
        HeatmapConfig.from_dict({**TINY, "reversed_head": "layout"})
    with pytest.raises(InputError, match="unknown heatmap setting"):
        HeatmapConfig.from_dict({**TINY, "depth": 3})


def test_collator_targets_sit_at_the_truth_peaks(dataset):
    net = HeatmapNet(HeatmapConfig.from_dict(TINY))
    examples = load_split(dataset, "train", 4)
    batch = HeatmapCollator(net)(examples)
    for k, ex in enumerate(examples):
        assert int(batch["mask"][k].sum()) == len(ex.peaks)
        for p in ex.peaks:
            x, y = batch["boxes"][k].to_input(p["x"], p["y"])
            cu, cv = round(x / 2 - 0.5), round(y / 2 - 0.5)
            assert batch["heat"][k, 0, cv, cu] == 1.0 and batch["mask"][k, 0, cv, cu] == 1.0
            assert batch["up"][k, 0, cv, cu] == float((p["direction"] == "anodic") != ex.reversed)
            assert torch.allclose(batch["offset"][k, :, cv, cu], torch.tensor([x / 2 - 0.5 - cu, y / 2 - 0.5 - cv]))


@pytest.mark.slow
def test_a_tiny_detector_overfits_eight_plots_to_f1_one(dataset, tmp_path):
    config = TrainConfig(dataset=str(dataset), out=str(tmp_path / "run"), model=TINY, steps=150, batch_size=8,
                         lr=3e-3, warmup_steps=10, train_limit=8, val_every=150, val_samples=4, save_every=150,
                         augment=False)
    run = train(config, log=lambda *_: None)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["loss"] < rows[0]["loss"] / 10
    metrics = score_on_training_images(run, dataset, 8, tmp_path / "score")
    assert metrics["f1"] == 1.0 and metrics["sample_accuracy"] == 1.0, metrics
    # A saved detector gives the same maps after loading.
    model = load_model(run / "checkpoints" / "step-000150" / "model")
    again = load_model(run / "checkpoints" / "step-000150" / "model")
    pixels = HeatmapCollator(model)(load_split(dataset, "train", 2))["pixels"]
    assert torch.equal(model(pixels)[0], again(pixels)[0])
    assert json.loads((run / "checkpoints" / "step-000150" / "model" / "config.json").read_text())["threshold"] in (
        THRESHOLDS)  # tuned on the validation samples at the end
    # A run started from this one's weights (init) begins where it ended, not where a new model does.
    tuned = train(replace(config, out=str(tmp_path / "tuned"), init=str(run), steps=2, val_every=2, save_every=2),
                  log=lambda *_: None)
    first = json.loads((tuned / "metrics.jsonl").read_text().splitlines()[0])["loss"]
    assert first < rows[0]["loss"] / 5 and first < 2 * rows[-1]["loss"]
    with pytest.raises(InputError, match="not a saved voltpeak model"):
        train(replace(config, out=str(tmp_path / "bad"), init=str(tmp_path / "nothing")), log=lambda *_: None)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(InputError, match="cannot start a mllm run"):  # a detector's weights in an MLLM
        train(replace(config, out=str(tmp_path / "other"), init=str(run), model={"lm_hidden": 64}),
              log=lambda *_: None)


def test_the_detector_as_the_mllm_vision_tower(tmp_path):
    # Its candidates become region tokens (left to right) carrying their location bins; frozen, it stays in
    # inference mode and gets no gradient while the rest trains; the MLLM saves and loads with it.
    HeatmapNet(HeatmapConfig.from_dict(TINY)).save_pretrained(tmp_path / "detector")
    tokenizer = train_tokenizer(["anodic cathodic none Peaks?"] * 4, location_bins=32, vocab_size=60)
    config = MLLMConfig.from_dict({"image_size": 128, "vision": "heatmap", "vision_path": str(tmp_path / "detector"),
                                   "vision_tokens": 6, "lm_hidden": 32, "lm_layers": 1, "lm_heads": 2,
                                   "lm_intermediate": 64, "location_bins": 32, "freeze_vision": True})
    model = MLLM.build(config, tokenizer)
    assert model.image_tokens == 6 and model.trainable_parameters()["vision"] == 0
    torch.manual_seed(0)
    pixels = torch.randn(2, 3, 128, 128)
    features, where = model.vision(pixels)
    assert features.shape[:2] == (2, 6) and where.shape == (2, 6, 2) and int(where.max()) < 32
    assert (where[:, 1:, 0] >= where[:, :-1, 0]).all()  # sorted left to right
    model.train()
    assert not model.vision.training and model.lm.training
    assert torch.allclose(features[..., 3], features[..., 1] + features[..., 2] - 2 * features[..., 1] * features[
        ..., 2])  # P(anodic) = P(exactly one of "points up", "axes reversed")
    ids = torch.tensor([[1] + [model.image_token_id] * 6 + [5, 6]] * 2)
    logits, loss, count = model(pixels, ids, torch.ones_like(ids), ids)
    (loss / count).backward()
    assert all(p.grad is None for p in model.vision.parameters())
    assert all(p.grad is not None for p in model.connector.parameters())
    # Candidates under the floor all become the one learned empty token (here: every candidate).
    model.config.vision_floor = 1.1
    slots = ids == model.image_token_id
    assert torch.equal(model.embed(pixels, ids)[slots], model.connector.empty.expand(int(slots.sum()), -1))
    model.config.vision_floor = 0.0
    model.save_pretrained(tmp_path / "mllm")
    loaded = MLLM.from_pretrained(tmp_path / "mllm")
    model.eval()
    assert torch.allclose(model(pixels, ids, torch.ones_like(ids))[0], loaded(pixels, ids, torch.ones_like(ids))[0])


def test_colour_augmentation_keeps_pixels_and_labels(dataset):
    """Augmented colours: each image's channels permuted (the same values per pixel) or turned grey (equal
    channels) or kept; the targets are those of the plain batch."""
    net = HeatmapNet(HeatmapConfig.from_dict(TINY))
    examples = load_split(dataset, "train", 6)
    plain = HeatmapCollator(net)(examples)
    torch.manual_seed(0)
    coloured = HeatmapCollator(net, augment=True)(examples)
    for key in ("heat", "up", "mask", "offset", "reversed"):
        assert torch.equal(coloured[key], plain[key]), key
    px, pc = plain["pixels"], coloured["pixels"]
    assert all(torch.allclose(pc[k].sort(0).values, px[k].sort(0).values, atol=1e-6)
               or torch.equal(pc[k][0], pc[k][2]) for k in range(len(examples)))
    assert not torch.equal(pc, px)  # some image did change


@pytest.mark.parametrize("sx, sy, u, v", [(1.0, 1.0, 0.0, 0.0), (0.6, 0.6, 0.0, 1.0), (0.73, 0.91, 0.35, 0.8)])
def test_shrinking_moves_the_peaks_with_the_pixels(sx, sy, u, v):
    # Dark 5×5 squares centred on known points of a white input: after the shrink each square's darkness-weighted
    # centre is where the label moved, within 0.5 px.
    size, points = 128, [(0, 20.5, 30.5), (1, 100.5, 64.5), (0, 64.5, 110.5)]
    image = torch.ones(3, size, size)
    for _, x, y in points:
        image[:, int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3] = -1.0
    out, moved = shrink(image, points, sx, sy, u, v)
    assert out.shape == image.shape and [d for d, _, _ in moved] == [0, 1, 0]
    dark = (1.0 - out[0]).clamp(min=0).numpy()
    rows, cols = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    for _, x, y in moved:
        near = dark * ((np.abs(cols - x) < 6) & (np.abs(rows - y) < 6))
        assert near.sum() > 0
        assert abs((near * cols).sum() / near.sum() - x) < 0.5 and abs((near * rows).sum() / near.sum() - y) < 0.5
    # The margins it opens are white.
    assert torch.all(out[:, :, :round(u * (size - round(size * sx)))] == 1.0)


def test_the_collator_shrinks_images_with_their_targets(dataset):
    net = HeatmapNet(HeatmapConfig.from_dict(TINY))
    examples = load_split(dataset, "train", 4)
    torch.manual_seed(3)
    batch = HeatmapCollator(net, augment=True, shrink=1.0)(examples)
    plain = HeatmapCollator(net)(examples)
    assert torch.equal(batch["mask"].sum((1, 2, 3)), plain["mask"].sum((1, 2, 3)))  # no peak lost
    assert not torch.equal(batch["heat"], plain["heat"])  # every image moved: its peaks too
    # Each image's non-white pixels now fill a smaller box than before.
    ink = (batch["pixels"].min(1).values < 0.9).sum((1, 2))
    assert torch.all(ink < (plain["pixels"].min(1).values < 0.9).sum((1, 2)))
    # Shrunk tick labels may be past reading: the reversed-axes term does not learn from those images.
    assert batch["readable"].tolist() == [0.0] * 4 and plain["readable"].tolist() == [1.0] * 4
    output, logit, _ = net(batch["pixels"])
    other = {**batch, "reversed": 1 - batch["reversed"]}
    assert torch.equal(net.loss(output, logit, batch), net.loss(output, logit, other))
    turned = {**plain, "reversed": 1 - plain["reversed"]}
    assert not torch.equal(net.loss(output, logit, plain), net.loss(output, logit, turned))


@pytest.mark.parametrize("value", [1.5, -0.1, "half", True])
def test_a_bad_shrink_is_refused_in_one_line(value, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"dataset": "ds", "shrink": value, "model": TINY}))
    with pytest.raises(InputError, match="shrink must be a fraction from 0 to 1"):
        TrainConfig.load(path)


@pytest.mark.slow
def test_the_shipped_models_load_and_find_peaks(dataset, tmp_path):
    # `--model default` (the detector, the better on validation) and `--model mllm-small` work out of the box on
    # real built plots: every line parsed, peaks as contract records, and near their documented test-split F1 (~0.93
    # and ~0.91; measured on these 8 plots 2026-12-02: 0.952 and 0.900), so a worse model or a broken predict path
    # fails here.
    from voltpeak.models import SHIPPED

    assert (SHIPPED / (SHIPPED / "default").read_text().strip() / "model.safetensors").is_file()
    for name, bar in (("default", 0.9), ("mllm-small", 0.85)):
        metrics = score_on_training_images(name, dataset, 8, tmp_path / name)
        assert metrics["f1"] >= bar, (name, metrics)
