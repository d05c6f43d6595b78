"""The FAISS index of chunk vectors: which kind for how many chunks, its parameters, and reading it back.

`auto` (the default) searches exactly below ANN_MIN_CHUNKS chunks and with an inverted file (IVF) above.
Every kind keeps the exact vectors, since ranking reads chunk vectors back and scores with their cosines,
and an IVF index stores its search parameters (nprobe, refinement factor) in its own file, so a
version is searched the way it was built. Files are written with faiss's writer and read back
memory-mapped (IO_FLAG_MMAP_IFC): the vectors stay in the page cache, shared by every process that
serves the same version, instead of being copied into each one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

INDEX_TYPES = ("auto", "flat", "hnsw", "ivf")

# Where exact search stops being the right choice: flat search at k = 50 grows linearly, about 21 ms at 100k and
# 216 ms at 1M chunks of 384-d on the 2-core machine of docs/scaling.md; IVF stays near 12 ms at 1M.
ANN_MIN_CHUNKS = 100_000
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 80
HNSW_MIN_EF_SEARCH = 64
FAISS_MIN_POINTS_PER_LIST = 39  # faiss warns below this many training points per inverted list


@dataclass(frozen=True)
class IvfParameters:
    """An IVF index over SQ8 codes, re-scored exactly from the flat vectors (faiss "IVF{nlist},SQ8,RFlat").

    Measured in docs/scaling.md ("Vector index kinds at a million chunks"): at 1M 384-d chunks, IVF4096,SQ8 with
    exact re-scoring at nprobe 512 (1/8 of the lists) reached recall@10 0.99 at 12 ms p50, built in 92 s on 2
    cores, 1.9 kB per chunk; SQ8 codes alone would give back only approximate vectors.
    """

    lists_per_sqrt_chunk: float = 4.0  # nlist = the power of two nearest 4·sqrt(N)
    probe_share: float = 1 / 8  # nprobe = nlist / 8: recall@10 0.97 at 200k and 1M (0.94 at 1/16)
    refine_factor: int = 2  # exact re-scoring of 2k SQ8 candidates: the same recall as IVF-Flat at that nprobe
    train_points_per_list: int = 64  # k-means on a sample of 64 points per list (the whole corpus when smaller)
    train_iterations: int = 10
    seed: int = 0

    def lists(self, n: int) -> int:
        """Inverted lists for n vectors, at least FAISS_MIN_POINTS_PER_LIST training points each."""
        wanted = 2 ** round(math.log2(max(self.lists_per_sqrt_chunk * math.sqrt(max(n, 1)), 1)))
        return max(1, min(wanted, n // FAISS_MIN_POINTS_PER_LIST))

    def probes(self, lists: int) -> int:
        return max(1, round(lists * self.probe_share))


IVF = IvfParameters()


def resolve_kind(index_type: str, n: int, ann_min_chunks: int = ANN_MIN_CHUNKS) -> str:
    """The index kind `index_type` means for n chunks: `auto` is flat below ann_min_chunks, IVF from there on."""
    if index_type not in INDEX_TYPES:
        raise ValueError(f"unknown index type {index_type!r}; choose one of {INDEX_TYPES}")
    if index_type == "auto":
        return "ivf" if n >= ann_min_chunks else "flat"
    return index_type


def ivf_index(vectors: np.ndarray, parameters: IvfParameters = IVF) -> faiss.Index:
    """A trained, filled IVF-SQ8 index with exact re-scoring; nprobe and k_factor set from `parameters`."""
    n, dimension = vectors.shape
    lists = parameters.lists(n)
    index = faiss.index_factory(dimension, f"IVF{lists},SQ8,RFlat", faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.niter = parameters.train_iterations
    ivf.cp.seed = parameters.seed
    ivf.cp.max_points_per_centroid = parameters.train_points_per_list
    sample = min(n, parameters.train_points_per_list * lists)
    rows = (
        np.sort(np.random.default_rng(parameters.seed).choice(n, sample, replace=False)) if sample < n else slice(None)
    )
    index.train(np.ascontiguousarray(vectors[rows]))
    index.add(vectors)
    ivf.nprobe = parameters.probes(lists)
    index.k_factor = parameters.refine_factor
    return index


def dense_index(vectors: np.ndarray, index_type: str, ann_min_chunks: int = ANN_MIN_CHUNKS) -> faiss.Index:
    """A FAISS inner-product index over normalized vectors, of the kind `index_type` means for their count."""
    dimension = vectors.shape[1]
    kind = resolve_kind(index_type, len(vectors), ann_min_chunks)
    if kind == "ivf" and len(vectors):
        return ivf_index(vectors)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(vectors)
    return index


def write_dense(index: faiss.Index, path: Path) -> None:
    """The index in faiss's own file format."""
    faiss.write_index(index, str(path))


def read_dense(path: Path) -> faiss.Index:
    """An index file read back with its vectors and codes memory-mapped, read-only."""
    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)


def search_parameters(index: faiss.Index, k: int, selector: faiss.IDSelector | None) -> faiss.SearchParameters | None:
    """Per-query parameters: a document filter; HNSW's search list of at least max(2k, 64) (faiss keeps
    its default of 16 even when asked for 50 results); an IVF index's stored nprobe, or every list when filtered
    (a filter can leave its chunks in lists the probe would skip, so filtered IVF search is exhaustive)."""
    if isinstance(index, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW(efSearch=max(2 * k, HNSW_MIN_EF_SEARCH))
        if selector is not None:
            params.sel = selector
        return params
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        return None if selector is None else faiss.SearchParameters(sel=selector)
    probe = faiss.SearchParametersIVF(nprobe=ivf.nlist if selector is not None else ivf.nprobe)
    if selector is not None:
        probe.sel = selector
    if isinstance(index, faiss.IndexRefine):
        params = faiss.IndexRefineSearchParameters(k_factor=index.k_factor, base_index_params=probe)
        params.referenced_objects = [probe]  # faiss holds a raw pointer: keep the Python object alive with it
        return params
    return probe


def stored_vectors(path: Path) -> np.ndarray:
    """Every chunk vector an index file holds, in row order (exact for every kind: each keeps the flat vectors)."""
    index = read_dense(path)
    if not index.ntotal:
        return np.zeros((0, index.d), np.float32)
    return np.ascontiguousarray(index.reconstruct_n(0, index.ntotal), np.float32)
