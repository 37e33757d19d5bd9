"""Standardise the columns of an ingested table: one call for a whole file, in DuckDB, exact to the Python standards.

The functions in :mod:`govlink.standards` say what every value means; they are too slow to call per row of
a million-row file. So each attribute has a SQL fast path (:mod:`govlink.ingest.standardise_sql`) that
decides the common, well-formed values in bulk, and the Python function is called once per *distinct*
value the SQL leaves undecided. The result is the same as calling the Python function on every cell.

Columns whose values are mostly unique (ID numbers, phones) run through SQL row by row; the others are
first reduced to their distinct values, which SQL and Python then see once each.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govlink.ingest import standardise_sql as sql
from govlink.standards.addresses import AddressError, parse_address
from govlink.standards.credit_code import CreditCodeError, parse_credit_code
from govlink.standards.dates import DateError, parse_date
from govlink.standards.gender import GenderError, parse_gender
from govlink.standards.id_number import Gender, IdNumberError, parse_id_number
from govlink.standards.names import normalise_enterprise_name, normalise_person_name
from govlink.standards.phones import PhoneError, parse_phone
from govlink.standards.text import squeeze_spaces, to_halfwidth

REQUIRED_MISSING = "required.missing"
# GB/T 2261.1 codes, the form in which gender leaves ingestion.
GENDER_CODES = {Gender.MALE: "1", Gender.FEMALE: "2"}


@dataclass(frozen=True)
class ColumnRule:
    """Standardise ``column`` of the input table as ``attribute``; ``required`` makes an empty cell a problem."""

    column: str
    attribute: str  # a key of ATTRIBUTES: id_number, uscc, phone, date, gender, person_name, ...
    required: bool = False


@dataclass(frozen=True)
class Standardised:
    """The standardised table and what was wrong with the input.

    ``values`` has the input's rows in the input's order: per rule the column ``rule.column`` (the
    standardised text, null when empty or invalid) and the derived columns ``f"{rule.column}#{part}"``.
    ``problems`` has one row per invalid or missing-required cell: ``row`` (0-based), ``column``,
    ``reason`` (the standardiser's error code, or ``required.missing``) and ``message``.
    """

    values: pa.Table
    problems: pa.Table


@dataclass(frozen=True)
class Outcome:
    """The per-value Python result: the outputs (all None when missing or invalid) and why it was refused."""

    values: tuple[str | None, ...]
    reason: str | None = None
    message: str | None = None


# --- the per-value Python path: the single source of truth -----------------------------------------------------


def _id_number(raw: str, today: dt.date) -> Outcome:
    try:
        parsed = parse_id_number(raw, today=today)
    except IdNumberError as error:
        return Outcome((None,) * 4, error.code, str(error))
    return Outcome((parsed.value, parsed.birth_date.isoformat(), GENDER_CODES[parsed.gender], parsed.area_code))


def _credit_code(raw: str, today: dt.date) -> Outcome:
    try:
        return Outcome((parse_credit_code(raw).value,))
    except CreditCodeError as error:
        return Outcome((None,), error.code, str(error))


def _phone(raw: str, today: dt.date) -> Outcome:
    try:
        return Outcome((parse_phone(raw).value,))
    except PhoneError as error:
        return Outcome((None,), error.code, str(error))


def _gender(raw: str, today: dt.date) -> Outcome:
    try:
        return Outcome((GENDER_CODES[parse_gender(raw)],))
    except GenderError as error:
        return Outcome((None,), error.code, str(error))


_ISO_LENGTH = {"day": 10, "month": 7, "year": 4}


def _date(raw: str, today: dt.date) -> Outcome:
    try:
        parsed = parse_date(raw, today=today)
    except DateError as error:
        return Outcome((None, None), error.code, str(error))
    return Outcome((parsed.value.isoformat()[: _ISO_LENGTH[parsed.precision]], parsed.precision))


def _address(raw: str, today: dt.date) -> Outcome:
    try:
        a = parse_address(raw)
    except AddressError as error:
        return Outcome((None,) * len(sql.ADDRESS_OUTPUTS), error.code, str(error))
    return Outcome((a.normalised, a.province, a.city, a.district, a.street, a.road, a.number, a.building, a.unit,
                    a.room, a.rest))


def normalise_text(raw: str) -> str:
    """Free text as compared and stored: NFC, half-width, white space squeezed to single spaces."""
    return squeeze_spaces(to_halfwidth(unicodedata.normalize("NFC", raw)))


@dataclass(frozen=True)
class Attribute:
    """How one attribute is standardised: its outputs, its Python reference and its SQL fast path."""

    outputs: tuple[str, ...]  # "value" first; the others become f"{column}#{output}"
    python: Callable[[str, dt.date], Outcome]
    sql: sql.Builder
    per_row: bool = False  # values mostly unique, so reducing them to distinct values first would not pay


ATTRIBUTES: dict[str, Attribute] = {
    "id_number": Attribute(("value", "birth_date", "gender", "area"), _id_number, sql.id_number, per_row=True),
    "uscc": Attribute(("value",), _credit_code, sql.credit_code),
    "phone": Attribute(("value",), _phone, sql.phone, per_row=True),
    "date": Attribute(("value", "precision"), _date, sql.date),
    "gender": Attribute(("value",), _gender, sql.gender),
    "person_name": Attribute(("value",), lambda raw, _: Outcome((normalise_person_name(raw),)), sql.person_name),
    "enterprise_name": Attribute(
        ("value",), lambda raw, _: Outcome((normalise_enterprise_name(raw),)), sql.enterprise_name
    ),
    "address": Attribute(sql.ADDRESS_OUTPUTS, _address, sql.address),
    "text": Attribute(("value",), lambda raw, _: Outcome((normalise_text(raw),)), sql.free_text),
}


def standardise_value(attribute: str, raw: str | None, *, today: dt.date | None = None) -> Outcome:
    """One value through the Python standardiser, as :func:`standardise` would treat it (empty → all None)."""
    spec = ATTRIBUTES[attribute]
    if raw is None or not raw.strip():
        return Outcome((None,) * len(spec.outputs))
    return spec.python(raw, today or dt.date.today())


# --- the bulk path ---------------------------------------------------------------------------------------------

# Rows per Arrow batch handed to DuckDB: it scans batches in parallel, so even 50,000 distinct values use every core.
BATCH_ROWS = 16_384


@dataclass(frozen=True)
class _Decided:
    """One rule's results for some list of values (the rows, or the distinct values of a column)."""

    outputs: list[pa.Array]
    state: pa.Array  # null: valid or missing; "?": undecided; else the reason code
    message: pa.Array


@dataclass(frozen=True)
class _RuleResult:
    """One rule's results over the table's rows."""

    outputs: list[pa.Array]
    invalid: np.ndarray  # rows with a problem, ascending
    reasons: pa.Array  # aligned with invalid
    messages: pa.Array
    missing: np.ndarray  # rows without a value


def standardise(table: pa.Table, rules: Sequence[ColumnRule], *, today: dt.date | None = None) -> Standardised:
    """Standardise the ruled columns of ``table`` exactly as the per-value Python standardisers would.

    Every rule adds its value column and derived columns to ``values`` (same rows, same order as
    ``table``); invalid cells and empty required cells become rows of ``problems``. ``today`` bounds
    dates and birth dates (default: the current date). Raises ValueError naming an unknown column or
    attribute, or a column ruled twice.
    """
    today = today or dt.date.today()
    _check_rules(table, rules)
    texts = {rule.column: _as_text(table.column(rule.column)) for rule in rules}
    by_row = [(i, rule) for i, rule in enumerate(rules) if ATTRIBUTES[rule.attribute].per_row]
    by_distinct = [(i, rule) for i, rule in enumerate(rules) if not ATTRIBUTES[rule.attribute].per_row]
    results: dict[int, _RuleResult] = {}
    database = duckdb.connect()
    # The row-by-row query keeps DuckDB's threads busy while the distinct-value columns (mostly single-threaded
    # Arrow work) run beside it; each task has its own cursor, as a DuckDB connection serves one query at a time.
    with database, ThreadPoolExecutor(max_workers=2) as pool:
        rows = pool.submit(_standardise_rows, database.cursor(), texts, by_row, today) if by_row else None
        distinct = {i: pool.submit(_standardise_distinct, database.cursor(), texts[rule.column], rule.attribute, today)
                    for i, rule in by_distinct}
        results.update(rows.result() if rows else {})
        results.update({i: future.result() for i, future in distinct.items()})
    return Standardised(_values(rules, results, table.num_rows), _problems(rules, results))


def _standardise_rows(
    cursor: duckdb.DuckDBPyConnection, texts: dict[str, pa.Array], rules: list[tuple[int, ColumnRule]], today: dt.date
) -> dict[int, _RuleResult]:
    """The rules whose values are mostly unique, in one query row by row; Python sees each undecided value once."""
    with cursor:
        source = pa.table({f"c{i}": texts[rule.column] for i, rule in rules})
        decided = _fast_path(cursor, source, [(f"c{i}", rule.attribute) for i, rule in rules], today)
    return {i: _by_row(_resolve(texts[rule.column], column, rule.attribute, today))
            for (i, rule), column in zip(rules, decided, strict=True)}


def _standardise_distinct(
    cursor: duckdb.DuckDBPyConnection, text: pa.Array, attribute: str, today: dt.date
) -> _RuleResult:
    """Decide each distinct value once, by SQL or else by Python, then spread the results over its rows."""
    encoded = pc.dictionary_encode(text)
    with cursor:
        (column,) = _fast_path(cursor, pa.table({"c": encoded.dictionary}), [("c", attribute)], today)
    return _by_distinct(_resolve(encoded.dictionary, column, attribute, today), encoded.indices)


def _check_rules(table: pa.Table, rules: Sequence[ColumnRule]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.attribute not in ATTRIBUTES:
            raise ValueError(f"rule for {rule.column!r}: unknown attribute {rule.attribute!r}; "
                             f"expected one of {', '.join(ATTRIBUTES)}")
        if rule.column not in table.column_names:
            raise ValueError(f"rule for {rule.column!r}: the table has no such column "
                             f"(it has {', '.join(table.column_names)})")
        if rule.column in seen:
            raise ValueError(f"column {rule.column!r} has two rules; give each column one attribute")
        seen.add(rule.column)


def _as_text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The column as one string array: what both SQL and Python read (numbers become their decimal text)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return array if array.type == pa.string() else pc.cast(array, pa.string())


def _fast_path(
    connection: duckdb.DuckDBPyConnection, source: pa.Table, columns: list[tuple[str, str]], today: dt.date
) -> list[_Decided]:
    """Run the SQL fast paths of ``columns`` ((source column, attribute) pairs) over ``source`` in one query."""
    specs = [(f"r{k}", column, ATTRIBUTES[attribute].sql) for k, (column, attribute) in enumerate(columns)]
    query, names = sql.compose("source", specs, today)
    connection.register("source", pa.Table.from_batches(source.to_batches(max_chunksize=BATCH_ROWS), source.schema))
    result = connection.sql(query).to_arrow_table()
    decided = []
    for (_, attribute), group in zip(columns, names, strict=True):
        arrays = [_as_text(result.column(name)) for name in group]
        if len(arrays) - 2 != len(ATTRIBUTES[attribute].outputs):
            raise AssertionError(f"the SQL for {attribute} gives {group}, expected {ATTRIBUTES[attribute].outputs}")
        decided.append(_Decided(arrays[:-2], arrays[-2], arrays[-1]))
    return decided


def _resolve(raw: pa.Array, column: _Decided, attribute: str, today: dt.date) -> _Decided:
    """Fill in what SQL left undecided by calling the Python standardiser once per distinct such value."""
    undecided = pc.fill_null(pc.equal(column.state, sql.UNDECIDED), False)
    if not pc.any(undecided).as_py():
        return column
    raws = pc.filter(raw, undecided)
    distinct = pc.unique(raws)
    outcomes = [ATTRIBUTES[attribute].python(value, today) for value in distinct.to_pylist()]
    positions = pc.index_in(raws, distinct)

    def spread(values: list[str | None], into: pa.Array) -> pa.Array:
        return pc.replace_with_mask(into, undecided, pc.take(pa.array(values, pa.string()), positions))

    outputs = [spread([o.values[k] for o in outcomes], old) for k, old in enumerate(column.outputs)]
    return _Decided(outputs, spread([o.reason for o in outcomes], column.state),
                    spread([o.message for o in outcomes], column.message))


def _rows(mask: pa.Array) -> np.ndarray:
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _by_row(column: _Decided) -> _RuleResult:
    invalid = _rows(pc.is_valid(column.state))
    missing = _rows(pc.and_(pc.is_null(column.state), pc.is_null(column.outputs[0])))
    return _RuleResult(column.outputs, invalid, pc.take(column.state, invalid), pc.take(column.message, invalid),
                       missing)


def _by_distinct(column: _Decided, indices: pa.Array) -> _RuleResult:
    """Spread results for distinct values over the rows whose ``indices`` point at them (null: no value)."""
    outputs = [pa.DictionaryArray.from_arrays(indices, output).dictionary_decode() for output in column.outputs]
    invalid = _rows(pc.take(pc.is_valid(column.state), indices))
    at = pc.take(indices, invalid)
    absent = pc.and_(pc.is_null(column.state), pc.is_null(column.outputs[0]))
    missing = _rows(pc.fill_null(pc.take(absent, indices), True))
    return _RuleResult(outputs, invalid, pc.take(column.state, at), pc.take(column.message, at), missing)


def _values(rules: Sequence[ColumnRule], results: dict[int, _RuleResult], rows: int) -> pa.Table:
    arrays: dict[str, pa.Array] = {}
    for i, rule in enumerate(rules):
        for output, array in zip(ATTRIBUTES[rule.attribute].outputs, results[i].outputs, strict=True):
            arrays[rule.column if output == "value" else f"{rule.column}#{output}"] = array
    if not arrays:  # no rules: a table of no columns that still has the input's rows
        return pa.table({"_": pa.nulls(rows)}).drop_columns(["_"])
    return pa.table(arrays)


PROBLEM_SCHEMA = pa.schema([("row", pa.int64()), ("column", pa.string()), ("reason", pa.string()),
                            ("message", pa.string())])


def _problems(rules: Sequence[ColumnRule], results: dict[int, _RuleResult]) -> pa.Table:
    """Invalid cells with the standardiser's reason and message, and empty required cells; by row, then rule."""
    rows, order, columns, reasons, messages = [], [], [], [], []
    for i, rule in enumerate(rules):
        result = results[i]
        found = [(result.invalid, result.reasons, result.messages)]
        if rule.required:
            empty = len(result.missing)
            message = f"{rule.column} is required but this row has no value; fill it in at the source"
            found.append((result.missing, pa.array([REQUIRED_MISSING] * empty, pa.string()),
                          pa.array([message] * empty, pa.string())))
        for where, reason, text in found:
            rows.append(where.astype(np.int64))
            order.append(np.full(len(where), i, dtype=np.int64))
            columns.append(pa.array([rule.column] * len(where), pa.string()))
            reasons.append(reason)
            messages.append(text)
    if not rows:
        return PROBLEM_SCHEMA.empty_table()
    row, rule_order = np.concatenate(rows), np.concatenate(order)
    table = pa.table([pa.array(row), pa.concat_arrays(columns), pa.concat_arrays(reasons),
                      pa.concat_arrays(messages)], schema=PROBLEM_SCHEMA)
    return table.take(pa.array(np.lexsort((rule_order, row))))
