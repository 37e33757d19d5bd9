"""Ingestion pages: a resource's data (upload with progress, versions) and one version (counts, mapping,
quality report, quarantine with corrections, the diff from the version before, restore)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govlink.accounts import service as accounts
from govlink.catalog import service as catalog
from govlink.catalog.vocabulary import LABELS
from govlink.ingest import service
from govlink.kit.errors import GovLinkError, InvalidInput
from govlink.portal.vocabulary import QUARANTINE_REASONS
from govlink.web.deps import AppTemplates, CurrentActor, DbSession

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/data/{code}", name="ingest.page.data", response_class=HTMLResponse)
def data_page(code: str, request: Request, session: DbSession, actor: CurrentActor,
              templates: AppTemplates) -> Response:
    resource, found = service.versions(session, actor, code)
    out = catalog.resource_out(session, resource, with_related=False)
    return templates.render(request, "ingest/data.html", {
        "r": out, "versions": found, "labels": LABELS, "can_upload": catalog.may_edit(actor, resource),
        "can_read": service.may_read_rows(actor, resource)})


@router.get("/data/{code}/upload", name="ingest.page.upload", response_class=HTMLResponse)
def upload_page(code: str, request: Request, session: DbSession, actor: CurrentActor,
                templates: AppTemplates) -> Response:
    resource = catalog.resource_by_code(session, actor, code)
    out = catalog.resource_out(session, resource, with_related=False)
    return templates.render(request, "ingest/upload.html", {"r": out, "target": f"/api/resources/{code}/data"})


@router.get("/workspace/upload", name="ingest.page.upload_new", response_class=HTMLResponse)
def upload_new_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    """A steward's file, made into a draft resource of their department."""
    if actor.department_id is None:
        raise InvalidInput("only an account of a department creates its resources from files", field="department")
    department = accounts.department_by_id(session, actor.department_id)
    return templates.render(request, "ingest/upload.html", {
        "r": None, "target": f"/api/departments/{department.code}/uploads"})


@router.get("/data/{code}/versions/{number}", name="ingest.page.version", response_class=HTMLResponse)
def version_page(code: str, number: int, request: Request, session: DbSession, actor: CurrentActor,
                 templates: AppTemplates, offset: int = 0, compare: bool = False) -> Response:
    resource, version = service.version(session, actor, code, number)
    offset = max(offset, 0)
    total, records = service.quarantine(session, actor, code, number, offset=offset, limit=PAGE)
    difference = None
    if compare and number > 1:  # on request: comparing reads both versions whole
        try:
            difference = service.diff(session, actor, code, number - 1, number)
        except GovLinkError:
            difference = None
    context: dict[str, Any] = {
        "r": catalog.resource_out(session, resource, with_related=False), "v": version, "records": records,
        "total": total, "offset": offset, "page": PAGE, "diff": difference,
        "can_fix": catalog.may_edit(actor, resource), "compare": compare,
        "columns": [c["name"] for c in version.columns], "items": [i.name for i in resource.items],
        "reasons": QUARANTINE_REASONS,
    }
    return templates.render(request, "ingest/version.html", context)


@router.post("/data/{code}/versions/{number}/fix", name="ingest.page.fix")
async def fix_page(code: str, number: int, request: Request, session: DbSession, actor: CurrentActor) -> Response:
    """One quarantined record's corrected values, from the form beside it: a new version."""
    form = await request.form()
    try:
        record = int(str(form.get("record", "")))
    except ValueError as exc:
        raise InvalidInput("the form names no record to correct", field="record") from exc
    values = {str(k)[len("value:"):]: str(v) for k, v in form.multi_items() if str(k).startswith("value:")}
    outcome = service.fix_records(session, actor, code, number, {record: values})
    return RedirectResponse(f"/data/{code}/versions/{outcome.version}", status_code=303)


@router.post("/data/{code}/versions/{number}/mapping", name="ingest.page.remap")
async def remap_page(code: str, number: int, request: Request, session: DbSession, actor: CurrentActor) -> Response:
    """The mapping form beside the quality report: a new version mapped as the steward chose."""
    form = await request.form()
    mapping = {str(k)[len("item:"):]: (str(v) or None) for k, v in form.multi_items() if str(k).startswith("item:")}
    outcome = service.remap(session, actor, code, number, mapping)
    return RedirectResponse(f"/data/{code}/versions/{outcome.version}", status_code=303)


@router.post("/data/{code}/versions/{number}/restore", name="ingest.page.restore")
def restore_page(code: str, number: int, session: DbSession, actor: CurrentActor) -> Response:
    service.restore(session, actor, code, number)
    return RedirectResponse(f"/data/{code}", status_code=303)
