"""ms-swift as a predict backend: ``voltpeak predict --backend swift`` answers through ``swift infer`` in ms-swift's own
environment (``make swift-env``), with the same output as the in-process backend; and the runner of swift commands
that ``voltpeak train --backend swift`` shares."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

from voltpeak.answer import IMAGE_TOKEN
from voltpeak.errors import InputError
from voltpeak.models.qwen import PROMPT, Geometry, answer_line, load_processor, read_saved

SWIFT_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "USE_HF": "1"}


def swift_binary() -> str:
    """The ``swift`` executable: $VOLTPEAK_SWIFT, ``.venv-swift/bin/swift`` (make swift-env) or ``swift`` on PATH."""
    for candidate in (os.environ.get("VOLTPEAK_SWIFT"), ".venv-swift/bin/swift", shutil.which("swift")):
        if candidate and Path(candidate).is_file():
            return str(Path(candidate).resolve())
    raise InputError("ms-swift not found: run `make swift-env` (or set VOLTPEAK_SWIFT to its swift executable)")


def script(swift: str, env: dict, argv: list, cwd: Path | None = None) -> str:
    """A shell line that runs ``swift ARGV`` with ``env``: what the run directory keeps, runnable by hand."""
    prefix = f"cd {shlex.quote(str(cwd))} && " if cwd else ""
    return prefix + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + shlex.join([swift, *argv])


def run_swift(swift: str, env: dict, argv: list, log_file: Path, log=print) -> None:
    """Run one swift command, its output appended to ``log_file``; a failure is a one-line InputError."""
    log("$ " + script(swift, env, argv))
    with open(log_file, "a", encoding="utf-8") as f:
        done = subprocess.run([swift, *argv], env={**os.environ, **env}, stdout=f, stderr=subprocess.STDOUT)
    if done.returncode:
        tail = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or [""]
        raise InputError(f"swift {argv[0]} failed (exit {done.returncode}, see {log_file}): {tail[0][:200]}")


def infer_command(checkpoint: Path, dataset: Path, result: Path, bounds: tuple[int, int], max_new_tokens: int,
                  backend: str = "transformers") -> tuple[dict, list]:
    """(environment, argv) of ``swift infer`` on a checkpoint's adapters: greedy answers for ``dataset``."""
    env = {**SWIFT_ENV, "MIN_PIXELS": str(bounds[0]), "MAX_PIXELS": str(bounds[1])}
    return env, ["infer", "--adapters", str(checkpoint), "--infer_backend", backend, "--val_dataset", str(dataset),
                 "--result_path", str(result), "--max_new_tokens", str(max_new_tokens), "--temperature", "0",
                 "--max_batch_size", "8"]


def result_lines(result: Path, processor):
    """Contract predict lines from a ``swift infer`` result file (its ``response`` per image; points in pixels of
    the resized image, converted with the same processor bounds)."""
    from PIL import Image

    geometry = Geometry.of(processor)
    for raw in result.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        row = json.loads(raw)
        image = row["images"][0]
        path = image["path"] if isinstance(image, dict) else image
        with Image.open(path) as im:
            size = geometry.resized(im.height, im.width)
        yield {"source": path, **answer_line(row.get("response"), size)}


def predict_swift(checkpoint: str | Path, items: list[tuple[str, Path]], work: Path, log=print):
    """Contract predict lines through ``swift infer`` on a checkpoint saved by the swift backend (its
    ``voltpeak.json`` gives the processor bounds); ``work`` keeps the request and result files."""
    checkpoint = Path(checkpoint)
    qwen = read_saved(checkpoint)
    processor = load_processor(checkpoint, qwen.min_pixels, qwen.max_pixels)
    work.mkdir(parents=True, exist_ok=True)
    request, result = work / "swift_request.jsonl", work / "swift_result.jsonl"
    with open(request, "w", encoding="utf-8") as f:
        for _, path in items:
            f.write(json.dumps({"messages": [{"role": "user", "content": IMAGE_TOKEN + PROMPT}],
                                "images": [str(Path(path).resolve())]}) + "\n")
    result.unlink(missing_ok=True)
    env, argv = infer_command(checkpoint, request, result, Geometry.of(processor).bounds, qwen.max_new_tokens)
    run_swift(swift_binary(), env, argv, work / "swift.log", log)
    for (source, _), line in zip(items, result_lines(result, processor)):
        yield {**line, "source": source}
