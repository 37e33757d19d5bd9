"""Ingestion's JSON API: upload a file (streamed, size-capped), versions, quarantine, fixes, diffs, restore,
and the open data of unconditionally open resources."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from govlink.db.engine import begin_writing
from govlink.ingest import service
from govlink.ingest.encoding import EncodingProblem
from govlink.ingest.models import DataVersion
from govlink.ingest.readers import ReadProblem
from govlink.kit import tablefiles
from govlink.kit.errors import InvalidInput, TooLarge
from govlink.settings import Settings
from govlink.web.deps import AppSettings, CurrentActor, DbSession, no_write_lock, slot_given_back
from govlink.web.downloads import attachment

router = APIRouter(tags=["data"])


class VersionOut(BaseModel):
    number: int
    state: str
    source: str
    file_name: str
    format: str
    encoding: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int]
    content_hash: str
    created_by: str
    created_at: str
    published_at: str | None
    based_on: int | None
    columns: list[dict[str, Any]]
    quality: dict[str, Any]


class QuarantinedOut(BaseModel):
    record: int
    values: dict[str, str | None]
    raw: str | None
    reasons: list[dict[str, str]]


class QuarantineOut(BaseModel):
    total: int
    offset: int
    records: list[QuarantinedOut]


class FixesIn(BaseModel):
    fixes: dict[int, dict[str, str]] = Field(description="record → {column: corrected value}", max_length=10_000)


class MappingIn(BaseModel):
    mapping: dict[str, str | None] = Field(description="file column → information item (null: not an item)",
                                           max_length=1000)


class DiffOut(BaseModel):
    older: int
    newer: int
    added: int
    removed: int
    changed: int
    unchanged: int
    keyed_by: str | None
    samples: dict[str, list[int]]


class OpenRowsOut(BaseModel):
    resource: str
    version: int
    fields: list[str]
    total: int
    offset: int
    records: list[dict[str, Any]]


def version_out(version: DataVersion) -> VersionOut:
    return VersionOut(
        number=version.number, state=version.state, source=version.source, file_name=version.file_name,
        format=version.format, encoding=version.encoding, rows_read=version.rows_read,
        rows_accepted=version.rows_accepted, rows_quarantined=version.rows_quarantined,
        quarantine_reasons=version.quarantine_reasons, content_hash=version.content_hash,
        created_by=version.created_by, created_at=version.created_at.isoformat(),
        published_at=version.published_at.isoformat() if version.published_at else None,
        based_on=version.based_on, columns=version.columns, quality=version.quality)


async def receive_file(request: Request, folder: Path, settings: Settings) -> Path:
    """The request body written to a file in ``folder``, refused as soon as it passes the size limit."""
    target = folder / "upload.bin"  # the uploaded name is shown, never used as a path
    size = 0
    with target.open("wb") as sink:
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_upload_bytes:
                raise TooLarge(f"the file is larger than the limit of {settings.max_upload_bytes:,} bytes")
            sink.write(chunk)
    if size == 0:
        raise InvalidInput("the upload is empty: send the file as the request body", field="body")
    return target


async def ingest_request(request: Request, session: Any, actor: Any, settings: Settings, *, file_name: str,
                         resource: str | None, department: str | None, options: service.ReadOptions,
                         mapping: list[str]) -> service.IngestOutcome:
    """Stream the body to a private temporary file, then ingest it off the event loop, in a transaction that
    holds the write lock (the one that found the caller only read, and ends before the file comes in)."""
    overrides = service.parse_map(mapping)
    await run_in_threadpool(session.commit)
    with tempfile.TemporaryDirectory(prefix="govlink-upload-") as folder:
        async with slot_given_back(request):
            path = await receive_file(request, Path(folder), settings)

        def ingest() -> service.IngestOutcome:
            begin_writing(session)
            return service.ingest(session, actor, path, file_name=file_name, resource_code=resource,
                                  department_code=department, options=options, overrides=overrides,
                                  limits=service.limits_for(settings))

        try:
            return await run_in_threadpool(ingest)
        except (ReadProblem, EncodingProblem) as exc:
            raise InvalidInput(f"{Path(file_name).name}: {exc}", field="file") from exc


FileName = Annotated[str, Query(min_length=1, max_length=255, description="The file's name, shown only.")]
Encoding = Annotated[str | None, Query(max_length=40, description="Text encoding (default: detected).")]
Sheet = Annotated[str | None, Query(max_length=100, description="Spreadsheet sheet (default: the first).")]
HeaderRow = Annotated[int | None, Query(ge=1, le=1000, description="1-based header line (default: detected).")]
MapPairs = Annotated[list[str], Query(alias="map", description="COLUMN=ITEM, repeatable.")]


@router.put("/api/resources/{code}/data", name="ingest.api.upload", response_model=service.IngestOutcome)
@no_write_lock
async def upload(code: str, request: Request, session: DbSession, actor: CurrentActor, settings: AppSettings,
                 file_name: FileName, encoding: Encoding = None, sheet: Sheet = None, header_row: HeaderRow = None,
                 mapping: MapPairs = []) -> service.IngestOutcome:  # noqa: B006 - FastAPI copies defaults
    """Publish the request body (a CSV, TSV, TXT, XLSX, XLS, JSON Lines, JSON or Parquet file) as the
    resource's next data version."""
    outcome = await ingest_request(request, session, actor, settings, file_name=file_name, resource=code,
                                   department=None, mapping=mapping,
                                   options=service.ReadOptions(encoding=encoding, sheet=sheet, header_row=header_row))
    return outcome


