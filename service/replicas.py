"""Serving the unchanged FastAPI app through Ray Serve, with N replicas behind Ray's HTTP proxy.

`govqa serve --replicas N [--ray-address ADDR]`. Without an address a local Ray instance is
started for this process, bound to 127.0.0.1 (and shut down on exit); with one, the app is
deployed to that cluster (every node needs the project, the model and the index root at the
same paths; docs/scaling.md). The proxy listens on GOVQA_HOST:GOVQA_PORT (127.0.0.1:8000 by
default: Ray's own default would be every interface for a deploy config).

Each replica runs service.app.create_app: it loads the version CURRENT names from the shared
index root and follows CURRENT as a single server does (service/reloading.py), so a new version
reaches every replica within GOVQA_RELOAD_SECONDS, and every response names the version that
answered it. Ray needs the scale extra (`make scale`).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.settings import Settings

log = logging.getLogger("govqa")

APP_NAME = "govqa"
DEPLOYMENT_NAME = "govqa"
LOOPBACK = "127.0.0.1"


def settings_values(settings: Settings) -> dict[str, Any]:
    """Settings as plain values for the replicas, paths made absolute (a replica's working directory is Ray's)."""
    values = settings.model_dump()
    return {k: (v.resolve() if isinstance(v, Path) else v) for k, v in values.items()}


def app_builder(values: dict[str, Any]) -> Callable[[], Any]:
    """What each replica calls to make its app: the same create_app a single server runs."""

    def build():  # noqa: ANN202 - a FastAPI app
        from service.app import create_app

        return create_app(Settings(**values))

    return build


def replica_cpus(replicas: int, cpus: float) -> float:
    """CPUs each replica asks Ray for: one, or a fair share when there are more replicas than CPUs."""
    return max(0.01, min(1.0, cpus / replicas)) if cpus else 1.0


def check_backend(settings: Settings, replicas: int) -> None:
    """Milvus Lite serves one process: replicas need a Milvus server (or the FAISS backend)."""
    from index.milvus_backend import is_lite

    if replicas > 1 and settings.backend == "milvus" and is_lite(settings.milvus_uri):
        raise ValueError(
            "GOVQA_MILVUS_URI is a Milvus Lite database, which one process at a time can open; "
            "replicas need a Milvus server (GOVQA_MILVUS_URI=http://host:19530) or GOVQA_BACKEND=faiss"
        )


@dataclass
class Deployment:
    """A running Ray Serve application; `stop()` removes it (and the Ray instance it started)."""

    url: str
    replicas: int
    started_ray: bool
    scratch: Path | None = None

    def stop(self) -> None:
        import ray
        from ray import serve

        try:
            serve.delete(APP_NAME)
            if self.started_ray:
                serve.shutdown()
        finally:
            if self.started_ray:
                ray.shutdown()
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Environment variables for the processes a local Ray instance starts (they inherit this
    process's environment), put back as they were afterwards; variables already set win."""
    saved = {k: os.environ.get(k) for k in values}
    for key, value in values.items():
        os.environ.setdefault(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def local_ray_environment(ha_proxy: bool, scratch: Path) -> dict[str, str]:
    """HAProxy mode (~0.3 ms a request instead of 4-8 ms for Ray's Python proxy), with its files in a
    directory of this instance's own and its stats and metrics ports free ones (Ray's defaults,
    /tmp/haproxy-serve and ports 8404 and 9101, collide between two instances on one machine)."""
    if not ha_proxy:
        return {"RAY_SERVE_ENABLE_HA_PROXY": "0"}
    return {
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(scratch / "haproxy.cfg"),
        "RAY_SERVE_HAPROXY_SOCKET_PATH": str(scratch / "admin.sock"),
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": str(scratch),
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": str(scratch / "server-state"),
        "RAY_SERVE_HAPROXY_STATS_PORT": str(free_port()),
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(free_port()),
    }


def start(settings: Settings, replicas: int, ray_address: str | None = None, *, ha_proxy: bool = True) -> Deployment:
    """Deploy the app with `replicas` replicas and return once every replica has started."""
    import ray
    from ray import serve

    check_backend(settings, replicas)
    started_ray, scratch = False, None
    if not ray.is_initialized():
        if ray_address:
            ray.init(address=ray_address, namespace=APP_NAME, log_to_driver=False)
        else:
            scratch = Path(tempfile.mkdtemp(prefix="govqa-ray-"))
            with environment(local_ray_environment(ha_proxy, scratch)):
                ray.init(
                    address="local", namespace=APP_NAME, include_dashboard=False, log_to_driver=False,
                    num_cpus=os.cpu_count() or 1, _node_ip_address=LOOPBACK,
                )
            started_ray = True
    serve.start(http_options={"host": settings.host, "port": settings.port})
    cpus = float(ray.cluster_resources().get("CPU", 0))
    deployment = serve.deployment(
        name=DEPLOYMENT_NAME,
        num_replicas=replicas,
        max_ongoing_requests=settings.max_in_flight,
        graceful_shutdown_timeout_s=settings.shutdown_grace_seconds,
        ray_actor_options={"num_cpus": replica_cpus(replicas, cpus)},
    )(serve.ingress(app_builder(settings_values(settings)))())
    serve.run(deployment.bind(), name=APP_NAME, route_prefix="/", blocking=False)
    return Deployment(f"http://{settings.host}:{settings.port}", replicas, started_ray, scratch)


def serve_replicas(settings: Settings, replicas: int, ray_address: str | None = None) -> None:
    """`govqa serve --replicas N`: serve until SIGINT or SIGTERM, then remove the deployment."""
    deployment = start(settings, replicas, ray_address)
    log.warning("serving %s with %d replicas through Ray Serve", deployment.url, replicas)
    print(f"govqa: serving {deployment.url} with {replicas} Ray Serve replicas (Ctrl-C stops)", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(1):
            pass
    finally:
        deployment.stop()


def build(args: dict[str, str]):  # noqa: ANN201 - a Ray Serve application
    """An application builder for Ray's own tools (`serve run service.replicas:build replicas=2`,
    or `import_path: service.replicas:build` in a `serve deploy` config): settings come from the
    GOVQA_* environment of the replicas; `replicas` (default 1) sets their number."""
    from ray import serve

    settings = Settings()
    replicas = int(args.get("replicas", 1))
    check_backend(settings, replicas)
    deployment = serve.deployment(
        name=DEPLOYMENT_NAME, num_replicas=replicas, max_ongoing_requests=settings.max_in_flight,
        graceful_shutdown_timeout_s=settings.shutdown_grace_seconds,
    )(serve.ingress(app_builder(settings_values(settings)))())
    return deployment.bind()
