"""From the rows a reader produced to the rows a version stores: mapped, standardised, validated, profiled.

No database here: the result is one Arrow table (originals beside standardised values, a row hash, the
subject's key and whether the record is accepted), the quarantined cells with their reasons, the content
hash that recognises a re-upload of identical data, and the version's quality report.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govlink.catalog.vocabulary import parse_semantic_type
from govlink.ingest.readers import Rejected
from govlink.ingest.standardise import ColumnRule, Standardised, standardise
from govlink.standards.credit_code import is_old_tax_id, parse_old_tax_id

# What a rule standardises an item as, by the attribute of its semantic type.
ATTRIBUTE_RULES = {
    "id_number": "id_number", "uscc": "uscc", "old_tax_id": "uscc", "phone": "phone", "birth_date": "date",
    "registered_on": "date", "gender": "gender", "address": "address", "legal_rep_name": "person_name",
}
# A record is quarantined when one of these is broken: the checks that make a value wrong rather than untidy.
QUARANTINING_RULES = frozenset({"id_number", "uscc", "date"})
REQUIRED_MISSING = "required.missing"
# What these standardisers derive is read off the standard value itself (an ID number's birth date, gender and
# area are its digits 7–14, 17 and 1–6; a date's precision is its length), so it is not stored again.
DERIVED_FROM_VALUE = frozenset({"id_number", "date"})
EXCEL_MANGLED = "excel.mangled"


@dataclass(frozen=True)
class ItemSpec:
    """The catalog's information item a file column is mapped to."""

    name: str
    semantic_type: str | None
    data_type: str
    required: bool
    personal: bool = False


@dataclass(frozen=True)
class Chunk:
    """What one slice of a file becomes: rows to store and the cells that quarantined some of them."""

    rows: pa.Table  # _record, _accepted, _hash, _raw, then c1 … cN and the s… columns
    quarantine: pa.Table  # record, column, reason, message


@dataclass(frozen=True)
class Summary:
    columns: list[dict[str, Any]]  # per file column: name, field, item, semantic_type, rule, standard, derived
    reasons: dict[str, int]  # reason → number of quarantined records with it
    content_hash: str
    quality: dict[str, Any]
    rows_read: int
    rows_accepted: int
    rows_quarantined: int


def rule_for(item: ItemSpec, subject: str) -> str | None:
    """How an item's values are standardised: by its semantic type, else by its data type, else not at all."""
    if item.semantic_type:
        semantic = parse_semantic_type(item.semantic_type)
        if semantic.attribute == "name":
            return "person_name" if semantic.entity == "person" else "enterprise_name"
        return ATTRIBUTE_RULES.get(semantic.attribute, "text")
    if item.data_type == "date":
        return "date"
    return "text" if item.required else None


def subject_key_item(items: Sequence[ItemSpec], subject: str) -> str | None:
    """The item whose standardised value identifies the row's subject (for diffs between versions)."""
    wanted = {"person": "person.id_number", "enterprise": "enterprise.uscc"}.get(subject)
    if wanted is None:
        return None
    return next((i.name for i in items if i.semantic_type == wanted), None)


