"""Questions encoded by ONNX Runtime match the torch model (the real default model): the int8 encoder
used by default closely, the float export exactly; a rejected int8 file gives way to the float one."""

from __future__ import annotations

import numpy as np

from index.embedding import SentenceTransformerEmbedder

QUESTIONS = [
    "首尔峰会的主题是什么？", "首爾峰會的主題是什麼？", "What did the Bletchley declaration say?", "治理" * 600, "?",
]


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


def test_the_onnx_tokenizer_gives_the_torch_paths_token_ids(embedder: SentenceTransformerEmbedder) -> None:
    from index.onnx_query import load_tokenizer

    tokenizer = load_tokenizer(embedder.config)
    reference = embedder.model.tokenizer(
        QUESTIONS, truncation=True, max_length=embedder.model.max_seq_length, padding=True
    )
    ours = tokenizer.encode_batch(QUESTIONS)
    assert [e.ids for e in ours] == reference["input_ids"]
    assert [e.attention_mask for e in ours] == reference["attention_mask"]
    assert len(ours[3].ids) == embedder.model.max_seq_length == embedder.config.max_length


def test_the_declared_shape_is_the_loaded_models(embedder: SentenceTransformerEmbedder) -> None:
    model = embedder.model
    assert embedder.config.plain
    assert embedder.config.dimension == model.get_sentence_embedding_dimension() == embedder.dimension
    assert embedder.config.prompts == {k: v for k, v in model.prompts.items() if v}


def test_a_checked_encoder_opens_without_torch(embedder: SentenceTransformerEmbedder) -> None:
    import subprocess
    import sys

    from index.onnx_query import agreement_path

    assert embedder.query_encoder is not None and agreement_path(embedder.query_encoder.path).is_file()
    script = (
        "import sys, json; from index.embedding import SentenceTransformerEmbedder as E; e = E(sys.argv[1]); "
        "v = e.encode_query(sys.argv[2]); "
        "print(json.dumps({'torch': 'torch' in sys.modules, 'dim': e.dimension, 'v': v.tolist()}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, embedder.name, QUESTIONS[0]], capture_output=True, text=True, check=True
    )
    import json

    out = json.loads(run.stdout)
    assert out["torch"] is False and out["dim"] == 384
    assert float(np.array(out["v"], dtype=np.float32) @ embedder.encode_query(QUESTIONS[0])) > 0.99999


def test_an_encoder_without_a_recorded_agreement_is_checked_against_torch_again(
    embedder: SentenceTransformerEmbedder,
) -> None:
    from index.onnx_query import agreement_path, recorded_agreement

    path = embedder.query_encoder.path
    record = agreement_path(path)
    kept = record.read_text(encoding="utf-8")
    try:
        record.unlink()
        again = SentenceTransformerEmbedder(embedder.name)
        assert again.query_encoder is not None and again.query_encoder.path == path
        assert recorded_agreement(path) > 0.99
    finally:
        record.write_text(kept, encoding="utf-8")
