"""Serving the newest index version: when CURRENT names another version, load it aside and swap.

Requests hold the asker they started with, so those in flight finish on the old version while
new ones get the new one. A version that fails to load (damaged, missing) is logged and the
old one keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from index import store
from index.journal import recover
from index.locking import RebuildBusy, rebuild_lock
from service.asking import Asker
from service.runtime import make_embedder, open_asker
from service.settings import Settings

log = logging.getLogger("govqa")


class Swapper:
    """Loads the version CURRENT names and swaps it in, once per version, one load at a time."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.lock = threading.Lock()
        self.failed: tuple[str, str] | None = None
        self.listeners: list = []

    def served_version(self) -> str | None:
        asker: Asker | None = self.app.state.asker
        return asker.retriever.backend.version if asker is not None else None

    def refresh(self) -> bool:
        """Swap in the current version if it is not the one served; True when a swap happened."""
        with self.lock:
            try:
                version = store.current_version(self.settings.index_dir)
            except store.IndexUnavailable:
                return False
            if version == self.served_version() or (self.failed and self.failed[0] == version):
                return False
            try:
                asker = self.load()
            except Exception as exc:  # keep serving what we have
                self.failed = (version, str(exc))
                log.error("index version %s not served: %s", version, exc)
                return False
            previous = self.served_version()
            self.app.state.asker = asker
            self.app.state.load_error = None
            self.failed = None
            log.info("serving index version %s (was %s)", asker.retriever.backend.version, previous)
        for listener in self.listeners:
            listener(asker)
        return True

    def load(self) -> Asker:
        current: Asker | None = self.app.state.asker
        embedder = current.retriever.embedder if current is not None else make_embedder(self.settings)
        asker = open_asker(self.settings, embedder)
        if current is None:
            asker.retriever.embed_query("warm up")
        return asker


def clean_leftovers(settings: Settings) -> None:
    """Remove unfinished builds a crash left behind and complete or roll back an interrupted corpus change
    (index.journal), unless a rebuild is running right now."""
    if not settings.index_dir.is_dir():
        return
    try:
        with rebuild_lock(settings.index_dir, wait=0):
            removed = store.remove_leftovers(settings.index_dir)
            recover(settings.corpus, settings.index_dir)
    except RebuildBusy:
        return
    if removed:
        log.warning("removed %d unfinished build(s) left by an interrupted rebuild", removed)


async def watch(swapper: Swapper, every: float) -> None:
    """Check CURRENT every `every` seconds for as long as the app runs."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(swapper.refresh)
        except Exception:  # never let the watcher die
            log.exception("checking for a new index version failed")