@router.post("/api/departments/{department}/uploads", name="ingest.api.upload_new",
             response_model=service.IngestOutcome)
@no_write_lock
async def upload_new(department: str, request: Request, session: DbSession, actor: CurrentActor,
                     settings: AppSettings, file_name: FileName, encoding: Encoding = None, sheet: Sheet = None,
                     header_row: HeaderRow = None, mapping: MapPairs = []) -> service.IngestOutcome:  # noqa: B006
    """Create a draft resource of the department from the file (items, semantic types and subject proposed)
    and publish the file as its first data version."""
    outcome = await ingest_request(request, session, actor, settings, file_name=file_name, resource=None,
                                   department=department, mapping=mapping,
                                   options=service.ReadOptions(encoding=encoding, sheet=sheet, header_row=header_row))
    return outcome


@router.get("/api/resources/{code}/versions", name="ingest.api.versions", response_model=list[VersionOut])
def list_versions(code: str, session: DbSession, actor: CurrentActor) -> list[VersionOut]:
    """Every data version of a resource, newest first, with counts and the quality report."""
    _, found = service.versions(session, actor, code)
    return [version_out(v) for v in found]


@router.get("/api/resources/{code}/versions/{number}", name="ingest.api.version", response_model=VersionOut)
def get_version(code: str, number: int, session: DbSession, actor: CurrentActor) -> VersionOut:
    return version_out(service.version(session, actor, code, number)[1])


@router.get("/api/resources/{code}/versions/{number}/quarantine", name="ingest.api.quarantine",
            response_model=QuarantineOut)
