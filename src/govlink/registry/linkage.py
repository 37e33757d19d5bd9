"""Entity resolution of mentions: strong keys first, Splink (DuckDB) for the rest, then clusters.

``link_mentions`` takes one entity type's mentions as an Arrow table of standardised features and returns
which cluster each mention belongs to.  The order of the work is what makes it both precise and fast:

1. *Anchors.* Mentions sharing a valid ID number (persons) or organisation code (enterprises, so an old tax ID
   and a credit code meet) are one entity without scoring, unless the names contradict it (a relative's ID
   entered by mistake): then the mention loses its key and is scored like any other.  A caller may pass its own
   ``anchor`` column instead (incremental runs anchor existing mentions to their entities).
2. *Scoring.* Only pairs with at least one unanchored mention are compared: two different valid keys are two
   entities, and two equal keys are already linked.  Splink's m probabilities are learnt from the anchored
   pairs themselves (same key: a true match, with all the noise real records carry), u probabilities by random
   sampling, names with term-frequency adjustment so that agreeing on 王伟 counts for less than on a rare name.
   Without enough keys, EM learns the m probabilities instead, and every match has to be found by its scores:
   the u probabilities are then freed of the matches that random sampling counted among its non-matches.
   Chinese names are compared by characters and pinyin; names and addresses written in Latin letters (a
   foreign resident's; FEBRL's test records) part by part: surname and given name, road, house number,
   locality and postcode.
3. *Clusters.* Unanchored mentions linked to each other above the upper threshold form groups; each group joins
   the one anchor it is most probably linked to, so a chain of fuzzy links never merges two keyed entities.
   Pairs between the lower and upper thresholds are handed back for review; reviewers' decisions are applied
   on top (a match joins, a non-match keeps apart where the scores alone would join).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from govlink.kit import duck
from govlink.standards.names import enterprise_name_key
from govlink.standards.pinyin import name_pinyin, split_name

FEATURES = ("key", "name", "birth_date", "gender", "phone", "address", "street", "road", "number", "context")
# Features a source may add: an address's postcode (Latin addresses are compared on it).
OPTIONAL_FEATURES = ("postcode",)
# A mention's ``context`` names the entity its record is about and the role it holds there (``legal_rep:E…``):
# two mentions with one context and one name are the same person even without an ID (a permit's legal
# representative and the register's, once the enterprises are linked).
CONTEXT_PROBABILITY = 0.999
# Legal-form words and brackets dropped from an enterprise's name before fuzzy comparison (its "core").
_FORM_WORDS = ("股份有限公司", "有限公司", "有限责任公司", "个体工商户", "个人独资企业", "合伙企业", "分公司", "公司")

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class LinkSettings:
    """What the admin may tune: the link threshold, the review threshold, and the training's sample size."""

    upper: float = 0.99  # pairs at or above are linked
    lower: float = 0.80  # pairs from here up to ``upper`` go to review
    seed: int = 42
    u_pairs: float = 1e6  # Splink's u-estimation cost is set by this, not by the data size
    contradiction: float = 0.75  # below this pinyin similarity to its key group's name, a keyed mention is suspect


@dataclass(frozen=True)
class Decision:
    """A reviewer's verdict on two mentions (by mention id in this call)."""

    left: int
    right: int
    match: bool


@dataclass
class LinkResult:
    clusters: pa.Table  # mention_id, cluster (int64), linked_by (key | score | review | alone), probability
    review: pa.Table  # left, right (mention ids), probability, evidence (JSON text)
    model: dict[str, Any]  # the trained Splink settings, for incremental runs
    stats: dict[str, Any] = field(default_factory=dict)


