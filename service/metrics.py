"""Prometheus metrics: request counts and latencies by route and status (from
prometheus-fastapi-instrumentator), plus the served index version and answer-cache counts.
Each app has its own registry, so several apps can live in one process."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_fastapi_instrumentator import Instrumentator

from service.asking import Asker


class AskerCollector:
    """Reads the live asker at scrape time: index version, chunk count, cache hits and misses."""

    def __init__(self, current: Callable[[], Asker | None]) -> None:
        self.current = current

    def collect(self) -> Iterator:
        asker = self.current()
        if asker is None:
            return
        backend = asker.retriever.backend
        info = InfoMetricFamily("govqa_index", "the index being served")
        info.add_metric(
            [], {"version": backend.version, "model": str(backend.manifest.get("model", {}).get("name", ""))},
        )
        yield info
        yield GaugeMetricFamily("govqa_index_chunks", "passages in the served index", value=len(backend.chunks))
        cache = CounterMetricFamily("govqa_answer_cache", "answer-cache lookups by result", labels=["result"])
        cache.add_metric(["hit"], asker.cache.hits)
        cache.add_metric(["miss"], asker.cache.misses)
        yield cache


def install_metrics(app: FastAPI) -> None:
    registry = CollectorRegistry()
    registry.register(AskerCollector(lambda: getattr(app.state, "asker", None)))
    Instrumentator(registry=registry, excluded_handlers=["/metrics"]).instrument(app).expose(
        app, include_in_schema=False,
    )
