"""Ingestion as the API, the pages, the CLI and the demo use it: a file in, a published version of data out.

Every function takes a session and an actor and leaves committing to the caller, so a version's table, its
rows, its quarantine, the swap of the published version and its log entry commit together or not at all:
readers never see half a version.
"""

from __future__ import annotations

import io
import queue
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.accounts.roles import Role
from govlink.catalog import service as catalog
from govlink.catalog.models import Resource
from govlink.catalog.schemas import ResourceIn
from govlink.catalog.vocabulary import OpenType, ShareType, Status
from govlink.db.base import utcnow
from govlink.ingest import storage
from govlink.ingest.mapping import propose, propose_subject
from govlink.ingest.models import ColumnMapping, DataVersion, QuarantinedCell
from govlink.ingest.pipeline import Chunk, ItemSpec, VersionBuilder
from govlink.ingest.readers import ReadResult, Rejected
from govlink.ingest.sources import Limits, open_file
from govlink.jobs import service as jobs
from govlink.kit import tablefiles
from govlink.kit.bulk import bulk_insert
from govlink.kit.errors import Forbidden, InvalidInput, NotFound
from govlink.settings import Settings
from govlink.transparency.service import LogEvent, record
from govlink.transparency.writer import record_committed

SAMPLE_ROWS = 200  # rows whose values help propose a mapping
SLICE_ROWS = 200_000  # records standardised and written at a time: memory stays flat however big the file
# The catalog's format (政务信息资源目录) of a resource created from a file the reader recognised.
CATALOG_FORMATS = {"csv": "CSV", "tsv": "CSV", "txt": "CSV", "xlsx": "XLSX", "xls": "XLS", "jsonl": "JSON",
                   "json": "JSON", "parquet": "其他"}


@dataclass(frozen=True)
class ReadOptions:
    format: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None


@dataclass(frozen=True)
class NewResource:
    """What a resource created from a file is registered with, beyond what the file itself tells."""

    name: str | None = None
    classification: str = "3"
    share_type: str = ShareType.CONDITIONAL
    share_condition: str = "按需申请，经提供部门审批后共享"
    share_basis: str = ""
    open_type: str = OpenType.CLOSED
    open_condition: str = ""  # what a 有条件开放 applicant must meet
    licence: str | None = None
    update_cycle: str = "monthly"
    summary: str = ""


@dataclass
class IngestOutcome:
    resource: str
    version: int
    created_resource: bool
    unchanged: bool  # identical content to the published version: no new version was made
    encoding: str
    format: str
    mapping: dict[str, str | None]
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- who may -------------------------------------------------------------------------------------


def may_ingest(actor: Actor, department_id: int) -> None:
    if not (actor.has_role(Role.ADMIN) or (actor.has_role(Role.STEWARD) and actor.department_id == department_id)):
        raise Forbidden("only the department's stewards (or the information office) load its data")


def limits_for(settings: Settings) -> Limits:
    """What one file (or pull) may hold and take: the platform's upload limits."""
    return Limits(max_bytes=settings.max_upload_bytes, max_rows=settings.max_upload_rows,
                  seconds=settings.ingest_seconds)


def may_read_rows(actor: Actor, resource: Resource) -> bool:
    """A resource's full rows (with personal items) are for its own department and the information office;
    everyone else gets data through a grant or, for open data, without the personal items."""
    return actor.has_role(Role.ADMIN) or (
        actor.has_role(Role.STEWARD, Role.APPROVER) and actor.department_id == resource.department_id)


# --- mapping -------------------------------------------------------------------------------------


def _samples(read: ReadResult) -> dict[str, list[str]]:
    head = read.table.slice(0, SAMPLE_ROWS)
    return {c: [v for v in head.column(c).to_pylist() if v] for c in read.columns}


def _specs(resource: Resource) -> dict[str, ItemSpec]:
    return {i.name: ItemSpec(i.name, i.semantic_type, i.data_type, i.required, i.personal) for i in resource.items}


