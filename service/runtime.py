"""Turning settings into live objects: the embedding model, the loaded index, the retriever."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from index.chunking import ChunkerSettings
from index.embedding import SentenceTransformerEmbedder
from index.costs import CostLimits
from index.extraction import ExtractionLimits
from index.faiss_bm25 import FaissBM25Index, load_index
from index.updates import CorpusUpdater
from service.asking import Asker
from service.retrieval import Retriever
from service.settings import Settings

if TYPE_CHECKING:
    from index.milvus_backend import MilvusIndex


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(
        settings.model, threads=settings.torch_threads, bulk_bf16=settings.bulk_bf16, query_onnx=settings.query_onnx,
        query_int8=settings.query_int8,
    )


def chunker_settings(settings: Settings) -> ChunkerSettings:
    return ChunkerSettings(min_chars=settings.min_chunk_chars, max_chars=settings.max_chunk_chars)


def extraction_limits(settings: Settings) -> ExtractionLimits:
    """What extracting one untrusted file may cost, from the settings."""
    return ExtractionLimits(
        wall_seconds=settings.extract_timeout_seconds, cpu_seconds=settings.extract_cpu_seconds,
        memory_bytes=settings.extract_memory_bytes, max_chars=settings.max_document_chars,
        chunker=chunker_settings(settings),
        costs=CostLimits(
            max_sentences=settings.max_document_sentences, max_chunks=settings.max_document_chunks,
            max_sentence_chars=settings.max_sentence_chars, max_growth_bytes=settings.max_index_growth_bytes,
        ),
    )


def open_index(settings: Settings, dimension: int | None = None) -> FaissBM25Index | MilvusIndex:
    if settings.backend == "milvus":  # pymilvus is an optional extra: imported only when chosen
        from index.milvus_backend import load_index as load_milvus_index

        return load_milvus_index(
            settings.index_dir, settings.milvus_uri, model_name=settings.model, dimension=dimension,
            index_type=settings.index_type,
        )
    return load_index(settings.index_dir, model_name=settings.model, dimension=dimension)


def limit_blas_threads(threads: int | None) -> None:
    """Cap numpy's BLAS thread pool for this process. Answering does only small matrix products, and
    BLAS threads waiting for work take the cores the model's encoder needs next (on two cores, a
    question with words to look up took about twice as long)."""
    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")


def open_retriever(settings: Settings, embedder: SentenceTransformerEmbedder | None = None) -> Retriever:
    """Load the current index and the model it was built with; refuses a mismatched index."""
    limit_blas_threads(settings.blas_threads)
    embedder = embedder or make_embedder(settings)
    return Retriever(open_index(settings, embedder.dimension), embedder, settings)


def open_asker(settings: Settings, embedder: SentenceTransformerEmbedder | None = None) -> Asker:
    return Asker(open_retriever(settings, embedder), settings)


def corpus_updater(
    settings: Settings, embedder: SentenceTransformerEmbedder, *,
    wait: float | None = None, before_publish: Callable[[Path, Path, str], None] | None = None,
) -> CorpusUpdater:
    """The corpus updater of the configured corpus and index root, for the command line and the admin routes."""
    return CorpusUpdater(
        settings.corpus, settings.index_dir, embedder, chunker=chunker_settings(settings),
        index_type=settings.index_type, keep=settings.keep_versions, wait=wait, before_publish=before_publish,
        limits=extraction_limits(settings),
    )
