"""Serving the HTTP API from one process, or from GOVQA_WORKERS processes that share one listening socket.

Every worker loads the index itself (its vector files memory-mapped, so the page cache holds them once for
all) and its own question encoder, with ONNX Runtime's threads set so that the workers together use each
core once. A worker follows CURRENT as a single server does (service/reloading.py): a document uploaded
through one worker reaches the others within GOVQA_RELOAD_SECONDS. uvicorn's supervisor binds the socket,
starts the workers, restarts one that dies and stops them all on SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import uvicorn

from index.bounded_logging import configure_process
from service.settings import Settings

log = logging.getLogger("govqa")

# What one answering process holds beyond its index and model files (measured: 0.72 GB in all with the
# bundled index; the interpreter, FastAPI, jieba's dictionary, the tokenizer, ONNX Runtime's arena).
PROCESS_BASE_BYTES = 600 * 1024 * 1024


def per_worker(settings: Settings, cpus: int | None = None) -> Settings:
    """The settings one of several workers runs with: unless set, its encoder's threads are its share of the cores."""
    if settings.workers == 1 or settings.torch_threads is not None:
        return settings
    return settings.model_copy(update={"torch_threads": max(1, (cpus or os.cpu_count() or 1) // settings.workers)})


def tree_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def worker_bytes(settings: Settings) -> int:
    """A cautious estimate of one worker's resident memory: its share of the index and model files, read
    whole, and the process itself."""
    return (
        PROCESS_BASE_BYTES + tree_bytes(settings.index_dir) // max(settings.keep_versions, 1)
        + tree_bytes(Path(settings.model) / "onnx")
    )


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (None where there is none)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def memory_refusal(settings: Settings, available: int | None) -> str | None:
    """Why this many workers would not fit in memory, or None when they would (or nothing is known)."""
    need = settings.workers * worker_bytes(settings)
    if available is None or need <= available:
        return None
    return (f"{settings.workers} workers need about {need / 2**30:.1f} GiB and {available / 2**30:.1f} GiB "
            f"is available; set GOVQA_WORKERS to {max(1, available // worker_bytes(settings))} or fewer")


class WorkerConfig(uvicorn.Config):
    """uvicorn's configuration as a worker process receives it (pickled): it carries govqa's settings and
    builds the app, the guarded protocol and the logging in the worker itself."""

    def __init__(self, settings: Settings) -> None:
        from service.slow_clients import uvicorn_options

        self.govqa_settings = per_worker(settings)  # before uvicorn's own __init__, which configures logging
        super().__init__(
            app="service.app:create_app", **{**uvicorn_options(settings), "http": "h11"}, workers=settings.workers
        )

    def configure_logging(self) -> None:
        super().configure_logging()
        configure_process(self.govqa_settings.log_level)

    def load(self) -> None:
        if not self.loaded:
            from service.app import create_app
            from service.rawurl import widen_h11_request_line
            from service.slow_clients import guarded_protocol

            widen_h11_request_line()
            self.app = create_app(self.govqa_settings)
            self.http = guarded_protocol(self.govqa_settings)
        super().load()


def serve(settings: Settings) -> None:
    """Serve the API in this process, or through a supervisor of GOVQA_WORKERS worker processes."""
    from service.rawurl import widen_h11_request_line
    from service.slow_clients import uvicorn_options

    if settings.workers == 1:
        from service.app import create_app

        widen_h11_request_line()
        uvicorn.run(create_app(settings), **uvicorn_options(settings))
        return
    refusal = memory_refusal(settings, available_bytes())
    if refusal:
        raise SystemExit(refusal)
    from uvicorn.supervisors import Multiprocess

    config = WorkerConfig(settings)
    log.info("serving with %d workers, %d encoder threads each", settings.workers, config.govqa_settings.torch_threads)
    Multiprocess(config, sockets=[listening_socket(config)]).run()


def listening_socket(config: uvicorn.Config) -> socket.socket:
    """The shared socket, with TCP_NODELAY for the connections it accepts: asyncio sets it only on sockets
    it made itself, and a reply written in two segments would otherwise wait for the client's delayed
    acknowledgement (about 40 ms a request on loopback)."""
    sock = config.bind_socket()
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
