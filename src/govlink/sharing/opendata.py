"""有条件开放 open data under an approved application: what a citizen's or an enterprise's grant lets their own
account read.

Such a grant covers the granted open items of one resource's published data — never a personal item, which
open data does not hold — while it is in force and the resource stays open.  Every read, a page or a whole
file, is put on the transparency log and committed before the data leaves (fail closed), and a refused attempt
(another applicant's grant, a revoked or expired one) is logged before the 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govlink.accounts.actor import Actor
from govlink.catalog.models import Resource
from govlink.catalog.vocabulary import OpenType
from govlink.db.base import utcnow
from govlink.ingest import service as ingest
from govlink.ingest.models import DataVersion
from govlink.kit.errors import NotFound
from govlink.sharing.models import Grant
from govlink.sharing.schemas import OpenGrantPage
from govlink.sharing.service import forbid, refuse_unless_in_force
from govlink.transparency.service import LogEvent
from govlink.transparency.writer import record_committed


@dataclass(frozen=True)
class GrantedData:
    """What one application's grant shows: the resource's published version and its granted open columns."""

    grant: Grant
    resource: Resource
    version: DataVersion
    columns: list[tuple[str, str]]  # (column name, stored field)


def granted_data(session: Session, actor: Actor, grant_id: int, *, now: dt.datetime | None = None) -> GrantedData:
    """The data ``grant_id`` lets ``actor`` read now; refused (403, logged) outside it."""
    now = now or utcnow()
    grant = session.get(Grant, grant_id)
    if grant is None or grant.resource is None:
        raise NotFound(f"no grant {grant_id}", field="grant")
    resource = grant.resource
    context = {"grant": grant.id, "request": grant.request_id, "resource": resource.code, "open_application": True}
    if grant.applicant_id is None or grant.applicant_id != actor.user_id:
        forbid(session, actor, "holder", f"grant {grant.id} was not given to your account", context)
    refuse_unless_in_force(session, actor, grant, now, context)
    if resource.open_type == OpenType.CLOSED:
        forbid(session, actor, "closed", f"resource {resource.code} is no longer open", context)
    version = ingest.published_version(session, resource)
    if version is None:
        raise NotFound(f"resource {resource.code} has no published data yet", field="grant")
    columns = [c for c in ingest.open_columns(version) if c[0] in grant.items]
    return GrantedData(grant, resource, version, columns)


def _logged(session: Session, actor: Actor, data: GrantedData, rows: int, **extra: Any) -> None:
    record_committed(session, LogEvent(kind="sharing.read", actor=actor.username, details={
        "grant": data.grant.id, "request": data.grant.request_id, "resource": data.resource.code,
        "version": data.version.number, "items": [n for n, _ in data.columns], "rows": rows,
        "open_application": True, **extra}))


def read_page(session: Session, actor: Actor, grant_id: int, *, offset: int = 0, limit: int = 100) -> OpenGrantPage:
    """A page of the granted open data, logged before it is returned."""
    data = granted_data(session, actor, grant_id)
    total, rows = ingest.open_page(session, data.version, data.columns, offset=offset, limit=limit)
    _logged(session, actor, data, len(rows), offset=offset)
    return OpenGrantPage(grant_id=data.grant.id, resource_code=data.resource.code, version=data.version.number,
                         fields=[n for n, _ in data.columns], total=total, offset=offset, records=rows)


def download(session: Session, actor: Actor, grant_id: int, fmt: str, *,
             allow_rows: Callable[[int], None] | None = None) -> ingest.OpenFile:
    """The granted open data as one file (CSV, XLSX or JSON), logged before it leaves.  ``allow_rows`` is told
    the file's row count first, and raises to refuse it (a quota)."""
    data = granted_data(session, actor, grant_id)
    if allow_rows is not None:
        allow_rows(data.version.rows_accepted)
    found = ingest.open_data_file(session, data.resource, data.version, fmt, data.columns)
    _logged(session, actor, data, data.version.rows_accepted, format=fmt)
    return found