def person_comparisons() -> list[dict[str, Any]]:
    """How two person mentions are compared; every level reads standardised (and pinyin) features.

    Two names both written in Latin letters (a foreign resident's, or records such as FEBRL's) take their own
    levels, which compare surname and given name each (in either order); any other pair, Chinese or mixed,
    takes the levels that read characters and pinyin.  Addresses likewise: Latin ones by road, house number,
    locality and postcode, Chinese ones by their parsed parts.
    """
    return [
        _comparison("name", [
            ("name_l = name_r", "same name", "name"),
            *_latin_name_levels(),
            ("pinyin_l = pinyin_r", "same pinyin (homophone)", "pinyin"),
            ("jaro_winkler_similarity(pinyin_l, pinyin_r) >= 0.92", "pinyin nearly the same", None),
            ("jaro_winkler_similarity(name_l, name_r) >= 0.88", "names nearly the same", None),
            ("given_l = surname_r AND surname_l = given_r", "surname and given name swapped", None),
            ("surname_l = surname_r AND jaro_winkler_similarity(name_l, name_r) >= 0.7", "same surname, similar", None),
        ]),
        _comparison("birth_date", [
            ("birth_date_l = birth_date_r", "same birth date", None),
            ("substr(birth_date_l, 1, 7) = substr(birth_date_r, 1, 7)", "same birth month", None),
            # One digit mistyped or two adjacent ones swapped (also across a dash), or day and month swapped.
            (_slips("replace(birth_date_l, '-', '')", "replace(birth_date_r, '-', '')", 1) + " OR "
             "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) AND substr(birth_date_l, 6, 2) = "
             "substr(birth_date_r, 9, 2) AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)",
             "birth date one slip apart", None),
        ]),
        _comparison("gender", [("gender_l = gender_r", "same gender", None)]),
        _comparison("phone", [
            ("phone_l = phone_r", "same phone", None),
            (_slips("phone_l", "phone_r", 1), "phone one slip apart", None),
            (_slips("phone_l", "phone_r", 2), "phone two slips apart", None),
        ]),
        _comparison("address", [
            ("address_l = address_r", "same address", None),
            *_latin_address_levels(),
            ("road_l = road_r AND number_l = number_r", "same road and number", None),
            ("street_l = street_r AND road_l = road_r", "same road", None),
            ("jaro_winkler_similarity(address_l, address_r) >= 0.9", "addresses nearly the same", None),
            ("street_l = street_r", "same street", None),
        ], null="address_l IS NULL OR address_r IS NULL"),
    ]


def _slips(left: str, right: str, slips: int) -> str:
    """At most ``slips`` characters mistyped, added, dropped or swapped with their neighbour (Damerau-Levenshtein).

    The cheaper Levenshtein distance, at most two per slip, is tested first: most pairs fail it, and the slower
    Damerau-Levenshtein is then never computed for them.
    """
    return f"(levenshtein({left}, {right}) <= {2 * slips} AND damerau_levenshtein({left}, {right}) <= {slips})"


def _alike(left: str, right: str) -> str:
    """Two Latin names that Jaro-Winkler finds alike (a slip or two apart; cheaper than Damerau-Levenshtein)."""
    return f"jaro_winkler_similarity({left}, {right}) >= 0.88"


def _latin_name_levels() -> list[tuple[str, str, str | None]]:
    both = "latin_l AND latin_r AND "
    same_one_near_other = (f"(surname_l = surname_r AND {_alike('given_l', 'given_r')} OR "
                           f"given_l = given_r AND {_alike('surname_l', 'surname_r')})")
    near_both = (f"({_alike('surname_l', 'surname_r')} AND {_alike('given_l', 'given_r')} OR "
                 f"{_alike('surname_l', 'given_r')} AND {_alike('given_l', 'surname_r')})")
    return [
        (both + "surname_l = given_r AND given_l = surname_r", "surname and given name swapped", None),
        (both + same_one_near_other, "one part the same, the other nearly", None),
        (both + near_both, "both parts nearly the same", None),
        (both + "surname_l = surname_r", "same surname", None),
        (both + "given_l = given_r", "same given name", None),
        (both + f"({_alike('surname_l', 'surname_r')} OR surname_l = given_r OR given_l = surname_r)",
         "surname alike, or one part in place of the other", None),
        ("latin_l AND latin_r", "different Latin names", None),
    ]