def parse_map(pairs: Sequence[str]) -> dict[str, str | None]:
    """``COLUMN=ITEM`` pairs as the CLI and the API take them; ``COLUMN=`` keeps the column out of the items."""
    found: dict[str, str | None] = {}
    for pair in pairs:
        column, sep, item = pair.partition("=")
        if not sep or not column.strip():
            raise InvalidInput(f"map takes COLUMN=ITEM, got {pair!r}", field="map")
        found[column.strip()] = item.strip() or None
    return found


def resolve_mapping(session: Session, resource: Resource, read: ReadResult,
                    overrides: Mapping[str, str | None]) -> dict[str, ItemSpec | None]:
    """File column → item: the steward's overrides, then the mapping kept from the last upload, then the
    item of the same name, then the item whose semantic type the column's name and values suggest."""
    items = _specs(resource)
    for column, item in overrides.items():
        if column not in read.columns:
            raise InvalidInput(f"the file has no column {column!r}; its columns are {', '.join(read.columns)}",
                               field="map")
        if item is not None and item not in items:
            raise InvalidInput(f"resource {resource.code} has no information item {item!r}", field="map")
    kept = {m.column: m.item for m in session.scalars(
        select(ColumnMapping).where(ColumnMapping.resource_id == resource.id))}
    by_semantic = {i.semantic_type: i for i in items.values() if i.semantic_type}
    proposals = {p.column: p.semantic_type for p in propose(read.columns, _samples(read), resource.subject_type)}
    mapping: dict[str, ItemSpec | None] = {}
    taken: set[str] = set()
    for column in read.columns:
        if column in overrides:
            chosen = overrides[column]
        elif column in kept:
            chosen = kept[column]
        elif column in items:
            chosen = column
        else:
            semantic = proposals.get(column)
            chosen = by_semantic[semantic].name if semantic in by_semantic else None
        if chosen is not None and chosen in taken:
            chosen = None  # two columns for one item: the first keeps it, the steward decides on the second
        if chosen is not None:
            taken.add(chosen)
        mapping[column] = items[chosen] if chosen else None
    return mapping


def keep_mapping(session: Session, actor: Actor, resource: Resource, mapping: Mapping[str, ItemSpec | None]) -> None:
    session.execute(delete(ColumnMapping).where(ColumnMapping.resource_id == resource.id))
    session.add_all(ColumnMapping(resource_id=resource.id, column=column, item=item.name if item else None,
                                  confirmed_by=actor.username) for column, item in mapping.items())
    session.flush()


def _resource_name(file_name: str) -> str:
    stem = Path(file_name).name.rsplit(".", 1)[0]
    name = re.sub(r"[\x00-\x1f\x7f]+", "", stem).strip() or "上传数据"
    return name[:200]


def create_resource_from_file(session: Session, actor: Actor, department_code: str, read: ReadResult,
                              file_name: str, new: NewResource) -> Resource:
    """A draft resource whose items are the file's columns, with semantic types and subject proposed."""
    department = accounts.department_by_code(session, department_code)
    may_ingest(actor, department.id)
    samples = _samples(read)
    subject = propose_subject(read.columns, samples)
    proposals = propose(read.columns, samples, subject)
    items = []
    for proposal in proposals:
        semantic = proposal.semantic_type
        # 出生日期, 参保日期, 发证日期 …: a column named a date holds dates, which are then checked.
        date_like = bool(semantic and semantic.endswith(("birth_date", "registered_on"))) or \
            proposal.column.strip().endswith("日期")
        # The row's own subject must be named: a record without it says nothing about anyone.
        required = semantic in {f"{subject}.name"}
        grade = "core" if semantic and semantic.endswith(("id_number", "uscc")) else (
            "important" if semantic else "general")
        items.append({"name": proposal.column[:100] or "column", "semantic_type": semantic,
                      "data_type": "date" if date_like else "string", "grade": grade, "required": required})
    data = ResourceIn.model_validate({
        "name": new.name or _resource_name(file_name), "department_code": department.code,
        "summary": new.summary or (f"由{department.name}上传的数据文件 {Path(file_name).name} 生成，"
                                   f"共{len(items)}个信息项。"),
        "format": CATALOG_FORMATS.get(read.format, "其他"), "subject_type": subject, "items": items,
        "classification": new.classification, "share_type": new.share_type,
        "share_condition": new.share_condition if new.share_type == ShareType.CONDITIONAL else "",
        "share_basis": new.share_basis, "open_type": new.open_type, "open_condition": new.open_condition,
        "licence": new.licence,
        "update_cycle": new.update_cycle,
    })
    return catalog.create_resource(session, actor, data)


