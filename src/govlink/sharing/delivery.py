"""The masked query over a resource's published data, under a grant or an unconditional share.

A call names its purpose, the items it wants (within the grant), filters on items (within the grant's row
scope, which is always ANDed), a sort and a cursor.  :func:`select_rows` is the one access check and
:func:`shown_rows` the one display of every delivery: the paged query here and the bulk export
(:mod:`govlink.sharing.export`) both go through them.  Anything outside the grant's items, rows, purpose or
time is refused and the refusal is on the log; a permitted call's log entry is written before the rows are
returned (fail closed).  Values are shown by their default display (张*三, 138****5678 …) except the items the
grant names in full.

Rows are read through :func:`govlink.ingest.service.read_version_columns` a column at a time and queried with
Arrow's compute kernels.  A version never changes once written, so its columns are kept in memory (within a
byte budget) and a query costs a vectorised scan, not a database read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import json
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from govlink.accounts.actor import Actor
from govlink.catalog import service as catalog
from govlink.catalog.models import Resource
from govlink.catalog.vocabulary import ShareType, Status
from govlink.db.base import utcnow
from govlink.ingest import service as ingest
from govlink.ingest.models import DataVersion
from govlink.kit.canonical import canonical_json
from govlink.kit.errors import Conflict, InvalidInput, NotFound
from govlink.registry import service as registry
from govlink.sharing import pseudonyms
from govlink.sharing.models import Grant
from govlink.sharing.policy import filters_refusal, is_masked, items_refusal, mask_item, same_purpose
from govlink.sharing.quotas import application_name
from govlink.sharing.schemas import MAX_LIMIT, QueryPage, RegistryPage, RowCondition, SortKey
from govlink.sharing.service import REGISTRY_ITEMS, department_code, forbid, is_active, refuse_unless_in_force
from govlink.transparency.service import LogEvent
from govlink.transparency.writer import record_committed

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


def grants_in_force(session: Session, department_id: int, now: dt.datetime, *, resource_id: int | None = None,
                    registry_view: str | None = None) -> list[Grant]:
    """The department's grants for a resource (or a registry view) in force at ``now``, newest first."""
    target = Grant.resource_id == resource_id if resource_id is not None else Grant.registry_view == registry_view
    held = session.scalars(select(Grant).where(Grant.department_id == department_id, target)
                           .order_by(Grant.id.desc())).all()
    return [g for g in held if is_active(g, now)]


def may_read(session: Session, department_id: int, resource: Resource, now: dt.datetime) -> bool:
    """Whether the department may read some of ``resource``'s rows at ``now``, for some purpose: its own data,
    a 无条件共享 resource, or one it holds a grant in force for."""
    return (department_id == resource.department_id or resource.share_type == ShareType.UNCONDITIONAL
            or bool(grants_in_force(session, department_id, now, resource_id=resource.id)))


def _resolve(session: Session, actor: Actor, resource: Resource, purpose: str, grant_id: int | None,
             now: dt.datetime, context: dict[str, Any]) -> Access:
    everything = tuple(i.name for i in resource.items)
    if actor.department_id is None:
        forbid(session, actor, "department", "shared data is read by a department's officials", context)
    if grant_id is None and actor.department_id == resource.department_id:
        full = frozenset(everything) if ingest.may_read_rows(actor, resource) else frozenset()
        return Access("own", None, everything, full, ())
    if grant_id is not None:
        # Its resource is the one in hand (in the session already): not joined in again.
        grant = session.get(Grant, grant_id, options=[lazyload(Grant.resource)])
        if grant is None:
            raise NotFound(f"no grant {grant_id}", field="grant")
        _check_grant(session, actor, grant, purpose, now, context, resource=resource)
    else:
        in_force = grants_in_force(session, actor.department_id, now, resource_id=resource.id)
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
        grant = _for_application(session, actor, fitting, context)
    return Access("grant", grant, tuple(grant.items), frozenset(grant.unmasked_items),
                  tuple(RowCondition.model_validate(c) for c in grant.row_scope))


