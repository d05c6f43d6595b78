"""Cleaning and chunking of the bundled corpus and of small hand-made texts."""

from __future__ import annotations

import re

import pytest

from index.chunking import ChunkerSettings, chunk_document
from index.cleaning import Heading, clean
from index.documents import Document

SETTINGS = ChunkerSettings()


@pytest.fixture(scope="module")
def chunked(corpus_documents: list[Document]):
    return {d.doc_id: (d, chunk_document(d.doc_id, d.text, SETTINGS)) for d in corpus_documents}


def test_every_chunk_and_sentence_slices_back_exactly(chunked) -> None:
    for doc, result in chunked.values():
        assert result.chunks and result.sentences
        for chunk in result.chunks:
            assert doc.text[chunk.start:chunk.end] == chunk.text
        for sentence in result.sentences:
            assert doc.text[sentence.start:sentence.end] == sentence.text
            chunk = result.chunks[sentence.chunk]
            assert chunk.start <= sentence.start < sentence.end <= chunk.end


def test_chunks_cover_their_sentences_in_order(chunked) -> None:
    for _, result in chunked.values():
        for i, chunk in enumerate(result.chunks):
            own = result.sentences[chunk.first_sentence:chunk.last_sentence]
            assert own and all(s.chunk == i for s in own)
            assert own[0].start == chunk.start and own[-1].end == chunk.end


def test_no_chunk_crosses_a_heading(chunked) -> None:
    for doc, result in chunked.values():
        headings = [b for b in clean(doc.text).blocks if isinstance(b, Heading)]
        assert headings, doc.doc_id
        for chunk in result.chunks:
            for h in headings:
                assert not (chunk.start < h.end and h.start < chunk.end), (chunk.chunk_id, h.title)


def test_chunk_sizes_stay_in_bounds(chunked) -> None:
    for _, result in chunked.values():
        sizes = [c.end - c.start for c in result.chunks]
        assert max(sizes) <= SETTINGS.max_chars
        by_section: dict[tuple, list] = {}
        for c in result.chunks:
            by_section.setdefault(c.section, []).append(c)
        for chunks in by_section.values():
            for left, right in zip(chunks, chunks[1:]):
                if min(left.end - left.start, right.end - right.start) < SETTINGS.min_chars:
                    # a small chunk exists only when merging it with its neighbour would break the maximum
                    assert right.end - left.start > SETTINGS.max_chars
    all_sizes = [c.end - c.start for _, r in chunked.values() for c in r.chunks]
    assert sum(SETTINGS.min_chars <= s for s in all_sizes) / len(all_sizes) > 0.85


BOILERPLATE = [
    "猜你喜欢", "往期回顾", "继续滑动看下一个", "向上滑动看下一个", "您可能也对以下帖子感兴趣",
    "研究所简介", "参考文献", "图源:", "查看原文",
]


def test_boilerplate_toc_and_page_headers_are_not_indexed(chunked) -> None:
    indexed = "\n".join(c.embed_text for _, r in chunked.values() for c in r.chunks)
    for marker in BOILERPLATE:
        assert marker not in indexed, marker
    assert "编者的话\tI" not in indexed and "\t12" not in indexed  # table-of-contents lines
    report = chunked["003_522f828de9b5a839"]
    # running heads repeat a chapter title inside its body; they must not reach the model text
    for chunk in report[1].chunks:
        body = chunk.embed_text.split("\n", 1)[-1]
        assert "第一章生成式人工智能的风险与挑战" not in body.replace(" ", "")


def test_sentence_cut_by_page_header_reads_as_one(chunked) -> None:
    doc, result = chunked["003_522f828de9b5a839"]
    joined = [s for s in result.sentences if "甚至出现" in s.text and "社会焦虑" in s.text]
    assert len(joined) == 1
    assert "序言" in joined[0].text and "序言" not in joined[0].embed_text


def test_report_essays_get_section_path_and_author(chunked) -> None:
    _, result = chunked["003_522f828de9b5a839"]
    zhou = [c for c in result.chunks if c.author == "周辉"]
    assert zhou and all(c.section[0].startswith("第二章") for c in zhou)
    assert any(c.section[-1] == "二、精准治理" for c in zhou)


