"""Slow clients against a fresh `govqa serve`: do others still get prompt answers?

    .venv/bin/python scripts/slowloris.py [--slow-heads 200] [--slow-bodies 50] [--seconds 60]

Starts `govqa serve` on a free loopback port (GOVQA_* variables in the environment pass
through; it serves a private copy of the current version of GOVQA_INDEX_DIR's index,
indexes/default by default, so that a rebuild elsewhere cannot swap it mid-run) and waits for /readyz.
Then, for --seconds:

  slow heads   connections that send a request head one byte every --interval seconds
               and never finish it (reopened whenever the server closes one)
  slow bodies  POST /v1/ask with a complete head announcing a body of --body-bytes, then
               one body byte every --interval seconds (reopened likewise)
  a client     GET /healthz and POST /v1/ask (a different question each time) every 0.5 s,
               each on a new connection, as a newcomer would

and prints how many slow connections the server closed, after how long and whether with
408, the client's latency p50/p99/max and failures per endpoint, the server's peak open
file descriptors, and a verdict. Exits 1 when a client request failed, its p99 exceeded
--max-p99, or a slow connection outlived its deadline (the server's GOVQA_HEADER_TIMEOUT_SECONDS,
or GOVQA_BODY_TIMEOUT_SECONDS plus the allowance for the bytes sent) by over 2 s, or none was
closed although the run outlasted the deadline. Stops by itself and stops the server at the
end. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import selectors
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from local_server import snapshot_index, start_server, stop_server  # noqa: E402 - scripts/ is on sys.path

from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
SLACK = 2.0  # seconds past a deadline that a slow connection may still be seen open (event loop, polling)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def open_files(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def ensure_fd_limit(needed: int) -> int:
    """Raise the soft limit on open files towards `needed`; returns the limit there is."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class SlowConnection:
    """One slow client: the bytes it still has to send, one at a time, and what became of it."""

    def __init__(self, kind: str, port: int, body_bytes: int, interval: float) -> None:
        self.kind = kind
        self.sock = socket.create_connection((HOST, port), timeout=5)
        self.opened = time.monotonic()
        if kind == "head":
            self.pending = b"GET /healthz HTTP/1.1\r\nHost: slowloris\r\n" + b"X-Slow: " + b"a" * 10_000
        else:
            self.sock.sendall(
                b"POST /v1/ask HTTP/1.1\r\nHost: slowloris\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % body_bytes
            )
            self.pending = b'{"question": "' + b"a" * (body_bytes - 16) + b'"}'
        self.sock.setblocking(False)
        self.next_send = self.opened + random.uniform(0, interval)  # spread the trickles over the interval
        self.sent = 0
        self.received = b""

    def trickle(self, now: float, interval: float) -> bool:
        """Send the next byte when due; False when the server has closed the connection."""
        if now < self.next_send or not self.pending:
            return True
        try:
            self.sock.send(self.pending[:1])
        except BlockingIOError:
            return True
        except OSError:
            return False
        self.pending, self.sent, self.next_send = self.pending[1:], self.sent + 1, now + interval
        return True

    def read(self) -> bool:
        """Read what the server sent; False when it closed the connection."""
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return True
        except OSError:
            return False
        self.received += data
        return bool(data)


class Slowloris:
    """Keeps --slow-heads and --slow-bodies slow connections open (reopening each one the server
    closes) from one thread, and records each closing: kind, seconds open, bytes sent, 408 or not."""

    def __init__(self, port: int, heads: int, bodies: int, body_bytes: int, interval: float) -> None:
        self.port, self.body_bytes, self.interval = port, body_bytes, interval
        self.wanted = {"head": heads, "body": bodies}
        self.selector = selectors.DefaultSelector()
        self.closed: list[dict] = []
        self.open_errors = 0
        self.missing = {"head": 0, "body": 0}  # connections that could not be opened, retried twice a second
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open(self, kind: str) -> None:
        try:
            connection = SlowConnection(kind, self.port, self.body_bytes, self.interval)
        except OSError:
            self.open_errors += 1
            self.missing[kind] += 1
            return
        self.selector.register(connection.sock, selectors.EVENT_READ, connection)

    def closed_by_server(self, connection: SlowConnection) -> None:
        self.selector.unregister(connection.sock)
        connection.sock.close()
        self.closed.append({
            "kind": connection.kind, "seconds": time.monotonic() - connection.opened, "bytes_sent": connection.sent,
            "status_408": connection.received.startswith(b"HTTP/1.1 408 "),
        })
        if not self.stop.is_set():
            self.open(connection.kind)

    def run(self) -> None:
        for kind, count in self.wanted.items():
            for _ in range(count):
                self.open(kind)
        retry = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            for key in list(self.selector.get_map().values()):
                if not key.data.trickle(now, self.interval):
                    self.closed_by_server(key.data)
            for key, _ in self.selector.select(0.1):
                if not key.data.read():
                    self.closed_by_server(key.data)
            if any(self.missing.values()) and time.monotonic() >= retry:
                retry = time.monotonic() + 0.5
                for kind, count in list(self.missing.items()):
                    self.missing[kind] = 0
                    for _ in range(count):
                        self.open(kind)

    def open_now(self) -> int:
        return len(self.selector.get_map())

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(10)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()