def _latin_address_levels() -> list[tuple[str, str, str | None]]:
    # Equalities first in each condition: most pairs fail them, and the similarities are then not computed.
    both = "latin_address_l AND latin_address_r AND "
    road = "jaro_winkler_similarity(road_l, road_r) >= 0.9"
    place = "(street_l = street_r OR postcode_l = postcode_r)"
    near_place = f"(jaro_winkler_similarity(street_l, street_r) >= 0.9 OR {_slips('postcode_l', 'postcode_r', 1)})"
    return [
        (both + f"number_l = number_r AND {place} AND {road}", "same house", None),
        (both + f"{place} AND {road}", "same road in the same place", None),
        (both + "street_l = street_r AND postcode_l = postcode_r", "same place", None),
        (both + f"{road} AND (number_l = number_r OR {near_place})", "same road, nearly the same place", None),
        (both + road, "same road elsewhere", None),
        (both + place, "same locality or postcode", None),
        (both + near_place, "nearly the same locality or postcode", None),
        # An address whose parts are unknown (the parser reads Chinese addresses only) is compared whole.
        (both + "jaro_winkler_similarity(address_l, address_r) >= 0.9", "Latin addresses nearly the same", None),
        ("latin_address_l AND latin_address_r", "different Latin addresses", None),
    ]


def enterprise_comparisons() -> list[dict[str, Any]]:
    """How two enterprise mentions are compared: names after normalisation, then addresses."""
    return [
        _comparison("name", [
            ("name_l = name_r", "same name", "name"),
            ("core_l = core_r", "same name without legal form", "core"),
            ("jaro_winkler_similarity(core_l, core_r) >= 0.9", "names nearly the same", None),
            ("jaccard(core_l, core_r) >= 0.6", "names share most characters", None),
        ]),
        _comparison("address", [
            ("address_l = address_r", "same address", None),
            ("road_l = road_r AND number_l = number_r", "same road and number", None),
            ("street_l = street_r AND road_l = road_r", "same road", None),
        ], null="address_l IS NULL OR address_r IS NULL"),
    ]


def _comparison(column: str, levels: list[tuple[str, str, str | None]], *, null: str | None = None) -> dict[str, Any]:
    out: list[dict[str, Any]] = [{"sql_condition": null or f"{column}_l IS NULL OR {column}_r IS NULL",
                                  "label_for_charts": "missing", "is_null_level": True}]
    for condition, label, tf_column in levels:
        level: dict[str, Any] = {"sql_condition": condition, "label_for_charts": label}
        if tf_column:
            level["tf_adjustment_column"] = tf_column
            level["tf_adjustment_weight"] = 1.0
        out.append(level)
    out.append({"sql_condition": "ELSE", "label_for_charts": "different"})
    return {"output_column_name": column, "comparison_levels": out}


# Blocking: only pairs sharing one of these can be scored, and only if one side has no anchor.
PERSON_BLOCKS = (
    "l.name = r.name",
    "l.pinyin = r.pinyin AND substr(l.birth_date, 1, 4) = substr(r.birth_date, 1, 4)",
    "l.birth_date = r.birth_date AND l.surname = r.surname",
    "l.birth_date = r.birth_date AND l.given = r.given",
    "l.surname = r.given AND l.given = r.surname",
    "l.phone = r.phone",
    "l.road = r.road AND l.number = r.number AND l.surname = r.surname",
    "l.street = r.street AND l.number = r.number AND l.surname = r.surname",
    "l.postcode = r.postcode AND l.number = r.number",
    "l.birth_date = r.birth_date AND l.street = r.street",
    "l.birth_date = r.birth_date AND l.postcode = r.postcode",
)
ENTERPRISE_BLOCKS = (
    "l.name = r.name",
    "l.core = r.core",
    "substr(l.core, 1, 4) = substr(r.core, 1, 4)",
    "l.road = r.road AND l.number = r.number",
)


# Without enough keyed groups to learn what a match looks like, EM learns it from pairs blocked on these
# (each rule leaves its own columns' parameters to the other rule).
MIN_LABELLED_GROUPS = 200
# Without them, the share of matching pairs is what a first scoring of pairs at or above this probability finds.
PRIOR_SCAN = 0.01
EM_BLOCKS = {
    "person": ("l.birth_date = r.birth_date", "l.pinyin = r.pinyin"),
    "enterprise": ("l.core = r.core", "l.road = r.road AND l.number = r.number"),
}