def _check_grant(session: Session, actor: Actor, grant: Grant, purpose: str, now: dt.datetime,
                 context: dict[str, Any], *, resource: Resource | None = None,
                 registry_view: str | None = None) -> None:
    """Refuse (and log) unless ``grant`` lets the actor read ``resource`` (or the registry view) now for
    ``purpose``."""
    if grant.department_id != actor.department_id:
        forbid(session, actor, "department", f"grant {grant.id} belongs to another department", context)
    if resource is not None and grant.resource_id != resource.id:
        forbid(session, actor, "resource", f"grant {grant.id} is not for resource {resource.code}", context)
    if resource is None and grant.registry_view != registry_view:
        forbid(session, actor, "resource", f"grant {grant.id} is not for the {registry_view} registry", context)
    refuse_unless_in_force(session, actor, grant, now, context)
    if not same_purpose(purpose, grant.purpose):
        forbid(session, actor, "purpose", f"grant {grant.id} is for the purpose {grant.purpose!r}", context)
    _for_application(session, actor, [grant], context)


def _for_application(session: Session, actor: Actor, grants: Sequence[Grant], context: dict[str, Any]) -> Grant:
    """The first of ``grants`` the calling application may use: a grant naming an application serves only the
    department's API token of that name; anyone else is refused (and logged)."""
    name = application_name(session, actor) if any(g.application for g in grants) else None
    usable = [g for g in grants if g.application is None or g.application == name]
    if not usable:
        forbid(session, actor, "application", f"grant {grants[0].id} is for the application "
               f"{grants[0].application!r}: call with that application's API token", context)
    return usable[0]


# --- the published columns ---------------------------------------------------------------------------------------


class ColumnCache:
    """Columns of published versions, by version and field, least recently used first out."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._columns: OrderedDict[tuple[str, str, str, str], pa.ChunkedArray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._reading: dict[tuple[str, str, str], threading.Lock] = {}  # one small lock per version ever read

    def table(self, session: Session, version: DataVersion, fields: Sequence[str]) -> pa.Table:
        """``_record``, ``_accepted`` and ``fields`` of every record of ``version``, in record order."""
        # A table name is reused when the transaction that made it rolled back (SQLite); its moment of creation
        # and content hash are not.
        key = (version.table_name, version.created_at.isoformat(), version.content_hash)
        wanted = list(dict.fromkeys(["_record", "_accepted", *fields]))
        found = self._cached(key, wanted)
        if any(column is None for column in found.values()):
            # One reader per version: calls arriving together for columns not read yet wait for that read
            # instead of each reading the whole version themselves.
            with self._lock:
                reading = self._reading.setdefault(key, threading.Lock())
            with reading:
                found = self._cached(key, wanted)
                missing = [f for f in wanted if found[f] is None]
                if missing:  # every read is in record order, so columns read at different times line up
                    read = ingest.read_version_columns(session, version,
                                                       [f for f in missing if f not in SYSTEM_FIELDS])
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

    def _cached(self, key: tuple[str, str, str], wanted: Sequence[str]) -> dict[str, pa.ChunkedArray | None]:
        with self._lock:
            found = {f: self._columns.get((*key, f)) for f in wanted}
            for f in wanted:
                if found[f] is not None:
                    self._columns.move_to_end((*key, f))
        return found


COLUMNS = ColumnCache()


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


# --- what a call reads --------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Selection:
    """What one permitted call reads: the published version, the items (and which of them are shown masked),
    the conditions on the rows (the grant's row scope ANDed with the call's filters) and their order."""

    resource: Resource
    version: DataVersion
    columns: _Columns
    access: Access
    items: list[str]
    masked: list[str]
    conditions: tuple[RowCondition, ...]
    sort: tuple[SortKey, ...]
    subject_item: str | None  # the item join keys are made from, when the call asked for them
    context: dict[str, Any]  # what the log keeps of the call

    @property
    def grant_id(self) -> int | None:
        return self.access.grant.id if self.access.grant else None

    def log_details(self, **more: Any) -> dict[str, Any]:
        """The log entry's details of a permitted call: the call, its basis, the version and what it showed."""
        return {**self.context, "basis": self.access.basis, "version": self.version.number, "items": self.items,
                "unmasked": [i for i in self.items if i not in self.masked],
                "join_key": self.subject_item is not None, **more}


