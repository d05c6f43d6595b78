"""Asking: retrieval plus the extractive answer, behind an LRU cache keyed by the normalized
question, the parameters and the index version (so a new index never serves old results)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
import threading
from collections import OrderedDict
from collections.abc import Hashable

from index.normalize import normalize
from service.answer_scorer import AnswerScorer
from service import pipeline
from service.answering import Answer, AnswerPolicy, Verdict
from service.query import Query
from service.retrieval import Passage, Retriever
from service.settings import Mode, Settings


@dataclass(frozen=True)
class AskResult:
    question: str
    answer: Answer | None
    verdict: Verdict
    passages: list[Passage]
    mode: Mode
    index_version: str
    took_ms: float = 0.0
    cached: bool = False
    query: Query | None = None


def answer_policy(settings: Settings) -> AnswerPolicy:
    return AnswerPolicy(settings.answer_sentences, settings.answer_list_sentences, settings.min_confidence)


class LRUCache:
    """A thread-safe least-recently-used map with hit and miss counts."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._items: OrderedDict[Hashable, AskResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> AskResult | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: AskResult) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class Asker:
    """Answers questions over one retriever; safe to share between threads."""

    def __init__(self, retriever: Retriever, settings: Settings, scorer: AnswerScorer | None = None) -> None:
        self.retriever = retriever
        self.settings = settings
        self.policy = answer_policy(settings)
        self.scorer = scorer or AnswerScorer.load(settings.answer_model)
        self.cache = LRUCache(settings.cache_size)

    def ask(
        self, question: str, k: int | None = None, mode: Mode | None = None, doc_ids: frozenset[str] | None = None
    ) -> AskResult:
        started = time.perf_counter()
        normalized = normalize(question)
        k, mode = k or self.settings.top_k, mode or self.settings.mode
        backend = self.retriever.backend
        key = (normalized, k, mode, doc_ids, backend.version)
        result = self.cache.get(key) if self.cache.size else None
        cached = result is not None
        if result is None:
            retrieval = pipeline.retrieve(self.retriever, normalized, k, mode, doc_ids)
            answer, verdict = pipeline.answer(self.retriever, retrieval, self.policy, self.scorer)
            result = AskResult(
                normalized, answer, verdict, retrieval.passages, mode, backend.version, query=retrieval.query
            )
            if self.cache.size:
                self.cache.put(key, result)
        return replace(result, question=question, took_ms=(time.perf_counter() - started) * 1000, cached=cached)

    def search(
        self, question: str, k: int | None = None, mode: Mode | None = None, doc_ids: frozenset[str] | None = None
    ) -> list[Passage]:
        """The passages alone (no answer, no cache): what /v1/search, MCP's search and Dify's retrieval return."""
        return pipeline.search(self.retriever, question, k, mode, doc_ids)
