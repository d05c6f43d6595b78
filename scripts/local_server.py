"""A govqa server of its own for the load scripts: a private copy of the served index version,
`govqa serve` on a free loopback port, stopped with SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def snapshot_index(into: Path) -> Path:
    """A private copy of the served index version (GOVQA_INDEX_DIR's, else indexes/default), so that a
    rebuild by another process during the run does not swap the index under the measurement."""
    root = Path(os.environ.get("GOVQA_INDEX_DIR", ROOT / "indexes" / "default"))
    version = (root / "CURRENT").read_text(encoding="utf-8").strip()
    shutil.copytree(root / "versions" / version, into / "versions" / version)
    (into / "CURRENT").write_text(version + "\n", encoding="utf-8")
    return into


def start_server(log_path: Path, index_dir: Path, timeout: float = 180) -> tuple[subprocess.Popen, str]:
    """`govqa serve` of `index_dir` on a free loopback port, once GET /readyz answers 200."""
    port = free_port()
    env = {**os.environ, "GOVQA_HOST": HOST, "GOVQA_PORT": str(port), "GOVQA_INDEX_DIR": str(index_dir)}
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "govqa"), "serve"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"govqa serve exited with {server.returncode}:\n{log_tail(log_path)}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    stop_server(server)
    raise SystemExit(f"govqa serve not ready after {timeout:.0f} s:\n{log_tail(log_path)}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def log_tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