def test_chunk_ids_are_stable_and_unique(chunked, corpus_documents) -> None:
    again = {d.doc_id: chunk_document(d.doc_id, d.text, SETTINGS) for d in corpus_documents}
    ids = [c.chunk_id for _, r in chunked.values() for c in r.chunks]
    assert len(ids) == len(set(ids))
    assert ids == [c.chunk_id for r in again.values() for c in r.chunks]


def test_small_text_structure_and_offsets() -> None:
    text = (
        "目 录\r\n第一章 总论\t1\r\n第二章 细则\t5\r\n\r\n"
        "第一章 总论\r\n\r\n"
        "一、背景\r\n\r\n"
        + "这是一段很长的正文，用来说明背景和动机。" * 4
        + "它在页末被截"
        + "\r\n\r\n第一章 总论\r\n\r\n"
        + "断了，但仍是同一句话。第二句在这里！\r\n\r\n"
        "图片\r\n图源:某网站\r\n\r\n"
        "二、做法\r\n\r\n具体做法如下。\r\n\r\n"
        "猜你喜欢\r\n另一篇文章的标题\r\n"
    )
    result = chunk_document("doc", text, ChunkerSettings(min_chars=20, max_chars=200))
    assert [c.section for c in result.chunks] == [("第一章 总论", "一、背景"), ("第一章 总论", "二、做法")]
    for piece in result.sentences + result.chunks:
        assert text[piece.start:piece.end] == piece.text
    cut = [s for s in result.sentences if "页末被截" in s.text]
    assert len(cut) == 1 and cut[0].text.endswith("同一句话。")
    assert "第一章" not in cut[0].embed_text
    everything = " ".join(c.embed_text for c in result.chunks)
    assert "图源" not in everything and "猜你喜欢" not in everything and "另一篇" not in everything


def test_markup_is_stripped_for_the_model_only() -> None:
    text = "## 小节\n\n本文引用了[《某宣言》](#)，并强调**透明度**的重要性，这一点非常关键，需要反复说明。\n"
    result = chunk_document("md", text, ChunkerSettings(min_chars=10, max_chars=200))
    (chunk,) = result.chunks
    assert "**" in chunk.text and "](#)" in chunk.text
    assert "**" not in chunk.embed_text and "](#)" not in chunk.embed_text
    assert chunk.embed_text.startswith("小节\n")


def test_overlong_sentence_is_cut_at_clause_marks() -> None:
    text = "，".join(["这是一个没有句号的长分句"] * 60) + "。"
    result = chunk_document("long", text, ChunkerSettings(min_chars=50, max_chars=120))
    assert len(result.chunks) > 1
    assert all(c.end - c.start <= 120 for c in result.chunks)
    assert "".join(c.text for c in result.chunks) == re.sub(r"\s", "", text)


def test_a_hard_wrapped_text_reads_each_paragraph_as_whole_sentences() -> None:
    paragraphs = [
        "人工智能军事应用的治理问题近年来受到越来越多国家的关注，各国在联合国框架下展开了多轮讨论，但分歧依然明显。",
        "第一届峰会于2023年2月在海牙举行，由荷兰和韩国共同主办，会议发表了《行动呼吁》。第二届峰会于2024年9月在首尔举行。",
        "美国在2023年2月宣布了关于负责任地军事使用人工智能和自主性的政治宣言，目前已有五十多个国家表示支持。",
    ]
    width = 24
    lines = []
    for paragraph in paragraphs * 2:
        lines += [paragraph[i:i + width] for i in range(0, len(paragraph), width)] + [""]
    text = "\n".join(["二、政治宣言", ""] + lines)
    sentences = chunk_document("d", text, SETTINGS).sentences
    whole = [re.sub(r"\s", "", s.text) for s in sentences]  # a break between 于 and 2024 is a space to the model
    assert whole[:4] == [paragraphs[0], *[p for p in re.split(r"(?<=。)", paragraphs[1]) if p], paragraphs[2]]
    assert all(text[s.start:s.end] == s.text for s in sentences)
    assert "\n" in sentences[0].text  # the source keeps its line breaks; the sentence spans them
    assert [b.title for b in clean(text).blocks if isinstance(b, Heading)] == ["二、政治宣言"]
