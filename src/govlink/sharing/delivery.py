"""The masked query over a resource's published data, under a grant or an unconditional share.

A call names its purpose, the items it wants (within the grant), filters on items (within the grant's row
scope, which is always ANDed), a sort and a cursor.  Anything outside the grant's items, rows, purpose or
time is refused and the refusal is on the log; a permitted call's log entry is written before the rows are
returned (fail closed).  Values are shown by their default display (张*三, 138****5678 …) except the items the
grant names in full.

Rows are read through :func:`govlink.ingest.service.read_version_columns` a column at a time and queried in
DuckDB.  A version never changes once written, so its columns are kept in memory (within a byte budget) and
a query costs a DuckDB scan, not a database read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from govlink.accounts.actor import Actor
from govlink.catalog import service as catalog
from govlink.catalog.models import Resource
from govlink.catalog.vocabulary import ShareType, Status
from govlink.db.base import utcnow
from govlink.ingest import service as ingest
from govlink.ingest.models import DataVersion
from govlink.kit import duck
from govlink.kit.canonical import canonical_json
from govlink.kit.errors import Conflict, InvalidInput, NotFound
from govlink.sharing import pseudonyms
from govlink.sharing.models import Grant
from govlink.sharing.policy import filters_refusal, is_masked, items_refusal, mask_item, same_purpose
from govlink.sharing.schemas import MAX_LIMIT, QueryPage, RowCondition, SortKey
from govlink.sharing.service import department_code, forbid, is_active
from govlink.transparency.service import LogEvent, record

CACHE_BYTES = 256 << 20  # columns of published versions kept in memory, at most
JOIN_KEY = "_join_key"
SYSTEM_FIELDS = ("_record", "_accepted")
SUBJECT_KEYS = {"person": "person.id_number", "enterprise": "enterprise.uscc"}


@dataclass(frozen=True)
class Access:
    """What a call may read: under a grant, an unconditional share, or its own department's data."""

    basis: str  # grant | unconditional | own
    grant: Grant | None
    items: tuple[str, ...]
    unmasked: frozenset[str]
    scope: tuple[RowCondition, ...]


# --- which access applies -------------------------------------------------------------------------------------


def _resolve(session: Session, actor: Actor, resource: Resource, purpose: str, grant_id: int | None,
             now: dt.datetime, context: dict[str, Any]) -> Access:
    everything = tuple(i.name for i in resource.items)
    if actor.department_id is None:
        forbid(session, actor, "department", "shared data is read by a department's officials", context)
    if grant_id is None and actor.department_id == resource.department_id:
        full = frozenset(everything) if ingest.may_read_rows(actor, resource) else frozenset()
        return Access("own", None, everything, full, ())
    if grant_id is not None:
        grant = session.get(Grant, grant_id)
        if grant is None:
            raise NotFound(f"no grant {grant_id}", field="grant")
        _check_grant(session, actor, resource, grant, purpose, now, context)
    else:
        held = session.scalars(select(Grant).where(Grant.department_id == actor.department_id,
                                                   Grant.resource_id == resource.id).order_by(Grant.id.desc())).all()
        in_force = [g for g in held if is_active(g, now)]
        fitting = [g for g in in_force if same_purpose(purpose, g.purpose)]
        if not fitting:
            if resource.share_type == ShareType.UNCONDITIONAL:
                return Access("unconditional", None, everything, frozenset(), ())
            if in_force:
                forbid(session, actor, "purpose", "the department's grants for this resource are for another "
                       "purpose; request one for this purpose", context)
            why = ("the resource is not shared (不予共享) without a coordinated grant"
                   if resource.share_type == ShareType.NONE else
                   "the resource is shared on conditions (有条件共享): request it first")
            forbid(session, actor, "no_grant", why, context)
        grant = fitting[0]
    return Access("grant", grant, tuple(grant.items), frozenset(grant.unmasked_items),
                  tuple(RowCondition.model_validate(c) for c in grant.row_scope))


def _check_grant(session: Session, actor: Actor, resource: Resource, grant: Grant, purpose: str, now: dt.datetime,
                 context: dict[str, Any]) -> None:
    if grant.department_id != actor.department_id:
        forbid(session, actor, "department", f"grant {grant.id} belongs to another department", context)
    if grant.resource_id != resource.id:
        forbid(session, actor, "resource", f"grant {grant.id} is not for resource {resource.code}", context)
    if grant.revoked_at is not None:
        forbid(session, actor, "revoked", f"grant {grant.id} was revoked: {grant.revoke_reason}", context)
    if not grant.valid_from <= now < grant.valid_until:
        forbid(session, actor, "expired", f"grant {grant.id} is valid from {grant.valid_from:%Y-%m-%d %H:%M} until "
               f"{grant.valid_until:%Y-%m-%d %H:%M} (UTC)", context)
    if not same_purpose(purpose, grant.purpose):
        forbid(session, actor, "purpose", f"grant {grant.id} is for the purpose {grant.purpose!r}", context)


# --- the published columns ---------------------------------------------------------------------------------------


