"""A question encoder on ONNX Runtime: the same model as the torch path, about twice as fast for
one question on a CPU, and about twice as fast again with int8 weights.

The model is exported once from its sentence-transformers directory (transformer, mean
pooling over the attention mask, L2 normalization) to `<model>/onnx/query-<fingerprint>.onnx`,
written atomically, so changed weights get a new file. By default that export is then quantized
dynamically (int8 weights, activations quantized per run) to `query-<fingerprint>-int8r.onnx`,
with 7-bit weights on every CPU: 8-bit products can saturate on CPUs without VNNI, and one
quantized encoder everywhere gives every machine the same question vectors.
Before an encoder is first used, its vector for a probe text must match the torch model's: to a
cosine of 0.9999 for the float export, 0.99 for the int8 one (a guard against a broken file,
not a precision claim; what quantization costs in retrieval is measured with `govqa eval`).
Otherwise the int8 encoder gives way to the float one, and that to torch. The agreement found is
recorded beside the file (`<file>.agreement.json`), so later processes open a sealed, checked
encoder with ONNX Runtime and the model's `tokenizer.json` alone, without loading torch.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index.model_config import ModelConfig
from index.model_files import seal, sealed, verify_some

log = logging.getLogger(__name__)

PROBE = "首尔峰会的主题是什么？ What did the Bletchley declaration say?"
MIN_AGREEMENT = 0.9999
MIN_INT8_AGREEMENT = 0.99
def replace_atomically(target: Path, write: Callable[[str], None]) -> None:
    """Write a file through a scratch file beside it, so readers never see half of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(handle)
    try:
        write(scratch)
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)


def export(model, target: Path) -> None:  # noqa: ANN001 - a SentenceTransformer with a BERT-like transformer
    """Trace the transformer plus mean pooling and normalization into an ONNX file."""
    import torch

    transformer = model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            tokens = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            return torch.nn.functional.normalize((tokens * mask).sum(1) / mask.sum(1), dim=-1)

    sample = model.tokenizer([PROBE], return_tensors="pt")
    inputs = (
        sample["input_ids"], sample["attention_mask"],
        sample.get("token_type_ids", torch.zeros_like(sample["input_ids"])),
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]

    def write(scratch: str) -> None:
        with torch.inference_mode(), warnings.catch_warnings():
            # tracer notes on shape-dependent branches; the export is checked against torch after
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(), inputs, scratch, input_names=names, output_names=["vector"], opset_version=17, dynamo=False,
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names},
            )

    replace_atomically(target, write)


def quantize(source: Path, target: Path, reduce_range: bool) -> None:
    """int8 weights per output channel, activations quantized at run time (ONNX Runtime's dynamic quantization)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    replace_atomically(target, lambda scratch: quantize_dynamic(
        str(source), scratch, weight_type=QuantType.QInt8, per_channel=True, reduce_range=reduce_range,
    ))


def load_tokenizer(config: ModelConfig):  # noqa: ANN201 - a tokenizers.Tokenizer
    """The model's fast tokenizer from its `tokenizer.json`, truncating to the model's limit and padding
    batches to their longest text (what the transformers tokenizer does for the torch path)."""
    from tokenizers import Tokenizer

    verify_some(config.directory, list(config.files_read))
    tokenizer = Tokenizer.from_file(str(config.directory / "tokenizer.json"))
    tokenizer.enable_truncation(config.max_length)
    pad_id = tokenizer.token_to_id(config.pad_token) if config.pad_token else None
    if pad_id is not None:
        tokenizer.enable_padding(pad_id=pad_id, pad_token=config.pad_token)
    else:
        tokenizer.enable_padding()
    return tokenizer


class OnnxQueryEncoder:
    """Encodes questions with ONNX Runtime and the model's own tokenizer."""

    def __init__(self, path: Path, tokenizer, threads: int | None = None) -> None:  # noqa: ANN001 - a tokenizers.Tokenizer
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        self.path = path
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer

    def encode(self, text: str) -> np.ndarray:
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        """Several short texts in one run, padded to the longest (the pooling skips padding)."""
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.zeros_like(ids),
        }
        return np.ascontiguousarray(self.session.run(None, feeds)[0], dtype=np.float32)