class VersionBuilder:
    """Turns a file's records, a slice at a time, into a version's rows, so memory stays flat however big the
    file: standardised and validated per slice, while counts, the content hash and the quality report add up."""

    def __init__(self, columns: Sequence[str], mapping: Mapping[str, ItemSpec | None], *, subject: str,
                 declared_items: Sequence[ItemSpec] = (), mangled_columns: Sequence[str] = ()) -> None:
        self.names = list(columns)
        self.mapping = mapping
        self.declared = list(declared_items)
        self.mangled = set(mangled_columns)
        self.descriptors: list[dict[str, Any]] = []
        self.rules: list[ColumnRule] = []
        for position, column in enumerate(self.names, 1):
            item = mapping.get(column)
            rule = rule_for(item, subject) if item else None
            semantic = parse_semantic_type(item.semantic_type) if item and item.semantic_type else None
            self.descriptors.append({
                "name": column, "field": f"c{position}", "item": item.name if item else None,
                "semantic_type": str(semantic) if semantic else None, "rule": rule,
                "personal": bool(item and item.personal) or bool(semantic and semantic.is_personal),
                "standard": None, "parts": None, "derived": []})
            if rule is not None:
                self.rules.append(ColumnRule(column, rule, required=bool(item and item.required)))
        self._by_name = {d["name"]: d for d in self.descriptors}
        self._attributes = {r.column: r.attribute for r in self.rules}
        key_item = subject_key_item([i for i in mapping.values() if i], subject)
        self._key_column = next((d["name"] for d in self.descriptors if key_item and d["item"] == key_item), None)
        # The same records under another mapping are another version: the mapping is part of the content.
        self._digest = hashlib.sha256("\x1f".join(f"{d['name']}={d['item'] or ''}" for d in self.descriptors)
                                      .encode())
        # Every record's hash and key as 64-bit numbers (16 bytes a record, whatever its width), for counting
        # duplicates; a chance collision among 5 million records is a one-in-a-million event.
        self._seen = duckdb.connect()
        self._seen.execute("CREATE TABLE seen (h UBIGINT, k UBIGINT)")
        self._present: Counter[str] = Counter()
        self._valid: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._parsed = self._read = self._quarantined = 0

    def add(self, table: pa.Table) -> Chunk:
        """Standardise and validate a slice (text columns named as the file's, plus ``_record``)."""
        standardised = _accept_old_tax_ids(table, standardise(table, self.rules), self._attributes)
        arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
        parts: dict[str, list[tuple[str, pa.ChunkedArray]]] = {}
        for name in standardised.values.column_names:
            column, _, suffix = name.partition("#")
            descriptor = self._by_name[column]
            if suffix:
                if descriptor["rule"] not in DERIVED_FROM_VALUE:
                    parts.setdefault(column, []).append((suffix, standardised.values.column(name)))
            else:
                descriptor["standard"] = "s" + descriptor["field"][1:]
                arrays[descriptor["standard"]] = standardised.values.column(name)
        for column, derived in parts.items():
            descriptor = self._by_name[column]
            descriptor["parts"] = descriptor["standard"] + "_parts"
            descriptor["derived"] = [suffix for suffix, _ in derived]
            arrays[descriptor["parts"]] = _parts_json(arrays[descriptor["standard"]], derived)
        problems = _quarantinable(standardised.problems, self._attributes, self.mangled)
        size = table.num_rows
        bad = np.zeros(size, dtype=bool)
        if problems.num_rows:
            bad[problems.column("row").to_numpy()] = True
        records = table.column("_record")
        quarantine = pa.table({
            "record": pc.take(records, problems.column("row")), "column": problems.column("column"),
            "reason": problems.column("reason"), "message": problems.column("message")})
        hashes = _row_hashes(table, self.names)
        key_field = self._by_name[self._key_column]["standard"] if self._key_column else None
        keys = arrays[key_field] if key_field else pa.nulls(size, pa.string())
        rows = pa.table({
            "_record": records, "_accepted": pa.array((~bad).astype(np.int64)), "_hash": hashes,
            "_raw": pa.nulls(size, pa.string()),
            **{d["field"]: table.column(d["name"]) for d in self.descriptors}, **arrays,
        })
        self._count(rows, quarantine, hashes, keys)
        self._parsed += size
        self._read += size
        self._quarantined += int(bad.sum())
        return Chunk(rows, quarantine)

    def add_rejected(self, rejected: Sequence[Rejected], schema: pa.Schema) -> Chunk:
        """Records the reader could not split, kept whole in ``_raw`` and quarantined."""
        n = len(rejected)
        columns: dict[str, pa.Array] = {}
        for field in schema:
            if field.name == "_record":
                columns[field.name] = pa.array([r.record for r in rejected], pa.int64())
            elif field.name == "_accepted":
                columns[field.name] = pa.array(np.zeros(n, dtype=np.int64))
            elif field.name == "_raw":
                columns[field.name] = pa.array([r.raw for r in rejected], pa.string())
            elif field.name == "_hash":
                columns[field.name] = pa.array([hashlib.md5(r.raw.encode(), usedforsecurity=False).hexdigest()
                                                for r in rejected], pa.string())
            else:
                columns[field.name] = pa.nulls(n, field.type)
        rows = pa.table(columns, schema=schema)
        quarantine = pa.table({
            "record": pa.array([r.record for r in rejected], pa.int64()),
            "column": pa.array(["" for _ in rejected], pa.string()),
            "reason": pa.array([_reason_code(r.reason) for r in rejected], pa.string()),
            "message": pa.array([r.message for r in rejected], pa.string()),
        })
        self._count(rows, quarantine, rows.column("_hash"), pa.nulls(n, pa.string()))
        self._read += n
        self._quarantined += n
        return Chunk(rows, quarantine)

    def schema(self) -> pa.Schema:
        """The stored rows' schema (known once a slice has been added)."""
        fields = [pa.field("_record", pa.int64()), pa.field("_accepted", pa.int64())]
        fields += [pa.field(n, pa.string()) for n in ("_hash", "_raw")]
        fields += [pa.field(d["field"], pa.string()) for d in self.descriptors]
        for d in self.descriptors:
            fields += [pa.field(d[kind], pa.string()) for kind in ("standard", "parts") if d[kind]]
        return pa.schema(fields)

    def _count(self, rows: pa.Table, quarantine: pa.Table, hashes: pa.Array | pa.ChunkedArray,
               keys: pa.Array | pa.ChunkedArray) -> None:
        self._digest.update("".join(hashes.to_pylist()).encode())
        self._seen.register("chunk_seen", pa.table({"h": hashes, "k": keys}))
        self._seen.execute("INSERT INTO seen SELECT hash(h), CASE WHEN k IS NULL THEN NULL ELSE hash(k) END "
                           "FROM chunk_seen")
        self._seen.unregister("chunk_seen")
        pairs = set(zip(quarantine.column("record").to_pylist(), quarantine.column("reason").to_pylist(),
                        strict=True))
        self._reasons.update(reason for _, reason in pairs)
        for d in self.descriptors:
            values = rows.column(d["field"])
            present = pc.sum(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(pc.fill_null(values, ""))), 0))
            self._present[d["field"]] += int(present.as_py() or 0)
            if d["standard"] and d["standard"] in rows.column_names:
                self._valid[d["field"]] += rows.column(d["standard"]).length() - rows.column(d["standard"]).null_count

    def finish(self) -> Summary:
        """Counts, content hash and quality report of everything added."""
        duplicates = self._seen.execute(
            "SELECT count(*) - count(DISTINCT h), count(k) - count(DISTINCT k) FROM seen").fetchone()
        self._seen.close()
        assert duplicates is not None
        parsed = self._parsed or 1
        columns = []
        for d in self.descriptors:
            present = self._present[d["field"]]
            entry: dict[str, Any] = {"column": d["name"], "item": d["item"],
                                     "completeness": round(present / parsed, 4)}
            if d["standard"]:
                entry["validity"] = round(self._valid[d["field"]] / present, 4) if present else None
            columns.append(entry)
        mapped = {i.name for i in self.mapping.values() if i}
        quality = {
            "columns": columns, "duplicate_records": int(duplicates[0]), "duplicate_keys": int(duplicates[1]),
            "missing_items": [i.name for i in self.declared if i.name not in mapped],
            "unmapped_columns": [d["name"] for d in self.descriptors if d["item"] is None],
        }
        return Summary(columns=self.descriptors, reasons=dict(sorted(self._reasons.items())),
                       content_hash=self._digest.hexdigest(), quality=quality, rows_read=self._read,
                       rows_accepted=self._read - self._quarantined, rows_quarantined=self._quarantined)


