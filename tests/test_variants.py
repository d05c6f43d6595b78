"""Name variants mined at build time: two spellings of one transliterated name find each other."""

from __future__ import annotations

from index.variants import cores, sound_variants, sounds_alike, variant_map
from service.pipeline import retrieve, search


def test_readings_that_differ_by_one_letter_sound_alike() -> None:
    assert sounds_alike("切", "奇") and sounds_alike("利", "立")
    assert not sounds_alike("切", "德") and not sounds_alike("布", "莱")


def test_only_long_cores_beside_a_shared_word_are_linked() -> None:
    vocabulary = {"宣言", "峰会", "性", "研究"}
    assert cores("布莱切利宣言", "布莱奇利宣言", vocabulary) == ("布莱切利", "布莱奇利")
    assert cores("峰会布莱切利", "峰会布莱奇利", vocabulary) == ("布莱切利", "布莱奇利")
    assert cores("可行性", "可信性", vocabulary) is None  # core of two characters
    assert cores("研究院", "研究员", vocabulary) is None  # no core of three left
    assert cores("布莱切利宣言", "布莱德利宣言", vocabulary) is None  # 切 / 德 sound apart
    assert cores("布莱切利宣言", "布莱奇利声明", vocabulary) is None  # two characters differ


def test_variants_come_from_the_vocabulary_in_both_directions() -> None:
    pairs = sound_variants(["布莱切利宣言", "布莱奇利宣言", "宣言", "可行性", "可信性", "性"])
    assert pairs == [("布莱切利", "布莱奇利")]
    assert variant_map(pairs) == {"布莱切利": ["布莱奇利"], "布莱奇利": ["布莱切利"]}


def test_a_question_with_one_spelling_reaches_passages_written_with_the_other(retriever) -> None:
    backend = retriever.backend
    texts = backend.texts
    spellings = {s for s in backend.spellings(["布莱奇利"])}
    assert spellings, "the bundled corpus writes Bletchley two ways"
    other = next(iter(spellings))
    query = retrieve(retriever, "布莱奇利宣言有哪些内容？", 10).query
    assert other in query.tokens
    only_other = [d for d, t in texts.items() if other in t and "布莱奇利" not in t]
    assert only_other, "some document uses only the other spelling"
    found = search(retriever, "布莱奇利宣言有哪些内容？", k=10, mode="keyword")
    assert any(p.doc_id in only_other and other in p.chunk.text for p in found)