def _unanchored(blocks: tuple[str, ...]) -> list[str]:
    """The blocking rules that make the pairs of ``blocks`` with at least one mention not anchored (two anchored
    mentions are never scored).  Each rule is written twice, the left mention loose, then the right: DuckDB
    filters each side before joining, where ``l.anchor IS NULL OR r.anchor IS NULL`` was tested only after the
    join had made every pair sharing a common name or building (most of them anchored)."""
    return [f"({rule}) AND {side}.anchor IS NULL" for rule in blocks for side in ("l", "r")]


def prepare(con: duckdb.DuckDBPyConnection, features: pa.Table, entity_type: str) -> None:
    """Table ``m``: the features plus what comparisons read (pinyin, surname and given name, and whether name
    and address are written in Latin letters; or an enterprise name's core)."""
    con.register("features_in", features)
    columns = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c in features.column_names else f"NULL::VARCHAR AS {c}"
                        for c in (*FEATURES, *OPTIONAL_FEATURES))
    anchor = "anchor" if "anchor" in features.column_names else "NULL::VARCHAR AS anchor"
    duck.run(con, f"""CREATE OR REPLACE TABLE m0 AS
                      SELECT CAST(mention_id AS BIGINT) AS unique_id, {columns}, {anchor},
                             {_LATIN.format(column="name")} AS latin, {_LATIN.format(column="address")} AS latin_address
                      FROM features_in""")  # noqa: S608
    con.unregister("features_in")
    names = [row[0] for row in duck.run(con, "SELECT DISTINCT name FROM m0 WHERE name IS NOT NULL")]
    if entity_type == "person":
        splits = [split_name(n) for n in names]
        derived = pa.table({"name": names, "pinyin": [name_pinyin(n) for n in names],
                            "surname": [s for s, _ in splits], "given": [g for _, g in splits]})
        extra = f"d.pinyin, {_name_part('surname')}, {_name_part('given')}"
    else:
        derived = pa.table({"name": names, "core": [_core(n) for n in names]})
        extra = "d.core"
    con.register("derived", derived)
    duck.run(con, f"CREATE OR REPLACE TABLE m AS SELECT m0.*, {extra} FROM m0 LEFT JOIN derived d USING (name)")  # noqa: S608
    con.unregister("derived")
    duck.run(con, "DROP TABLE m0")


# A name or address written in letters, none of them Chinese characters.
_LATIN = "coalesce(regexp_matches({column}, '\\p{{L}}') AND NOT regexp_matches({column}, '\\p{{Han}}'), false)"


def _name_part(part: str) -> str:
    """A surname or given name as compared: a Latin one as lower-case letters only (Zoë O'Brien-Smith → zoe,
    obriensmith), missing when empty."""
    return (f"CASE WHEN m0.latin THEN nullif(regexp_replace(lower(strip_accents(d.{part})), '[^\\p{{L}}]', '', 'g'), "
            f"'') ELSE d.{part} END AS {part}")


def _core(name: str) -> str:
    core = enterprise_name_key(name)
    for word in _FORM_WORDS:
        if core.endswith(word) and len(core) > len(word) + 1:
            return core[: -len(word)]
    return core