def _accept_old_tax_ids(table: pa.Table, standardised: Standardised, attributes: Mapping[str, str]) -> Standardised:
    """A credit-code column may hold pre-2015 15-character tax IDs: valid, kept in their standard form (the
    registry maps them to unified codes), not quarantined."""
    problems = standardised.problems
    if problems.num_rows == 0:
        return standardised
    candidates = pc.equal(problems.column("reason"), "uscc.length").to_pylist()
    accepted: dict[str, dict[int, str]] = {}
    for index in (i for i, flag in enumerate(candidates) if flag):
        column, row = problems.column("column")[index].as_py(), problems.column("row")[index].as_py()
        raw = table.column(column)[row].as_py()
        if attributes.get(column) == "uscc" and raw and is_old_tax_id(raw):
            accepted.setdefault(column, {})[row] = parse_old_tax_id(raw)
    if not accepted:
        return standardised
    values = standardised.values
    keep = np.ones(problems.num_rows, dtype=bool)
    for column, found in accepted.items():
        standard = values.column(column).to_pylist()
        for row, tax_id in found.items():
            standard[row] = tax_id
        values = values.set_column(values.schema.get_field_index(column), column, pa.array(standard, pa.string()))
        rows = pc.is_in(problems.column("row"), pa.array(list(found), pa.int64())).to_numpy(zero_copy_only=False)
        keep &= ~(rows & (problems.column("column").to_numpy(zero_copy_only=False) == column))
    return Standardised(values=values, problems=problems.filter(pa.array(keep)))


