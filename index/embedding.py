"""Text embeddings through sentence-transformers, loaded lazily, plus a fingerprint of the model."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from index.cpu import cpu_flags
from index.locking import file_lock
from index.model_config import ModelConfig
from index.model_files import verify_checksums

WEIGHT_SUFFIXES = (".bin", ".safetensors", ".onnx", ".pt")


class Embedder(Protocol):
    """What indexing and search need from an embedding model."""

    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...

    def encode(self, texts: list[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Passage vectors, normalized."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """A question's vector (models trained with query prompts get theirs)."""
        ...

    def encode_words(self, words: list[str]) -> np.ndarray:
        """Vectors of single words, comparable with the corpus words' vectors built by `encode`."""
        ...


Spans = list[tuple[int, int]]


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)


def pool_spans(tokens: np.ndarray, offsets: np.ndarray, spans: Spans) -> list[np.ndarray | None]:
    """Mean of the token vectors whose characters fall in each span (None when none do, e.g. truncated)."""
    real = offsets[:, 1] > offsets[:, 0]
    pooled: list[np.ndarray | None] = []
    for start, end in spans:
        inside = real & (offsets[:, 0] < end) & (offsets[:, 1] > start)
        pooled.append(tokens[inside].mean(axis=0) if inside.any() else None)
    return pooled


def model_fingerprint(name: str) -> str:
    """sha256 over a model directory's weight and config files; the name itself for hub models.
    The `onnx/` folder holds govqa's own exports of the model and does not count."""
    path = Path(name)
    if not path.is_dir():
        return f"name:{name}"
    digest = hashlib.sha256()
    for file in fingerprinted_files(path):
        digest.update(file.relative_to(path).as_posix().encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def fingerprinted_files(directory: Path) -> list[Path]:
    """The weight and config files of a model directory in name order, without govqa's own `onnx/` exports."""
    files = [p for p in directory.rglob("*") if p.is_file() and (p.suffix in WEIGHT_SUFFIXES or p.suffix == ".json")]
    return sorted(f for f in files if f.relative_to(directory).parts[0] != "onnx")


def stat_signature(directory: Path) -> list[list]:
    """Name, size and modification time of each file `model_fingerprint` reads: what changes when a
    model is replaced."""
    stats = [(f.relative_to(directory).as_posix(), f.stat()) for f in fingerprinted_files(directory)]
    return [[name, stat.st_size, stat.st_mtime_ns] for name, stat in stats]


def remembered_fingerprint(directory: Path) -> str:
    """`model_fingerprint`, reused from `onnx/fingerprint.json` while no model file's size or time has changed
    (answering processes start without reading 235 MB of weights; builds hash them afresh)."""
    record = directory / "onnx" / "fingerprint.json"
    signature = stat_signature(directory)
    try:
        kept = json.loads(record.read_text(encoding="utf-8"))
        if kept.get("files") == signature and isinstance(kept.get("sha256"), str):
            return kept["sha256"]
    except (OSError, ValueError, AttributeError):
        pass
    fingerprint = model_fingerprint(str(directory))
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"files": signature, "sha256": fingerprint}), encoding="utf-8")
    except OSError:  # a read-only model directory: hash on every start
        pass
    return fingerprint


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), where bulk encoding runs twice as fast."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


