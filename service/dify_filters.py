"""Dify's `metadata_condition` over govqa's document metadata: which documents a retrieval may return.

Each condition names one or more fields (`doc_id`, `title`, `author`, `date`, `publisher`, `language`,
`url`) and holds when any named field satisfies it (a document's authors are each tried). The operators are
Dify's: contains, not contains, start with, end with, is, is not, empty, not empty, =, ≠, >, <, ≥, ≤, before,
after, in, not in. Dates compare as ISO text (a Unix timestamp is read as a UTC date); numbers as numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from index.documents import DocumentMeta

Operator = Literal[
    "contains", "not contains", "start with", "end with", "is", "is not", "empty", "not empty",
    "=", "≠", ">", "<", "≥", "≤", "before", "after", "in", "not in",
]
FIELDS = ("doc_id", "title", "author", "date", "publisher", "language", "url")


class Condition(BaseModel):
    model_config = ConfigDict(strict=True)
    name: list[str] = Field(min_length=1, description=f"metadata fields, any of {', '.join(FIELDS)}")
    comparison_operator: Operator
    value: StrictStr | StrictInt | StrictFloat | list[StrictStr] | None = Field(
        None, description="text, a number (a date may be a Unix timestamp) or, for in / not in, a list",
    )


class MetadataCondition(BaseModel):
    model_config = ConfigDict(strict=True)
    logical_operator: Literal["and", "or"] = "and"
    conditions: list[Condition] = Field(default_factory=list)


def values_of(meta: DocumentMeta, name: str) -> list[str]:
    """A document's values for one field (several for `author`, none when it is unknown)."""
    if name == "author":
        return list(meta.authors)
    value = {
        "doc_id": meta.doc_id, "title": meta.title, "date": meta.date, "publisher": meta.publisher,
        "language": meta.language, "url": meta.url,
    }.get(name)
    return [] if value in (None, "") else [str(value)]


def as_date(value: object) -> str:
    """A value compared as a date: a Unix timestamp becomes its UTC date, text stays as it is."""
    if (
        isinstance(value, int | float)
        or (isinstance(value, str) and value.strip().isdigit() and len(value.strip()) > 8)
    ):
        return datetime.fromtimestamp(float(value), tz=timezone.utc).date().isoformat()
    return str(value).strip()


def ordered(have: str, want: object, test: Callable[[object, object], bool]) -> bool:
    """Compare as numbers when both are numbers, else as text."""
    try:
        return test(float(have), float(want))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return test(have, str(want))


def members(value: object) -> list[str]:
    """An `in` operand: a list, or a comma-separated text."""
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def holds(op: Operator, have: str, want: object) -> bool:
    """Whether one field value satisfies one operator."""
    text = "" if want is None else str(want)
    tests: dict[str, Callable[[], bool]] = {
        "contains": lambda: text in have, "not contains": lambda: text not in have,
        "start with": lambda: have.startswith(text), "end with": lambda: have.endswith(text),
        "is": lambda: have == text, "is not": lambda: have != text,
        "=": lambda: ordered(have, want, lambda a, b: a == b),
        "≠": lambda: not ordered(have, want, lambda a, b: a == b),
        ">": lambda: ordered(have, want, lambda a, b: a > b), "<": lambda: ordered(have, want, lambda a, b: a < b),
        "≥": lambda: ordered(have, want, lambda a, b: a >= b), "≤": lambda: ordered(have, want, lambda a, b: a <= b),
        "before": lambda: as_date(have) < as_date(want), "after": lambda: as_date(have) > as_date(want),
        "in": lambda: have in members(want), "not in": lambda: have not in members(want),
    }
    return tests[op]()


def satisfies(meta: DocumentMeta, condition: Condition) -> bool:
    """One condition on one document: any named field that satisfies it (`empty` when a field has no value)."""
    op = condition.comparison_operator
    for name in condition.name:
        values = values_of(meta, name)
        if op == "empty" and not values or op == "not empty" and values:
            return True
        negative = op in ("not contains", "is not", "≠", "not in")
        if values and op not in ("empty", "not empty"):
            found = [holds(op, v, condition.value) for v in values]
            if all(found) if negative else any(found):
                return True
        elif negative and not values:
            return True
    return False


def matching(documents: dict[str, DocumentMeta], condition: MetadataCondition | None) -> set[str]:
    """The ids of the documents that satisfy the conditions (all of them when there are none)."""
    if condition is None or not condition.conditions:
        return set(documents)
    join = all if condition.logical_operator == "and" else any
    return {d for d, meta in documents.items() if join(satisfies(meta, c) for c in condition.conditions)}
