"""The ms-swift backend: ``voltpeak train --backend swift --config FILE`` writes and runs ``swift sft`` for a Qwen-VL
config, then ``swift infer`` on the validation split (scored into ``metrics.jsonl``) and, with ``merge`` on,
``swift export --merge_lora true``; ``voltpeak predict --backend swift`` answers through ``swift infer``. ms-swift
lives in its own environment (``make swift-env``: it pins older transformers/trl and needs the CUDA torch build);
voltpeak only runs its commands.

The run directory holds ``config.json``, ``data/{train,val}.jsonl`` (ms-swift's format with absolute image paths
and answers in pixels of the image ms-swift's processor will see: ms-swift does not rescale coordinates written in
the text), ``swift_sft.sh`` (the exact command, runnable by hand), ``checkpoints/`` (ms-swift's output: the
``checkpoint-N`` adapters, made voltpeak models with the processor and ``voltpeak.json``; ``last``;
``logging.jsonl``), ``metrics.jsonl`` (ms-swift's loss/lr rows in voltpeak's format + the validation F1),
``predictions_val.jsonl`` (contract predict lines, for ``voltpeak evaluate``) and, with ``merge``, ``merged/``.
"""

from __future__ import annotations

import json
from pathlib import Path

from voltpeak.answer import IMAGE_TOKEN
from voltpeak.errors import InputError
from voltpeak.models.kinds import kind_of
from voltpeak.models.qwen import (
    PROMPT,
    Geometry,
    QwenConfig,
    load_processor,
    rescale_answer,
    whole_modules,
    write_saved,
)
from voltpeak.predict.swift import SWIFT_ENV, predict_swift, run_swift, script, swift_binary
from voltpeak.rundir import mark_last, start_run, write_metrics
from voltpeak.train.validate import score

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def write_split(examples, processor, path: Path, fixed_prompt: bool = True) -> Path:
    """``examples`` as ms-swift JSONL: absolute image paths, answers for the size the processor resizes to."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    geometry = Geometry.of(processor)
    with open(path, "w", encoding="utf-8") as f:
        for ex in examples:
            with Image.open(ex.image) as im:
                width, height = im.size
            h, w = geometry.resized(height, width)
            prompt = PROMPT if fixed_prompt else ex.prompt.strip()
            f.write(json.dumps({"messages": [{"role": "user", "content": IMAGE_TOKEN + prompt},
                                             {"role": "assistant",
                                              "content": rescale_answer(ex.target, w / width, h / height)}],
                                "images": [str(Path(ex.image).resolve())]}, ensure_ascii=False) + "\n")
    return path


def _base_config(path: str) -> dict:
    """The base model's config.json where it is a local folder (a hub id: {}, and ms-swift finds the rest)."""
    config = Path(path) / "config.json"
    return json.loads(config.read_text()) if config.is_file() else {}


def sft_command(config, qwen: QwenConfig, data: Path, out: Path, bounds: tuple[int, int]) -> tuple[dict, list]:
    """(environment, argv) of the ``swift sft`` run for a training config: LoRA on the language model
    (``all-linear`` with the vision tower frozen unless it takes LoRA), the vision parts trained whole through
    ``modules_to_save``, learning rates per part, voltpeak's schedule and checkpoints."""
    env = {**SWIFT_ENV, "MIN_PIXELS": str(bounds[0]), "MAX_PIXELS": str(bounds[1])}
    base = _base_config(qwen.path)
    argv = ["sft", "--model", qwen.path]
    if base.get("model_type"):
        argv += ["--model_type", base["model_type"], "--template", base["model_type"]]
    argv += ["--dataset", str(data / "train.jsonl"), "--val_dataset", str(data / "val.jsonl"),
             "--tuner_type", "lora", "--lora_rank", str(qwen.lora_r), "--lora_alpha", str(qwen.lora_alpha),
             "--lora_dropout", str(qwen.lora_dropout), "--target_modules", "all-linear",
             "--freeze_vit", str(qwen.vision != "lora").lower(), "--freeze_aligner", str(qwen.merger != "lora").lower()]
    whole = whole_modules(qwen, base.get("vision_config", {}).get("depth", 0))
    if whole:
        argv += ["--modules_to_save", *whole]
    argv += ["--learning_rate", str(config.lr)]
    if qwen.vision != "frozen" and config.vision_lr:
        argv += ["--vit_lr", str(config.vision_lr)]
    if qwen.merger != "frozen" and config.connector_lr:
        argv += ["--aligner_lr", str(config.connector_lr)]
    argv += ["--max_steps", str(config.steps), "--per_device_train_batch_size", str(config.batch_size),
             "--per_device_eval_batch_size", str(config.batch_size),
             "--gradient_accumulation_steps", str(config.grad_accum), "--warmup_steps", str(config.warmup_steps),
             "--lr_scheduler_type", "cosine_with_min_lr",
             "--lr_scheduler_kwargs", json.dumps({"min_lr_rate": config.min_lr_ratio}),
             "--weight_decay", str(config.weight_decay), "--max_grad_norm", str(config.grad_clip),
             "--logging_steps", "1", "--eval_steps", str(config.val_every), "--save_steps", str(config.save_every),
             "--save_total_limit", str(config.keep_checkpoints), "--seed", str(config.seed),
             "--output_dir", str(out),
             "--add_version", "false", "--report_to", config.report_to, "--check_model", "false",
             "--dataloader_num_workers", "0", "--dataset_num_proc", "1", "--split_dataset_ratio", "0"]
    if qwen.dtype != "auto":  # auto: the model's own dtype (ms-swift's default)
        argv += ["--torch_dtype", DTYPES[qwen.dtype]]
    return env, argv