def select_rows(session: Session, actor: Actor, code: str, *, purpose: str, items: Sequence[str] | None = None,
                filters: Sequence[RowCondition] = (), sort: Sequence[SortKey] = (), grant_id: int | None = None,
                join_key: bool = False, now: dt.datetime | None = None) -> Selection:
    """What the actor may read of ``code``'s published rows for ``purpose``, the one access check of every
    delivery (query and export): anything outside the grant's items, rows, purpose or time is refused
    (:class:`~govlink.kit.errors.Forbidden`) with the refusal committed to the log first."""
    now = now or utcnow()
    if not purpose.strip():
        raise InvalidInput("name the purpose of the call: every use of shared data states it", field="purpose")
    resource = catalog.resource_by_code(session, actor, code)
    if resource.status != Status.PUBLISHED:
        raise Conflict(f"resource {code} is not published", field="code")
    # What the log keeps of the call: filter values may be personal (an ID number), so only their number.
    context: dict[str, Any] = {"resource": code, "grant": grant_id, "purpose": purpose.strip(),
                               "items": list(items or []),
                               "filters": [{"item": f.item, "op": f.op, "values": len(f.values)} for f in filters],
                               "application": application_name(session, actor)}
    access = _resolve(session, actor, resource, purpose, grant_id, now, context)
    context["grant"] = access.grant.id if access.grant else None
    chosen = list(dict.fromkeys(items)) if items else list(access.items)
    subject_item = _subject_item(resource) if join_key else None
    refusal = (items_refusal(chosen, access.items) or items_refusal((s.item for s in sort), access.items)
               or filters_refusal(filters, access.scope, access.items))
    if refusal is None and join_key and (subject_item is None or subject_item not in access.items):
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
    masked = [i for i in chosen if i not in access.unmasked and
              is_masked(columns.described[i]["semantic_type"], bool(columns.described[i].get("personal")))]
    return Selection(resource, version, columns, access, chosen, masked, (*access.scope, *filters), tuple(sort),
                     subject_item, context)


def matching_rows(session: Session, selection: Selection, *, limit: int | None = None,
                  offset: int = 0) -> tuple[int, pa.Table]:
    """The number of rows the selection matches and its stored values from ``offset`` (all of them when
    ``limit`` is None), in the selection's order, scanned in DuckDB."""
    columns = selection.columns
    fields = ["_record", *(columns.shown[i] for i in selection.items),
              *([columns.compare[selection.subject_item]] if selection.subject_item else [])]
    return _run(session, selection.version, columns, selection.conditions, selection.sort, fields, limit, offset)


def shown_rows(session: Session, actor: Actor, selection: Selection, rows: pa.Table,
               join_key_secret: bytes | None = None) -> pa.Table:
    """``rows`` (of :func:`matching_rows`) as the caller sees them, a column per item: masked by default
    (张*三, 138****5678 …) except the items the grant names in full, and with ``_join_key``, the department's
    pseudonym of each row's subject, when the selection asked for join keys."""
    columns = selection.columns
    shown: dict[str, pa.Array | pa.ChunkedArray] = {}
    for item in selection.items:
        values = rows.column(columns.shown[item])
        if item in selection.masked:
            described = columns.described[item]
            values = pa.array(mask_item(described["semantic_type"], bool(described.get("personal")),
                                        values.to_pylist()), pa.string())
        shown[item] = values
    if selection.subject_item is not None:
        if join_key_secret is None:
            raise ValueError("join keys are made with the platform's pseudonym secret")
        key = pseudonyms.department_key(join_key_secret, department_code(session, actor.department_id) or "")
        subject = selection.resource.subject_type
        shown[JOIN_KEY] = pa.array([pseudonyms.pseudonym(key, subject, value) if value else None for value in
                                    rows.column(columns.compare[selection.subject_item]).to_pylist()], pa.string())
    # A table of no columns still has its rows (one empty object each).
    return pa.table(shown) if shown else pa.table({"_": pa.nulls(rows.num_rows)}).drop(["_"])


# --- the query ------------------------------------------------------------------------------------------------


