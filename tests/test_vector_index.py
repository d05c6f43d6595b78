"""The chunk vectors' index kind: exact below the chunk-count threshold, IVF above it, read back memory-mapped."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
from helpers import HashEmbedder

from index.build import DENSE_FILE, build_index
from index.documents import Document, DocumentMeta
from index.faiss_bm25 import load_index
from index.vector_index import IVF, dense_index, read_dense, resolve_kind, search_parameters, write_dense


def clustered_vectors(n: int, dimension: int, seed: int) -> np.ndarray:
    """Unit vectors around 40 random centres, so that an inverted file has clusters to find."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dimension)).astype(np.float32)
    vectors = centres[rng.integers(0, 40, n)] + 0.35 * rng.standard_normal((n, dimension)).astype(np.float32)
    faiss.normalize_L2(vectors)
    return vectors


def test_auto_is_exact_below_the_threshold_and_ivf_from_it() -> None:
    assert resolve_kind("auto", 99, ann_min_chunks=100) == "flat"
    assert resolve_kind("auto", 100, ann_min_chunks=100) == "ivf"
    assert resolve_kind("flat", 10**7, ann_min_chunks=100) == "flat"
    with pytest.raises(ValueError, match="unknown index type"):
        resolve_kind("ivf-pq", 10, ann_min_chunks=100)


def test_ivf_index_finds_each_vectors_own_row_after_a_memory_mapped_read(tmp_path: Path) -> None:
    vectors = clustered_vectors(6000, 48, seed=1)
    small = dense_index(vectors[:500], "auto", ann_min_chunks=1000)
    assert isinstance(small, faiss.IndexFlatIP)
    index = dense_index(vectors, "auto", ann_min_chunks=1000)
    assert isinstance(index, faiss.IndexRefine)
    ivf = faiss.extract_index_ivf(index)
    assert isinstance(faiss.downcast_index(index.base_index), faiss.IndexIVFScalarQuantizer)
    assert ivf.nprobe == IVF.probes(ivf.nlist) < ivf.nlist
    write_dense(index, tmp_path / DENSE_FILE)
    loaded = read_dense(tmp_path / DENSE_FILE)
    assert loaded.ntotal == len(vectors)
    assert faiss.extract_index_ivf(loaded).nprobe == ivf.nprobe  # the build's nprobe travels in the file
    wanted = np.array([0, 17, 2500, 5999], dtype=np.int64)
    scores, ids = loaded.search(vectors[wanted], 10, params=search_parameters(loaded, 10, None))
    assert (ids[:, 0] == wanted).all()
    assert np.allclose(scores[:, 0], 1.0, atol=1e-4)  # re-scored from the exact vectors, not the SQ8 codes
    assert np.array_equal(loaded.reconstruct_batch(wanted), vectors[wanted])


def test_filtered_ivf_search_reaches_lists_the_probe_skips() -> None:
    vectors = clustered_vectors(6000, 48, seed=2)
    index = dense_index(vectors, "ivf")
    query = vectors[:1]
    _, unfiltered = index.search(query, 10, params=search_parameters(index, 10, None))
    _, nearest_lists = faiss.extract_index_ivf(index).quantizer.search(query, faiss.extract_index_ivf(index).nlist)
    far_list = int(nearest_lists[0, -1])  # the list farthest from the query: never probed for it
    assignments = faiss.extract_index_ivf(index).quantizer.search(vectors, 1)[1][:, 0]
    allowed = np.flatnonzero(assignments == far_list).astype(np.int64)
    assert len(allowed) and not set(unfiltered[0]) & set(allowed)
    selector = faiss.IDSelectorBatch(allowed)
    _, filtered = index.search(query, 5, params=search_parameters(index, 5, selector))
    found = filtered[0][filtered[0] >= 0]
    assert len(found) == min(5, len(allowed)) and set(found) <= set(allowed)


def test_a_corpus_above_the_threshold_is_built_and_searched_with_ivf(tmp_path: Path) -> None:
    documents = [
        Document(meta=DocumentMeta(doc_id=f"d{i}", title=f"Report {i}"), text=f"Report {i}.\n\n" + " ".join(
            f"Paragraph {j} of report {i} covers topic {(i * 7 + j) % 23} in region {j % 5}." for j in range(12)))
        for i in range(30)
    ]
    embedder = HashEmbedder()
    result = build_index(documents, embedder, tmp_path, ann_min_chunks=40)
    assert result.chunks >= 40
    assert isinstance(read_dense(result.path / DENSE_FILE), faiss.IndexRefine)
    index = load_index(tmp_path)
    assert index.manifest.get("dense_kind") == "ivf"
    for position in (0, len(index.chunks) // 2, len(index.chunks) - 1):
        chunk = index.chunks[position]
        vector = index.chunk_vectors([position])[0]
        assert index.dense(vector, 5)[0].chunk == position
        hits = index.dense(vector, 5, doc_ids=frozenset({chunk.doc_id}))
        assert hits[0].chunk == position
        assert all(index.chunks[h.chunk].doc_id == chunk.doc_id for h in hits)
