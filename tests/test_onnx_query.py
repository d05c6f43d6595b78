"""Questions encoded by ONNX Runtime match the torch model (the real default model)."""

from __future__ import annotations

import numpy as np

from index.embedding import SentenceTransformerEmbedder

QUESTIONS = ["首尔峰会的主题是什么？", "首爾峰會的主題是什麼？", "What did the Bletchley declaration say?", "治理" * 600, "?"]


def test_onnx_and_torch_agree(embedder: SentenceTransformerEmbedder) -> None:
    assert embedder.query_encoder is not None, "the default model is a local directory: ONNX is used"
    for question in QUESTIONS:
        fast = embedder.encode_query(question)
        slow = embedder.encode([question], kind="query")[0]
        assert fast.shape == slow.shape and abs(float(np.linalg.norm(fast)) - 1) < 1e-5
        assert float(fast @ slow) > 0.9999, question[:20]


def test_onnx_can_be_turned_off(embedder: SentenceTransformerEmbedder) -> None:
    torch_only = SentenceTransformerEmbedder(embedder.name, query_onnx=False)
    assert torch_only.query_encoder is None
    assert float(torch_only.encode_query("首尔峰会") @ embedder.encode_query("首尔峰会")) > 0.9999


def test_the_export_does_not_change_the_model_fingerprint(embedder: SentenceTransformerEmbedder) -> None:
    from index.embedding import model_fingerprint

    assert embedder.query_encoder is not None  # exported by now
    assert model_fingerprint(embedder.name) == embedder.fingerprint