# --- ingest ------------------------------------------------------------------------------------


def read_upload(path: Path, options: ReadOptions, limits: Limits | None = None) -> AbstractContextManager[ReadResult]:
    """Open a department's file for reading; :class:`govlink.ingest.readers.ReadProblem` or an encoding problem
    says why it cannot be read."""
    return open_file(path, format=options.format, encoding=options.encoding, sheet=options.sheet,
                     header_row=options.header_row, limits=limits or Limits())


def ingest(session: Session, actor: Actor, path: Path, *, file_name: str, resource_code: str | None = None,
           department_code: str | None = None, options: ReadOptions = ReadOptions(),
           overrides: Mapping[str, str | None] | None = None, new: NewResource | None = None,
           limits: Limits | None = None, source: str = "upload") -> IngestOutcome:
    """Read ``path`` and publish it as the next version of a resource's data (creating the resource when no
    code is given). Identical content to the published version makes no new version."""
    with read_upload(path, options, limits) as read:
        return _ingest_read(session, actor, read, file_name=file_name, resource_code=resource_code,
                            department_code=department_code, options=options, overrides=overrides, new=new,
                            source=source)


def _ingest_read(session: Session, actor: Actor, read: ReadResult, *, file_name: str, resource_code: str | None,
                 department_code: str | None, options: ReadOptions, overrides: Mapping[str, str | None] | None,
                 new: NewResource | None, source: str) -> IngestOutcome:
    created = resource_code is None
    if resource_code is None:
        if not department_code:
            raise InvalidInput("name the department whose file this is", field="department")
        resource = create_resource_from_file(session, actor, department_code, read, file_name, new or NewResource())
    else:
        resource = catalog.resource_by_code(session, actor, resource_code)
        may_ingest(actor, resource.department_id)
        if resource.status == Status.RETIRED:
            raise InvalidInput(f"resource {resource.code} is retired: it takes no new data", field="resource")
    mapping = resolve_mapping(session, resource, read, overrides or {})
    keep_mapping(session, actor, resource, mapping)
    return _publish_new(session, actor, resource, read, mapping, file_name=file_name, options=options,
                        created=created, source=source)


def _outcome(resource: Resource, version: DataVersion, *, created: bool, unchanged: bool) -> IngestOutcome:
    return IngestOutcome(
        resource=resource.code, version=version.number, created_resource=created, unchanged=unchanged,
        encoding=version.encoding, format=version.format,
        mapping={c["name"]: c["item"] for c in version.columns}, rows_read=version.rows_read,
        rows_accepted=version.rows_accepted, rows_quarantined=version.rows_quarantined,
        quarantine_reasons=dict(version.quarantine_reasons))


def published_version(session: Session, resource: Resource) -> DataVersion | None:
    return session.scalar(select(DataVersion).where(DataVersion.resource_id == resource.id,
                                                    DataVersion.state == "published"))


def published_data(session: Session, subjects: Sequence[str]) -> list[tuple[Resource, DataVersion]]:
    """Every published resource about one of ``subjects`` with its published data version (for the registries)."""
    query = (select(Resource, DataVersion).join(DataVersion, DataVersion.resource_id == Resource.id)
             .where(DataVersion.state == "published", Resource.status == Status.PUBLISHED,
                    Resource.subject_type.in_(list(subjects))).order_by(Resource.id))
    return [(resource, chosen) for resource, chosen in session.execute(query)]


def read_version_columns(session: Session, chosen: DataVersion, fields: Sequence[str], *,
                         records: pa.Array | None = None) -> pa.Table:
    """Whole columns of a version, quarantined records included (``_accepted`` tells them apart); only the
    records whose ordinals are in ``records`` when given."""
    return storage.read_columns(session, chosen.table_name, ["_record", "_accepted", "_hash", *fields],
                                accepted_only=False, records=records)


