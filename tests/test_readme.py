"""The README's commands still exist: make targets, govqa subcommands and options, scripts and their flags."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import typer

from service.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_lines() -> list[list[str]]:
    """Every command in the README's sh blocks, as words, environment assignments dropped."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():  # a line ending in a backslash continues
            line = line.split(" #")[0].strip()
            if not line:
                continue
            words = [w for w in shlex.split(line) if not re.match(r"^[A-Z_]+=", w)]
            if words:
                lines.append(words)
    return lines


def options(words: list[str]) -> list[str]:
    return [w.split("=")[0] for w in words if w.startswith("-")]


def test_the_readme_shows_commands() -> None:
    kinds = {words[0] for words in command_lines()}
    assert {"make", ".venv/bin/govqa", ".venv/bin/python"} <= kinds


def test_make_targets_exist() -> None:
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))
    used = {w for words in command_lines() if words[0] == "make" for w in words[1:] if "=" not in w}
    assert used and used <= targets, used - targets


def test_govqa_commands_and_options_exist() -> None:
    group = typer.main.get_command(app)
    used = [words for words in command_lines() if words[0] == ".venv/bin/govqa"]
    assert used
    for words in used:
        command = group.commands.get(words[1])
        assert command is not None, f"no `govqa {words[1]}`"
        known = {o for p in command.params if p.param_type_name == "option" for o in p.opts + p.secondary_opts}
        assert set(options(words)) <= known, (words, set(options(words)) - known)


def test_scripts_and_their_flags_exist() -> None:
    used = [words for words in command_lines() if words[0] == ".venv/bin/python" and words[1].startswith("scripts/")]
    assert used
    for words in used:
        script = ROOT / words[1]
        assert script.exists(), script
        helptext = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert helptext.returncode == 0, helptext.stderr
        for option in options(words[2:]):
            assert option in helptext.stdout, (words, option)
