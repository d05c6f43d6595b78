"""What a sentence-transformers model directory declares about itself, read from its JSON files
without loading torch: vector size, prompts, token limit, and whether the model is the plain
transformer + mean pooling + normalization that govqa's ONNX question encoder reproduces."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

PLAIN_MODULES = ("Transformer", "Pooling", "Normalize")
CONFIG_FILES = (
    "modules.json", "config.json", "config_sentence_transformers.json", "sentence_bert_config.json",
    "tokenizer_config.json",
)
DEFAULT_MAX_LENGTH = 512


@dataclass(frozen=True)
class ModelConfig:
    """A local model's declared shape; `plain` says the ONNX export covers the whole model."""

    directory: Path
    dimension: int | None
    prompts: dict[str, str] = field(default_factory=dict)
    max_length: int = DEFAULT_MAX_LENGTH
    pad_token: str | None = None
    plain: bool = False

    @property
    def files_read(self) -> tuple[str, ...]:
        """The files an ONNX question encoder reads from the directory (verified against its checksums)."""
        return (*CONFIG_FILES, "1_Pooling/config.json", "tokenizer.json")

    @classmethod
    def read(cls, directory: Path) -> ModelConfig:
        modules = read_json(directory / "modules.json") or []
        pooling = read_json(directory / pooling_path(modules) / "config.json") if modules else None
        kinds = tuple(str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules)
        mean = bool(pooling) and (
            pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens") is True
        )
        return cls(
            directory=directory,
            dimension=declared_dimension(directory, pooling),
            prompts=dict((read_json(directory / "config_sentence_transformers.json") or {}).get("prompts") or {}),
            max_length=declared_max_length(directory),
            pad_token=(read_json(directory / "tokenizer_config.json") or {}).get("pad_token"),
            plain=kinds in (PLAIN_MODULES, PLAIN_MODULES[:2]) and mean and (directory / "tokenizer.json").is_file(),
        )


def read_json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def pooling_path(modules: list[dict]) -> str:
    pooling = [m for m in modules if str(m.get("type", "")).endswith("Pooling")]
    return pooling[0].get("path", "1_Pooling") if pooling else "1_Pooling"


def declared_dimension(directory: Path, pooling: dict | None) -> int | None:
    """The pooled vector's size (newer sentence-transformers write `embedding_dimension`, older ones
    `word_embedding_dimension`), else the transformer's hidden size."""
    for key in ("embedding_dimension", "word_embedding_dimension"):
        if pooling and isinstance(pooling.get(key), int):
            return pooling[key]
    hidden = (read_json(directory / "config.json") or {}).get("hidden_size")
    return hidden if isinstance(hidden, int) else None


def declared_max_length(directory: Path) -> int:
    """sentence-transformers' `max_seq_length` where written, else the tokenizer's `model_max_length`."""
    declared = (read_json(directory / "sentence_bert_config.json") or {}).get("max_seq_length")
    if not isinstance(declared, int):
        declared = (read_json(directory / "tokenizer_config.json") or {}).get("model_max_length")
    return declared if isinstance(declared, int) and 0 < declared <= 8192 else DEFAULT_MAX_LENGTH
