"""Follow-up questions without a language model: a short or elliptical question ("那第二届呢？", "What about the
UK?", "它什么时候生效？") is read against the conversation's previous question, so that it is searched with the
subject it leaves out. Two shapes are told apart by their words:

- a *substitution* ("那X呢", "X呢", "what about X", "and X?") keeps the previous question and puts X in place
  of the earlier term most like it (第一届 → 第二届, 美国 → 英国, a term beside a word they share), or adds X
  when no term is like it;
- a *reference back* (它, 其, 该…, this, it, they …) or a question without a subject of its own (at most one
  keyword) keeps its own words and gains the keywords of the previous question's subject (the part before its
  predicate: "科罗拉多州的人工智能法" of "科罗拉多州的人工智能法是哪位州长签署的？") and those a demonstrative
  points back to ("这部法案" takes 人工智能法), not the words of what was asked before (签署, 州长);
- "那X呢？" followed by a question of its own puts X in place of the previous subject's term most like it.

service/conversation.py asks a reference back in its own words within the documents of the question it refers
to (which measured better), and falls back to the text made here. A question that is neither is asked as it
is, so single questions never change. What came from the
conversation is reported (`carried`, `replaced`), so a reader can see what was searched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from index.lang.scripts import HAN_BASIC, HAN_CHAR
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
    rf"它们?|其[中他余]?(?=[{HAN_BASIC}])|该(?=[{HAN_BASIC}])|此(?=[{HAN_BASIC}])|这[个些项份次届场部条]|那[个些项份次届场部条]|他们|她们|[他她](?!国|人)"
    r"|\b(?:it|its|they|them|their|this|that|these|those|there|then|he|she|his|her)\b"
    r"|^\s*在?(?:会上|会议上|会中|会后|会期内|届时)",  # "会上宣布了什么": at the meeting just named
    re.IGNORECASE,
)
# A reference word with the 的 after it: what is taken out of a question asked with its referent's terms.
REFERENCE_WORDS = re.compile(rf"(?:{REFERENCE.pattern})的?", re.IGNORECASE)
# "那下一届呢？定在何时何地？": a new subject, then a question of its own about it.
SUBSTITUTION_THEN = re.compile(
    r"^\s*(?:那么|那|还有)\s*(?P<subject>[^？?，,。]{1,20}?)\s*呢\s*[？?，,。]\s*(?P<rest>.+)$",
)
# Where a Chinese question's subject ends: its first copula, preposition or interrogative.
# (Characters that also sit inside names, 会 of 峰会, 能 of 人工智能, 于 of 关于, are left out.)
PREDICATE = re.compile(
    r"是|在|由|从|哪|什么|谁|多少|几[个项家章条名位种类届次]|何[时地处人]|怎|为什么|最终|一共|主要|包含|包括",
)
# A demonstrative and the noun it points back with: "这部法案", "该公约", "这次对话".
DEMONSTRATIVE = re.compile(rf"(?:这|那|该|此)[个部项份次届场条位家]?([{HAN_BASIC}]{{2,4}})")
ORDINAL_TEXT = re.compile(r"第[一二三四五六七八九十百\d]+[届次轮期版]|首[届次轮]|[上下前]一?[届次轮]|本[届次轮]")
ORDINAL = re.compile(r"^(?:第[一二三四五六七八九十\d]+[届次轮个期版]?|首[届次轮]|[上下]一?[届次轮]|本[届次轮])$")
YEAR = re.compile(r"^\d{4}年?$")
LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z.\-]*$")
HAN = HAN_CHAR
WORD = re.compile(rf"[{HAN_BASIC}A-Za-z0-9]")


@dataclass(frozen=True)
class Resolved:
    """A question as it is searched, with what the conversation gave it."""

    question: str
    asked: str
    carried: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    previous: str | None = None  # for a reference back: the question it refers to (as resolved itself)
    documents: tuple[str, ...] = ()  # the documents a reference back is searched within (service/conversation.py)
    bare: str | None = None  # for a reference back: its own words without the reference words ("它的", "会上")

    @property
    def changed(self) -> bool:
        return self.question != self.asked or bool(self.documents)

    @property
    def refers_back(self) -> bool:
        return self.previous is not None


def widest(found: Iterable[str]) -> tuple[str, ...]:
    """Terms in their first order, each once, without those inside a longer one (人工智能, not 人工 and 智能)."""
    unique = list(dict.fromkeys(found))
    return tuple(t for t in unique if not any(t != u and t in u for u in unique))


def alike(earlier: str, later: str) -> bool:
    """Whether a later term can stand where an earlier one stood: two ordinals, two years, two
    Latin words (names and acronyms: the keyword side is lower-cased), two Chinese terms of one length that
    share their first or last character (美国 / 英国), or two place names (韩国 / 日本)."""
    if earlier == later:
        return False
    if ORDINAL.match(earlier) and ORDINAL.match(later) or YEAR.match(earlier) and YEAR.match(later):
        return True
    if LATIN_NAME.match(earlier) and LATIN_NAME.match(later):
        return True
    both_han = HAN.search(earlier) and HAN.search(later)
    if both_han and len(earlier) == len(later) >= 2 and (earlier[0] == later[0] or earlier[-1] == later[-1]):
        return True
    return bool(both_han and place_name(earlier) and place_name(later))


def kin(earlier: str, later: str) -> bool:
    """Two terms of a kind that stands in for another wherever it sits in a question: ordinals, years, places."""
    if ORDINAL.match(earlier) and ORDINAL.match(later) or YEAR.match(earlier) and YEAR.match(later):
        return earlier != later
    return (
        earlier != later and bool(HAN.search(earlier) and HAN.search(later))
        and place_name(earlier) and place_name(later)
    )


@lru_cache(maxsize=4096)
def place_name(term: str) -> bool:
    """Whether jieba's part-of-speech dictionary reads the term as one place name (日本, 巴西, 纽约市)."""
    import jieba.posseg

    words = jieba.posseg.lcut(term)
    return len(words) == 1 and words[0].flag == "ns"


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


