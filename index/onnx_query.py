"""A question encoder on ONNX Runtime: the same model as the torch path, about twice as fast for
one question on a CPU.

The model is exported once from its sentence-transformers directory (transformer, mean
pooling over the attention mask, L2 normalization) to `<model>/onnx/query-<fingerprint>.onnx`,
written atomically, so changed weights get a new file. Before it is used, its vector for a probe text must match the torch model's;
otherwise the caller keeps torch.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

from index.model_files import seal, sealed

import numpy as np

log = logging.getLogger(__name__)

PROBE = "首尔峰会的主题是什么？ What did the Bletchley declaration say?"
MIN_AGREEMENT = 0.9999


def export(model, target: Path) -> None:  # noqa: ANN001 - a SentenceTransformer with a BERT-like transformer
    """Trace the transformer plus mean pooling and normalization into an ONNX file."""
    import torch

    transformer = model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
            tokens = self.transformer(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            return torch.nn.functional.normalize((tokens * mask).sum(1) / mask.sum(1), dim=-1)

    sample = model.tokenizer([PROBE], return_tensors="pt")
    inputs = (sample["input_ids"], sample["attention_mask"], sample.get("token_type_ids", torch.zeros_like(sample["input_ids"])))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(handle)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape-dependent branches; the export is checked against torch after
            torch.onnx.export(
                Pooled(), inputs, scratch, input_names=names, output_names=["vector"], opset_version=17, dynamo=False,
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names},
            )
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)


class OnnxQueryEncoder:
    """Encodes one question at a time with ONNX Runtime and the model's own tokenizer."""

    def __init__(self, path: Path, tokenizer, max_length: int, threads: int | None = None) -> None:  # noqa: ANN001 - a HF tokenizer
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.max_length = max_length

    def encode(self, text: str) -> np.ndarray:
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        """Several short texts in one run, padded to the longest (the pooling skips padding)."""
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="np")
        ids = encoded["input_ids"].astype(np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": encoded["attention_mask"].astype(np.int64),
            "token_type_ids": encoded.get("token_type_ids", np.zeros_like(ids)).astype(np.int64),
        }
        return np.ascontiguousarray(self.session.run(None, feeds)[0], dtype=np.float32)


def load_or_export(
    model, model_dir: Path, fingerprint: str, threads: int | None, reference: np.ndarray,  # noqa: ANN001 - a SentenceTransformer
) -> OnnxQueryEncoder | None:
    """The ONNX encoder of a local model directory, exported on first use; None (use torch) when it
    cannot be made or disagrees with `reference`, the torch vector of PROBE."""
    target = model_dir / "onnx" / f"query-{fingerprint[:16]}.onnx"
    try:
        if not sealed(target):
            export(model, target)
            seal(target)
        encoder = OnnxQueryEncoder(target, model.tokenizer, model.max_seq_length, threads)
        agreement = float(encoder.encode(PROBE) @ reference)
    except Exception as exc:  # any failure here only costs speed
        log.warning("ONNX query encoder unavailable (%s: %s); questions are encoded with torch", type(exc).__name__, exc)
        return None
    if agreement < MIN_AGREEMENT:
        log.warning("ONNX query encoder disagrees with torch (cosine %.6f); questions are encoded with torch", agreement)
        return None
    return encoder
