"""The README and docs/ stay true: their commands still exist (make targets, govqa subcommands and options, scripts
and their flags), the README stays a newcomer's size, and every relative link points to a file that exists."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import typer

from service.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCS = {path: path.read_text(encoding="utf-8") for path in DOC_FILES}
README = DOCS[ROOT / "README.md"]
README_MAX_LINES = 260


def command_lines() -> list[list[str]]:
    """Every command in the sh blocks of the README and docs/*.md, as words, environment assignments dropped."""
    lines = []
    for block in (b for text in DOCS.values() for b in re.findall(r"```sh\n(.*?)```", text, re.S)):
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
        helptext = subprocess.run(
            [sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120
        )
        assert helptext.returncode == 0, helptext.stderr
        for option in options(words[2:]):
            assert option in helptext.stdout, (words, option)


def test_the_readme_shows_the_two_commands() -> None:
    words = [w for w in command_lines() if w[0] == "make"]
    assert ["make", "run"] in words and ["make", "test"] in words
    assert "make run" in README.split("\n## ")[0] and "make test" in README.split("\n## ")[0]


def test_the_readme_is_a_newcomers_size() -> None:
    lines = README.count("\n") + (not README.endswith("\n"))
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"


def relative_links(text: str) -> list[str]:
    """Markdown link and image targets and HTML src/href values that are not URLs or in-page anchors."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold examples, not links
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = (
        re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text)
        + re.findall(r"""(?:src|href)=["']([^"']+)["']""", text)
    )
    return [t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#|<)", t)]


def test_relative_links_point_to_files_that_exist() -> None:
    broken = []
    checked = 0
    for path, text in DOCS.items():
        for target in relative_links(text):
            checked += 1
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert checked, "no relative links found"
    assert not broken, broken
