"""Asking a question within its conversation. A substitution ("那第二届呢？") is asked as service/followups.py
rewrites it. A reference back ("它何时生效？") is asked first in its own words, without the reference words, within
the documents the question it refers to is answered from (the documents of that question's top passages); when
that finds no answer, with the earlier question's subject terms added, within those documents and then of every
document. A question read as it is that finds no answer alone ("中方是谁带队的？" after a question naming the
meeting) is asked once more as a reference back, and keeps its own reading when that finds none either.
Measured on tests/data/conversations.jsonl (scripts/eval_conversations.py): its own words within the
referent's documents answer most references back, and the subject terms, which pull towards what was asked
before, answer many of the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from service.asking import Asker, AskResult
from service.followups import Resolved, read_back_with, resolve_with
from service.settings import Mode

FOCUS_PASSAGES = 3


def attempts(resolved: Resolved, focus: frozenset[str]) -> list[Resolved]:
    """The readings of a reference back to ask in turn: its bare words within the referent's documents, then
    with the subject terms within them, then with the subject terms of every document."""
    within = tuple(sorted(focus))
    if not focus:
        return [replace(resolved, documents=())]
    bare = replace(resolved, question=resolved.bare or resolved.asked, carried=(), documents=within)
    with_subject = [replace(resolved, documents=within)] if resolved.carried else []
    return [bare, *with_subject, replace(resolved, documents=())]


def ask_in_conversation(
    asker: Asker, question: str, history: Sequence[str], k: int | None = None, mode: Mode | None = None,
    doc_ids: frozenset[str] | None = None,
) -> tuple[AskResult, Resolved]:
    """The answer to the last question of a conversation, and how the conversation was read."""
    resolved = resolve_with(asker.retriever.backend, question, history)
    if not (resolved.refers_back and resolved.previous):
        alone = replace(asker.ask(resolved.question, k, mode, doc_ids), question=question)
        back = (
            None if alone.answer is not None or resolved.changed
            else read_back_with(asker.retriever.backend, question, history)
        )
        if back is None:
            return alone, resolved
        result, reading = ask_back(asker, back, k, mode, doc_ids)
        return (result, reading) if result.answer is not None else (alone, resolved)
    return ask_back(asker, resolved, k, mode, doc_ids)


def ask_back(
    asker: Asker, resolved: Resolved, k: int | None, mode: Mode | None, doc_ids: frozenset[str] | None,
) -> tuple[AskResult, Resolved]:
    """A reference back asked in its readings (`attempts`) until one answers, or the last one's answer."""
    focus = frozenset(p.doc_id for p in asker.search(resolved.previous, FOCUS_PASSAGES, mode, doc_ids))
    for reading in attempts(resolved, focus):
        result = asker.ask(reading.question, k, mode, frozenset(reading.documents) or doc_ids)
        if result.answer is not None:
            break
    return replace(result, question=resolved.asked), replace(reading, previous=None)