class SentenceTransformerEmbedder:
    """A sentence-transformers model (a local directory or a hub name), loaded on first use.

    Bulk encoding at build time runs under bfloat16 autocast where the CPU supports it
    (vectors agree with float32 to a cosine of about 0.99999); queries stay float32.
    """

    def __init__(
        self, name: str, device: str = "cpu", threads: int | None = None, bulk_bf16: bool | None = None,
        query_onnx: bool = True, query_int8: bool = True,
    ) -> None:
        self.name = name
        self.device = device
        self.threads = threads
        self.bulk_bf16 = cpu_has_bf16() if bulk_bf16 is None else bulk_bf16
        self.query_onnx = query_onnx
        self.query_int8 = query_int8

    @cached_property
    def model(self):  # noqa: ANN201 - SentenceTransformer is imported lazily
        import torch
        from sentence_transformers import SentenceTransformer

        if self.threads:
            torch.set_num_threads(self.threads)
        if Path(self.name).is_dir():
            verify_checksums(Path(self.name))
        try:
            return SentenceTransformer(self.name, device=self.device, local_files_only=True)  # never a download
        except OSError as exc:
            raise RuntimeError(
                f"cannot load embedding model {self.name!r}: {exc}. "
                "Run `make model` for the default model, or set GOVQA_MODEL to a local sentence-transformers directory."
            ) from exc

    @cached_property
    def config(self) -> ModelConfig | None:
        """What a local model directory declares about itself; None for a hub name."""
        return ModelConfig.read(Path(self.name)) if Path(self.name).is_dir() else None

    @property
    def dimension(self) -> int:
        if self.config is not None and self.config.dimension:
            return self.config.dimension
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    @cached_property
    def fingerprint(self) -> str:
        return model_fingerprint(self.name)

    def prompt(self, kind: str) -> str:
        """The model's own prefix for queries or passages ("query: " / "passage: " for e5; none for m3e)."""
        if self.config is not None:
            return self.config.prompts.get(kind, "")
        return (getattr(self.model, "prompts", None) or {}).get(kind, "")

    def encode(
        self, texts: list[str], *, batch_size: int = 32, progress: bool = False, kind: str = "passage"
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefix = self.prompt(kind)
        vectors = self.model.encode(
            [prefix + t for t in texts],
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @cached_property
    def query_encoder(self):  # noqa: ANN201 - an OnnxQueryEncoder, or None for torch
        """ONNX Runtime for questions, when enabled and the model is a plain local directory: the encoder
        an earlier process checked against torch when there is one (torch is then never loaded),
        else exported and checked now."""
        if not self.query_onnx or self.device != "cpu" or self.config is None or not self.config.plain:
            return None
        from index.onnx_query import PROBE, load_or_export, open_checked

        def checked_earlier():  # noqa: ANN202 - an OnnxQueryEncoder or None
            return open_checked(self.config, remembered_fingerprint(Path(self.name)), self.threads, self.query_int8)

        encoder = checked_earlier()
        if encoder is not None:
            return encoder
        with file_lock(self.config.directory / "onnx" / "export.lock"):  # one process exports; the others open its file
            encoder = checked_earlier()
            if encoder is not None:
                return encoder
            reference = self.model.encode([PROBE], normalize_embeddings=True, convert_to_numpy=True)[0]
            return load_or_export(self.model, self.config, self.fingerprint, self.threads, reference, self.query_int8)

    def encode_query(self, text: str) -> np.ndarray:
        encoder = self.query_encoder
        if encoder is None:
            return self.encode([text], kind="query")[0]
        return encoder.encode(self.prompt("query") + text)

    def encode_words(self, words: list[str]) -> np.ndarray:
        """Words embedded as the build embeds the corpus's words (passage prompt), in one ONNX run when available."""
        encoder = self.query_encoder
        if encoder is None or not words:
            return self.encode(words)
        return encoder.encode_batch([self.prompt("passage") + w for w in words])

    def encode_with_spans(
        self, texts: list[str], spans: list[Spans], *, batch_size: int = 16, progress: bool = False
    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """Text vectors plus, from the same forward pass, a vector per character span of each text.

        Span vectors pool the text's contextual token embeddings over the span
        ("late chunking"), so sentences get vectors without a second pass.
        """
        import torch

        model = self.model
        prefix = self.prompt("passage")
        texts = [prefix + t for t in texts]
        spans = [[(start + len(prefix), end + len(prefix)) for start, end in row] for row in spans]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        text_vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        span_vectors: list[list[np.ndarray | None]] = [[] for _ in texts]
        batches = range(0, len(order), batch_size)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        for first in batches:
            ids = order[first:first + batch_size]
            batch = [texts[i] for i in ids]
            encoded = model.tokenizer(
                batch, return_offsets_mapping=True, padding=True, truncation=True,
                max_length=model.max_seq_length, return_tensors="pt",
            )
            offsets = encoded.pop("offset_mapping").numpy()
            features = {k: v.to(self.device) for k, v in model.preprocess(batch).items() if isinstance(v, torch.Tensor)}
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bulk_bf16):
                output = model.forward(features)
            tokens = output["token_embeddings"].float().cpu().numpy()
            text_vectors[ids] = output["sentence_embedding"].float().cpu().numpy()
            for row, i in enumerate(ids):
                span_vectors[i] = pool_spans(tokens[row], offsets[row], spans[i])
        return normalize_rows(text_vectors), [
            [None if v is None else normalize_rows(v[None, :])[0] for v in row] for row in span_vectors
        ]