def read_version_presence(session: Session, chosen: DataVersion, groups: Sequence[Sequence[str]]) -> pa.Table:
    """Every record of a version (quarantined ones included) with its hash and, for each group of fields,
    ``present_<i>``: whether any of them holds a value."""
    return storage.read_presence(session, chosen.table_name, groups)


def _slices(read: ReadResult) -> Iterator[pa.Table]:
    """The records a slice at a time (at least one slice, so an empty file still has its columns)."""
    if read.slices is not None:
        empty = True
        for piece in read.slices(SLICE_ROWS):
            empty = False
            yield piece
        if empty:
            yield read.table.slice(0, 0)
        return
    total = read.table.num_rows
    for offset in range(0, max(total, 1), SLICE_ROWS):
        yield read.table.slice(offset, SLICE_ROWS)


def _publish_new(session: Session, actor: Actor, resource: Resource, read: ReadResult,
                 mapping: Mapping[str, ItemSpec | None], *, file_name: str, options: ReadOptions, created: bool,
                 source: str, based_on: int | None = None) -> IngestOutcome:
    """Write the records as a new version in a savepoint; identical content to the published version is
    rolled back and reported as unchanged; otherwise the new version is published."""
    builder = VersionBuilder(read.columns, mapping, subject=resource.subject_type,
                             declared_items=list(_specs(resource).values()),
                             mangled_columns=getattr(read, "mangled_columns", ()))
    number = (session.scalar(select(func.max(DataVersion.number)).where(DataVersion.resource_id == resource.id))
              or 0) + 1
    savepoint = session.begin_nested()
    version = DataVersion(
        resource_id=resource.id, number=number, state="staged", table_name="", source=source, content_hash="",
        file_name=Path(file_name).name[:255], format=read.format, encoding=read.encoding, sheet=options.sheet,
        header_row=options.header_row or 1, columns=[], rows_read=0, rows_accepted=0, rows_quarantined=0,
        quarantine_reasons={}, quality={}, based_on=based_on, created_by=actor.username)
    session.add(version)
    session.flush()
    version.table_name = storage.table_name(version.id)
    _store(session, version, builder, read)
    summary = builder.finish()
    current = published_version(session, resource)
    if current is not None and current.content_hash == summary.content_hash:
        savepoint.rollback()
        return _outcome(resource, current, created=created, unchanged=True)
    version.content_hash, version.columns, version.quality = summary.content_hash, summary.columns, summary.quality
    version.rows_read, version.rows_accepted = summary.rows_read, summary.rows_accepted
    version.rows_quarantined, version.quarantine_reasons = summary.rows_quarantined, summary.reasons
    savepoint.commit()
    _make_published(session, actor, resource, version, action="data.published")
    return _outcome(resource, version, created=created, unchanged=False)


def _store(session: Session, version: DataVersion, builder: VersionBuilder, read: ReadResult) -> None:
    """Standardise slice n + 1 while slice n is written: DuckDB and the database driver both release the
    GIL, so on two cores the write costs little more than the standardising. One thread writes; the session
    is used by no other thread meanwhile."""
    pending: queue.Queue[Chunk | None] = queue.Queue(maxsize=2)
    failures: list[BaseException] = []

    def writer() -> None:
        table = None
        while (chunk := pending.get()) is not None:
            if failures:
                continue  # keep draining so the producer never blocks
            try:
                if table is None:
                    table = storage.create(session, version.table_name, chunk.rows.schema)
                _write(session, table, version.id, chunk)
            except BaseException as exc:  # re-raised in the calling thread
                failures.append(exc)

    thread = threading.Thread(target=writer, name=f"govlink-write-{version.table_name}", daemon=True)
    thread.start()
    try:
        for piece in _slices(read):
            if failures:
                break
            pending.put(builder.add(piece))
        if read.rejected and not failures:
            pending.put(builder.add_rejected(read.rejected, builder.schema()))
    finally:
        pending.put(None)
        thread.join()
    if failures:
        raise failures[0]


