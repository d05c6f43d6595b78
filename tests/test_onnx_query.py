"""Questions encoded by ONNX Runtime match the torch model (the real default model): the int8 encoder
used by default closely, the float export exactly; a rejected int8 file gives way to the float one."""

from __future__ import annotations

import numpy as np

from index.embedding import SentenceTransformerEmbedder

QUESTIONS = ["首尔峰会的主题是什么？", "首爾峰會的主題是什麼？", "What did the Bletchley declaration say?", "治理" * 600, "?"]


def agreement(fast: SentenceTransformerEmbedder, question: str) -> float:
    quick = fast.encode_query(question)
    slow = fast.encode([question], kind="query")[0]
    assert quick.shape == slow.shape and abs(float(np.linalg.norm(quick)) - 1) < 1e-5
    return float(quick @ slow)


def test_the_int8_encoder_is_the_default_and_agrees_with_torch(embedder: SentenceTransformerEmbedder) -> None:
    assert embedder.query_encoder is not None, "the default model is a local directory: ONNX is used"
    path = embedder.query_encoder.path
    assert path.name.endswith("-int8r.onnx"), "one quantized encoder (7-bit weights) on every CPU"
    assert path.stat().st_size < (path.parent / path.name.replace("-int8r", "")).stat().st_size / 3
    for question in QUESTIONS:
        assert agreement(embedder, question) > 0.98, question[:20]


def test_the_float_export_agrees_with_torch_exactly(embedder: SentenceTransformerEmbedder) -> None:
    exact = SentenceTransformerEmbedder(embedder.name, query_int8=False)
    assert exact.query_encoder is not None and "-int8" not in exact.query_encoder.path.name
    for question in QUESTIONS:
        assert agreement(exact, question) > 0.9999, question[:20]


def test_an_int8_encoder_that_disagrees_gives_way_to_the_float_one(embedder, monkeypatch) -> None:  # noqa: ANN001
    import index.onnx_query as onnx_query

    monkeypatch.setattr(onnx_query, "MIN_INT8_AGREEMENT", 1.01)
    fallback = SentenceTransformerEmbedder(embedder.name)
    assert fallback.query_encoder is not None and "-int8" not in fallback.query_encoder.path.name
    assert agreement(fallback, QUESTIONS[0]) > 0.9999


def test_onnx_can_be_turned_off(embedder: SentenceTransformerEmbedder) -> None:
    torch_only = SentenceTransformerEmbedder(embedder.name, query_onnx=False)
    assert torch_only.query_encoder is None
    assert float(torch_only.encode_query("首尔峰会") @ embedder.encode_query("首尔峰会")) > 0.99


def test_the_export_does_not_change_the_model_fingerprint(embedder: SentenceTransformerEmbedder) -> None:
    from index.embedding import model_fingerprint

    assert embedder.query_encoder is not None  # exported by now
    assert model_fingerprint(embedder.name) == embedder.fingerprint
