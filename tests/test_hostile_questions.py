"""Hostile spellings of real questions: zero-width characters, bidi controls, decomposed or
compatibility forms, full-width Latin, Cyrillic and Greek look-alikes, invisible padding. Each must
find the same passages as the question written plainly, through Asker.ask, the retriever (the
/v1/search path, which parses the raw question) and the HTTP API."""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from index.normalize import LOOKALIKES
from service.asking import Asker
from service.pipeline import retrieve, search
from service.query import query_language
from service.settings import Settings

QUESTIONS = {
    q["id"]: q for q in map(json.loads, (Path(__file__).parent / "data" / "questions.jsonl").open(encoding="utf-8"))
}
# Chinese of six kinds (a "when" question with Latin letters and digits, a paraphrase, a "why", a list,
# an author question, Traditional characters) and two English ones.
CHOSEN = ["q-006", "q-026", "q-047", "q-066", "q-099", "q-140", "q-123", "q-124"]
CLEAN = {qid: QUESTIONS[qid]["question"] for qid in CHOSEN}
# An English question as it would be written with the accent, for the NFC/NFD pair.
CLEAN["q-134-accented"] = unicodedata.normalize("NFC", QUESTIONS["q-134"]["question"].replace("Garcia", "García"))
TOP = 5

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
BIDI = [("\u202a", "\u202c"), ("\u202b", "\u202c"), ("\u202d", "\u202c"), ("\u202e", "\u202c"),
        ("\u2066", "\u2069"), ("\u2067", "\u2069"), ("\u2068", "\u2069")]
PADDING = [" ", "\t", "\u3000", "\u00a0", " \u3000\t", "\u00a0\u00a0\t "]
# CJK compatibility ideographs, each canonically equivalent to one unified ideograph (NFD differs)
COMPATIBILITY = {}
for _code in [*range(0xF900, 0xFB00), *range(0x2F800, 0x2FA20)]:
    _char = chr(_code)
    if unicodedata.category(_char) == "Lo" and unicodedata.normalize("NFC", _char) != _char:
        COMPATIBILITY.setdefault(unicodedata.normalize("NFC", _char), _char)
LOOKALIKES_OF: dict[str, list[str]] = {}
for _fake, _latin in LOOKALIKES.items():
    LOOKALIKES_OF.setdefault(_latin, []).append(_fake)


def zero_width(q: str, rng: random.Random) -> str:
    """A zero-width character between every two characters."""
    return "".join(c + ZERO_WIDTH[i % len(ZERO_WIDTH)] for i, c in enumerate(q[:-1])) + q[-1]


def bidi(q: str, rng: random.Random) -> str:
    """Parts wrapped in embeddings, overrides and isolates, one nested in another."""
    cuts = sorted(rng.sample(range(1, len(q)), 3))
    parts = [q[a:b] for a, b in zip([0, *cuts], [*cuts, len(q)])]
    wrapped = [f"{o}{p}{c}" for p, (o, c) in zip(parts, rng.sample(BIDI, len(parts)))]
    return "\u2067\u202e" + "".join(wrapped) + "\u202c\u2069"


def decomposed(q: str, rng: random.Random) -> str:
    """NFD, with every ideograph that has one swapped for its compatibility twin."""
    return "".join(COMPATIBILITY.get(c, c) for c in unicodedata.normalize("NFD", q))


