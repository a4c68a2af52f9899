"""What the knowledge-base index sees: Chinese as characters and bigrams, other text as words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from omnistock.care.search_text import fts5_match, index_text, query_terms, tsquery


def test_chinese_is_indexed_as_characters_and_bigrams() -> None:
    assert index_text("超卖订单") == "超 卖 订 单 超卖 卖订 订单"


def test_mixed_text_keeps_latin_words_whole_and_lower_case() -> None:
    assert index_text("JD 超卖 SOP-2", None) == "jd 超 卖 超卖 sop 2"


def test_a_chinese_query_becomes_its_bigrams_and_a_single_character_stays() -> None:
    assert query_terms("联系买家") == ["联系", "系买", "买家"]
    assert query_terms("缺") == ["缺"]
    assert query_terms("Late  shipment!") == ["late", "shipment"]
    assert query_terms("?!") == []


def test_match_expressions_quote_terms_and_prefix_the_last_latin_one() -> None:
    assert fts5_match(["超卖", "rebo"]) == '"超卖" "rebo"*'
    assert fts5_match(["rebo", "超卖"]) == '"rebo" "超卖"'
    assert tsquery(["超卖", "rebo"]) == "超卖 & rebo:*"


HANZI = "超卖缺货订单买家联系补偿"


@given(st.text(alphabet=HANZI, min_size=2, max_size=12), st.text(alphabet=HANZI, max_size=6),
       st.text(alphabet=HANZI, max_size=6))
def test_any_chinese_phrase_inside_a_text_is_found_by_its_terms(phrase: str, before: str, after: str) -> None:
    indexed = set(index_text(before + phrase + after).split())
    assert set(query_terms(phrase)) <= indexed