class ColumnCache:
    """Columns of published versions, by version and field, least recently used first out."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._columns: OrderedDict[tuple[str, str, str, str], pa.ChunkedArray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def table(self, session: Session, version: DataVersion, fields: Sequence[str]) -> pa.Table:
        """``_record``, ``_accepted`` and ``fields`` of every record of ``version``, in record order."""
        # A table name is reused when the transaction that made it rolled back (SQLite); its moment of creation
        # and content hash are not.
        key = (version.table_name, version.created_at.isoformat(), version.content_hash)
        wanted = list(dict.fromkeys(["_record", "_accepted", *fields]))
        with self._lock:
            found = {f: self._columns.get((*key, f)) for f in wanted}
            for f in wanted:
                if found[f] is not None:
                    self._columns.move_to_end((*key, f))
        missing = [f for f in wanted if found[f] is None]
        if missing:  # every read is in record order, so columns read at different times line up
            read = ingest.read_version_columns(session, version, [f for f in missing if f not in SYSTEM_FIELDS])
            with self._lock:
                for name in missing:
                    found[name] = column = read.column(name)
                    if (*key, name) not in self._columns:
                        self._columns[(*key, name)] = column
                        self._bytes += column.nbytes
                while self._bytes > self.budget and self._columns:
                    _, dropped = self._columns.popitem(last=False)
                    self._bytes -= dropped.nbytes
        return pa.table({f: found[f] for f in wanted})


COLUMNS = ColumnCache()
_DUCK = duckdb.connect()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _where(conditions: Sequence[RowCondition], fields: dict[str, str]) -> tuple[str, list[Any]]:
    clauses: list[str] = ["_accepted = 1"]
    parameters: list[Any] = []
    for condition in conditions:
        column = _quote(fields[condition.item])
        if condition.op == "in":
            clauses.append(f"list_contains(?, {column})")
            parameters.append(list(condition.values))
        else:
            clauses.append("(" + " OR ".join(f"starts_with({column}, ?)" for _ in condition.values) + ")")
            parameters.extend(condition.values)
    return " AND ".join(clauses), parameters


# --- cursors ------------------------------------------------------------------------------------------------


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(canonical_json(parts)).hexdigest()[:16]


def _encode_cursor(version: int, offset: int, fingerprint: str) -> str:
    raw = json.dumps({"v": version, "o": offset, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, version: int, fingerprint: str) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        number, offset, query = int(decoded["v"]), int(decoded["o"]), str(decoded["q"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidInput("the cursor is not one this API gave out", field="cursor") from None
    if query != fingerprint:
        raise InvalidInput("the cursor belongs to another query: repeat the query it came from", field="cursor")
    if number != version:
        raise Conflict(f"version {version} of the data was published since the cursor was given: start again "
                       "without a cursor", field="cursor", code="stale_cursor")
    if offset < 0:
        raise InvalidInput("the cursor is not one this API gave out", field="cursor")
    return offset


# --- the query ------------------------------------------------------------------------------------------------


def query(session: Session, actor: Actor, code: str, *, purpose: str, items: Sequence[str] | None = None,
          filters: Sequence[RowCondition] = (), sort: Sequence[SortKey] = (), cursor: str | None = None,
          limit: int = 100, grant_id: int | None = None, join_key_secret: bytes | None = None,
          now: dt.datetime | None = None) -> QueryPage:
    """A page of ``code``'s published rows as the actor may see them, logged before it is returned.

    ``join_key_secret`` (the platform's pseudonym secret) adds ``_join_key``: the department's pseudonym of
    each row's subject (its ID number or credit code), for matching without the number itself.
    """
    now = now or utcnow()
    if not purpose.strip():
        raise InvalidInput("name the purpose of the call: every use of shared data states it", field="purpose")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit is between 1 and {MAX_LIMIT}", field="limit")
    resource = catalog.resource_by_code(session, actor, code)
    if resource.status != Status.PUBLISHED:
        raise Conflict(f"resource {code} is not published", field="code")
    # What the log keeps of the call: filter values may be personal (an ID number), so only their number.
    context: dict[str, Any] = {"resource": code, "grant": grant_id, "purpose": purpose.strip(),
                               "items": list(items or []),
                               "filters": [{"item": f.item, "op": f.op, "values": len(f.values)} for f in filters]}
    access = _resolve(session, actor, resource, purpose, grant_id, now, context)
    context["grant"] = access.grant.id if access.grant else None
    chosen = list(dict.fromkeys(items)) if items else list(access.items)
    subject_item = _subject_item(resource) if join_key_secret is not None else None
    refusal = (items_refusal(chosen, access.items) or items_refusal((s.item for s in sort), access.items)
               or filters_refusal(filters, access.scope, access.items))
    if refusal is None and join_key_secret is not None and (subject_item is None or
                                                            subject_item not in access.items):
        refusal = "items", "a join key is made from the subject's ID number or credit code, which the grant lacks"
    if refusal is not None:
        forbid(session, actor, refusal[0], refusal[1], context)

    version = ingest.published_version(session, resource)
    if version is None:
        raise NotFound(f"resource {code} has no published data yet", field="code")
    columns = _Columns.of(version)
    absent = [i for i in chosen if i not in columns.described] if items else []
    if absent:
        raise InvalidInput(f"the published data has no item {absent[0]!r}", field="items")
    chosen = [i for i in chosen if i in columns.described]
    unscoped = [c.item for c in access.scope if c.item not in columns.described]
    if unscoped:  # fail closed: a row scope that cannot be applied lets no row through
        raise Conflict(f"the grant's row scope names {unscoped[0]!r}, which the published data lacks; the provider "
                       "must publish it or the grant be changed", field="grant")
    fingerprint = _fingerprint(code, context["grant"], chosen, [f.model_dump(mode="json") for f in filters],
                               [s.model_dump() for s in sort], subject_item)
    offset = _decode_cursor(cursor, version.number, fingerprint) if cursor else 0
    selected = [columns.shown[i] for i in chosen] + ([columns.compare[subject_item]] if subject_item else [])
    total, page = _run(session, version, columns, [*access.scope, *filters], sort, selected, limit, offset)

    rows = _display(chosen, columns, page, access.unmasked)
    if subject_item and join_key_secret is not None:
        key = pseudonyms.department_key(join_key_secret, department_code(session, actor.department_id) or "")
        for row, value in zip(rows, page.column(columns.compare[subject_item]).to_pylist(), strict=True):
            row[JOIN_KEY] = pseudonyms.pseudonym(key, resource.subject_type, value) if value else None
    masked = [i for i in chosen if i not in access.unmasked and
              is_masked(columns.described[i]["semantic_type"], bool(columns.described[i].get("personal")))]
    record(session, LogEvent(kind="sharing.read", actor=actor.username,
                             department=department_code(session, actor.department_id),
                             details={**context, "basis": access.basis, "version": version.number,
                                      "items": chosen, "unmasked": [i for i in chosen if i not in masked],
                                      "offset": offset, "rows": len(rows), "join_key": subject_item is not None}))
    session.flush()
    following = offset + len(rows)
    return QueryPage(resource_code=code, version=version.number, grant_id=context["grant"], items=chosen,
                     masked=masked, total=total, rows=rows,
                     next_cursor=_encode_cursor(version.number, following, fingerprint) if following < total else None)


@dataclass(frozen=True)
class _Columns:
    """A version's stored columns by item: its descriptor, the field compared (filters and sorts match standard
    forms, so an ID number in any spelling), and the field shown (the open form)."""

    described: dict[str, dict[str, Any]]
    compare: dict[str, str]
    shown: dict[str, str]

    @classmethod
    def of(cls, version: DataVersion) -> _Columns:
        described = {c["item"]: c for c in version.columns if c["item"]}
        return cls(described, {i: d["standard"] or d["field"] for i, d in described.items()},
                   {i: d["standard"] if d["standard"] and d["rule"] in ingest.OPEN_STANDARD_RULES else d["field"]
                    for i, d in described.items()})


def _run(session: Session, version: DataVersion, columns: _Columns, conditions: Sequence[RowCondition],
         sort: Sequence[SortKey], selected: Sequence[str], limit: int, offset: int) -> tuple[int, pa.Table]:
    """The number of rows matching ``conditions`` and the page of them from ``offset``, scanned in DuckDB."""
    fields = [*selected, *(columns.compare[c.item] for c in conditions), *(columns.compare[s.item] for s in sort)]
    table = COLUMNS.table(session, version, fields)
    where, parameters = _where(conditions, columns.compare)
    order = ", ".join([*(f"{_quote(columns.compare[s.item])} {'DESC' if s.descending else 'ASC'} NULLS LAST"
                         for s in sort), "_record"])
    chosen = ", ".join(_quote(f) for f in dict.fromkeys(selected)) or "_record"
    connection = _DUCK.cursor()
    try:
        connection.register("v", table)
        total = int(duck.run(connection, f"SELECT count(*) FROM v WHERE {where}", parameters)[0][0])  # noqa: S608
        page = connection.sql(f"SELECT {chosen} FROM v WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
                              params=[*parameters, limit, offset]).to_arrow_table()
    finally:
        connection.close()
    return total, page


def _subject_item(resource: Resource) -> str | None:
    """The item holding the resource's subject key (the ID number of a person's record …), if declared."""
    wanted = SUBJECT_KEYS.get(resource.subject_type)
    return next((i.name for i in resource.items if wanted and i.semantic_type == wanted), None)


def _display(chosen: Sequence[str], columns: _Columns, page: pa.Table,
             unmasked: frozenset[str]) -> list[dict[str, Any]]:
    """The page's values by item, masked unless the grant names the item in full (a page at a time: bounded)."""
    values: dict[str, list[str | None]] = {}
    for item in chosen:
        shown = page.column(columns.shown[item]).to_pylist()
        if item not in unmasked:
            described = columns.described[item]
            shown = mask_item(described["semantic_type"], bool(described.get("personal")), shown)
        values[item] = shown
    return [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)] \
        if values else [{} for _ in range(page.num_rows)]
