"""Follow-up questions without a language model: a short or elliptical question ("那第二届呢？", "What about the
UK?", "它什么时候生效？") is read against the conversation's previous question, so that it is searched with the
subject it leaves out. Two shapes are told apart by their words:

- a *substitution* ("那X呢", "X呢", "what about X", "and X?") keeps the previous question and puts X in place
  of the earlier term most like it (第一届 → 第二届, 美国 → 英国, a term beside a word they share), or adds X
  when no term is like it;
- a *reference back* (它, 其, 该…, this, it, they …) or a question without a subject of its own (at most one
  keyword) keeps its own words and gains the previous question's keywords it lacks.

A question that is neither is asked as it is, so single questions never change. What came from the
conversation is reported (`carried`, `replaced`), so a reader can see what was searched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from index.normalize import normalize

Terms = Callable[[str], list[str]]

# "那第二届呢？", "那么英国呢", "还有首尔峰会呢", "What about the UK?", "And the Seoul summit?", "How about China?"
SUBSTITUTION = re.compile(
    r"^\s*(?:(?:那么|那|还有|再说说|再问一下)\s*(?P<zh>.+?)\s*(?:的情况|方面|这边|那边)?\s*呢"
    r"|(?P<zh2>[^？?，,。]{1,20}?)\s*呢"
    r"|(?:and\s+)?(?:what|how)\s+about\s+(?:the\s+)?(?P<en>.+?)"
    r"|and\s+(?:the\s+)?(?P<en2>.+?))\s*[?？。.!！]*\s*$",
    re.IGNORECASE,
)
# Words that point back to something named before.
REFERENCE = re.compile(
    r"它们?|其[中他余]?(?=[\u4e00-\u9fff])|该(?=[\u4e00-\u9fff])|此(?=[\u4e00-\u9fff])|这[个些项份次届场部条]|那[个些项份次届场部条]|他们|她们|[他她](?!国|人)"
    r"|\b(?:it|its|they|them|their|this|that|these|those|there|then|he|she|his|her)\b",
    re.IGNORECASE,
)
ORDINAL = re.compile(r"^(?:第[一二三四五六七八九十\d]+[届次轮个期]?|首[届次轮]?)$")
YEAR = re.compile(r"^\d{4}年?$")
LATIN_NAME = re.compile(r"^[A-Z][A-Za-z.\-]*$")
HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Resolved:
    """A question as it is searched, with what the conversation gave it."""

    question: str
    asked: str
    carried: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.question != self.asked


def widest(found: Iterable[str]) -> tuple[str, ...]:
    """Terms in their first order, each once, without those inside a longer one (人工智能, not 人工 and 智能)."""
    unique = list(dict.fromkeys(found))
    return tuple(t for t in unique if not any(t != u and t in u for u in unique))


def alike(earlier: str, later: str) -> bool:
    """Whether a later term can stand where an earlier one stood: two ordinals, two years, two capitalized
    Latin names, or two Chinese terms of one length that share their first or last character (美国 / 英国)."""
    if earlier == later:
        return False
    if ORDINAL.match(earlier) and ORDINAL.match(later) or YEAR.match(earlier) and YEAR.match(later):
        return True
    if LATIN_NAME.match(earlier) and LATIN_NAME.match(later):
        return True
    both_han = HAN.search(earlier) and HAN.search(later)
    return bool(both_han and len(earlier) == len(later) >= 2 and (earlier[0] == later[0] or earlier[-1] == later[-1]))


def beside_shared(earlier_terms: list[str], later_terms: list[str], term: str) -> str | None:
    """The earlier term that stands, beside a word both questions share, where `term` stands in the later
    one ("首尔 峰会" against "布莱切利 峰会": 首尔)."""
    at = later_terms.index(term)
    for step in (1, -1):
        neighbour = at + step
        if 0 <= neighbour < len(later_terms) and later_terms[neighbour] in earlier_terms:
            other = earlier_terms.index(later_terms[neighbour]) - step
            if 0 <= other < len(earlier_terms) and earlier_terms[other] not in later_terms:
                return earlier_terms[other]
    return None


def substitute(previous: str, subject: str, asked: str, terms: Terms) -> Resolved:
    """The previous question with the new subject in place of the earlier term most like it (or added)."""
    before, new = terms(previous), terms(subject)
    text, replaced = previous, []
    fresh = [t for t in new if t not in before]
    for term in fresh:
        target = next((t for t in before if t not in replaced and t not in new and alike(t, term)), None)
        target = target or beside_shared(before, new, term)
        if target is not None and target in text:
            text = text.replace(target, term, 1)
            replaced.append(target)
    if len(replaced) < len(fresh):
        text = " ".join(t for t in fresh if t not in text) + " " + text
    carried = widest(t for t in before if t in text and t not in subject and t not in new)
    return Resolved(text.strip(), asked, carried, widest(replaced))


def refer_back(previous: str, question: str, terms: Terms) -> Resolved:
    """The question with the previous question's keywords it lacks put before it."""
    own = set(terms(question))
    carried = widest(t for t in terms(previous) if t not in own and t not in normalize(question))
    if not carried:
        return Resolved(question, question)
    return Resolved(f"{' '.join(carried)} {question}", question, carried)


def resolve_one(question: str, previous: str, terms: Terms) -> Resolved:
    """One question read against the one before it."""
    normalized = normalize(question)
    shape = SUBSTITUTION.match(normalized)
    if shape is not None:
        subject = next(g for g in shape.groups() if g)
        if terms(subject) and not REFERENCE.search(subject):
            return substitute(previous, subject, question, terms)
    if REFERENCE.search(normalized) or len(terms(question)) <= 1:
        return refer_back(previous, question, terms)
    return Resolved(question, question)


def resolve(question: str, history: Sequence[str], terms: Terms) -> Resolved:
    """The last question of a conversation, read against the earlier ones in turn (each against the
    previous one as it was resolved); without history, the question as it is."""
    earlier = [h for h in history if h.strip()]
    if not earlier:
        return Resolved(question, question)
    previous = earlier[0]
    for turn in earlier[1:]:
        previous = resolve_one(turn, previous, terms).question
    return resolve_one(question, previous, terms)


def keyword_terms(tokenize: Callable[[str], list[str]], translate: Callable | None = None) -> Terms:
    """A question's keyword tokens as retrieval cuts them (the index's tokenizer, no scaffolding), with the
    Chinese words the index's lexicon gives for an English question's words."""
    from service.query import parse_query

    return lambda text: list(parse_query(text, tokenize, translate).tokens)


def resolve_with(backend: object, question: str, history: Sequence[str]) -> Resolved:
    """`resolve` with the keyword terms of a loaded index (its tokenizer and lexicon)."""
    return resolve(question, history, keyword_terms(backend.tokenize, getattr(backend, "translate", None)))