def full_width(q: str, rng: random.Random) -> str:
    """ASCII letters, digits and marks in their full-width forms (ＡＩ, ２０２４)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in q)


def lookalikes(q: str, rng: random.Random) -> str:
    """Inside each Latin word, some letters (never all) swapped for Cyrillic or Greek look-alikes."""
    out, word = [], []

    def flush() -> None:
        swappable = [i for i, c in enumerate(word) if c in LOOKALIKES_OF]
        if len(word) >= 2 and swappable:
            keep = rng.randrange(len(word))  # one letter stays Latin: the word must not turn wholly Cyrillic
            for i in swappable:
                if i != keep and (rng.random() < 0.6 or i == swappable[0] != keep):
                    word[i] = rng.choice(LOOKALIKES_OF[word[i]])
        out.extend(word)
        word.clear()

    for c in q:
        if c.isascii() and c.isalpha():
            word.append(c)
        else:
            flush()
            out.append(c)
    flush()
    return "".join(out)


def padded(q: str, rng: random.Random) -> str:
    """Blank padding around the question, and inner spaces swapped for NBSP, U+3000 or a tab."""
    inner = "".join(rng.choice(["\u00a0", "\u3000", "\t", "  "]) if c == " " else c for c in q)
    return rng.choice(PADDING) + inner + rng.choice(PADDING) + "\n"


def everything(q: str, rng: random.Random) -> str:
    return padded(bidi(zero_width(lookalikes(full_width(decomposed(q, rng), rng), rng), rng), rng), rng)


VARIANTS: dict[str, Callable[[str, random.Random], str]] = {
    f.__name__: f for f in (zero_width, bidi, decomposed, full_width, lookalikes, padded, everything)
}


def hostile(qid: str, name: str) -> str:
    return VARIANTS[name](CLEAN[qid], random.Random(f"{qid}/{name}"))


# (a question without ASCII has no full-width form; one without Latin words, no look-alikes)
CASES = [(qid, name) for qid in CLEAN for name in VARIANTS if hostile(qid, name) != CLEAN[qid]]


def spans(passages) -> list[tuple[str, int, int]]:
    return [(p.chunk.doc_id, p.chunk.start, p.chunk.end) for p in passages[:TOP]]


def answer_spans(result) -> list[tuple[str, int, int]] | None:
    if result.answer is None:
        return None
    return [(s.sentence.doc_id, s.sentence.start, s.sentence.end) for s in result.answer.sentences]


@pytest.fixture(scope="module")
def fresh_asker(settings: Settings, retriever) -> Asker:
    """An Asker without a cache, so every variant is really searched."""
    return Asker(retriever, settings.model_copy(update={"cache_size": 0}))


@pytest.fixture(scope="module")
def expected(fresh_asker: Asker) -> dict[str, object]:
    return {qid: fresh_asker.ask(q, TOP) for qid, q in CLEAN.items()}


def test_the_variants_are_really_hostile() -> None:
    """Every kind of variant is tried on several questions, and really differs from them there
    (an unchanged question would prove nothing)."""
    for name in VARIANTS:
        assert sum(n == name for _, n in CASES) >= 3, name
    assert len(CASES) >= 45
    assert any(c in COMPATIBILITY for c in CLEAN["q-140"])  # the Traditional question has compatibility twins
    assert unicodedata.normalize("NFD", CLEAN["q-134-accented"]) != CLEAN["q-134-accented"]
    assert sum(c in LOOKALIKES for c in hostile("q-123", "lookalikes")) >= 10
    assert any(c in LOOKALIKES for c in hostile("q-006", "lookalikes"))


@pytest.mark.parametrize(("qid", "name"), CASES)
def test_hostile_variant_finds_the_same_passages(qid: str, name: str, fresh_asker: Asker, retriever, expected) -> None:
    variant = hostile(qid, name)
    clean = expected[qid]
    assert len(clean.passages) == TOP
    result = fresh_asker.ask(variant, TOP)
    assert spans(result.passages) == spans(clean.passages)
    assert answer_spans(result) == answer_spans(clean)
    # /v1/search parses the raw question (no Asker in between): same passages, same language
    assert spans(search(retriever, variant, TOP)) == spans(search(retriever, CLEAN[qid], TOP))
    assert query_language(variant) == query_language(CLEAN[qid])


def test_whole_cyrillic_words_are_not_folded(retriever) -> None:
    """Look-alikes fold only inside Latin words: a Cyrillic word is a Cyrillic word."""
    assert query_language("Аре Сор") == "und"  # Cyrillic words made only of look-alikes stay Cyrillic
    assert query_language("Аpe Сop") == "en"  # mixed words fold
    assert retrieve(retriever, "Аре Сор").query.normalized == "Аре Сор"
    assert retrieve(retriever, "Аpe Сop").query.normalized == "Ape Cop"


# -- over HTTP ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clean_over_http(base_url: str) -> dict[str, dict]:
    return {qid: httpx.post(f"{base_url}/v1/ask", json={"question": q}, timeout=60).json() for qid, q in CLEAN.items()}


def http_spans(body: dict) -> list[tuple[str, int, int]]:
    return [(p["doc_id"], p["start"], p["end"]) for p in body["passages"]]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_hostile_variants_over_http(base_url: str, clean_over_http: dict[str, dict], name: str) -> None:
    for qid in CLEAN:
        variant = hostile(qid, name)
        response = httpx.post(f"{base_url}/v1/ask", json={"question": variant}, timeout=60)
        assert response.status_code == 200, (qid, response.status_code, response.text[:300])
        body, clean = response.json(), clean_over_http[qid]
        assert http_spans(body) == http_spans(clean), qid
        assert body["query_language"] == clean["query_language"], qid
        assert (body["answer"] or {}).get("sentences") == (clean["answer"] or {}).get("sentences"), qid
        search = httpx.get(f"{base_url}/v1/search", params={"q": variant}, timeout=60)
        assert search.status_code == 200 and http_spans(search.json()) == http_spans(clean), qid


@pytest.mark.parametrize(
    "raw",
    [
        '{"question": "\\u0000首尔峰会的主题是什么？"}',  # NUL
        '{"question": "首尔\\u0007峰会\\u001b的主题\\u007f是什么？"}',  # BEL, ESC, DEL
        '{"question": "\\u0085首尔峰会的主题是什么？\\u009f"}',  # C1 controls
    ],
)
def test_control_characters_over_http(base_url: str, raw: str) -> None:
    """The API refuses only blank questions; control characters inside a question are read past:
    200, the passages of the question without them (never a 5xx)."""
    response = httpx.post(
        f"{base_url}/v1/ask", content=raw.encode(), headers={"content-type": "application/json"}, timeout=60
    )
    assert response.status_code == 200, response.text[:300]
    plain = httpx.post(f"{base_url}/v1/ask", json={"question": "首尔峰会的主题是什么？"}, timeout=60).json()
    assert http_spans(response.json()) == http_spans(plain)


@pytest.mark.parametrize("question", [" \u3000\t\n\u00a0", "\ufeff\u3000"])
def test_blank_question_over_http_is_422(base_url: str, question: str) -> None:
    response = httpx.post(f"{base_url}/v1/ask", json={"question": question}, timeout=60)
    assert response.status_code == 422 and "question" in response.json()["error"]["message"]


@pytest.mark.parametrize("question", ["\u200b\u200c\u200d\u2060", "\u202e\u202c", "\u2066\u200b\u2069 \u3000"])
def test_invisible_only_question_over_http_finds_nothing_and_says_why(base_url: str, question: str) -> None:
    """Nothing visible is left to search for: no passages, no answer, and the reason (never a 5xx)."""
    body = httpx.post(f"{base_url}/v1/ask", json={"question": question}, timeout=60).json()
    assert body["answer"] is None and body["passages"] == [] and body["low_confidence"] is True
    assert body["abstain_reasons"] == ["the question has no visible text"]
    search = httpx.get(f"{base_url}/v1/search", params={"q": question}, timeout=60)
    assert search.status_code == 200 and search.json()["passages"] == []


@pytest.mark.parametrize(
    "raw", ['{"question": "\\ud800首尔峰会的主题是什么？"}', '{"question": "首尔峰会的主题是什么？\\udfff"}'],
)
def test_lone_surrogates_over_http_are_422(base_url: str, raw: str) -> None:
    """JSON can spell a lone surrogate; the API refuses it as no valid string, naming the field."""
    response = httpx.post(
        f"{base_url}/v1/ask", content=raw.encode(), headers={"content-type": "application/json"}, timeout=60
    )
    assert (
        response.status_code == 422 and response.json()["error"]["message"].startswith("question:")
    ), response.text[:300]
