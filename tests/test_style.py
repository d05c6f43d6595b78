"""The code's own style rules that a tool checks: no line longer than pyproject's ruff line length (120)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from service.settings import PROJECT_ROOT


def test_the_line_length_is_120() -> None:
    settings = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]
    assert settings["line-length"] == 120


def test_no_line_is_longer_than_the_limit() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--select", "E501", "--output-format", "concise",
         "index", "service", "scripts", "tests", "govqa"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