def questions() -> list[str]:
    lines = (ROOT / "tests" / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def probe(url: str, endpoint: str, question: str) -> tuple[float, str | None]:
    """One request on a new connection: (seconds, None) when answered 200, else (seconds, what went wrong)."""
    started = time.monotonic()
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            if endpoint == "/v1/ask":
                response = client.post(endpoint, json={"question": question, "top_k": 5})
            else:
                response = client.get(endpoint)
        problem = None if response.status_code == 200 else f"status {response.status_code}"
    except httpx.HTTPError as exc:
        problem = type(exc).__name__
    return time.monotonic() - started, problem


def summarize_closings(closed: list[dict], kind: str) -> dict:
    mine = [c for c in closed if c["kind"] == kind]
    seconds = [c["seconds"] for c in mine]
    return {
        "closed": len(mine), "with_408": sum(c["status_408"] for c in mine),
        "min_s": min(seconds, default=float("nan")), "p50_s": percentile(seconds, 50),
        "max_s": max(seconds, default=float("nan")),
        "max_bytes_sent": max((c["bytes_sent"] for c in mine), default=0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slow-heads", type=int, default=200,
                        help="connections sending a request head slowly (default 200)")
    parser.add_argument("--slow-bodies", type=int, default=50,
                        help="connections sending a request body slowly (default 50)")
    parser.add_argument("--seconds", type=float, default=60,
                        help="how long the attack and the measurement last (default 60)")
    parser.add_argument("--interval", type=float, default=2.0,
                        help="seconds between a slow connection's bytes (default 2)")
    parser.add_argument("--body-bytes", type=int, default=1000,
                        help="Content-Length the slow bodies announce (default 1000)")
    parser.add_argument("--max-p99", type=float, default=1.0, help="the client's p99 bound in seconds (default 1.0)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    slow_total = args.slow_heads + args.slow_bodies
    limit = ensure_fd_limit(slow_total + 256)
    if limit < slow_total + 64:
        scale = (limit - 64) / slow_total
        args.slow_heads, args.slow_bodies = int(args.slow_heads * scale), int(args.slow_bodies * scale)
        print(f"open-file limit {limit}: using {args.slow_heads} slow heads and {args.slow_bodies} slow bodies")

    settings = Settings()  # the server's, read from the same GOVQA_* environment
    head_deadline = settings.header_timeout_seconds
    body_deadline = settings.body_timeout_seconds + args.body_bytes / settings.body_min_bytes_per_second
    print(f"server: request head within {head_deadline:g} s, body within {settings.body_timeout_seconds:g} s "
          f"+ 1 s per {settings.body_min_bytes_per_second:g} bytes, keep-alive {settings.keep_alive_seconds:g} s, "
          f"at most {settings.max_connections} connections", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="govqa-slowloris-"))
    log_path = scratch / "serve.log"
    server, url = start_server(log_path, snapshot_index(scratch / "index"))
    port = int(url.rsplit(":", 1)[1])
    print(f"govqa serve pid {server.pid} at {url}; log {log_path}", flush=True)
    attack = Slowloris(port, args.slow_heads, args.slow_bodies, args.body_bytes, args.interval)
    latencies: dict[str, list[float]] = {"/healthz": [], "/v1/ask": []}
    failures: dict[str, list[str]] = {"/healthz": [], "/v1/ask": []}
    peak_fds, peak_slow_open = 0, 0
    asked = questions()
    try:
        attack.thread.start()
        started = time.monotonic()
        while attack.open_now() < slow_total and time.monotonic() - started < 10:
            time.sleep(0.1)
        print(f"{attack.open_now()} slow connections open after {time.monotonic() - started:.1f} s; "
              f"measuring for {args.seconds:.0f} s", flush=True)
        started, n = time.monotonic(), 0
        while time.monotonic() - started < args.seconds:
            tick = time.monotonic()
            for endpoint in ("/healthz", "/v1/ask"):
                seconds, problem = probe(url, endpoint, f"{asked[n % len(asked)]}（{n}）")
                latencies[endpoint].append(seconds)
                if problem:
                    failures[endpoint].append(problem)
            n += 1
            peak_fds, peak_slow_open = max(peak_fds, open_files(server.pid)), max(peak_slow_open, attack.open_now())
            if n % 20 == 0:
                print(f"  {time.monotonic() - started:5.0f} s: {attack.open_now()} slow open, "
                      f"{len(attack.closed)} closed by the server, "
                      f"client p99 so far {max(percentile(v, 99) for v in latencies.values()) * 1000:.0f} ms",
                      flush=True)
            time.sleep(max(0.0, 0.5 - (time.monotonic() - tick)))
    finally:
        attack.finish()
        stop_server(server)
        shutil.rmtree(scratch / "index", ignore_errors=True)  # the log stays

    closings = {kind: summarize_closings(attack.closed, kind) for kind in ("head", "body")}
    client = {
        endpoint: {"requests": len(v), "p50_ms": percentile(v, 50) * 1000, "p99_ms": percentile(v, 99) * 1000,
                   "max_ms": max(v, default=float("nan")) * 1000, "failures": len(failures[endpoint]),
                   "failure_kinds": sorted(set(failures[endpoint]))}
        for endpoint, v in latencies.items()
    }
    server_closings_logged = log_path.read_text(errors="replace").count("closed a slow connection")

    print(f"\nslow connections: {args.slow_heads} heads + {args.slow_bodies} bodies, a byte every {args.interval:g} s, "
          f"reopened when closed; at most {peak_slow_open} open at once; server peak open files {peak_fds}")
    print(f"{'kind':6s} {'closed':>7s} {'408':>5s} {'min s':>7s} {'p50 s':>7s} {'max s':>7s} {'max bytes':>9s}")
    for kind, c in closings.items():
        print(f"{kind:6s} {c['closed']:7d} {c['with_408']:5d} {c['min_s']:7.1f} {c['p50_s']:7.1f} {c['max_s']:7.1f} "
              f"{c['max_bytes_sent']:9d}")
    print(f"(server log: {server_closings_logged} 'closed a slow connection' lines; "
          f"{attack.open_errors} connects failed)")
    print(f"\nclient, a new connection per request, every 0.5 s for {args.seconds:.0f} s:")
    print(f"{'endpoint':9s} {'requests':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} {'failed':>6s}")
    for endpoint, c in client.items():
        print(f"{endpoint:9s} {c['requests']:8d} {c['p50_ms']:8.1f} {c['p99_ms']:8.1f} {c['max_ms']:8.1f} "
              f"{c['failures']:6d}"
              + (f"  {', '.join(c['failure_kinds'])}" if c["failures"] else ""))

    problems = []
    if any(c["failures"] for c in client.values()):
        problems.append("client requests failed")
    worst = max(c["p99_ms"] for c in client.values())
    if not worst <= args.max_p99 * 1000:
        problems.append(f"client p99 {worst:.0f} ms over {args.max_p99 * 1000:.0f} ms")
    for kind, deadline, wanted in (("head", head_deadline, args.slow_heads), ("body", body_deadline, args.slow_bodies)):
        if wanted and args.seconds > deadline + SLACK and not closings[kind]["closed"]:
            problems.append(f"the server closed no slow {kind} in {args.seconds:.0f} s")
        if closings[kind]["closed"] and closings[kind]["max_s"] > deadline + SLACK:
            problems.append(f"a slow {kind} stayed open {closings[kind]['max_s']:.1f} s (deadline {deadline:.1f} s)")
    verdict = "PASS" if not problems else "FAIL: " + "; ".join(problems)
    print(f"\nverdict: {verdict}")
    if args.json:
        args.json.write_text(json.dumps({
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "closings": closings, "client": client, "peak_server_open_files": peak_fds,
            "peak_slow_open": peak_slow_open,
            "open_errors": attack.open_errors, "verdict": verdict,
        }, indent=2), encoding="utf-8")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