def last_checkpoint(out: Path) -> Path:
    """The newest ``checkpoint-N`` folder under ms-swift's output."""
    found = sorted((p for p in out.glob("checkpoint-*") if p.is_dir()), key=lambda p: int(p.name.rsplit("-", 1)[1]))
    if not found:
        raise InputError(f"{out}: no ms-swift checkpoint")
    return found[-1]


def train_swift(config, resume: bool = False, log=print) -> Path:
    """``swift sft``, then ``swift infer`` on the validation samples (scored into metrics.jsonl) and, with the
    model's ``merge`` on, ``swift export --merge_lora`` into ``merged/``, for a Qwen-VL training config."""
    from voltpeak.train.data import training_data
    if kind_of(config.model).trainer != "sft":
        raise InputError("--backend swift trains Qwen-VL models: the config's model needs kind 'qwen'")
    qwen = QwenConfig.from_dict(config.model)
    swift = swift_binary()
    # ms-swift resumes from its own newest checkpoint, which a killed run leaves before voltpeak marks one.
    run = start_run(Path(config.out).resolve(), config, resume, need_checkpoint=False, backend="swift")
    checkpoints = run / "checkpoints"
    processor = load_processor(qwen.path, qwen.min_pixels, qwen.max_pixels)
    bounds = Geometry.of(processor).bounds
    examples, validation = training_data(config.dataset, config.train_limit, config.val_samples)
    data = run / "data"
    write_split(examples, processor, data / "train.jsonl", config.fixed_prompt)
    write_split(validation, processor, data / "val.jsonl", config.fixed_prompt)
    env, argv = sft_command(config, qwen, data, checkpoints, bounds)
    if resume:
        argv += ["--resume_from_checkpoint", str(last_checkpoint(checkpoints))]
    (run / "swift_sft.sh").write_text("#!/bin/sh\n" + script(swift, env, argv) + "\n")
    run_swift(swift, env, argv, run / "swift.log", log)
    checkpoint = last_checkpoint(checkpoints)
    # The checkpoint becomes a voltpeak model too (voltpeak predict --model RUN, any backend).
    write_saved(checkpoint, qwen, processor)
    mark_last(run, checkpoint.name)
    lines = list(predict_swift(checkpoint, [(ex.image, Path(ex.image)) for ex in validation], run / "infer", log))
    with open(run / "predictions_val.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(line) + "\n" for line in lines)
    scores = score(lines, validation)
    log(f"validation ({len(validation)} samples through swift infer): F1 {scores['f1']:.3f}")
    _write_metrics(run, checkpoint, scores)
    if qwen.merge:
        argv = ["export", "--adapters", str(checkpoint), "--merge_lora", "true", "--output_dir", str(run / "merged")]
        run_swift(swift, SWIFT_ENV, argv, run / "swift.log", log)
        write_saved(run / "merged", qwen, processor, path=str(run / "merged"))
    return run


def _write_metrics(run: Path, checkpoint: Path, scores: dict):
    """ms-swift's per-step log (``logging.jsonl``) as voltpeak metrics rows, the validation scores on the last."""
    rows = []
    logging = checkpoint.parent / "logging.jsonl"
    for raw in logging.read_text().splitlines() if logging.is_file() else []:
        entry = json.loads(raw)
        if "loss" in entry and "global_step/max_steps" in entry:
            rows.append({"step": int(str(entry["global_step/max_steps"]).split("/")[0]), "loss": entry["loss"],
                         "lr": entry.get("learning_rate", 0.0), "epoch": entry.get("epoch", 0.0)})
    step = int(checkpoint.name.rsplit("-", 1)[1])
    if not rows or rows[-1]["step"] != step:
        rows.append({"step": step})
    rows[-1].update({f"val_{k}": v for k, v in scores.items()})
    write_metrics(run, rows)