def query(session: Session, actor: Actor, code: str, *, purpose: str, items: Sequence[str] | None = None,
          filters: Sequence[RowCondition] = (), sort: Sequence[SortKey] = (), cursor: str | None = None,
          limit: int = 100, grant_id: int | None = None, join_key_secret: bytes | None = None,
          now: dt.datetime | None = None) -> QueryPage:
    """A page of ``code``'s published rows as the actor may see them, logged before it is returned.

    ``join_key_secret`` (the platform's pseudonym secret) adds ``_join_key``: the department's pseudonym of
    each row's subject (its ID number or credit code), for matching without the number itself.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit is between 1 and {MAX_LIMIT}", field="limit")
    selection = select_rows(session, actor, code, purpose=purpose, items=items, filters=filters, sort=sort,
                            grant_id=grant_id, join_key=join_key_secret is not None, now=now)
    version = selection.version
    fingerprint = _fingerprint(code, selection.grant_id, selection.items,
                               [f.model_dump(mode="json") for f in filters], [s.model_dump() for s in sort],
                               selection.subject_item)
    offset = _decode_cursor(cursor, version.number, fingerprint) if cursor else 0
    total, page = matching_rows(session, selection, limit=limit, offset=offset)
    rows: list[dict[str, Any]] = shown_rows(session, actor, selection, page, join_key_secret).to_pylist()
    # The entry names every person and enterprise on the page, so each can see the read in their own record.
    named = registry.subjects_of_records(session, version.id, page.column("_record").to_pylist())
    record_committed(session, LogEvent(kind="sharing.read", actor=actor.username,
                                       department=department_code(session, actor.department_id),
                                       subjects=tuple(named), details=selection.log_details(offset=offset,
                                                                                            rows=len(rows))))
    following = offset + len(rows)
    return QueryPage(resource_code=code, version=version.number, grant_id=selection.grant_id, items=selection.items,
                     masked=selection.masked, total=total, rows=rows,
                     next_cursor=_encode_cursor(version.number, following, fingerprint) if following < total else None)


def _run(session: Session, version: DataVersion, columns: _Columns, conditions: Sequence[RowCondition],
         sort: Sequence[SortKey], selected: Sequence[str], limit: int | None, offset: int) -> tuple[int, pa.Table]:
    """The number of rows matching ``conditions`` and the page of them from ``offset`` (every one of them when
    ``limit`` is None), scanned in DuckDB."""
    fields = [*selected, *(columns.compare[c.item] for c in conditions), *(columns.compare[s.item] for s in sort)]
    table = COLUMNS.table(session, version, fields)
    return _scan(table, conditions, columns.compare, sort, selected, limit, offset)


def _scan(table: pa.Table, conditions: Sequence[RowCondition], compare: dict[str, str], sort: Sequence[SortKey],
          selected: Sequence[str], limit: int | None, offset: int) -> tuple[int, pa.Table]:
    """The rows of ``table`` (with ``_record`` and ``_accepted``, in record order) matching ``conditions`` (items
    compared through their ``compare`` fields), sorted, from ``offset``: their number and ``selected`` of the page.

    Arrow compute kernels over the cached columns: the matching rows are found as indices, only the sort keys
    are gathered to order them, and only the page's rows of the selected columns are taken."""
    mask = pc.fill_null(pc.cast(table["_accepted"], pa.bool_()), False)
    for condition in conditions:
        column = table[compare[condition.item]]
        if not pa.types.is_string(column.type):
            column = pc.cast(column, pa.string())
        if condition.op == "in":
            hit = pc.is_in(column, value_set=pa.array(list(condition.values), pa.string()))
        else:
            hit = functools.reduce(pc.or_, (pc.starts_with(column, pattern=v) for v in condition.values))
        mask = pc.and_(mask, pc.fill_null(hit, False))
    indices = pc.indices_nonzero(mask)
    if sort:
        keys = [compare[s.item] for s in sort]
        ordered = pc.sort_indices(table.select(list(dict.fromkeys([*keys, "_record"]))).take(indices), sort_keys=[
            *((k, "descending" if s.descending else "ascending", "at_end") for k, s in zip(keys, sort, strict=True)),
            ("_record", "ascending", "at_end")])
        indices = indices.take(ordered)
    chosen = list(dict.fromkeys(selected)) or ["_record"]
    window = indices[offset:] if limit is None else indices[offset:offset + limit]
    return len(indices), table.select(chosen).take(window)


# --- registry views -----------------------------------------------------------------------------------------


