"""A tiny Qwen2.5-VL built on the spot (offline): a byte-level BPE trained here with Qwen's special tokens and chat
format, the PIL image processor, and a model of a few hundred thousand parameters from a config. For tests only."""

from __future__ import annotations

import json
from pathlib import Path

QWEN_SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
                "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>")
QWEN_FIRST_SPECIAL_ID = 151643  # <|endoftext|> in Qwen's real vocabulary; ms-swift hard-codes the image pad's id
# Qwen's chat format: each turn between <|im_start|>role and <|im_end|>, an image as its three vision tokens.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def tiny_tokenizer(texts, vocab_size: int = 600, real_ids: bool = False):
    """A BPE trained on ``texts``; with ``real_ids`` the special tokens sit at Qwen's real ids (151643 onward), the
    ids between the learnt vocabulary and them filled with tokens no text produces."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = [] if real_ids else list(QWEN_SPECIAL)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    if real_ids:
        data = json.loads(tok.to_str())
        vocab = data["model"]["vocab"]
        for i in range(len(vocab), QWEN_FIRST_SPECIAL_ID):
            vocab[f"<|unused_{i}|>"] = i  # no merge leads to these: never produced
        for k, name in enumerate(QWEN_SPECIAL):
            vocab[name] = QWEN_FIRST_SPECIAL_ID + k
        data["added_tokens"] = [{"id": QWEN_FIRST_SPECIAL_ID + k, "content": name, "single_word": False,
                                 "lstrip": False, "rstrip": False, "normalized": False, "special": True}
                                for k, name in enumerate(QWEN_SPECIAL)]
        tok = Tokenizer.from_str(json.dumps(data))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=list(QWEN_SPECIAL[1:]))
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_processor(texts, min_pixels: int = 56 * 56, max_pixels: int = 28 * 28 * 1280, real_ids: bool = False):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from voltpeak.models.qwen import ImageOnlyProcessor

    images = Qwen2VLImageProcessorPil(size={"shortest_edge": min_pixels, "longest_edge": max_pixels})
    return ImageOnlyProcessor(images, tiny_tokenizer(texts, real_ids=real_ids), chat_template=CHAT_TEMPLATE)


def tiny_qwen(folder, texts, real_ids: bool = False, max_pixels: int = 28 * 28 * 1280, seed: int = 0,
              family: str = "qwen2_5_vl") -> Path:
    """Save a tiny Qwen2.5-VL (or Qwen2-VL: ``family`` "qwen2_vl") — model, tokenizer, image processor, chat
    template — in ``folder``; returns it."""
    import torch
    from transformers import AutoModelForImageTextToText, Qwen2_5_VLConfig, Qwen2VLConfig

    processor = tiny_processor(texts, max_pixels=max_pixels, real_ids=real_ids)
    tok = processor.tokenizer
    ids = {name: tok.convert_tokens_to_ids(name) for name in QWEN_SPECIAL}
    vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
              "fullatt_block_indexes": [1], "window_size": 112}
    if family == "qwen2_vl":  # Qwen2-VL's tower: embed_dim wide, its output (hidden_size) the LM's width
        vision = {"depth": 2, "embed_dim": 32, "hidden_size": 64, "mlp_ratio": 2, "num_heads": 2}
    config = (Qwen2VLConfig if family == "qwen2_vl" else Qwen2_5_VLConfig)(
        text_config={"vocab_size": len(tok), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 4096,
                     "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
                     "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"],
                     "pad_token_id": ids["<|endoftext|>"]},
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