def _write(session: Session, table: Any, version_id: int, chunk: Chunk) -> None:
    storage.append(session, table, chunk.rows)
    cells = chunk.quarantine
    if cells.num_rows:
        cells = cells.append_column("version_id", pa.array(np.full(cells.num_rows, version_id, dtype=np.int64)))
        bulk_insert(session, QuarantinedCell.__table__,
                    cells.select(["version_id", "record", "column", "reason", "message"]).to_pylist())


def _make_published(session: Session, actor: Actor, resource: Resource, version: DataVersion, *, action: str) -> None:
    """Swap the published version in the caller's transaction and put the swap on the record."""
    now = utcnow()
    session.execute(update(DataVersion).where(DataVersion.resource_id == resource.id,
                                              DataVersion.state == "published", DataVersion.id != version.id)
                    .values(state="superseded"))
    version.state, version.published_at = "published", now
    catalog.record_data_update(session, resource, now)
    department = accounts.department_by_id(session, resource.department_id)
    record(session, LogEvent(kind=action, actor=actor.username, department=department.code, details={
        "resource": resource.code, "version": version.number, "rows_read": version.rows_read,
        "rows_accepted": version.rows_accepted, "rows_quarantined": version.rows_quarantined,
        "content_hash": version.content_hash}))
    # The registries catch up in the background (a no-op until they are first built).
    jobs.enqueue(session, "registry.relink", {"resource_id": resource.id}, dedupe_key=f"registry.relink:{version.id}")


# --- versions ----------------------------------------------------------------------------------


def _readable(session: Session, actor: Actor, code: str) -> Resource:
    resource = catalog.resource_by_code(session, actor, code)
    if not may_read_rows(actor, resource):
        raise Forbidden("a resource's rows are for its own department's stewards and approvers")
    return resource


def versions(session: Session, actor: Actor, code: str) -> tuple[Resource, Sequence[DataVersion]]:
    resource = catalog.resource_by_code(session, actor, code)
    return resource, session.scalars(select(DataVersion).where(DataVersion.resource_id == resource.id)
                                     .order_by(DataVersion.number.desc())).all()


def version(session: Session, actor: Actor, code: str, number: int) -> tuple[Resource, DataVersion]:
    resource = catalog.resource_by_code(session, actor, code)
    found = session.scalar(select(DataVersion).where(DataVersion.resource_id == resource.id,
                                                     DataVersion.number == number))
    if found is None:
        raise NotFound(f"resource {code} has no version {number}", field="version")
    return resource, found


def restore(session: Session, actor: Actor, code: str, number: int) -> DataVersion:
    """Publish an earlier version again (the current one is kept, superseded)."""
    resource, chosen = version(session, actor, code, number)
    may_ingest(actor, resource.department_id)
    if chosen.state == "published":
        raise InvalidInput(f"version {number} is already the published one", field="version")
    _make_published(session, actor, resource, chosen, action="data.restored")
    return chosen


def _log_read(session: Session, actor: Actor, resource: Resource, what: str, count: int) -> None:
    """Rows with personal items leave only after this entry is on the log (fail closed)."""
    department = accounts.department_by_id(session, resource.department_id)
    record_committed(session, LogEvent(kind="data.read", actor=actor.username, department=department.code,
                                       details={"resource": resource.code, "what": what, "rows": count}))


@dataclass(frozen=True)
class QuarantinedRecord:
    record: int
    values: dict[str, str | None]  # the file's column → original value
    raw: str | None
    reasons: list[dict[str, str]]  # column, reason, message


def quarantine(session: Session, actor: Actor, code: str, number: int, *, offset: int = 0,
               limit: int = 100) -> tuple[int, list[QuarantinedRecord]]:
    """The quarantined records of a version, with their original values and every reason."""
    resource = _readable(session, actor, code)
    _, chosen = version(session, actor, code, number)
    total = chosen.rows_quarantined
    fields = [c["field"] for c in chosen.columns]
    rows = storage.page(session, chosen.table_name, ["_record", "_raw", *fields], offset=offset, limit=limit,
                        accepted=False)
    records = [r["_record"] for r in rows]
    cells: dict[int, list[dict[str, str]]] = {}
    for cell in session.scalars(select(QuarantinedCell).where(QuarantinedCell.version_id == chosen.id,
                                                              QuarantinedCell.record.in_(records))
                                .order_by(QuarantinedCell.id)):
        cells.setdefault(cell.record, []).append({"column": cell.column, "reason": cell.reason,
                                                  "message": cell.message})
    _log_read(session, actor, resource, f"quarantine of version {number}", len(rows))
    return total, [QuarantinedRecord(r["_record"], {c["name"]: r[c["field"]] for c in chosen.columns}, r["_raw"],
                                     cells.get(r["_record"], [])) for r in rows]


