"""Search terms: a resource is found by its abbreviations, its pinyin and its initials, and no term
ever carries a character that FTS5 or tsquery would read as syntax."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.catalog.search_terms import (
    abbreviations,
    index_terms,
    initials_key,
    is_latin,
    parse_abbreviations,
    pinyin_key,
    query_terms,
)

# Characters with a meaning in an FTS5 MATCH expression or a tsquery.
FTS_SPECIAL = set("\"'`:*()[]{}&|!<>^+-~,.;\\/%_ \t\n\r")

# Text that looks like catalog names: CJK, Latin, digits, full-width forms and punctuation.
catalog_alphabet = "社会保险参保人员信息医疗最低生活障公积金表单名ＡＢＣ１２３abcXYZ09（）()：:*\"'&|!<> 　、，-_"
texts = st.one_of(st.text(), st.text(alphabet=catalog_alphabet, max_size=40))


@pytest.fixture(scope="module", autouse=True)
def loaded_dictionary() -> None:
    # jieba loads its dictionary on first use (about 0.5 s): not inside a Hypothesis example's deadline.
    index_terms("社会保险")


def finds(query: str, *resource_texts: str) -> bool:
    indexed = set(index_terms(*resource_texts).split(" "))
    return any(term in indexed for term in query_terms(query))


@pytest.mark.parametrize("query", ["社保", "参保", "社会保险", "参保人员", "人员信息", "shebao", "shbx"])
def test_a_resource_is_found_by_its_words_abbreviations_and_pinyin(query: str) -> None:
    assert finds(query, "社会保险参保人员信息")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("低保", "最低生活保障对象名单"),
        ("医保", "基本医疗保险参保信息"),  # 医疗保险 inside a longer word
        ("社会保险", "社保卡发放记录"),  # long form finds the short form
        ("公积金", "住房公积金缴存明细"),
        ("信用代码", "法人统一社会信用代码"),
        ("身份证", "居民身份证签发信息"),
        ("市场监管", "市场监督管理行政处罚信息"),
    ],
)
def test_abbreviations_find_long_forms_and_back(query: str, name: str) -> None:
    assert finds(query, name)


def test_unrelated_queries_do_not_match() -> None:
    assert not finds("低保", "基本医疗保险参保信息")
    assert not finds("公积金", "社会保险参保人员信息")


def test_terms_of_a_resource() -> None:
    terms = index_terms("社会保险参保人员信息").split(" ")
    assert {"社会保险", "社保", "参保", "人员信息", "shehuibaoxian", "shbx", "shebao", "sb"} <= set(terms)
    assert len(terms) == len(set(terms))
    assert not {"社", "会", "保", "险"} & set(terms)


def test_single_characters_are_terms_only_without_a_longer_word() -> None:
    assert "表" not in index_terms("人口信息表").split(" ")
    assert index_terms("表").split(" ") == ["表", "biao", "b"]
    assert query_terms("表") == ["表"]
    assert query_terms("社保的信息") == ["社保", "社会保险", "信息"]


def test_terms_of_several_texts_are_merged_without_duplicates() -> None:
    terms = index_terms("社会保险参保人员信息", "参保人员的社会保险缴费信息", "姓名", "公民身份号码").split(" ")
    assert len(terms) == len(set(terms))
    assert {"缴费", "姓名", "xingming"} <= set(terms)


def test_initials_and_pinyin_keys() -> None:
    assert initials_key("社会保险参保人员信息") == "shbxcbryxx sbcbryxx"
    assert pinyin_key("社会保险参保人员信息") == "shehuibaoxiancanbaorenyuanxinxi shebaocanbaorenyuanxinxi"
    assert "sbcb" in initials_key("社会保险参保人员信息")
    assert "shebao" in pinyin_key("社会保险参保人员信息")
    assert initials_key("人口信息表") == "rkxxb"  # nothing to abbreviate: one key
    assert initials_key("２０２４年（ＧＤＰ）统计") == "2024ngdptj"


def test_full_width_latin_and_digits_are_normalised() -> None:
    assert query_terms("ＡＢＣ１２３") == ["abc123"]
    assert "abc123" in index_terms("ＡＢＣ１２３数据").split(" ")
    assert query_terms("Covid-19 ＧＤＰ") == ["covid", "19", "gdp"]


@pytest.mark.parametrize("query", ["", "   ", '"*:()', "（）、。！", "&|!<>", "\u3000"])
def test_queries_without_letters_or_digits_have_no_terms(query: str) -> None:
    assert query_terms(query) == []


@pytest.mark.parametrize(
    ("query", "latin"),
    [
        ("sbcb", True),
        ("She Bao 2024", True),
        ("社保", False),
        ("sb社保", False),
        ("", False),
        ("  ", False),
        ("sb-cb", False),
        ("ｓｂｃｂ", False),
    ],
)
def test_latin_queries(query: str, latin: bool) -> None:
    assert is_latin(query) is latin


def assert_safe(term: str) -> None:
    assert term, "empty term"
    assert term.isalnum(), term
    assert not FTS_SPECIAL & set(term), term
    assert term == term.lower(), term


@given(st.lists(texts, max_size=4))
def test_index_terms_are_safe_for_fts5_and_tsquery(values: list[str]) -> None:
    indexed = index_terms(*values)
    assert indexed == indexed.strip() and "  " not in indexed
    for term in indexed.split():
        assert_safe(term)


@given(texts)
def test_query_terms_are_safe_for_fts5_and_tsquery(query: str) -> None:
    for term in query_terms(query):
        assert_safe(term)


@given(texts)
def test_keys_are_lower_case_latin_and_digits(value: str) -> None:
    for key in (initials_key(value), pinyin_key(value)):
        assert all(char.isascii() and (char.isalnum() or char == " ") for char in key), key
        assert key == key.lower() and "  " not in key and key == key.strip()


@given(texts)
def test_a_text_queried_finds_itself(value: str) -> None:
    if not is_latin(value):
        assert set(query_terms(value)) <= set(index_terms(value).split())


@pytest.fixture(scope="module")
def fts5() -> Iterator[sqlite3.Connection]:
    # The tokenizer of the catalog's resource_search table.
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE search USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0')")
    connection.execute("CREATE VIRTUAL TABLE tokens USING fts5vocab(search, 'instance')")
    yield connection
    connection.close()


@given(texts)
def test_fts5_finds_every_index_term_as_one_token(fts5: sqlite3.Connection, value: str) -> None:
    terms = index_terms(value)
    with fts5:
        fts5.execute("DELETE FROM search")
        fts5.execute("INSERT INTO search (rowid, terms) VALUES (1, ?)", (terms,))
        assert fts5.execute("SELECT count(*) FROM tokens").fetchone() == (len(terms.split()),)
        for term in terms.split():  # a bare word, unquoted: FTS5 would reject any syntax character
            assert fts5.execute("SELECT count(*) FROM search WHERE search MATCH ?", (term,)).fetchone() == (1,)


def test_every_short_form_finds_its_long_form() -> None:
    table = abbreviations()
    assert len(table.long_forms) >= 40
    for long_form in table.long_forms:
        for short_form in table.counterparts[long_form]:
            assert finds(short_form, long_form + "信息"), short_form
            assert finds(long_form, short_form + "信息"), long_form


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("社会保险", "line 2"),
        ("社会保险\t社保\t多余", "line 2"),
        ("社保\t社会保险", "shorter"),
        ("社会 保险\t社保", "line 2"),
    ],
)
def test_a_bad_table_line_is_named(line: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_abbreviations(["# comment", line], "abbreviations.tsv")


def test_a_long_form_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="line 2: 社会保险 already"):
        parse_abbreviations(["社会保险\t社保", "社会保险\t社险"], "abbreviations.tsv")
