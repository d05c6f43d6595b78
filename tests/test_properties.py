"""Property tests: cleaning, sentence splitting, chunking and normalization of arbitrary Unicode
text, and asking arbitrary questions of the real index.

Each test runs 150 examples by default (the asking test 60: it encodes every question with the
real model). For a long run with 5000 examples each, load the module as a plugin too, so that its
profiles exist before hypothesis's pytest plugin reads the option:

    .venv/bin/python -m pytest -p tests.test_properties --hypothesis-profile=long tests/test_properties.py

(the plain `pytest --hypothesis-profile=long` needs the profile registered in a conftest.py: the
option is read before test modules are imported).
"""

from __future__ import annotations

import re
import string
import unicodedata

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from index.chunking import ChunkedDocument, ChunkerSettings, chunk_document
from index.cleaning import Heading, Paragraph, clean, split_lines
from index.normalize import LOOKALIKES, fold, normalize
from index.sentences import SPACE
from service.query import query_language

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=SLOW)  # also in conftest.py
# This module's own default, applied to its tests only (the session's default profile is left alone).
DEFAULT = settings(max_examples=150, deadline=None, suppress_health_check=SLOW)
LOADED = settings.get_current_profile_name()
PROFILE = DEFAULT if LOADED == "default" else settings.default
ASK_EXAMPLES = 60 if LOADED == "default" else max(60, settings.default.max_examples // 10)

# -- strategies -----------------------------------------------------------------------------
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
TRADITIONAL = st.sampled_from("國際會議與發展們對這說時體裡構織權層條續")
LATIN = st.sampled_from(string.ascii_letters + "éÉüñÅçß")
DIGIT = st.sampled_from(string.digits + "０１２９")
FULL_WIDTH = st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E)
PUNCTUATION = st.sampled_from(list("。！？；，、：“”‘’「」『』《》（）【】…—·.!?;:,\"'()[]-/%*#>|丨"))
COMBINING = st.characters(min_codepoint=0x300, max_codepoint=0x36F)
INVISIBLE = st.sampled_from(list(
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u200e\u200f\ufe0f\u3164\U000e0041\u180e"
))
CONTROL = st.characters(categories=["Cc"])
HIDDEN_CONTROL = st.sampled_from([chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if not chr(c).isspace()])
SURROGATE = st.characters(categories=["Cs"])
SPACE_CHAR = st.sampled_from([" ", "\t", "\u3000", "\u00a0", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x1e"])
LOOKALIKE = st.sampled_from(sorted(LOOKALIKES))
ANY = st.characters()  # any code point but surrogates
CHAR = st.one_of(
    CJK, CJK, CJK, TRADITIONAL, LATIN, LATIN, DIGIT, FULL_WIDTH, PUNCTUATION, PUNCTUATION, COMBINING, INVISIBLE,
    CONTROL, SURROGATE, SPACE_CHAR, LOOKALIKE, ANY,
)
EMOJI = st.sampled_from(["😀", "👍🏽", "👨‍👩‍👧", "🇨🇳", "❤️", "🤖", "1️⃣", "🏳️‍🌈"])
BREAK = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\n \n", "\n\u3000\n"])
ENDS = st.sampled_from([
    "。", "！", "？", "；", "…", "……", ".", "!", "?", "?”", "。”", "」。", "...", ". ", "", "，", "、",
])



def chars(alphabet: st.SearchStrategy[str], min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Like st.text, but keeping surrogates (st.text drops them from a mixed alphabet)."""
    return st.lists(alphabet, min_size=min_size, max_size=max_size).map("".join)


inline = chars(CHAR, max_size=80)
short = chars(st.one_of(CJK, LATIN, DIGIT, PUNCTUATION, CHAR), min_size=1, max_size=20)
sentence = st.builds(
    lambda body, end: body + end,
    st.text(st.one_of(CJK, CJK, LATIN, DIGIT, st.just(" ")), min_size=1, max_size=60), ENDS,
)
# thousands of characters without any punctuation at all
long_line = st.builds(
    lambda unit, times: unit * times,
    st.text(st.one_of(CJK, LATIN, st.just(" ")), min_size=1, max_size=12), st.integers(200, 700),
)
long_clause_line = st.builds(
    lambda unit, times: (unit + "，") * times, st.text(CJK, min_size=1, max_size=30), st.integers(20, 120),
)
heading = st.one_of(
    st.builds(lambda level, title: f"\n{'#' * level} {title}\n", st.integers(1, 7), short),
    st.builds(
        lambda mark, title: f"\n{mark}{title}\n",
        st.sampled_from(["第一章 ", "第3篇", "一、", "（二）", "(四)", "01 ", "01\n", "2\n", "2.", "3、", "12．"]),
        short,
    ),
    st.builds(
        lambda title, byline: f"\n{title}\n{byline}\n", short,
        st.sampled_from(["张三", "李四、王五", "作者：赵六", "张三，\n李四"]),
    ),
)
furniture = st.sampled_from([
    "图片", "图源：新华社", "图片来源|网络", "猜你喜欢", "参考文献", "References", "目录", "目 录", "Contents",
    "第一章 总则 ........ 3", "一、引言\t12", "二、方法…… 15", "作者：张三", "点击关注我们", "阅读原文",
    "表1 数据", "图2 结构",
    "- 列表项", "* 星号项", "1. 条目", "(1)条目", "①条目", "> 引用", "**加粗**", "[链接](http://x.y)", "<https://a.b>",
    "正文后面有图源：新华社", "```", "|a|b|", "---",
]).map(lambda line: f"\n{line}\n")
# a paragraph cut by a page break: the running head repeats a heading that is still open
page_break = st.builds(
    lambda title, first, second: f"\n# {title}\n{first}\n{title}\n{second}\n",
    st.text(CJK, min_size=1, max_size=10), st.text(CJK, min_size=60, max_size=120), sentence,
)
piece = st.one_of(
    inline, sentence, sentence, sentence, long_line, long_clause_line, heading, furniture, page_break,
    BREAK, BREAK, EMOJI,
)
document = st.lists(piece, max_size=30).map("".join)
chunker_settings = st.one_of(
    st.just(ChunkerSettings()),
    st.builds(lambda high, low: ChunkerSettings(min(low, high), high), st.integers(1, 600), st.integers(0, 400)),
)
question = st.one_of(
    chars(CHAR, max_size=1000),
    st.lists(st.one_of(sentence, inline, EMOJI, short, furniture), max_size=12).map("".join).map(lambda q: q[:1000]),
)


# -- checks ---------------------------------------------------------------------------------
def check_chunked(text: str, cs: ChunkerSettings, result: ChunkedDocument) -> None:
    """Offsets slice back; chunks hold whole sentences, in order, within max_chars."""
    chunks, sentences = result.chunks, result.sentences
    assert bool(chunks) == bool(sentences)
    assert len({c.chunk_id for c in chunks}) == len(chunks), "chunk ids repeat"
    next_sentence = 0
    for i, chunk in enumerate(chunks):
        assert chunk.doc_id == result.doc_id
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start:chunk.end] == chunk.text
        # The rule chunk_document implements: a sentence longer than max_chars is cut (at a clause
        # mark, else hard at the limit), so no sentence and hence no chunk ever exceeds max_chars.
        assert chunk.end - chunk.start <= cs.max_chars, (chunk.end - chunk.start, cs)
        assert chunk.first_sentence == next_sentence < chunk.last_sentence
        next_sentence = chunk.last_sentence
        own = sentences[chunk.first_sentence:chunk.last_sentence]
        assert all(s.chunk == i for s in own)
        assert own[0].start == chunk.start and own[-1].end == chunk.end
        body = chunk.embed_text.rpartition("\n")[2]  # after the section path, when there is one
        assert body and normalize(body) == body
        if i:
            assert chunks[i - 1].end <= chunk.start, "chunks overlap or go backwards"
    assert next_sentence == len(sentences)
    for j, s in enumerate(sentences):
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start:s.end] == s.text
        assert s.end - s.start <= cs.max_chars
        chunk = chunks[s.chunk]
        assert chunk.start <= s.start < s.end <= chunk.end
        assert s.text[0] not in SPACE and s.text[-1] not in SPACE, repr(s.text)
        assert s.embed_text and normalize(s.embed_text) == s.embed_text, (
            "a sentence's model text is empty or not normalized"
        )
        if j:
            assert sentences[j - 1].end <= s.start, "sentences overlap or go backwards"


def check_cleaned(text: str) -> None:
    lines = split_lines(text)
    for line in lines:
        assert text[line.start:line.end] == line.text
        assert not re.search(r"[\r\n]", line.text) and line.text == line.text.strip()
    assert [line.start for line in lines] == sorted(line.start for line in lines)
    cleaned = clean(text)
    assert cleaned.text is text
    previous_end = 0
    for block in cleaned.blocks:
        assert isinstance(block, (Heading, Paragraph))
        if isinstance(block, Heading):
            assert 0 <= block.start < block.end <= len(text)
            assert block.level >= 1
        else:
            assert block.pieces
            for start, end in block.pieces:
                assert previous_end <= start < end <= len(text), (previous_end, start, end)
                previous_end = end
            continue
        assert previous_end <= block.start
        previous_end = block.end
    for start, end in cleaned.excluded:
        assert 0 <= start < end <= len(text)
    assert cleaned.excluded == sorted(cleaned.excluded)


# -- cleaning and chunking -------------------------------------------------------------------
@PROFILE
@given(document)
def test_cleaning_never_raises_and_keeps_offsets(text: str) -> None:
    check_cleaned(text)


@PROFILE
@given(document, chunker_settings)
def test_chunking_never_raises_and_every_offset_slices_back(text: str, cs: ChunkerSettings) -> None:
    result = chunk_document("doc-1", text, cs)
    check_chunked(text, cs, result)
    again = chunk_document("doc-1", text, cs)
    assert again == result, "chunking is not deterministic"


@PROFILE
@given(chars(CHAR, max_size=3000), chunker_settings)
def test_chunking_arbitrary_characters(text: str, cs: ChunkerSettings) -> None:
    check_chunked(text, cs, chunk_document("d", text, cs))


PROSE = st.one_of(CJK, CJK, CJK, LATIN, st.sampled_from(list("。！？；，、“”「」《》（）….!?;,\"' ")))


@PROFILE
@given(st.text(PROSE, min_size=45, max_size=2500), chunker_settings)
def test_one_paragraph_loses_no_text(body: str, cs: ChunkerSettings) -> None:
    """A single line of prose (no markup, no line breaks) is body text: every character but the
    blanks between sentences lands in exactly one sentence."""
    text = "甲" + body  # a line starting with 甲 matches no heading, credit or boilerplate pattern
    assume(len(text.strip()) > 40)
    result = chunk_document("d", text, cs)
    check_chunked(text, cs, result)
    covered = [0] * len(text)
    for s in result.sentences:
        for i in range(s.start, s.end):
            covered[i] += 1
    lost = [(i, c) for i, c in enumerate(text) if c not in SPACE and covered[i] != 1]
    assert not lost, lost[:10]


def test_the_chunk_limit_holds_for_a_line_without_punctuation() -> None:
    text = "人工智能治理" * 700  # 4200 characters, no clause mark anywhere
    result = chunk_document("d", text, ChunkerSettings(150, 400))
    check_chunked(text, ChunkerSettings(150, 400), result)
    assert "".join(s.text for s in result.sentences) == text


# -- normalization ---------------------------------------------------------------------------
@PROFILE
@given(chars(CHAR, max_size=400) | document)
def test_normalize_never_raises_and_is_idempotent(text: str) -> None:
    """Idempotence is the contract: Asker normalizes a question and the retriever normalizes it
    again, while /v1/search and the index normalize once."""
    out = normalize(text)
    assert normalize(out) == out
    assert unicodedata.is_normalized("NFKC", out)
    assert out == out.strip() and "  " not in out
    assert not [c for c in out if c.isspace() and c != " "], "whitespace other than a space left"
    hidden = [c for c in out if unicodedata.category(c) in ("Cf", "Cs") or (unicodedata.category(c) == "Cc")]
    assert not hidden, [hex(ord(c)) for c in hidden]


@PROFILE
@given(
    chars(CHAR, max_size=200),
    st.lists(st.tuples(st.integers(0, 200), INVISIBLE | HIDDEN_CONTROL | SURROGATE), max_size=20),
)
def test_invisible_characters_change_nothing(text: str, inserts: list[tuple[int, str]]) -> None:
    hostile = text
    for position, char in inserts:
        position = min(position, len(hostile))
        hostile = hostile[:position] + char + hostile[position:]
    assert normalize(hostile) == normalize(text)
    assert query_language(hostile) == query_language(text)


def full_width(text: str, mask: list[bool]) -> str:
    out = []
    for c, wide in zip(text, mask + [True] * len(text)):
        if wide and "!" <= c <= "~":
            c = chr(ord(c) + 0xFEE0)
        elif wide and c == " ":
            c = "\u3000"
        out.append(c)
    return "".join(out)


@PROFILE
@given(
    st.text(st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E), CJK), max_size=120),
    st.lists(st.booleans(), max_size=120),
)
def test_full_width_forms_normalize_like_ascii(text: str, mask: list[bool]) -> None:
    wide = full_width(text, mask)
    assert normalize(wide) == normalize(text)
    assert query_language(wide) == query_language(text)


LOOKALIKES_OF: dict[str, list[str]] = {}
for _fake, _latin in LOOKALIKES.items():
    LOOKALIKES_OF.setdefault(_latin, []).append(_fake)


@PROFILE
@given(
    st.lists(st.text(st.sampled_from(string.ascii_letters), min_size=2, max_size=10), min_size=1, max_size=6),
    st.data(),
)
def test_lookalike_letters_inside_latin_words_fold(words: list[str], data: st.DataObject) -> None:
    """Swapping some (not all) letters of a Latin word for Cyrillic or Greek look-alikes changes nothing."""
    disguised = []
    for word in words:
        keep = data.draw(st.integers(0, len(word) - 1), label="a letter kept Latin")
        letters = [
            c if i == keep or c not in LOOKALIKES_OF or not data.draw(st.booleans())
            else data.draw(st.sampled_from(LOOKALIKES_OF[c]))
            for i, c in enumerate(word)
        ]
        disguised.append("".join(letters))
    clean_text = "关于" + " ".join(words) + "的问题"
    hostile = "关于" + " ".join(disguised) + "的问题"
    assert normalize(hostile) == normalize(clean_text)
    assert query_language(hostile) == query_language(clean_text)


@PROFILE
@given(st.text(
    st.characters(min_codepoint=0x410, max_codepoint=0x44F) | st.characters(min_codepoint=0x3B1, max_codepoint=0x3C9),
    min_size=1, max_size=12,
))
def test_whole_cyrillic_or_greek_words_stay(word: str) -> None:
    assert normalize(f"{word} 与AI") == f"{unicodedata.normalize('NFKC', word)} 与AI"


def test_normalization_examples() -> None:
    assert normalize("ＡＩ治理２０２４") == "AI治理2024"
    assert normalize("Sеoul Summit") == "Seoul Summit"  # Cyrillic е
    assert normalize("Россия и Аре") == "Россия и Аре"  # whole Cyrillic words, even all look-alikes
    assert normalize("\u202e首尔\u202c峰\u200b会\ufeff") == "首尔峰会"
    assert normalize("caf\u0065\u0301") == normalize("café") == "café"
    assert normalize("中\ud800國\x00") == "中国"
    assert normalize(" \u3000\t首尔 峰会\u00a0 AI\r\n") == "首尔峰会 AI"
    assert fold("國") == "國" and query_language("歐盟\u200b是") == "zh-Hant"


def test_traditional_to_simplified_reaches_a_fixed_point_for_every_han_character() -> None:
    """OpenCC maps 薴 to 苧 and 苧 to 苎: one pass is not idempotent."""
    assert normalize("薴") == normalize(normalize("薴")) == "苎"
    blocks = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF)]
    han = "\n".join(chr(c) for low, high in blocks for c in range(low, high + 1))  # one character per segment
    once = normalize(han)
    assert normalize(once) == once


def test_every_format_character_is_invisible_to_normalize() -> None:
    """The removal table covers every code point of category Cf in this Python's Unicode."""
    format_chars = "".join(chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf")
    assert len(format_chars) > 100
    assert normalize(f"a{format_chars}b") == "ab"


# -- asking arbitrary questions of the real index ---------------------------------------------
def check_ask(asker, q: str) -> None:
    result = asker.ask(q)
    texts = asker.retriever.backend.texts
    assert result.question == q
    assert [p.rank for p in result.passages] == list(range(1, len(result.passages) + 1))
    assert len(result.passages) <= asker.settings.top_k
    chunks = {}
    for p in result.passages:
        c = p.chunk
        assert texts[c.doc_id][c.start:c.end] == c.text
        chunks[p.rank] = c
        for e in p.evidence:
            s = e.sentence
            assert s.doc_id == c.doc_id and c.start <= s.start < s.end <= c.end
            assert texts[s.doc_id][s.start:s.end] == s.text
    if result.answer is not None:
        assert result.answer.sentences and not result.verdict.problems
        for a in result.answer.sentences:
            s, c = a.sentence, chunks[a.passage]
            assert texts[s.doc_id][s.start:s.end] == s.text
            assert s.doc_id == c.doc_id and c.start <= s.start < s.end <= c.end, (
                "cited to a passage that does not hold it"
            )
            assert f"{s.text.strip()} [{a.passage}]" in result.answer.text
    else:
        assert result.verdict.problems


def test_asking_arbitrary_questions(asker) -> None:
    @settings(PROFILE, max_examples=ASK_EXAMPLES, suppress_health_check=SLOW + [HealthCheck.function_scoped_fixture])
    @given(question)
    def ask(q: str) -> None:
        check_ask(asker, q)

    ask()


def test_asking_blank_and_invisible_questions(asker) -> None:
    """The HTTP API refuses blank questions before asking; ask itself must not fail on them."""
    for q in ["", " ", "\u3000\t\n", "\u200b\u200d\ufeff", "\x00", "\ud800", "\u202e\u202c", "😀"]:
        check_ask(asker, q)