def _stored_read(session: Session, base: DataVersion, fixes: Mapping[int, Mapping[str, str]]) -> ReadResult:
    """A version's records as its file gave them (original values), with ``fixes`` applied, ready to be
    mapped, standardised and validated again."""
    names = [c["name"] for c in base.columns]
    fields = {c["name"]: c["field"] for c in base.columns}
    for record_number, values in fixes.items():
        unknown = [c for c in values if c not in fields]
        if unknown:
            raise InvalidInput(f"record {record_number}: the file has no column {unknown[0]!r}", field="fixes")
    rows = storage.read_columns(session, base.table_name, ["_record", "_raw", *fields.values()], accepted_only=False)
    records = rows.column("_record").to_numpy()
    wanted = np.array(sorted(fixes), dtype=np.int64)
    positions = np.searchsorted(records, wanted)
    found = (positions < len(records)) & (records[np.minimum(positions, max(len(records) - 1, 0))] == wanted)
    if not found.all():
        raise NotFound(f"version {base.number} has no record {int(wanted[~found][0])}", field="fixes")
    at = {int(r): int(p) for r, p in zip(wanted, positions, strict=True)}
    columns = {}
    for name in names:
        column = rows.column(fields[name])
        if any(name in values for values in fixes.values()):
            values = column.to_pylist()
            for record_number, changes in fixes.items():
                if name in changes:
                    values[at[record_number]] = changes[name]
            column = pa.array(values, pa.string())
        columns[name] = column
    raw = rows.column("_raw")
    # A line the reader could not split stays rejected until the steward gives its values.
    still_raw = pc.and_(pc.is_valid(raw), pc.invert(pc.is_in(rows.column("_record"), pa.array(wanted))))
    table = pa.table({**columns, "_record": rows.column("_record")}).filter(pc.invert(still_raw))
    kept = rows.filter(still_raw)
    rejected = [Rejected(int(r), "read.unsplit", "the line could not be split into the header's columns", str(t))
                for r, t in zip(kept.column("_record").to_pylist(), kept.column("_raw").to_pylist(), strict=True)]
    return ReadResult(table, names, rejected, base.encoding, base.format, "")


def fix_records(session: Session, actor: Actor, code: str, number: int,
                fixes: Mapping[int, Mapping[str, str]]) -> IngestOutcome:
    """A new version: ``number``'s records with the steward's corrected values, validated again."""
    resource, base = version(session, actor, code, number)
    may_ingest(actor, resource.department_id)
    read = _stored_read(session, base, fixes)
    specs = _specs(resource)
    mapping = {c["name"]: specs.get(c["item"]) if c["item"] else None for c in base.columns}
    return _publish_new(session, actor, resource, read, mapping, file_name=base.file_name,
                        options=ReadOptions(sheet=base.sheet, header_row=base.header_row), created=False,
                        source="fix", based_on=base.number)


def remap(session: Session, actor: Actor, code: str, number: int,
          overrides: Mapping[str, str | None]) -> IngestOutcome:
    """The steward corrects the mapping: ``number``'s records mapped again (and the mapping kept for the next
    upload), standardised and validated again, as a new version."""
    resource, base = version(session, actor, code, number)
    may_ingest(actor, resource.department_id)
    read = _stored_read(session, base, {})
    current = {c["name"]: c["item"] for c in base.columns}
    mapping = resolve_mapping(session, resource, read, {**current, **overrides})
    keep_mapping(session, actor, resource, mapping)
    return _publish_new(session, actor, resource, read, mapping, file_name=base.file_name,
                        options=ReadOptions(sheet=base.sheet, header_row=base.header_row), created=False,
                        source="remap", based_on=base.number)