def anchor_by_keys(con: duckdb.DuckDBPyConnection, entity_type: str, settings: LinkSettings) -> int:
    """Anchor mentions on their keys, except persons whose name contradicts their key group's; returns how many
    mentions were set loose that way."""
    if entity_type != "person":
        duck.run(con, "UPDATE m SET anchor = 'K:' || key WHERE anchor IS NULL AND key IS NOT NULL")
        # An enterprise name is unique where it is registered (企业名称登记): a name that only one code carries
        # anchors the mentions that give the name without a (valid) code.
        duck.run(con, """
            CREATE OR REPLACE TEMP TABLE name_anchor AS
            SELECT name, min(anchor) AS anchor FROM m WHERE anchor IS NOT NULL AND name IS NOT NULL
            GROUP BY name HAVING count(DISTINCT anchor) = 1""")
        duck.run(con, """UPDATE m SET anchor = n.anchor FROM name_anchor n
                         WHERE m.anchor IS NULL AND m.key IS NULL AND m.name = n.name""")
        return 0
    # The group's name is its most frequent pinyin (ties: the smallest); a mention far from it is suspect.
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE group_name AS
        SELECT key, arg_max(pinyin, n) AS pinyin FROM (
            SELECT key, pinyin, count(*) AS n FROM m WHERE key IS NOT NULL AND pinyin IS NOT NULL
            GROUP BY key, pinyin ORDER BY key, n DESC, pinyin) GROUP BY key""")
    duck.run(con, f"""
        CREATE OR REPLACE TEMP TABLE loose AS
        SELECT m.unique_id FROM m JOIN group_name g USING (key)
        WHERE m.anchor IS NULL AND m.pinyin IS NOT NULL
          AND jaro_winkler_similarity(m.pinyin, g.pinyin) < {float(settings.contradiction)}""")  # noqa: S608
    duck.run(con, """UPDATE m SET anchor = 'K:' || key WHERE anchor IS NULL AND key IS NOT NULL
                   AND unique_id NOT IN (SELECT unique_id FROM loose)""")
    return int(duck.run(con, "SELECT count(*) FROM loose")[0][0])


def _prior(con: duckdb.DuckDBPyConnection) -> float:
    """The probability that two random mentions match, from the anchored groups (scaled to all mentions)."""
    total, anchored, pairs = duck.run(con, """
        SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM m WHERE anchor IS NOT NULL),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n FROM m
                WHERE anchor IS NOT NULL GROUP BY anchor))""")[0]
    if total < 2 or anchored < 2 or pairs == 0:
        return 1.0 / max(int(total), 2)
    per_pair = float(pairs) / (int(anchored) * (int(anchored) - 1) / 2)
    return float(min(max(per_pair, 1e-9), 0.5))


def link_mentions(features: pa.Table, entity_type: str, settings: LinkSettings | None = None, *,
                  decisions: list[Decision] | tuple[Decision, ...] = (), model: dict[str, Any] | None = None,
                  name_frequencies: pa.Table | None = None, progress: Progress | None = None) -> LinkResult:
    """Cluster one entity type's mentions.

    ``features`` has ``mention_id`` (int64) and the string columns of :data:`FEATURES` (missing ones are
    taken as empty), optionally ``anchor``.  With ``model`` (a previous result's), Splink is not trained
    again.  ``decisions`` are reviewers' verdicts and always win over scores.  ``name_frequencies`` (``name``,
    ``tf_name``: each name's share of a larger set of mentions) replaces the names' frequencies among
    ``features`` in the term-frequency adjustment, for a part of the registry scored on its own.
    """
    chosen = settings or LinkSettings()
    report = progress or (lambda stage, fraction: None)
    logging.getLogger("splink").setLevel(logging.WARNING)
    con = duckdb.connect()
    try:
        report("prepare", 0.0)
        prepare(con, features, entity_type)
        loose = anchor_by_keys(con, entity_type, chosen)  # given anchors stay; the rest anchor by key
        report("score", 0.2)
        trained = _score(con, entity_type, chosen, model, name_frequencies)
        report("cluster", 0.8)
        clusters, review = _cluster(con, chosen, decisions, entity_type == "person")
        stats = dict(zip(("mentions", "anchored", "scored_pairs"), duck.run(con,
            "SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM m WHERE anchor IS NOT NULL), "
            "(SELECT count(*) FROM pairs)")[0] or (0, 0, 0), strict=True))
        stats["contradicted_keys"] = loose
        stats["entities"] = int(pc.count_distinct(clusters.column("cluster")).as_py()) if clusters.num_rows else 0
        report("done", 1.0)
        return LinkResult(clusters, review, trained, stats)
    finally:
        con.close()


def _score(con: duckdb.DuckDBPyConnection, entity_type: str, settings: LinkSettings,
           model: dict[str, Any] | None, name_frequencies: pa.Table | None = None) -> dict[str, Any]:
    """Fill table ``pairs`` (left, right, probability, evidence) with the scored pairs at or above ``lower``."""
    duck.run(con, "CREATE OR REPLACE TABLE pairs (l BIGINT, r BIGINT, p DOUBLE, evidence VARCHAR)")
    unanchored = duck.run(con, "SELECT count(*) FROM m WHERE anchor IS NULL")[0][0]
    if unanchored == 0 or duck.run(con, "SELECT count(*) FROM m")[0][0] < 2:
        return model or {}
    from splink import DuckDBAPI, Linker  # imported here: Splink takes a second to import

    comparisons = person_comparisons() if entity_type == "person" else enterprise_comparisons()
    blocks = PERSON_BLOCKS if entity_type == "person" else ENTERPRISE_BLOCKS
    if model:  # the blocking rules are today's, whatever the trained model was saved with
        spec = {**model, "blocking_rules_to_generate_predictions": _unanchored(blocks)}
    else:
        spec = {
            "link_type": "dedupe_only", "comparisons": comparisons,
            "blocking_rules_to_generate_predictions": _unanchored(blocks),
            "probability_two_random_records_match": _prior(con),
            "retain_intermediate_calculation_columns": True,
            "additional_columns_to_retain": ["anchor"],
        }
    api = DuckDBAPI(con.cursor())  # its own cursor: Splink reads results while ours may be open
    linker = Linker(api.register("m", dataset_display_name="mentions"), spec, log_level=logging.ERROR)
    if not model:
        anchored_pairs = duck.run(con,
            "SELECT count(*) FROM (SELECT anchor FROM m WHERE anchor IS NOT NULL GROUP BY anchor HAVING count(*) > 1)"
        )[0][0]
        linker.training.estimate_u_using_random_sampling(max_pairs=settings.u_pairs, seed=settings.seed)
        if anchored_pairs >= MIN_LABELLED_GROUPS:
            linker.training.estimate_m_from_label_column("anchor")
        else:  # too few keys to learn from: expectation maximisation on pairs that agree on something strong
            for rule in EM_BLOCKS[entity_type]:
                linker.training.estimate_parameters_using_expectation_maximisation(rule)
            # Every match must then be found by its scores: free the u of the matches among the sampled pairs,
            # with the share of matches a first scoring finds.  (Keyed data, whose matches are mostly anchored,
            # keeps the sampled u: freed there, it linked enterprises sharing a building on the district bench.)
            spec = _discount_matches(dict(linker.misc.save_model_to_json()), _prior_from_scores(con, linker),
                                     _u_floor(con, settings))
            linker = Linker(DuckDBAPI(con.cursor()).register("m", dataset_display_name="mentions (trained)"), spec,
                            log_level=logging.ERROR)
    if name_frequencies is not None:
        con.register("name_frequencies_in", name_frequencies)
        duck.run(con, "CREATE OR REPLACE TABLE name_frequencies AS SELECT name, tf_name FROM name_frequencies_in")
        con.unregister("name_frequencies_in")
        linker.table_management.register_term_frequency_lookup(api.register("name_frequencies"), "name")
    predictions = linker.inference.predict(threshold_match_probability=settings.lower, warning_mode="never")
    evidence = ", ".join(f"'{c['output_column_name']}', round(mw_{c['output_column_name']}, 2)"
                         for c in comparisons)
    duck.run(con, f"""INSERT INTO pairs SELECT unique_id_l, unique_id_r, match_probability,
                    CAST(json_object({evidence}) AS VARCHAR) FROM {predictions.physical_name}""")  # noqa: S608
    return dict(linker.misc.save_model_to_json())


def _prior_from_scores(con: duckdb.DuckDBPyConnection, linker: Any) -> float:
    """The probability that two random mentions match, as a first scoring finds it: the expected number of
    matches among the scored pairs (the sum of their probabilities), and the anchored pairs, over all pairs."""
    scored = linker.inference.predict(threshold_match_probability=PRIOR_SCAN, warning_mode="never")
    found, anchored, total = duck.run(con, f"""
        SELECT (SELECT coalesce(sum(match_probability), 0) FROM {scored.physical_name}),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n FROM m
                WHERE anchor IS NOT NULL GROUP BY anchor)),
               (SELECT count(*) FROM m)""")[0]  # noqa: S608
    scored.drop_table_from_database_and_remove_from_cache()
    pairs = int(total) * (int(total) - 1) / 2
    return float(min(max((float(found) + float(anchored)) / pairs, 1.0 / pairs), 0.5))


def _u_floor(con: duckdb.DuckDBPyConnection, settings: LinkSettings) -> float:
    """The smallest u that random sampling can tell apart from none: one pair among those it compared."""
    total = int(duck.run(con, "SELECT count(*) FROM m")[0][0])
    return 1.0 / max(min(settings.u_pairs, total * (total - 1) / 2), 1.0)


def _discount_matches(model: dict[str, Any], prior: float, floor: float) -> dict[str, Any]:
    """The model with each level's u freed of the true matches that random sampling counted as non-matches.

    A random pair matches with probability ``prior``, so a sampled share ``u`` of pairs at a level holds
    ``prior·m`` of matches: where records have many duplicates (FEBRL 3's 5,000 records of 2,000 persons) that
    share outweighs the non-matches at the strongest levels, and caps their weight near ``log2(1/prior)``.
    The non-matches' share is ``(u − prior·m) / (1 − prior)``: lower than ``u`` at a level that speaks for a
    match (``m > u``), a little higher at one that speaks against; never less than ``floor`` nor more than 1.
    """
    out = copy.deepcopy(model)
    out["probability_two_random_records_match"] = prior
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level") or not isinstance(m, float) or not isinstance(u, float):
                continue
            level["u_probability"] = min(max((u - prior * m) / (1.0 - prior), min(floor, u)), 1.0)
    return out


def _cluster(con: duckdb.DuckDBPyConnection, settings: LinkSettings, decisions: list[Decision] | tuple[Decision, ...],
             has_pinyin: bool) -> tuple[pa.Table, pa.Table]:
    upper = float(settings.upper)
    duck.run(con, "CREATE OR REPLACE TEMP TABLE decided (l BIGINT, r BIGINT, match BOOLEAN)")
    if decisions:
        con.register("decisions_in", pa.table({"l": [min(d.left, d.right) for d in decisions],
                                               "r": [max(d.left, d.right) for d in decisions],
                                               "match": [d.match for d in decisions]}))
        duck.run(con, "INSERT INTO decided SELECT * FROM decisions_in")
        con.unregister("decisions_in")
    # Links the scores make, less those a reviewer refused.
    duck.run(con, f"""
        CREATE OR REPLACE TEMP TABLE strong AS
        SELECT least(p.l, p.r) AS l, greatest(p.l, p.r) AS r, p.p FROM pairs p
        WHERE p.p >= {upper} AND NOT EXISTS (
            SELECT 1 FROM decided d WHERE NOT d.match AND d.l = least(p.l, p.r) AND d.r = greatest(p.l, p.r))""")  # noqa: S608
    same_name = "a.pinyin = b.pinyin" if has_pinyin else "a.name = b.name"
    duck.run(con, f"""
        INSERT INTO strong SELECT a.unique_id, b.unique_id, {CONTEXT_PROBABILITY} FROM m a
        JOIN m b ON a.context = b.context AND {same_name} AND a.unique_id < b.unique_id
        WHERE (a.anchor IS NULL OR b.anchor IS NULL) AND NOT EXISTS (
            SELECT 1 FROM decided d WHERE NOT d.match AND d.l = a.unique_id AND d.r = b.unique_id)""")  # noqa: S608
    # 1. Groups of unanchored mentions joined by strong links among themselves.
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE loose_label AS
        SELECT unique_id, unique_id AS label FROM m WHERE anchor IS NULL""")
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE loose_edges AS
        SELECT s.l, s.r FROM strong s JOIN m a ON a.unique_id = s.l JOIN m b ON b.unique_id = s.r
        WHERE a.anchor IS NULL AND b.anchor IS NULL""")
    _propagate(con, "loose_label", "loose_edges")
    # 2. Each such group joins the anchor it is most probably linked to.
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE group_anchor AS
        SELECT label, arg_max(anchor, p) AS anchor, max(p) AS p FROM (
            SELECT ll.label, m.anchor, s.p
            FROM (SELECT l AS a, r AS b, p FROM strong UNION ALL SELECT r, l, p FROM strong) s
            JOIN loose_label ll ON ll.unique_id = s.a JOIN m ON m.unique_id = s.b
            WHERE m.anchor IS NOT NULL) GROUP BY label""")
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE best AS
        SELECT id, max(p) AS p FROM (SELECT l AS id, p FROM strong UNION ALL SELECT r, p FROM strong) GROUP BY id""")
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE assigned AS
        SELECT m.unique_id,
               coalesce(m.anchor, ga.anchor, 'L:' || CAST(ll.label AS VARCHAR)) AS label,
               CASE WHEN m.anchor IS NOT NULL THEN 'key' WHEN best.p IS NOT NULL THEN 'score' ELSE 'alone' END
                   AS linked_by,
               best.p AS probability
        FROM m LEFT JOIN loose_label ll USING (unique_id) LEFT JOIN group_anchor ga ON ga.label = ll.label
        LEFT JOIN best ON best.id = m.unique_id""")
    # 3. Reviewers' matches join whole clusters.
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE label_edges AS
        SELECT a.label AS l, b.label AS r FROM decided d
        JOIN assigned a ON a.unique_id = d.l JOIN assigned b ON b.unique_id = d.r
        WHERE d.match AND a.label <> b.label""")
    if duck.run(con, "SELECT count(*) FROM label_edges")[0][0]:
        duck.run(con, """CREATE OR REPLACE TEMP TABLE label_label AS
                       SELECT DISTINCT label AS unique_id, label FROM assigned""")
        _propagate(con, "label_label", "label_edges")
        duck.run(con, """
            UPDATE assigned SET label = ll.label, linked_by = CASE WHEN assigned.label <> ll.label
                OR assigned.unique_id IN (SELECT l FROM decided WHERE match UNION SELECT r FROM decided WHERE match)
                THEN 'review' ELSE assigned.linked_by END
            FROM label_label ll WHERE ll.unique_id = assigned.label""")
    clusters = con.sql("""
        SELECT unique_id AS mention_id, CAST(dense_rank() OVER (ORDER BY label) AS BIGINT) AS cluster,
               linked_by, probability
        FROM assigned ORDER BY unique_id""").to_arrow_table()
    review = con.sql(f"""
        SELECT least(p.l, p.r) AS "left", greatest(p.l, p.r) AS "right", p.p AS probability, p.evidence
        FROM pairs p JOIN assigned a ON a.unique_id = p.l JOIN assigned b ON b.unique_id = p.r
        WHERE p.p < {upper} AND a.label <> b.label
          AND NOT EXISTS (SELECT 1 FROM decided d WHERE d.l = least(p.l, p.r) AND d.r = greatest(p.l, p.r))
        ORDER BY abs(p.p - 0.5), "left", "right" """).to_arrow_table()  # noqa: S608
    return clusters, review


def _propagate(con: duckdb.DuckDBPyConnection, labels: str, edges: str) -> None:
    """Connected components: every node takes the smallest label among its neighbours until none changes."""
    while True:
        changed = duck.run(con, f"""
            WITH candidate AS (
                SELECT x.unique_id, min(y.label) AS label FROM (
                    SELECT l AS unique_id, r AS other FROM {edges} UNION ALL SELECT r, l FROM {edges}) x
                JOIN {labels} y ON y.unique_id = x.other GROUP BY x.unique_id)
            UPDATE {labels} SET label = c.label FROM candidate c
            WHERE c.unique_id = {labels}.unique_id AND c.label < {labels}.label""")[0]  # noqa: S608
        if not changed or not changed[0]:
            return


def model_json(result: LinkResult) -> str:
    return json.dumps(result.model, ensure_ascii=False)
