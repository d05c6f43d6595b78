"""Index versions: build, load, atomic publication, refusal of damaged or mismatched indexes.

These tests use a small deterministic embedder: they exercise storage, not retrieval.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import HashEmbedder
from index import store
from index.build import CHUNKS_FILE, DENSE_FILE, build_index
from index.documents import Document, DocumentMeta, load_corpus
from index.faiss_bm25 import load_index

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def small_corpus(corpus_documents: list[Document]) -> list[Document]:
    return corpus_documents[:2]


def test_build_load_round_trip(tmp_path: Path, small_corpus) -> None:
    result = build_index(small_corpus, HashEmbedder(), tmp_path)
    index = load_index(tmp_path)
    assert index.version == result.version
    assert len(index.chunks) == result.chunks and len(index.sentences) == result.sentences
    assert set(index.documents) == {d.doc_id for d in small_corpus}
    for chunk in index.chunks:
        assert index.texts[chunk.doc_id][chunk.start:chunk.end] == chunk.text
    manifest = index.manifest
    assert manifest["model"] == {"name": "hash-embedder", "fingerprint": "hash-embedder-v1", "dimension": 32}
    assert manifest["corpus"] == {d.doc_id: d.sha256 for d in small_corpus}
    assert manifest["counts"]["chunks"] == result.chunks


def test_unchanged_corpus_is_not_rebuilt_and_forced_rebuild_reuses_vectors(tmp_path: Path, small_corpus) -> None:
    first = build_index(small_corpus, HashEmbedder(), tmp_path)
    again = build_index(small_corpus, HashEmbedder(), tmp_path)
    assert again.skipped and again.version == first.version
    embedder = HashEmbedder()
    forced = build_index(small_corpus, embedder, tmp_path, force=True)
    assert not forced.skipped and forced.version != first.version
    assert forced.embedded == 0 and forced.reused == first.chunks + first.sentences and embedder.calls == 0


def test_a_rebuild_reuses_the_sentence_kinds_of_the_version_before(tmp_path: Path, small_corpus, monkeypatch) -> None:
    from index import build
    from index.sentence_kinds import sentence_kinds

    first = build_index(small_corpus, HashEmbedder(), tmp_path)
    tagged: list[str] = []
    monkeypatch.setattr(build, "sentence_kinds", lambda text: tagged.append(text) or sentence_kinds(text))
    forced = build_index(small_corpus, HashEmbedder(), tmp_path, force=True)
    assert tagged == [] and forced.sentences == first.sentences  # every sentence's kinds came from the first version
    rows = store.read_jsonl(store.current_dir(tmp_path) / "sentences.jsonl")
    assert all(row["holds"] == list(sentence_kinds(row["embed_text"])) for row in rows)
    assert store.read_manifest(store.current_dir(tmp_path))["code"] == build.CODE_REVISION


def test_changed_document_reembeds_only_what_changed(tmp_path: Path, small_corpus) -> None:
    first = build_index(small_corpus, HashEmbedder(), tmp_path)
    doc = small_corpus[1]
    edited = Document(doc.meta, doc.text + "\n\n新增的一段文字，说明文件更新之后只需要重新计算这一段的向量。\n")
    second = build_index([small_corpus[0], edited], HashEmbedder(), tmp_path)
    assert 0 < second.embedded <= 4
    assert second.reused >= first.chunks + first.sentences - 4


def test_failing_build_leaves_the_old_index_serving(tmp_path: Path, small_corpus, corpus_documents) -> None:
    first = build_index(small_corpus, HashEmbedder(), tmp_path)
    with pytest.raises(RuntimeError, match="on purpose"):
        build_index(corpus_documents, HashEmbedder(fail_after=0), tmp_path)
    assert load_index(tmp_path).version == first.version
    assert not list((tmp_path / store.VERSIONS).glob(f"{store.TMP_PREFIX}*"))


def test_killed_build_leaves_the_old_index_serving(tmp_path: Path, small_corpus) -> None:
    first = build_index(small_corpus, HashEmbedder(), tmp_path)
    script = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/tests'];"
        "from pathlib import Path; from helpers import HashEmbedder; from index.build import build_index;"
        "from index.documents import load_corpus;"
        "build_index(load_corpus(Path(sys.argv[1]) / 'corpus'), HashEmbedder(delay=0.3), Path(sys.argv[2]))"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(ROOT), str(tmp_path)])
    deadline = time.time() + 60
    while time.time() < deadline and not list((tmp_path / store.VERSIONS).glob(f"{store.TMP_PREFIX}*")):
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert load_index(tmp_path).version == first.version
    # the next build cleans up what the killed one left
    build_index(small_corpus, HashEmbedder(), tmp_path, force=True)
    assert not list((tmp_path / store.VERSIONS).glob(f"{store.TMP_PREFIX}*"))


def test_damaged_file_is_refused_by_name(tmp_path: Path, small_corpus) -> None:
    result = build_index(small_corpus, HashEmbedder(), tmp_path)
    target = result.path / DENSE_FILE
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(store.IndexUnavailable, match=DENSE_FILE):
        load_index(tmp_path)


def test_truncated_table_is_refused(tmp_path: Path, small_corpus) -> None:
    result = build_index(small_corpus, HashEmbedder(), tmp_path)
    (result.path / CHUNKS_FILE).write_text("", encoding="utf-8")
    with pytest.raises(store.IndexUnavailable, match="damaged"):
        load_index(tmp_path)


def test_mismatched_model_dimension_and_format_are_refused(tmp_path: Path, small_corpus) -> None:
    result = build_index(small_corpus, HashEmbedder(), tmp_path)
    with pytest.raises(store.IndexUnavailable, match="built with model 'hash-embedder'"):
        load_index(tmp_path, model_name="another-model")
    with pytest.raises(store.IndexUnavailable, match="32-d"):
        load_index(tmp_path, dimension=512)
    manifest_path = result.path / store.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(store.IndexUnavailable, match="format version 999"):
        load_index(tmp_path)


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(store.IndexUnavailable, match="govqa build"):
        load_index(tmp_path / "nothing")


def test_old_versions_are_pruned(tmp_path: Path, small_corpus) -> None:
    versions = [build_index(small_corpus, HashEmbedder(), tmp_path, force=True, keep=2).version for _ in range(4)]
    remaining = sorted(p.name for p in (tmp_path / store.VERSIONS).iterdir())
    assert remaining == sorted(versions[-2:])
    assert load_index(tmp_path).version == versions[-1]


def test_document_without_metadata_takes_its_first_line_as_title(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(
        "# 一份备忘录\n\n这是一份没有元数据记录的文件，它仍然会被索引，标题取自第一行。\n", encoding="utf-8"
    )
    (docs := load_corpus(corpus))
    assert docs[0].meta == DocumentMeta(doc_id="note", title="一份备忘录")
    build_index(docs, HashEmbedder(), tmp_path / "index")
    assert load_index(tmp_path / "index").documents["note"].title == "一份备忘录"


def test_hnsw_searches_deep_enough_for_k_and_honours_the_filter() -> None:
    import faiss
    import numpy as np

    from index.build import dense_index
    from index.faiss_bm25 import search_parameters

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 32)).astype("float32")
    faiss.normalize_L2(vectors)
    hnsw, flat = dense_index(vectors, "hnsw"), dense_index(vectors, "flat")
    queries = vectors[:40] + 0.1 * rng.standard_normal((40, 32)).astype("float32")
    _, exact = flat.search(queries, 50)
    _, found = hnsw.search(queries, 50, params=search_parameters(hnsw, 50, None))
    recall = np.mean([len(set(exact[i]) & set(found[i])) / 50 for i in range(40)])
    assert recall >= 0.98
    even = faiss.IDSelectorBatch(np.arange(0, 3000, 2, dtype=np.int64))
    _, filtered = hnsw.search(queries, 10, params=search_parameters(hnsw, 10, even))
    assert (filtered[filtered >= 0] % 2 == 0).all()
