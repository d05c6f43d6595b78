"""The settings as Markdown tables, one per group, from the fields' own descriptions and defaults: what
docs/configuration.md shows between its `settings:begin` and `settings:end` markers."""

from __future__ import annotations

from pathlib import Path

from pydantic.fields import FieldInfo

from service.settings import GROUPS, PROJECT_ROOT, Settings

BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
UNITS = ((1 << 30, "GiB"), (1 << 20, "MiB"))


def default_text(name: str, field: FieldInfo) -> str:
    """A default as a reader writes it: paths from the project root, sizes in MiB or GiB, unset for None."""
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "none" if not value else ", ".join(map(str, value))
    if isinstance(value, (str, Path)) and Path(value).is_absolute() and Path(value).is_relative_to(PROJECT_ROOT):
        return f"`{Path(value).relative_to(PROJECT_ROOT).as_posix()}`"
    if isinstance(value, str):
        return f"`{value}`"
    if isinstance(value, int) and name.endswith("_bytes"):
        for size, unit in UNITS:
            if value % size == 0:
                return f"{value // size} {unit}"
    if isinstance(value, int) and value >= 10_000:
        return f"{value:,}"
    return str(value)


def settings_tables() -> str:
    """Every setting, group by group: its environment variable, its default and what it does."""
    fields = Settings.model_fields
    parts = []
    for group, names in GROUPS.items():
        rows = [f"| `GOVQA_{n.upper()}` | {default_text(n, fields[n])} | {fields[n].description} |" for n in names]
        parts.append("\n".join([f"**{group}**", "", "| variable | default | meaning |", "|---|---|---|", *rows]))
    return "\n\n".join(parts)


def with_tables(document: str) -> str:
    """A document with the text between its settings markers replaced by the current tables."""
    start, end = document.index(BEGIN) + len(BEGIN), document.index(END)
    return document[:start] + "\n" + settings_tables() + "\n" + document[end:]
