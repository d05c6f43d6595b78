"""The English→Chinese lexicon: pairs the documents write, pinyin of their names, dictionary glosses;
and English questions reaching Chinese passages through it."""

from __future__ import annotations

from collections import Counter

from index.lexicon import (
    Lexicon, base_forms, build_lexicon, cedict_glosses, dictionary_acronyms, dictionary_phrases, mine_pairs,
    pinyin_names,
)
from index.tokenizing import KeywordTokenizer
from service.pipeline import search
from service.query import parse_query, query_language

TEXT = (
    "英国首相苏纳克(Rishi Sunak)宣布成立研究所。美国国家标准与技术研究院(NIST)发布框架。"
    "苏纳克(Rishi Sunak)再次强调。Global AI Index（全球人工智能指数）显示排名。吴沈括认为中国是规则的推动者。"
)


def test_pairs_take_as_many_chinese_words_as_the_name_has() -> None:
    tokenizer = KeywordTokenizer(["苏纳克", "吴沈括"])
    pairs = mine_pairs([TEXT], tokenizer.words)
    assert pairs["rishi sunak"] == "苏纳克"  # "首相苏纳克" once, "苏纳克" once: the tie goes to the shorter
    assert pairs["nist"].endswith("技术研究院") and len(pairs["nist"]) > 6  # an acronym stands for a word per letter
    assert pairs["global ai index"] == "全球人工智能指数"


def test_pinyin_readings_of_corpus_names() -> None:
    assert pinyin_names(["吴沈括", "峰会", "中"]) == {"wushenkuo": {"吴沈括"}, "fenghui": {"峰会"}}


def test_translation_prefers_the_longest_phrase_and_skips_function_words() -> None:
    lexicon = Lexicon(
        phrases={"ai safety summit": ["人工智能", "安全", "峰会"], "summit": ["首脑"], "what": ["什么"]},
        names={"wushenkuo": ["吴沈括"]},
    )
    assert lexicon.translate("What was the AI Safety Summit?").tokens == ["人工智能", "安全", "峰会"]
    assert lexicon.translate("the summit").tokens == ["首脑"]
    assert lexicon.translate("What does Wu Shenkuo say?").tokens == ["吴沈括"]
    assert lexicon.translate("What does Shenkuo Wu say?").tokens == ["吴沈括"]  # family name last


def test_translated_common_words_leave_the_keyword_side_but_names_stay() -> None:
    lexicon = Lexicon(
        phrases={"summit": ["峰会"], "risk": ["风险"], "nist": ["国家", "标准"]}, names={"wushenkuo": ["吴沈括"]}
    )
    found = lexicon.translate("Which summit risk did NIST and Wu Shenkuo name?")
    assert found.tokens == ["峰会", "风险", "国家", "标准", "吴沈括"]
    assert found.covered == {"summit", "risk"}  # NIST, Wu and Shenkuo may be written as is in a Chinese text
    query = parse_query("Which summit risk did NIST name?", lambda t: t.lower().rstrip("?").split(), lexicon.translate)
    assert (
        "summit" not in query.tokens and "risk" not in query.tokens
        and "nist" in query.tokens and "峰会" in query.tokens
    )


def test_built_lexicon_keeps_only_words_the_corpus_uses() -> None:
    tokenizer = KeywordTokenizer(["苏纳克", "吴沈括"])
    frequency = Counter(t for t in tokenizer.tokenize(TEXT))
    lexicon = build_lexicon([TEXT], frequency, tokenizer.words, tokenizer.tokenize)
    every = {t for tokens in [*lexicon.phrases.values(), *lexicon.names.values()] for t in tokens}
    assert every <= set(frequency)
    assert "苏纳克" in lexicon.translate("Rishi Sunak").tokens and lexicon.translate("Wu Shenkuo").tokens == ["吴沈括"]
    assert "峰会" not in frequency and not lexicon.translate("summit").tokens


def test_inflected_and_hyphenated_words_find_their_dictionary_form() -> None:
    assert {"sign", "signe"} <= set(base_forms("signed")) and "mitigate" in base_forms("mitigated")
    assert "source" in base_forms("sourcing") and "plan" in base_forms("planned") and "apply" in base_forms("applied")
    assert base_forms("model's")[0] == "model" and "country" in base_forms("countries")
    lexicon = Lexicon(phrases={
        "sign": ["签署"], "open source": ["开源"], "country": ["国家"], "model": ["模型"], "cass-beggs": ["卡斯"],
    })
    assert lexicon.translate("Which countries signed it?").tokens == ["国家", "签署"]
    assert lexicon.translate("the risks of open-sourcing a model's weights").tokens == ["开源", "模型"]
    assert lexicon.translate("Duncan Cass-Beggs").tokens == ["卡斯"]  # a hyphenated word known whole stays whole