# Records of versions a and b paired by the subject's key (a record without one stands for itself) …
KEYED_PAIRS = """
CREATE TEMP TABLE pairs AS
WITH ka AS (SELECT coalesce(k, '#' || _hash) AS k, first(_hash) AS h, min(_record) AS r FROM a GROUP BY 1),
     kb AS (SELECT coalesce(k, '#' || _hash) AS k, first(_hash) AS h, min(_record) AS r FROM b GROUP BY 1)
SELECT CASE WHEN ka.k IS NULL THEN 'added' WHEN kb.k IS NULL THEN 'removed'
            WHEN ka.h <> kb.h THEN 'changed' ELSE 'unchanged' END AS kind,
       coalesce(kb.r, ka.r) AS record
FROM ka FULL OUTER JOIN kb ON ka.k = kb.k"""
# … or, with no key, by their whole content (a changed record is then one removed and one added).
WHOLE_PAIRS = """
CREATE TEMP TABLE pairs AS
WITH ha AS (SELECT _hash AS h, min(_record) AS r FROM a GROUP BY 1),
     hb AS (SELECT _hash AS h, min(_record) AS r FROM b GROUP BY 1)
SELECT CASE WHEN ha.h IS NULL THEN 'added' WHEN hb.h IS NULL THEN 'removed' ELSE 'unchanged' END AS kind,
       coalesce(hb.r, ha.r) AS record
FROM ha FULL OUTER JOIN hb ON ha.h = hb.h"""


@dataclass(frozen=True)
class VersionDiff:
    added: int
    removed: int
    changed: int
    unchanged: int
    keyed_by: str | None  # the item that pairs records across versions, or None (records compared whole)
    samples: dict[str, list[int]]  # kind → record numbers (in the newer version; removed: in the older)


SUBJECT_KEYS = frozenset({"person.id_number", "enterprise.uscc"})


def _keyed_rows(session: Session, chosen: DataVersion) -> tuple[str | None, pa.Table]:
    """A version's accepted records as (_record, _hash, k): k is the subject's standardised key, if it has one."""
    key = next((c for c in chosen.columns if c["standard"] and c["semantic_type"] in SUBJECT_KEYS), None)
    fields = ["_record", "_hash", *([key["standard"]] if key else [])]
    rows = storage.read_columns(session, chosen.table_name, fields)
    keys = rows.column(key["standard"]) if key else pa.nulls(rows.num_rows, pa.string())
    return (key["item"] if key else None), pa.table({"_record": rows.column("_record"), "_hash": rows.column("_hash"),
                                                     "k": keys})


def diff(session: Session, actor: Actor, code: str, older: int, newer: int, *, sample: int = 20) -> VersionDiff:
    """Rows added, removed and changed from ``older`` to ``newer`` (paired by the subject's key when there is
    one; otherwise a changed record is one removed and one added)."""
    _readable(session, actor, code)
    _, a = version(session, actor, code, older)
    _, b = version(session, actor, code, newer)
    key_item, left = _keyed_rows(session, a)
    other_key, right = _keyed_rows(session, b)
    keyed = key_item is not None and key_item == other_key
    if not keyed:
        left, right = (t.set_column(t.schema.get_field_index("k"), "k", pa.nulls(t.num_rows, pa.string()))
                       for t in (left, right))
    connection = duckdb.connect()
    try:
        connection.register("a", left)
        connection.register("b", right)
        connection.execute(KEYED_PAIRS if keyed else WHOLE_PAIRS)
        counts = dict(connection.sql("SELECT kind, count(*) FROM pairs GROUP BY 1").fetchall())
        samples = {kind: [int(r) for (r,) in connection.execute(
            "SELECT record FROM pairs WHERE kind = ? ORDER BY record LIMIT ?", [kind, sample]).fetchall()]
            for kind in ("added", "removed", "changed")}
    finally:
        connection.close()
    return VersionDiff(int(counts.get("added", 0)), int(counts.get("removed", 0)), int(counts.get("changed", 0)),
                       int(counts.get("unchanged", 0)), key_item if keyed else None, samples)


