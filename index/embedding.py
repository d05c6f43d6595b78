"""Text embeddings through sentence-transformers, loaded lazily, plus a fingerprint of the model."""

from __future__ import annotations

import hashlib
import os
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

WEIGHT_SUFFIXES = (".bin", ".safetensors", ".onnx", ".pt")


class Embedder(Protocol):
    """What indexing and search need from an embedding model."""

    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...

    def encode(self, texts: list[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray: ...


def model_fingerprint(name: str) -> str:
    """sha256 over a model directory's weight and config files; the name itself for hub models."""
    path = Path(name)
    if not path.is_dir():
        return f"name:{name}"
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and (p.suffix in WEIGHT_SUFFIXES or p.suffix == ".json")):
        digest.update(file.relative_to(path).as_posix().encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class SentenceTransformerEmbedder:
    """A sentence-transformers model (a local directory or a hub name), loaded on first use."""

    def __init__(self, name: str, device: str = "cpu", threads: int | None = None) -> None:
        self.name = name
        self.device = device
        self.threads = threads

    @cached_property
    def model(self):  # noqa: ANN201 - SentenceTransformer is imported lazily
        if not Path(self.name).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            return SentenceTransformer(self.name, device=self.device)
        except OSError as exc:
            raise RuntimeError(
                f"cannot load embedding model {self.name!r}: {exc}. "
                "Run `make model` for the default model, or set GOVQA_MODEL to a local sentence-transformers directory."
            ) from exc

    @property
    def dimension(self) -> int:
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    @cached_property
    def fingerprint(self) -> str:
        return model_fingerprint(self.name)

    def encode(self, texts: list[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