def test_dictionary_prefers_a_words_main_meaning_over_the_most_frequent(monkeypatch) -> None:
    import index.lexicon as lexicon_module

    glosses = {
        "country": [("国", 0), ("国家", 0), ("乡下", 2)], "two countries": [("两国", 0)],
        "summit meeting": [("峰会", 0)],
    }
    monkeypatch.setattr(lexicon_module, "cedict_glosses", lambda: glosses)
    frequency = Counter({"两国": 50, "乡下": 40, "国家": 30, "国": 10, "峰会": 5})
    phrases = dictionary_phrases(frequency, lambda h: [h])
    assert phrases["country"] == ["国家", "国"]  # main sense first, then the corpus's use; 乡下 is a later sense
    assert "countries" not in phrases  # "two countries" does not speak for a word the dictionary glosses alone
    assert phrases["summit"] == ["峰会"]  # a word no gloss names alone draws on the compound


def test_an_all_capital_word_is_an_acronym_not_the_common_word_it_spells() -> None:
    lexicon = Lexicon(
        phrases={"us": ["我们"], "un": ["非"], "ai": ["人工智能"]}, acronyms={"us": ["美国"], "un": ["联合国"]}
    )
    assert lexicon.translate(
        "What did the US and the UN-centred plan say about AI?"
    ).tokens == ["美国", "联合国", "人工智能"]
    assert lexicon.translate("What did they tell us?").tokens == []  # "us" the pronoun is a function word
    assert lexicon.translate("The un-noticed risk").tokens == ["非"]


def test_acronyms_come_from_the_glosses_they_abbreviate(monkeypatch) -> None:
    import index.lexicon as lexicon_module

    glosses = {
        "united nations": [("联合国", 0)], "united kingdom": [("英国", 0), ("联合王国", 0)],
        "unknown number": [("未知数", 0)],
        "user name": [("用户名", 1)], "nations": [("各国", 0)],
    }
    monkeypatch.setattr(lexicon_module, "cedict_glosses", lambda: glosses)
    frequency = Counter({"联合国": 9, "未知数": 1, "用户名": 50, "英国": 7, "各国": 30})
    acronyms = dictionary_acronyms(frequency, lambda h: [h])
    # the corpus's most used main sense; one-word glosses abbreviate nothing
    assert acronyms == {"un": ["联合国"], "uk": ["英国"]}


def test_a_capitalized_month_is_written_as_chinese_texts_write_it() -> None:
    lexicon = Lexicon(phrases={"march": ["迈向"], "adopt": ["采纳"], "may": ["可能"]})
    assert lexicon.translate("What did the UN adopt in March 2024?").tokens == ["采纳", "3", "月"]  # 2024年3月
    assert lexicon.translate("Which treaty opened for signature in May?").tokens == ["5", "月"]
    # lower case: the verb, and a function word
    assert lexicon.translate("Troops march on; it may rain.").tokens == ["迈向"]


def test_dictionary_affixes_are_not_words() -> None:
    assert "非" not in {h for h, _ in cedict_glosses().get("un", [])}  # CC-CEDICT glosses 非 as "un-"
    assert "联合国" in {h for h, _ in cedict_glosses()["united nations"]}


def test_an_acronyms_pair_drops_a_stray_character_before_the_name() -> None:
    tokenizer = KeywordTokenizer()
    assert tokenizer.words("中美人工智能")[-2:] == ["美", "人工智能"]
    assert mine_pairs(["5月14日，中美人工智能(AI)专家对话。"], tokenizer.words)["ai"] == "人工智能"


def test_query_language_is_the_questions_script() -> None:
    assert query_language("首尔峰会的主题是什么？") == "zh-Hans"
    assert query_language("首爾峰會的主題是什麼？") == "zh-Hant"
    assert query_language("What was the theme of the Seoul summit?") == "en"
    assert query_language("ＮＩＳＴ是什么机构") == "zh-Hans"
    assert query_language("？？") == "und"


def test_only_english_questions_are_translated() -> None:
    lexicon = Lexicon(phrases={"nist": ["国家", "标准"]})
    assert parse_query("What is NIST?", str.split, lexicon.translate).translated == ("国家", "标准")
    assert parse_query("NIST是什么机构", str.split, lexicon.translate).translated == ()


def test_an_english_question_finds_the_chinese_passage(retriever) -> None:
    """The corpus writes 唐兰 once beside "Michelle Donelan" and elsewhere alone."""
    passages = search(retriever, "What did Michelle Donelan call the legacy of the Bletchley summit?", 5)
    assert "唐兰" in passages[0].chunk.text and "布莱切利效应" in passages[0].chunk.text
    english_only = search(retriever, "What did Michelle Donelan announce after the Seoul summit?", 5)
    assert any("唐兰又宣布" in p.chunk.text for p in english_only)