def subject_of(question: str) -> str:
    """The part of a Chinese question before its predicate ("科罗拉多州的人工智能法" of "科罗拉多州的人工智能法是哪位
    州长签署的？", "ISO/IEC 42001" of "ISO/IEC 42001是什么标准？"); empty when the question opens with its predicate
    or is not Chinese (an English one, "是谁…")."""
    text = normalize(question)
    found = PREDICATE.search(text, 2)
    head = text[: found.start()] if found and HAN.search(text) else ""
    return head if WORD.search(head) else ""


def subject_terms(previous: str, question: str, terms: Terms) -> list[str]:
    """The terms a question that refers back takes from the previous one: those of its subject, and those
    that share a character with the noun a demonstrative points back with ("这部法案" takes 人工智能法);
    every term when neither finds any."""
    everything = terms(previous)
    subject = subject_of(previous)
    named = [t for t in everything if len(t) >= 2]
    chosen = [t for t in named if subject and t in subject.lower()]
    if chosen and all(len(t) <= 3 for t in chosen):  # a subject such as 中国 or 吴沈括: what it did is named at length
        chosen += [t for t in named if len(t) >= 5 and t not in chosen]
    for noun in DEMONSTRATIVE.findall(normalize(question)):
        chosen += [t for t in named if set(t) & set(noun) and t not in chosen]
    return chosen or named


def replace_once(text: str, old: str, new: str) -> str:
    """The text with the first occurrence of `old` (in any letter case) replaced."""
    return re.sub(re.escape(old), lambda _: new, text, count=1, flags=re.IGNORECASE)


def swap_ordinal(text: str, phrase: str) -> tuple[str, str | None]:
    """The text with its first ordinal ("第二届", "首届") put in place of the phrase's ("下一届"), and the one
    replaced."""
    new, old = ORDINAL_TEXT.search(phrase), ORDINAL_TEXT.search(text)
    if new is None or old is None or new.group() == old.group():
        return text, None
    return text[: old.start()] + new.group() + text[old.end():], old.group()


def own_words(phrase: str, terms: Terms) -> list[str]:
    """The widest terms a phrase writes out itself (not the lexicon's translations of its English words)."""
    written = normalize(phrase).lower()
    return [t for t in widest(terms(phrase)) if t.lower() in written]


def whole_subject(phrase: str, fresh: list[str], subject: str) -> bool:
    """Whether a substitution names a subject of its own ("日本AI战略本部", "Anthropic的RSP第一版": two or more new
    words) to stand for the previous question's whole subject; a possessive left open ("二十国集团的") does not."""
    return bool(subject) and len(fresh) >= 2 and not normalize(phrase).rstrip().endswith("的")


def drop_derived(text: str, start: int, replaced: Sequence[str], phrase: str, terms: Terms) -> str:
    """The text without the words after `start` that are built on a replaced subject's name ("委员长" of 委员会):
    they belong to the subject that was replaced, not to the new one."""
    rest = text[start:]
    for term in widest(terms(rest)):
        built_on = any(len(r) >= 2 and r[:2] == term[:2] and r != term for r in replaced)
        if len(term) >= 3 and term not in phrase and built_on:
            rest = replace_once(rest, term, "")
    return text[:start] + rest


def replace_subject(text: str, own_subject: str, subject: str, asked: str, terms: Terms) -> Resolved:
    """The previous question (normalized) with its subject, which opens it, replaced by the new one."""
    before, new = widest(terms(text)), widest(terms(subject))
    gone = [t for t in widest(terms(own_subject)) if t not in new]
    phrase = normalize(subject).strip()
    text = drop_derived(phrase + text[len(own_subject):], len(phrase), gone, phrase, terms)
    carried = widest(t for t in before if t in text and t not in new)
    return Resolved(text.strip(), asked, carried, widest(gone))


