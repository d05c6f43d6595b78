"""What this CPU can do, read once from /proc/cpuinfo (no flags elsewhere: every feature counts as absent)."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def cpu_flags() -> frozenset[str]:
    """The feature flags the kernel reports for this CPU ("avx512_bf16", "amx_int8", ...)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    return frozenset(
        word for line in text.splitlines() if line.startswith("flags") for word in line.split(":", 1)[-1].split()
    )
