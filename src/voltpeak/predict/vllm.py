"""vLLM as a predict backend (an optional extra, on a GPU): ``voltpeak predict --backend vllm`` on a merged Qwen-VL
model, with the same prompt, greedy decoding and coordinate conversion as the in-process backend."""

from __future__ import annotations

from pathlib import Path

from voltpeak.errors import InputError
from voltpeak.models.inputs import open_images
from voltpeak.models.qwen import Geometry, QwenVL, answer_line, load_processor, read_saved


def predict_vllm(directory: str | Path, items: list[tuple[str, Path]]):
    """Contract predict lines with vLLM (an optional extra, on a GPU) from a merged model folder; the same
    prompt, greedy decoding and coordinate conversion as the transformers backend."""
    try:
        from vllm import LLM, SamplingParams
    except ImportError:
        raise InputError("vLLM is not installed here (on a GPU machine: pip install 'voltpeak[vllm]')") from None

    directory = Path(directory)
    if (directory / "adapter_config.json").is_file():
        raise InputError(f"{directory}: vLLM needs a merged model (train with \"merge\": true: run/merged)")
    config = read_saved(directory)
    processor = load_processor(directory, config.min_pixels, config.max_pixels)
    geometry = Geometry.of(processor)
    low, high = geometry.bounds
    llm = LLM(model=str(directory), limit_mm_per_prompt={"image": 1},
              mm_processor_kwargs={"min_pixels": low, "max_pixels": high})
    prompt = processor.apply_chat_template(QwenVL.messages(), add_generation_prompt=True)
    images, good, lines = open_images(items)
    outputs = llm.generate([{"prompt": prompt, "multi_modal_data": {"image": im}} for im in images],
                           SamplingParams(temperature=0, max_tokens=config.max_new_tokens))
    for k, image, output in zip(good, images, outputs):
        lines[k] = {"source": items[k][0], **answer_line(output.outputs[0].text, geometry.resized(image.height,
                                                                                                  image.width))}
    yield from (lines[k] for k in range(len(items)))
