"""The read model HTTP and MCP share: listings, exact text ranges, passages with their neighbours, and
what it refuses, on the real index."""

from __future__ import annotations

import pytest

from service import read_model


@pytest.fixture(scope="module")
def backend(retriever):  # noqa: ANN001, ANN201 - the session's Retriever and its backend
    return retriever.backend


def test_the_listing_counts_every_passage_once(backend) -> None:
    listed = read_model.documents(backend)
    assert {d.doc_id for d in listed.documents} == set(backend.documents)
    assert sum(d.chunks for d in listed.documents) == len(backend.chunks)
    assert listed.index_version == backend.version


def test_a_text_range_is_the_exact_slice_and_a_range_outside_is_refused(backend) -> None:
    doc_id, text = next(iter(backend.texts.items()))
    assert read_model.text_range(backend, doc_id, 3, 40).text == text[3:40]
    assert read_model.text_range(backend, doc_id).text == text
    with pytest.raises(read_model.BadRange, match=f"<= {len(text)}"):
        read_model.text_range(backend, doc_id, 10, len(text) + 1)
    with pytest.raises(read_model.BadRange):
        read_model.text_range(backend, doc_id, 20, 10)
    with pytest.raises(read_model.NotFound) as missing:
        read_model.text_range(backend, "no-such-document")
    assert missing.value.kind == "document"


def test_a_passage_links_its_neighbours_within_its_document_only(backend) -> None:
    first = backend.chunks[0]
    record = read_model.passage(backend, first.chunk_id)
    assert record.previous_id is None and backend.texts[first.doc_id][record.start:record.end] == record.text
    following = read_model.passage(backend, record.next_id)
    assert following.previous_id == first.chunk_id and following.doc_id == first.doc_id
    last_of_document = max(i for i, c in enumerate(backend.chunks) if c.doc_id == first.doc_id)
    assert read_model.passage(backend, backend.chunks[last_of_document].chunk_id).next_id is None
    with pytest.raises(read_model.NotFound) as missing:
        read_model.passage(backend, "no-such-passage")
    assert missing.value.kind == "passage"
