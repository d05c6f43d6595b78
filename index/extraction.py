"""Extracting untrusted files in a bounded process of their own (index.extract_worker), never in the caller.

A parser fed a hostile file can take minutes of CPU (a PDF of 2,000 pages sharing one large content
stream), gigabytes of memory (a zip that lies about its sizes) or recurse deeply; in a worker process
each is cut by a limit: wall-clock time (enforced here), CPU time and address space (enforced by the
kernel on the worker), a cap on extracted characters, and the document's cost limits (index.costs).
`extract_async` is for the event loop: the loop only waits on the worker, and cancelling it (the
client went away) kills the worker at once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess  # nosec B404 - runs only this interpreter on index.extract_worker, never a shell
import sys
from dataclasses import asdict, dataclass

from index.chunking import ChunkerSettings
from index.costs import CostLimits, DocumentCost
from index.ingest import MAX_DOCX_UNCOMPRESSED, MAX_PDF_PAGES, DocumentTooLarge, Extracted, IngestError, display_name


@dataclass(frozen=True)
class ExtractionLimits:
    """What extracting one file may cost."""

    wall_seconds: float = 30.0
    cpu_seconds: int = 30
    memory_bytes: int = 1 << 30
    max_chars: int = 1_000_000
    max_pdf_pages: int = MAX_PDF_PAGES
    max_docx_bytes: int = MAX_DOCX_UNCOMPRESSED
    costs: CostLimits = CostLimits()
    chunker: ChunkerSettings = ChunkerSettings()


@dataclass(frozen=True)
class Extraction:
    """A file's text and metadata, and what indexing it will cost."""

    name: str
    extracted: Extracted
    cost: DocumentCost


def command(limits: ExtractionLimits, filename: str) -> list[str]:
    """The worker's command line (the file's bytes go to its stdin)."""
    request = {"limits": {k: v for k, v in asdict(limits).items() if k not in ("costs", "chunker")},
               "costs": asdict(limits.costs), "chunker": limits.chunker.to_dict()}
    return [sys.executable, "-m", "index.extract_worker", json.dumps(request), filename]


def extract_isolated(data: bytes, filename: str, limits: ExtractionLimits) -> Extraction:
    """Extract in a worker process, waiting for it (for the CLI and worker threads)."""
    name = display_name(filename)
    try:
        done = subprocess.run(  # nosec B603 - a fixed argv (this interpreter, our module); the file name is one argument, no shell
            command(limits, filename), input=data, stdout=subprocess.PIPE, timeout=limits.wall_seconds, check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed the worker
        raise too_slow(name, limits) from None
    return outcome(name, done.returncode, done.stdout, limits)


async def extract_async(data: bytes, filename: str, limits: ExtractionLimits) -> Extraction:
    """Extract in a worker process without blocking the event loop; cancelling this kills the worker."""
    name = display_name(filename)
    worker = await asyncio.create_subprocess_exec(
        *command(limits, filename), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        stdout, _ = await asyncio.wait_for(worker.communicate(data), limits.wall_seconds)
    except asyncio.TimeoutError:
        raise too_slow(name, limits) from None
    finally:
        if worker.returncode is None:
            worker.kill()
            await asyncio.shield(worker.wait())
    return outcome(name, worker.returncode, stdout, limits)


def too_slow(name: str, limits: ExtractionLimits) -> DocumentTooLarge:
    return DocumentTooLarge(f"{name}: extracting its text took longer than {limits.wall_seconds:g} s, "
                            "the limit (GOVQA_EXTRACT_TIMEOUT_SECONDS)")


def outcome(name: str, returncode: int | None, stdout: bytes, limits: ExtractionLimits) -> Extraction:
    """The worker's answer, or the limit that ended it."""
    if returncode == -signal.SIGXCPU or (returncode == -signal.SIGKILL and not stdout):
        raise DocumentTooLarge(f"{name}: extracting its text used more than {limits.cpu_seconds} s of CPU, "
                               "the limit (GOVQA_EXTRACT_CPU_SECONDS)")
    try:
        answer = json.loads(stdout)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or returncode != 0:
        cause = f"signal {-returncode}" if returncode and returncode < 0 else f"status {returncode}"
        raise DocumentTooLarge(f"{name}: the extraction process ended with {cause} (out of memory? the limit is "
                               f"{limits.memory_bytes} bytes, GOVQA_EXTRACT_MEMORY_BYTES)")
    if "refused" in answer:
        raise (DocumentTooLarge if answer.get("too_large") else IngestError)(str(answer["refused"]))
    return Extraction(name, Extracted(**answer["extracted"]), DocumentCost(**answer["cost"]))
