"""The Python client (govqa.client) and the LangChain retriever built on it (govqa.langchain), against a live server."""

from __future__ import annotations

import pytest

from govqa.client import GovQA, GovQAError
from govqa.langchain import GovQARetriever
from helpers import SEOUL

QUESTION = "首尔峰会的主题是什么？"


@pytest.fixture(scope="module")
def texts(corpus_documents) -> dict[str, str]:
    return {d.doc_id: d.text for d in corpus_documents}


def test_the_client_asks_searches_and_reads(base_url: str, texts: dict[str, str]) -> None:
    with GovQA(base_url) as govqa:
        answered = govqa.ask(QUESTION, top_k=3)
        assert (
            answered.answer is not None and "安全、创新、包容" in answered.answer.text
            and len(answered.passages) == 3
        )
        for s in answered.answer.sentences:
            assert texts[s.doc_id][s.start:s.end] == s.text
        found = govqa.search(QUESTION, k=4, doc_ids=[SEOUL])
        assert len(found.passages) == 4 and {p.doc_id for p in found.passages} == {SEOUL}
        first = found.passages[0]
        assert (
            govqa.document_text(first.doc_id, first.start, first.end)
            == first.text
            == texts[SEOUL][first.start:first.end]
        )
        assert govqa.passage(first.chunk_id).text == first.text
        assert {d.doc_id for d in govqa.documents()} == set(texts)
        assert govqa.ask("欧盟人工智能办公室的首任主任是谁？").answer is None


def test_the_client_raises_the_servers_errors(base_url: str) -> None:
    with GovQA(base_url) as govqa:
        with pytest.raises(GovQAError) as missing:
            govqa.passage("no-such-passage")
        assert missing.value.status == 404 and "no-such-passage" in missing.value.message
        with pytest.raises(GovQAError) as invalid:
            govqa.ask("问" * 1001)
        assert invalid.value.status == 422


def test_the_langchain_retriever_gives_cited_documents(base_url: str, texts: dict[str, str]) -> None:
    retriever = GovQARetriever(base_url=base_url, k=3)
    documents = retriever.invoke(QUESTION)
    assert len(documents) == 3 and documents[0].metadata["doc_id"] == SEOUL
    for d in documents:
        m = d.metadata
        assert texts[m["doc_id"]][m["start"]:m["end"]] == d.page_content
        assert m["link"] == f"{base_url}/v1/passages/{m['chunk_id']}" and m["title"] and m["rank"] >= 1
    assert [d.metadata["rank"] for d in documents] == [1, 2, 3]
    restricted = GovQARetriever(base_url=base_url, k=2, doc_ids=["003_522f828de9b5a839"]).invoke("人工智能治理")
    assert {d.metadata["doc_id"] for d in restricted} == {"003_522f828de9b5a839"}