# Open data shows these in their standard form (one date format, codes upper-case); names and addresses stay
# as the department wrote them, since their standard forms are matching keys (an enterprise's name without its
# region prefix is not its legal name).
OPEN_STANDARD_RULES = frozenset({"id_number", "uscc", "phone", "date", "gender"})


def open_columns(chosen: DataVersion) -> list[tuple[str, str]]:
    """(column name, stored field) of a version that open data may show: items only, and no personal item,
    ever."""
    return [(c["name"], c["standard"] if c["standard"] and c["rule"] in OPEN_STANDARD_RULES else c["field"])
            for c in chosen.columns if c["item"] is not None and not c.get("personal")]


OPEN_FORMATS = ("csv", "xlsx", "json")


@dataclass(frozen=True)
class OpenFile:
    name: str
    media_type: str
    chunks: Iterator[bytes]


def open_data_file(session: Session, resource: Resource, chosen: DataVersion, fmt: str,
                   columns: Sequence[tuple[str, str]]) -> OpenFile:
    """``columns`` (name, stored field) of a published version as one file to download: CSV and XLSX with
    formula-like cells neutralised, or JSON; read inside the caller's transaction."""
    if fmt not in OPEN_FORMATS:
        raise InvalidInput(f"download as {', '.join(OPEN_FORMATS)}", field="fmt")
    names = [n for n, _ in columns]
    batches = [pa.RecordBatch.from_arrays(b.columns, names=names)
               for b in storage.stream(session, chosen.table_name, [f for _, f in columns])]
    if fmt == "csv":
        chunks = tablefiles.csv_chunks(batches, names)
    elif fmt == "json":
        chunks = tablefiles.json_chunks(batches)
    else:
        book = io.BytesIO()
        tablefiles.write_xlsx(batches, names, book)
        chunks = iter([book.getvalue()])
    return OpenFile(f"{resource.code}-v{chosen.number}.{fmt}", tablefiles.MEDIA_TYPES[fmt], chunks)


def open_version(session: Session, resource: Resource) -> DataVersion | None:
    """The published data version of a published, unconditionally open resource (无条件开放), if any."""
    if resource.status != Status.PUBLISHED or resource.open_type != OpenType.OPEN:
        return None
    return published_version(session, resource)


def open_data(session: Session, actor: Actor, code: str) -> tuple[Resource, DataVersion]:
    resource = catalog.resource_by_code(session, actor, code)
    chosen = open_version(session, resource)
    if chosen is None:
        raise NotFound(f"resource {code} has no open data", field="code")
    return resource, chosen


def open_rows(session: Session, actor: Actor, code: str, *, offset: int = 0, limit: int = 100,
              filters: Mapping[str, str] | None = None) -> tuple[Resource, DataVersion, list[str], int,
                                                                 list[dict[str, Any]]]:
    """A page of an open resource's published rows (columns by name, personal items left out)."""
    resource, chosen = open_data(session, actor, code)
    columns = open_columns(chosen)
    total, rows = open_page(session, chosen, columns, offset=offset, limit=limit, filters=filters)
    return resource, chosen, [n for n, _ in columns], total, rows


def open_page(session: Session, chosen: DataVersion, columns: Sequence[tuple[str, str]], *, offset: int = 0,
              limit: int = 100, filters: Mapping[str, str] | None = None) -> tuple[int, list[dict[str, Any]]]:
    """The rows matching ``filters`` (whole values, by column name) counted, and a page of them by name."""
    fields = dict(columns)
    unknown = [c for c in (filters or {}) if c not in fields]
    if unknown:
        raise InvalidInput(f"no open column {unknown[0]!r}; the columns are {', '.join(fields)}", field="filters")
    where = {fields[c]: v for c, v in (filters or {}).items()}
    total = storage.count(session, chosen.table_name, filters=where)
    rows = storage.page(session, chosen.table_name, ["_record", *fields.values()], offset=offset, limit=limit,
                        filters=where)
    return total, [{"_id": r["_record"], **{name: r[field] for name, field in columns}} for r in rows]

