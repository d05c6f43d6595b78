"""The process that reads one untrusted file: `python -m index.extract_worker '<request json>' <filename>`.

It confines itself before reading a byte of the file (an address-space limit, a CPU-time limit, no core
files, a lower scheduling priority), logs through the bounded handler, reads the file from stdin and
writes one JSON object to stdout: {"extracted": {...}, "cost": {...}} or {"refused": "<reason>", "too_large": bool}.
The cost is measured by chunking the text as the build will (index.costs), so a document over a cost
limit is refused here, under the worker's limits, before the server holds its text.
index.extraction starts it, enforces the wall-clock limit and reads the answer.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from dataclasses import asdict


def confine(memory_bytes: int, cpu_seconds: int) -> None:
    """Limits the kernel enforces on this process from now on."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 2))  # SIGXCPU at the soft limit
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.nice(10)  # the server's own requests go first on a busy machine


def answer(request: dict, name: str, data: bytes) -> dict:
    """The extraction's outcome as the JSON object written to stdout."""
    from index.chunking import ChunkerSettings
    from index.costs import CostLimits, measure
    from index.ingest import DocumentTooLarge, IngestError, display_name, extract

    limits = request["limits"]
    try:
        extracted = extract(data, name, max_pdf_pages=limits["max_pdf_pages"], max_docx_bytes=limits["max_docx_bytes"],
                            max_chars=limits["max_chars"])
        cost = measure(extracted.text, ChunkerSettings(**request["chunker"]), CostLimits(**request["costs"]),
                       display_name(name))
    except DocumentTooLarge as exc:
        return {"refused": str(exc), "too_large": True}
    except IngestError as exc:
        return {"refused": str(exc), "too_large": False}
    except MemoryError:
        return {"refused": f"{name}: extracting it needs more than {limits['memory_bytes']} bytes of memory, the limit "
                           f"(GOVQA_EXTRACT_MEMORY_BYTES)", "too_large": True}
    except Exception as exc:  # noqa: BLE001 - a parser bug on a hostile file is that file's refusal, not a crash
        return {"refused": f"{name}: cannot be read ({type(exc).__name__})", "too_large": False}
    return {"extracted": asdict(extracted), "cost": asdict(cost)}


def main() -> None:
    request, name = json.loads(sys.argv[1]), sys.argv[2]
    confine(request["limits"]["memory_bytes"], request["limits"]["cpu_seconds"])
    from index.bounded_logging import configure

    configure("WARNING", sys.stderr, burst=5)
    data = sys.stdin.buffer.read()
    outcome = answer(request, name, data)
    del data
    sys.stdout.buffer.write(json.dumps(outcome).encode("ascii"))  # escaped: no locale or stray surrogate can break it
    sys.stdout.flush()


if __name__ == "__main__":
    main()