def query_registry(session: Session, actor: Actor, view: str, *, purpose: str, items: Sequence[str] | None = None,
                   filters: Sequence[RowCondition] = (), cursor: str | None = None, limit: int = 100,
                   grant_id: int | None = None, now: dt.datetime | None = None) -> RegistryPage:
    """A page of a base registry's golden records (人口库 / 法人库) as the department's grant for that registry
    view lets it see them: the granted attributes, masked unless named in full, the grant's row scope ANDed with
    the filters; refused and logged outside the grant, logged (naming every entity on the page) before it is
    returned.  Rows carry no registry identifier: a consumer matches on the values it was granted."""
    now = now or utcnow()
    if not purpose.strip():
        raise InvalidInput("name the purpose of the call: every use of shared data states it", field="purpose")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit is between 1 and {MAX_LIMIT}", field="limit")
    if view not in REGISTRY_ITEMS:
        raise InvalidInput("the registries are person (人口库) and enterprise (法人库)", field="registry")
    context: dict[str, Any] = {"registry": view, "grant": grant_id, "purpose": purpose.strip(),
                               "items": list(items or []),
                               "filters": [{"item": f.item, "op": f.op, "values": len(f.values)} for f in filters],
                               "application": application_name(session, actor)}
    if actor.department_id is None:
        forbid(session, actor, "department", "shared data is read by a department's officials", context)
    if grant_id is not None:
        found = session.get(Grant, grant_id)
        if found is None:
            raise NotFound(f"no grant {grant_id}", field="grant")
        _check_grant(session, actor, found, purpose, now, context, registry_view=view)
        grant = found
    else:
        in_force = grants_in_force(session, actor.department_id, now, registry_view=view)
        fitting = [g for g in in_force if same_purpose(purpose, g.purpose)]
        if not fitting:
            forbid(session, actor, "purpose" if in_force else "no_grant",
                   "the department's grants for this registry are for another purpose" if in_force else
                   f"the {view} registry is read under a grant: request the registry view first", context)
        grant = _for_application(session, actor, fitting, context)
    context["grant"] = grant.id
    chosen = list(dict.fromkeys(items)) if items else list(grant.items)
    scope = tuple(RowCondition.model_validate(c) for c in grant.row_scope)
    refusal = items_refusal(chosen, grant.items) or filters_refusal(filters, scope, grant.items)
    if refusal is not None:
        forbid(session, actor, refusal[0], refusal[1], context)

    golden = registry.golden_table(session, actor, view)
    state = zlib.crc32(repr(golden.state).encode())  # a cursor serves only the registry as it was
    fingerprint = _fingerprint(view, grant.id, chosen, [f.model_dump(mode="json") for f in filters])
    offset = _decode_cursor(cursor, state, fingerprint) if cursor else 0
    attributes = {a: a for a in REGISTRY_ITEMS[view]}
    total, page = _scan(golden.rows, [*scope, *filters], attributes, (), ["registry_id", *chosen], limit, offset)
    unmasked = frozenset(grant.unmasked_items)
    masked = [i for i in chosen if i not in unmasked and is_masked(f"{view}.{i}", True)]
    values = {i: (mask_item(f"{view}.{i}", True, page.column(i).to_pylist()) if i in masked
                  else page.column(i).to_pylist()) for i in chosen}
    rows = [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)] \
        if values else [{} for _ in range(page.num_rows)]
    named = tuple(f"{view}:{rid}" for rid in page.column("registry_id").to_pylist())
    record_committed(session, LogEvent(kind="sharing.read", actor=actor.username,
                                       department=department_code(session, actor.department_id), subjects=named,
                                       details={**context, "basis": "grant", "items": chosen,
                                                "unmasked": [i for i in chosen if i not in masked],
                                                "offset": offset, "rows": len(rows)}))
    following = offset + len(rows)
    return RegistryPage(registry=view, grant_id=grant.id, items=chosen, masked=masked, total=total, rows=rows,
                        next_cursor=_encode_cursor(state, following, fingerprint) if following < total else None)


def _subject_item(resource: Resource) -> str | None:
    """The item holding the resource's subject key (the ID number of a person's record …), if declared."""
    wanted = SUBJECT_KEYS.get(resource.subject_type)
    return next((i.name for i in resource.items if wanted and i.semantic_type == wanted), None)
