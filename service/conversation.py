"""Asking a question within its conversation. A substitution ("那第二届呢？") is asked as service/followups.py
rewrites it. A reference back ("它何时生效？") is asked in its own words within the documents the question it
refers to is answered from (the documents of that question's top passages): measured on
tests/data/conversations.jsonl, that finds more answers than adding the earlier question's subject terms to its
words, which pull towards what was asked before (scripts/eval_conversations.py). When that search finds
nothing, the words with the subject terms are asked of every document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from service.asking import Asker, AskResult
from service.followups import Resolved, resolve_with
from service.settings import Mode

FOCUS_PASSAGES = 3


def ask_in_conversation(
    asker: Asker, question: str, history: Sequence[str], k: int | None = None, mode: Mode | None = None, doc_ids: frozenset[str] | None = None,
) -> tuple[AskResult, Resolved]:
    """The answer to the last question of a conversation, and how the conversation was read."""
    resolved = resolve_with(asker.retriever.backend, question, history)
    if resolved.refers_back and resolved.previous:
        focus = frozenset(p.doc_id for p in asker.retriever.search(resolved.previous, FOCUS_PASSAGES, mode, doc_ids))
        if focus:
            result = asker.ask(question, k, mode, focus)
            if result.passages:
                return replace(result, question=question), replace(resolved, question=question, carried=(), documents=tuple(sorted(focus)))
    result = asker.ask(resolved.question, k, mode, doc_ids)
    return replace(result, question=question), replace(resolved, previous=None)