def get_quarantine(code: str, number: int, session: DbSession, actor: CurrentActor,
                   offset: Annotated[int, Query(ge=0)] = 0,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> QuarantineOut:
    """Quarantined records with their original values and reasons (their reading is logged first)."""
    total, records = service.quarantine(session, actor, code, number, offset=offset, limit=limit)
    return QuarantineOut(total=total, offset=offset, records=[QuarantinedOut(
        record=r.record, values=r.values, raw=r.raw, reasons=r.reasons) for r in records])


def quarantine_csv(session: Any, actor: Any, code: str, number: int) -> Iterator[str]:
    """Every quarantined record as CSV: record, reasons, then the original columns."""
    offset = 0
    header_written = False
    while True:
        _, records = service.quarantine(session, actor, code, number, offset=offset, limit=5000)
        if not records:
            break
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if not header_written:
            writer.writerow(["record", "reasons", *records[0].values, "raw"])
            header_written = True
        for r in records:
            reasons = "; ".join(f"{x['column'] or '(record)'}: {x['reason']}" for x in r.reasons)
            writer.writerow([r.record, reasons, *(v or "" for v in r.values.values()), r.raw or ""])
        yield buffer.getvalue()
        offset += len(records)


@router.get("/api/resources/{code}/versions/{number}/quarantine.csv", name="ingest.api.quarantine_csv")
def download_quarantine(code: str, number: int, session: DbSession, actor: CurrentActor) -> StreamingResponse:
    """The quarantine of a version as a CSV file to fix and upload again."""
    chunks = list(quarantine_csv(session, actor, code, number))  # read (and logged) inside the transaction
    return attachment(f"{code}-v{number}-quarantine.csv", tablefiles.MEDIA_TYPES["csv"],
                      iter([tablefiles.BOM, *(c.encode() for c in chunks)]))


@router.post("/api/resources/{code}/versions/{number}/fixes", name="ingest.api.fix",
             response_model=service.IngestOutcome)
def fix(code: str, number: int, body: FixesIn, session: DbSession, actor: CurrentActor) -> service.IngestOutcome:
    """Correct quarantined values: a new version with the corrections, validated again."""
    return service.fix_records(session, actor, code, number, body.fixes)


@router.post("/api/resources/{code}/versions/{number}/mapping", name="ingest.api.remap",
             response_model=service.IngestOutcome)
def remap(code: str, number: int, body: MappingIn, session: DbSession, actor: CurrentActor) -> service.IngestOutcome:
    """Correct the mapping: the version's records mapped again as a new version; kept for the next upload."""
    return service.remap(session, actor, code, number, body.mapping)


@router.post("/api/resources/{code}/versions/{number}/restore", name="ingest.api.restore",
             response_model=VersionOut)
def restore(code: str, number: int, session: DbSession, actor: CurrentActor) -> VersionOut:
    """Publish an earlier version again."""
    return version_out(service.restore(session, actor, code, number))


@router.get("/api/resources/{code}/diff", name="ingest.api.diff", response_model=DiffOut)
def diff(code: str, session: DbSession, actor: CurrentActor, older: Annotated[int, Query(alias="from", ge=1)],
         newer: Annotated[int, Query(alias="to", ge=1)]) -> DiffOut:
    """Records added, removed and changed between two versions."""
    found = service.diff(session, actor, code, older, newer)
    return DiffOut(older=older, newer=newer, added=found.added, removed=found.removed, changed=found.changed,
                   unchanged=found.unchanged, keyed_by=found.keyed_by, samples=found.samples)


@router.get("/api/open/{code}/rows", name="ingest.api.open_rows", response_model=OpenRowsOut)
def open_rows(code: str, session: DbSession, actor: CurrentActor, offset: Annotated[int, Query(ge=0)] = 0,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> OpenRowsOut:
    """A page of an open resource's published data (personal items are never part of open data)."""
    resource, chosen, fields, total, rows = service.open_rows(session, actor, code, offset=offset, limit=limit)
    return OpenRowsOut(resource=resource.code, version=chosen.number, fields=fields, total=total, offset=offset,
                       records=rows)


@router.get("/open/{code}.{fmt}", name="ingest.open.download")
def download_open(code: str, fmt: str, session: DbSession, actor: CurrentActor) -> StreamingResponse:
    """The published version of an open resource as CSV, XLSX or JSON."""
    resource, chosen = service.open_data(session, actor, code)
    found = service.open_data_file(session, resource, chosen, fmt, service.open_columns(chosen))
    return attachment(found.name, found.media_type, found.chunks)