def export_path(config: ModelConfig, fingerprint: str, int8: bool) -> Path:
    exported = config.directory / "onnx" / f"query-{fingerprint[:16]}.onnx"
    return exported.with_name(f"{exported.stem}-int8r.onnx") if int8 else exported


def agreement_path(path: Path) -> Path:
    return path.with_name(path.name + ".agreement.json")


def record_agreement(path: Path, agreement: float) -> None:
    """Note beside a checked encoder file how closely it matched torch on PROBE."""
    agreement_path(path).write_text(json.dumps({"probe": PROBE, "cosine": agreement}) + "\n", encoding="utf-8")


def recorded_agreement(path: Path) -> float | None:
    try:
        record = json.loads(agreement_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return float(record["cosine"]) if isinstance(record, dict) and record.get("probe") == PROBE else None


def open_checked(
    config: ModelConfig, fingerprint: str, threads: int | None, int8: bool = True
) -> OnnxQueryEncoder | None:
    """The encoder an earlier process exported and checked against torch, opened without torch; None
    when there is none (or its file changed since), so the caller exports and checks with torch."""
    if not config.plain:
        return None
    candidates = [(export_path(config, fingerprint, True), MIN_INT8_AGREEMENT)] if int8 else []
    for path, bar in [*candidates, (export_path(config, fingerprint, False), MIN_AGREEMENT)]:
        agreement = recorded_agreement(path)
        if agreement is None:
            return None
        if agreement >= bar and sealed(path):
            try:
                return OnnxQueryEncoder(path, load_tokenizer(config), threads)
            except Exception as exc:  # noqa: BLE001 - any failure here only costs speed
                log.warning("ONNX query encoder %s unavailable (%s: %s)", path.name, type(exc).__name__, exc)
                return None
    return None


def load_or_export(
    model, config: ModelConfig, fingerprint: str, threads: int | None, reference: np.ndarray, int8: bool = True,  # noqa: ANN001 - a SentenceTransformer
) -> OnnxQueryEncoder | None:
    """The ONNX encoder of a local model directory, exported (and quantized) on first use; None (use
    torch) when it cannot be made or disagrees with `reference`, the torch vector of PROBE."""
    exported = export_path(config, fingerprint, False)

    def export_once() -> Path:
        if not sealed(exported):
            export(model, exported)
            seal(exported)
        return exported

    def quantize_once() -> Path:
        target = export_path(config, fingerprint, True)
        if not sealed(target):
            quantize(export_once(), target, reduce_range=True)
            seal(target)
        return target

    encoder = checked(quantize_once, config, threads, reference, MIN_INT8_AGREEMENT) if int8 else None
    return encoder or checked(export_once, config, threads, reference, MIN_AGREEMENT)


def checked(
    make: Callable[[], Path], config: ModelConfig, threads: int | None, reference: np.ndarray, bar: float,
) -> OnnxQueryEncoder | None:
    """An encoder on the file `make` provides, if its vector for PROBE agrees with `reference` to `bar`
    (the agreement is recorded either way, so later processes need not ask torch again)."""
    try:
        path = make()
        encoder = OnnxQueryEncoder(path, load_tokenizer(config), threads)
        agreement = float(encoder.encode(PROBE) @ reference)
        record_agreement(path, agreement)
    except Exception as exc:  # any failure here only costs speed
        log.warning("ONNX query encoder unavailable (%s: %s); falling back", type(exc).__name__, exc)
        return None
    if agreement < bar:
        log.warning(
            "ONNX query encoder %s disagrees with torch (cosine %.6f < %s); falling back", path.name, agreement, bar
        )
        return None
    return encoder