def substitute(previous: str, subject: str, asked: str, terms: Terms) -> Resolved:
    """The previous question with the new subject in place of the earlier one: the whole subject when the new
    one names its own, else the earlier term most like each new term (an ordinal, a place, a name), else the
    subject's leading modifier ("布莱切利" of 布莱切利峰会 for 首尔), else the new terms added."""
    before, new = list(widest(terms(previous))), list(widest(terms(subject)))
    text, replaced = normalize(previous), []
    own_subject = subject_of(previous)
    text, ordinal = swap_ordinal(text, normalize(subject))
    if ordinal is not None:  # the phrase's own ordinal is in place; its pieces (一届 of 下一届) are not new terms
        replaced.append(ordinal)
        said = ORDINAL_TEXT.search(normalize(subject)).group()
        new = [t for t in new if t not in said]
    fresh = [t for t in new if t not in before]
    written = [t for t in own_words(subject, terms) if t in fresh]
    if ordinal is None and whole_subject(subject, written, own_subject):
        return replace_subject(text, own_subject, subject, asked, terms)
    targets = [t for t in before if t in own_subject.lower()] or before  # what the earlier question was about
    for term in fresh:
        target = next((t for t in targets if t not in replaced and t not in new and alike(t, term)), None)
        target = target or next((t for t in before if t not in replaced and t not in new and kin(t, term)), None)
        target = target or beside_shared(before, new, term)
        inside = [t for t in targets if own_subject and t in own_subject.lower()]
        target = target or leading_modifier(inside, own_subject, [*replaced, *new], term, len(fresh))
        if target is not None and target.lower() in text.lower():
            text = replace_once(text, target, term)
            replaced.append(target)
    missing = [t for t in fresh if t.lower() not in text.lower()]
    if missing:
        text = " ".join(missing) + " " + text
    carried = widest(t for t in before if t in text and t not in subject and t not in new)
    return Resolved(text.strip(), asked, carried, widest(replaced))


def leading_modifier(inside: list[str], subject: str, taken: Sequence[str], term: str, count: int) -> str | None:
    """The first term of the previous subject, when one new name stands alone and that subject goes on past it
    (布莱切利 of 布莱切利人工智能安全峰会 for 首尔): a modifier that sets one meeting, law or body apart from others."""
    if count != 1 or len(inside) < 2 or not HAN.search(term):
        return None
    first = inside[0]
    if first in taken or ORDINAL.match(first) or YEAR.match(first) or not subject.lower().startswith(first):
        return None
    return first


def refer_back(previous: str, question: str, terms: Terms) -> Resolved:
    """The question without its reference words ("它的", "这个", "会上"), with the previous question's subject
    keywords it lacks put before it."""
    own = set(terms(question))
    carried = widest(
        t for t in subject_terms(previous, question, terms) if t not in own and t not in normalize(question)
    )
    bare = REFERENCE_WORDS.sub("", normalize(question)).strip() or question
    if not carried:
        return Resolved(question, question, previous=previous, bare=bare)
    return Resolved(f"{' '.join(carried)} {bare}", question, carried, previous=previous, bare=bare)


def resolve_one(question: str, previous: str, terms: Terms) -> Resolved:
    """One question read against the one before it."""
    normalized = normalize(question)
    then = SUBSTITUTION_THEN.match(normalized)
    if then is not None and terms(then["subject"]) and subject_of(previous):
        base = substitute(subject_of(previous), then["subject"], question, terms)
        if base.replaced and len(base.replaced) == len([t for t in terms(then["subject"]) if t not in terms(previous)]):
            return Resolved(f"{base.question} {then['rest']}", question, base.carried, base.replaced)
        return Resolved(f"{then['subject']} {then['rest']}", question)
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
    previous = previous_of(history, terms)
    return Resolved(question, question) if previous is None else resolve_one(question, previous, terms)


def previous_of(history: Sequence[str], terms: Terms) -> str | None:
    """The conversation's last question as it was resolved, each turn against the one before it; None without one."""
    earlier = [h for h in history if h.strip()]
    if not earlier:
        return None
    previous = earlier[0]
    for turn in earlier[1:]:
        previous = resolve_one(turn, previous, terms).question
    return previous


def read_back(question: str, history: Sequence[str], terms: Terms) -> Resolved | None:
    """The question read as a reference back to the previous one even without a reference word ("中方是谁带队的？"
    after a question naming the summit): for a question that found no answer on its own."""
    previous = previous_of(history, terms)
    return None if previous is None else refer_back(previous, question, terms)


def keyword_terms(tokenize: Callable[[str], list[str]], translate: Callable | None = None) -> Terms:
    """A question's keyword tokens as retrieval cuts them (the index's tokenizer, no scaffolding), with the
    Chinese words the index's lexicon gives for an English question's words."""
    from service.query import parse_query

    return lambda text: list(parse_query(text, tokenize, translate).tokens)


def resolve_with(backend: object, question: str, history: Sequence[str]) -> Resolved:
    """`resolve` with the keyword terms of a loaded index (its tokenizer and lexicon)."""
    return resolve(question, history, index_terms(backend))


def read_back_with(backend: object, question: str, history: Sequence[str]) -> Resolved | None:
    """`read_back` with the keyword terms of a loaded index."""
    return read_back(question, history, index_terms(backend))


def index_terms(backend: object) -> Terms:
    return keyword_terms(backend.tokenize, getattr(backend, "translate", None))