def _parts_json(standard: pa.Array | pa.ChunkedArray, derived: Sequence[tuple[str, pa.ChunkedArray]]) -> pa.Array:
    """What a standardiser derives from a value (an ID number's birth date, gender and area; an address's
    parts), as one JSON object per value: one stored column instead of one per part."""
    connection = duckdb.connect()
    try:
        # Positional names: no name from the file reaches the SQL; the part names are the standardiser's.
        table = pa.table({"v": standard, **{f"p{i}": values for i, (_, values) in enumerate(derived)}})
        connection.register("derived", table)
        pairs = ", ".join(f"'{name}', nullif(p{i}, '')" for i, (name, _) in enumerate(derived)
                          if name.isidentifier())
        select = f"CASE WHEN v IS NULL THEN NULL ELSE CAST(json_object({pairs}) AS VARCHAR) END AS j"
        query = f"SELECT {select} FROM derived"  # noqa: S608 - our names only
        return connection.sql(query).to_arrow_table().column("j").combine_chunks()
    finally:
        connection.close()


def _quarantinable(problems: pa.Table, attributes: Mapping[str, str], mangled: set[str]) -> pa.Table:
    """The problems that quarantine a record; an Excel-mangled number is named as such."""
    if problems.num_rows == 0:
        return problems
    attribute = pa.array([attributes[c] for c in problems.column("column").to_pylist()])
    keep = pc.or_(pc.is_in(attribute, pa.array(sorted(QUARANTINING_RULES))),
                  pc.equal(problems.column("reason"), REQUIRED_MISSING))
    problems = problems.filter(keep)
    if not mangled or problems.num_rows == 0:
        return problems
    in_mangled = pc.and_(pc.is_in(problems.column("column"), pa.array(sorted(mangled))),
                         pc.not_equal(problems.column("reason"), REQUIRED_MISSING))
    reason = pc.if_else(in_mangled, EXCEL_MANGLED, problems.column("reason"))
    message = pc.if_else(in_mangled, "Excel kept only 15 digits of this number: export the column as text",
                         problems.column("message"))
    return problems.set_column(problems.schema.get_field_index("reason"), "reason", reason) \
        .set_column(problems.schema.get_field_index("message"), "message", message)


def _reason_code(kind: str) -> str:
    """A reader's reason as a code: DuckDB's ``TOO MANY COLUMNS`` → ``read.too_many_columns``."""
    code = kind.strip().lower().replace(" ", "_")
    return code if "." in code else f"read.{code}"


def _row_hashes(table: pa.Table, columns: Sequence[str]) -> pa.Array:
    """MD5 of each record's original values (a unit separator between them, a marker for missing ones)."""
    if not columns:
        return pa.array([hashlib.md5(b"", usedforsecurity=False).hexdigest()] * table.num_rows, pa.string())
    connection = duckdb.connect()
    try:
        # Positional names, so no name from the file ever reaches the SQL text.
        connection.register("source", table.select(list(columns)).rename_columns([f"c{i}" for i in
                                                                                  range(len(columns))]))
        parts = ", ".join(f"coalesce(c{i}, chr(30))" for i in range(len(columns)))
        query = f"SELECT md5(concat_ws(chr(31), {parts})) AS h FROM source"  # noqa: S608 - our identifiers only
        return connection.sql(query).to_arrow_table().column("h").combine_chunks()
    finally:
        connection.close()


