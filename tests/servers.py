"""A real uvicorn server with the govqa app on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from index.embedding import SentenceTransformerEmbedder
from service.app import create_app
from service.rawurl import widen_h11_request_line
from service.runtime import make_embedder
from service.settings import Settings

EMBEDDERS: dict[tuple, SentenceTransformerEmbedder] = {}


def embedder_for(settings: Settings) -> SentenceTransformerEmbedder:
    """One loaded model per test process and model settings: every in-process server loading its own
    would hold a gigabyte each for the rest of the run."""
    key = (str(settings.model), settings.torch_threads, settings.bulk_bf16, settings.query_onnx, settings.query_int8)
    if key not in EMBEDDERS:
        EMBEDDERS[key] = make_embedder(settings)
    return EMBEDDERS[key]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # run inside a thread
        pass


def serve(settings: Settings) -> Iterator[str]:
    widen_h11_request_line()  # what `govqa serve` does before it starts uvicorn
    port = free_port()
    app = create_app(settings, embedder_for(settings))
    server = Server(uvicorn.Config(app, host="127.0.0.1", port=port, http="h11", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def wait_ready(url: str, timeout: float = 120, process: subprocess.Popen | None = None) -> None:
    """Block until GET /readyz answers 200 (or the server's process has exited)."""
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready after {timeout} s")


GOVQA = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "govqa"


def settings_env(settings: Settings) -> dict[str, str]:
    """GOVQA_* variables that give a `govqa` process these settings (the ones tests change)."""
    env = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None or name == "cors_origins":
            continue
        env[f"GOVQA_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


def serve_process(settings: Settings, log_path: Path, timeout: float = 180) -> Iterator[tuple[str, subprocess.Popen]]:
    """`govqa serve` with these settings on a free loopback port, its stderr and stdout in log_path;
    yields its URL and process once /readyz answers, and stops it with SIGTERM afterwards."""
    port = free_port()
    env = {**os.environ, **settings_env(settings), "GOVQA_HOST": "127.0.0.1", "GOVQA_PORT": str(port)}
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(GOVQA), "serve"], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, timeout, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


class Probe:
    """A normal client asking /healthz and /v1/ask in turn from a thread, recording each latency and status."""

    def __init__(self, url: str, question: str = "首尔峰会的主题是什么？") -> None:
        import httpx

        self.client = httpx.Client(base_url=url, timeout=30)
        self.question = question
        self.timings: list[tuple[str, int, float]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopping.is_set():
            for path in ("/healthz", "/v1/ask"):
                started = time.perf_counter()
                try:
                    if path == "/healthz":
                        status = self.client.get(path).status_code
                    else:
                        status = self.client.post(path, json={"question": self.question, "top_k": 3}).status_code
                except Exception:  # noqa: BLE001 - recorded as a failure
                    status = 0
                self.timings.append((path, status, time.perf_counter() - started))
            self.stopping.wait(0.1)

    def __enter__(self) -> "Probe":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(60)
        self.client.close()

    def worst(self) -> float:
        return max((t for _, _, t in self.timings), default=0.0)

    def check(self, bound: float = 1.0) -> None:
        """Every probe answered 200 within `bound` seconds, and there were some."""
        assert len(self.timings) >= 4, self.timings
        failed = [(p, s, round(t, 2)) for p, s, t in self.timings if s != 200 or t > bound]
        assert not failed, f"{len(failed)} of {len(self.timings)} probes slow or failing: {failed[:10]}"
