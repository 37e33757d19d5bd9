"""Golden records: for each entity and attribute, the value of the most authoritative, then most recent source.

Which department is authoritative for which attribute is the admin's choice (``authority``), by default the
household register (公安) for a person's identity and market regulation (市场监管) for an enterprise's.  Within
equal authority the record's subject beats a role (a guardian's phone as the school typed it is weaker evidence
than the person's own record), a published record beats a quarantined one, and a newer version beats an older.
Every value carries the resources it came from; the values that lost are *conflicts* when they disagree on an
attribute that identifies (校核纠错: each goes to the steward of the department that holds it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa

from govlink.kit import duck

DEFAULT_AUTHORITY: dict[str, list[str]] = {
    "person.name": ["GA"], "person.id_number": ["GA"], "person.birth_date": ["GA"], "person.gender": ["GA"],
    "person.ethnicity": ["GA"], "person.household_id": ["GA"], "person.address": ["GA"],
    "enterprise.name": ["SC", "SW"], "enterprise.uscc": ["SC", "SW"], "enterprise.address": ["SC", "SW"],
    "enterprise.registered_on": ["SC"], "enterprise.status": ["SC"], "enterprise.legal_rep_name": ["SC"],
}
# Attributes on which two sources disagreeing is a mistake somewhere, not a life event worth no one's time.
CONFLICT_ATTRIBUTES = frozenset({"name", "id_number", "birth_date", "gender", "uscc", "address", "phone"})


def build_values(con: duckdb.DuckDBPyConnection, mentions: str, entity_type: str) -> None:
    """Table ``vals`` (label, attribute, value, resource_id, department_id, role, quarantined, published_at)
    from ``mentions``, a table with a ``label`` column and the mention columns."""
    code = "id_number" if entity_type == "person" else "uscc"
    features = ["name", "birth_date", "gender", "phone", "address"] if entity_type == "person" else ["name", "address"]
    union = " UNION ALL ".join(
        f"SELECT label, '{a}' AS attribute, {c} AS value, resource_id, department_id, role, quarantined, "  # noqa: S608
        f"published_at FROM {mentions} WHERE {c} IS NOT NULL"
        for a, c in [*((f, f) for f in features), (code, "code")])
    duck.run(con, f"""CREATE OR REPLACE TEMP TABLE vals AS {union} UNION ALL
        SELECT label, k AS attribute, json_extract_string(extra, '$."' || k || '"') AS value, resource_id,
               department_id, role, quarantined, published_at
        FROM (SELECT *, unnest(json_keys(extra)) AS k FROM {mentions} WHERE extra IS NOT NULL)""")  # noqa: S608
    duck.run(con, "DELETE FROM vals WHERE value IS NULL OR value = ''")


def choose(con: duckdb.DuckDBPyConnection, entity_type: str, authority: Mapping[str, Sequence[str]],
           departments: Mapping[int, str]) -> tuple[pa.Table, pa.Table]:
    """The golden record of every label (``label``, ``golden`` JSON text, ``name``, ``key``) and the conflicts
    (``label``, ``attribute``, ``chosen``, ``chosen_resource_id``, ``value``, ``resource_id``, ``department_id``)
    from table ``vals``."""
    ranks = [(entity_type + "." + attribute.split(".", 1)[1], code, rank)
             for attribute, codes in authority.items() if attribute.startswith(entity_type + ".")
             for rank, code in enumerate(codes)]
    con.register("authority_in", pa.table({"attribute": [a.split(".", 1)[1] for a, _, _ in ranks],
                                           "code": [c for _, c, _ in ranks],
                                           "rank": pa.array([r for _, _, r in ranks], pa.int32())}))
    con.register("departments_in", pa.table({"department_id": pa.array(list(departments), pa.int64()),
                                             "code": list(departments.values())}))
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE ranked AS
        SELECT v.label, v.attribute, v.value, list(DISTINCT v.resource_id ORDER BY v.resource_id) AS sources,
               min(coalesce(a.rank, 1000)) AS authority, max(CASE WHEN v.role = '' THEN 1 ELSE 0 END) AS subject,
               max(CASE WHEN v.quarantined THEN 0 ELSE 1 END) AS accepted, max(v.published_at) AS newest,
               count(*) AS n, min(v.resource_id) AS first_resource, arg_min(v.department_id, v.resource_id) AS dept
        FROM vals v LEFT JOIN departments_in d ON d.department_id = v.department_id
        LEFT JOIN authority_in a ON a.attribute = v.attribute AND a.code = d.code
        GROUP BY v.label, v.attribute, v.value""")
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE ordered AS
        SELECT *, row_number() OVER (PARTITION BY label, attribute
                                     ORDER BY authority, subject DESC, accepted DESC, newest DESC, n DESC, value) AS pos
        FROM ranked""")
    golden = con.sql("""
        WITH best AS (SELECT label, attribute, value, sources FROM ordered WHERE pos = 1),
        others AS (SELECT label, attribute, json_group_array(json_object('value', value, 'sources', sources)) AS others
                   FROM ordered WHERE pos > 1 GROUP BY label, attribute),
        per_attribute AS (
            SELECT b.label, b.attribute, json_object('value', b.value, 'sources', b.sources,
                                                      'others', coalesce(o.others, '[]'::JSON)) AS entry
            FROM best b LEFT JOIN others o USING (label, attribute))
        SELECT label, CAST(json_group_object(attribute, entry) AS VARCHAR) AS golden
        FROM per_attribute GROUP BY label""").to_arrow_table()
    conflicts = con.sql(f"""
        SELECT o.label, o.attribute, w.value AS chosen, w.first_resource AS chosen_resource_id, o.value,
               CAST(unnest(o.sources) AS BIGINT) AS resource_id
        FROM ordered o JOIN ordered w ON w.label = o.label AND w.attribute = o.attribute AND w.pos = 1
        WHERE o.pos > 1 AND o.attribute IN ({", ".join(f"'{a}'" for a in sorted(CONFLICT_ATTRIBUTES))})
    """).to_arrow_table()  # noqa: S608
    con.unregister("authority_in")
    con.unregister("departments_in")
    return golden, conflicts


def golden_value(golden: Mapping[str, object], attribute: str) -> str | None:
    """The chosen value of one attribute of a golden record (as stored), if it has one."""
    entry = golden.get(attribute)
    if isinstance(entry, dict):
        value = entry.get("value")
        return str(value) if value is not None else None
    return None


def parse(text: str | None) -> dict[str, object]:
    return json.loads(text) if text else {}
