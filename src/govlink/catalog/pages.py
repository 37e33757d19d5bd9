"""Catalog pages: the public portal's search and resource pages, the steward's workspace and the
information office's review queue, overlap report and ranking."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from govlink.accounts import service as accounts
from govlink.accounts.pages import first_error, form_dict
from govlink.catalog import overlap, service
from govlink.catalog.routes import department_scores, is_official, search_resources
from govlink.catalog.schemas import FORMATS, ResourceIn
from govlink.catalog.vocabulary import (
    CLASSES,
    LABELS,
    DataGrade,
    DataType,
    OpenType,
    ShareType,
    SubjectType,
    UpdateCycle,
    semantic_types,
)
from govlink.ingest import service as ingest
from govlink.kit.errors import GovLinkError, InvalidInput
from govlink.web.deps import AppTemplates, CurrentActor, DbSession

router = APIRouter(include_in_schema=False)
FILTERS = ("department", "class", "share_type", "open_type", "format", "update_cycle", "subject_type")
PAGE_SIZE = 20


def vocabulary_context() -> dict[str, Any]:
    return {"labels": LABELS, "classes": CLASSES, "share_types": list(ShareType), "open_types": list(OpenType),
            "cycles": list(UpdateCycle), "subjects": list(SubjectType), "grades": list(DataGrade),
            "data_types": list(DataType), "formats": FORMATS, "semantic_types": semantic_types()}


@router.get("/catalog", name="catalog.page.search", response_class=HTMLResponse)
def search_page(
    request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates,
    q: Annotated[str, Query(max_length=200)] = "", sort: str = "relevance",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    filters = {k: v for k in FILTERS if (v := request.query_params.get(k))}
    result, _ = search_resources(session, actor, q, filters, sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    departments = {d.code: d.name for d in accounts.list_departments(session)}
    context = {"result": result, "q": q, "sort": sort, "page": page, "filters": filters, "departments": departments,
               "pages": max(1, -(-result.total // PAGE_SIZE)), **vocabulary_context()}
    return templates.render(request, "catalog/search.html", context)


@router.get("/catalog/{code}", name="catalog.page.resource", response_class=HTMLResponse)
def resource_page(code: str, request: Request, session: DbSession, actor: CurrentActor,
                  templates: AppTemplates) -> Response:
    resource = service.resource_by_code(session, actor, code)
    out = service.resource_out(session, resource)
    semantic = {i.semantic_type for i in resource.items if i.semantic_type}
    similar = overlap.similar_resources(session, semantic, resource.subject_type, resource.department_id)
    preview = None
    if ingest.open_version(session, resource) is not None:
        _, version, fields, total, rows = ingest.open_rows(session, actor, code, limit=20)
        preview = {"version": version.number, "fields": fields, "total": total, "rows": rows}
    context = {"r": out, "revisions": service.revisions(session, resource)[:20], "similar": similar,
               "can_edit": service.may_edit(actor, resource), "preview": preview,
               "is_staff": bool(actor.roles & service.STAFF),
               "api_url": f"/api/catalog/resources/{out.code}", **vocabulary_context()}
    return templates.render(request, "catalog/resource.html", context)


# --- the steward's workspace -------------------------------------------------------------------


@router.get("/workspace", name="catalog.page.workspace", response_class=HTMLResponse)
def workspace(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    departments = accounts.departments_by_id(session)
    if actor.department_id is None:
        rows = list(service.review_queue(session))
    else:
        rows = list(service.department_resources(session, actor, actor.department_id))
    resources = [service.resource_out(session, r, departments, with_related=False) for r in rows]
    return templates.render(request, "catalog/workspace.html", {"resources": resources, "labels": LABELS})


def _column(data: dict[str, Any], key: str) -> list[str]:
    """A repeated form field (one value per item row) as a list, however many rows were sent."""
    values = data.get(key, [])
    return values if isinstance(values, list) else [values]


def _resource_in(data: dict[str, Any]) -> ResourceIn:
    names = _column(data, "item_name")
    types, semantics = _column(data, "item_data_type"), _column(data, "item_semantic_type")
    grades, required = _column(data, "item_grade"), set(_column(data, "item_required"))
    items = [
        {"name": name, "data_type": types[n] if n < len(types) else "string",
         "semantic_type": semantics[n] if n < len(semantics) and semantics[n] else None,
         "grade": grades[n] if n < len(grades) else "general", "required": str(n) in required}
        for n, name in enumerate(names) if name.strip()
    ]
    return ResourceIn.model_validate({
        "name": data.get("name", ""), "classification": data.get("classification", ""),
        "summary": data.get("summary", ""), "format": data.get("format", "CSV"),
        "subject_type": data.get("subject_type", "none"), "share_type": data.get("share_type", ""),
        "share_condition": data.get("share_condition", ""), "share_basis": data.get("share_basis", ""),
        "open_type": data.get("open_type", "closed"), "open_condition": data.get("open_condition", ""),
        "licence": data.get("licence") or None, "update_cycle": data.get("update_cycle", "irregular"),
        "items": items,
        "related": [c.strip() for c in str(data.get("related", "")).split(",") if c.strip()],
    })


def _form(request: Request, templates: AppTemplates, context: dict[str, Any], status: int = 200) -> Response:
    return templates.render(request, "catalog/form.html", {**vocabulary_context(), **context}, status_code=status)


@router.get("/workspace/new", name="catalog.page.new", response_class=HTMLResponse)
def new_resource(request: Request, templates: AppTemplates) -> Response:
    return _form(request, templates, {"form": {}, "items": [{}] * 3, "action": "/workspace/new"})


@router.post("/workspace/new", name="catalog.page.create", response_class=HTMLResponse)
async def create_resource(request: Request, session: DbSession, actor: CurrentActor,
                          templates: AppTemplates) -> Response:
    data = await form_dict(request)
    try:
        resource = service.create_resource(session, actor, _resource_in(data))
    except (ValidationError, GovLinkError) as exc:
        session.rollback()
        error = first_error(exc) if isinstance(exc, ValidationError) else exc
        return _form(request, templates, {"form": data, "items": _items_of(data), "error": error,
                                          "action": "/workspace/new"}, error.status)
    return RedirectResponse(f"/catalog/{resource.code}", status_code=303)


@router.get("/workspace/{code}/edit", name="catalog.page.edit", response_class=HTMLResponse)
def edit_resource(code: str, request: Request, session: DbSession, actor: CurrentActor,
                  templates: AppTemplates) -> Response:
    out = service.resource_out(session, service.resource_by_code(session, actor, code))
    form = out.model_dump(mode="json")
    form["related"] = ", ".join(out.related)
    items = [i.model_dump() for i in out.items] + [{}]
    return _form(request, templates, {"form": form, "items": items, "action": f"/workspace/{code}/edit",
                                      "code": code, "comment": out.review_comment})


@router.post("/workspace/{code}/edit", name="catalog.page.update", response_class=HTMLResponse)
async def update_resource(code: str, request: Request, session: DbSession, actor: CurrentActor,
                          templates: AppTemplates) -> Response:
    data = await form_dict(request)
    try:
        resource = service.update_resource(session, actor, code, _resource_in(data))
        if data.get("then") == "submit":
            service.submit(session, actor, resource.code)
    except (ValidationError, GovLinkError) as exc:
        session.rollback()
        error = first_error(exc) if isinstance(exc, ValidationError) else exc
        return _form(request, templates, {"form": data, "items": _items_of(data), "error": error,
                                          "action": f"/workspace/{code}/edit", "code": code}, error.status)
    return RedirectResponse(f"/catalog/{resource.code}", status_code=303)


@router.post("/workspace/{code}/submit", name="catalog.page.submit")
def submit_resource(code: str, session: DbSession, actor: CurrentActor) -> Response:
    service.submit(session, actor, code)
    return RedirectResponse(f"/catalog/{code}", status_code=303)


@router.post("/workspace/check", name="catalog.page.check", response_class=HTMLResponse)
async def check_form(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    """As the steward types: what is still wrong, and which other departments already hold the same data."""
    data = await form_dict(request)
    error: GovLinkError | None = None
    similar: list[Any] = []
    try:
        proposal = _resource_in(data)
    except ValidationError as exc:
        error = first_error(exc)
    else:
        semantic = {i.semantic_type for i in proposal.items if i.semantic_type}
        similar = overlap.similar_resources(session, semantic, proposal.subject_type, actor.department_id)
    return templates.render(request, "catalog/check.html", {"error": error, "similar": similar})


def _items_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": n} for n in _column(data, "item_name")] + [{}]


# --- the information office --------------------------------------------------------------------


@router.get("/admin/review", name="catalog.page.review_queue", response_class=HTMLResponse)
def review_queue(request: Request, session: DbSession, templates: AppTemplates) -> Response:
    departments = accounts.departments_by_id(session)
    queue = [service.resource_out(session, r, departments) for r in service.review_queue(session)]
    return templates.render(request, "catalog/review.html", {"queue": queue, "labels": LABELS})


@router.post("/admin/review/{code}", name="catalog.page.review")
async def review(code: str, request: Request, session: DbSession, actor: CurrentActor) -> Response:
    data = await form_dict(request)
    approve = data.get("decision") == "approve"
    comment = str(data.get("comment", ""))
    if not approve and not comment.strip():
        raise InvalidInput("say what to change when returning a resource", field="comment")
    service.review(session, actor, code, approve=approve, comment=comment)
    return RedirectResponse("/admin/review", status_code=303)


@router.get("/admin/overlap", name="catalog.page.overlap", response_class=HTMLResponse)
def overlap_page(request: Request, session: DbSession, templates: AppTemplates) -> Response:
    report = overlap.overlap_report(session)
    chart = {
        "tooltip": {}, "grid": {"left": 200, "right": 20, "top": 10, "bottom": 30},
        "xAxis": {"type": "value", "minInterval": 1}, "yAxis": {"type": "category", "inverse": True,
                                                               "data": [c.semantic_type for c in report]},
        "series": [{"type": "bar", "data": [c.department_count for c in report], "itemStyle": {"color": "#b3261e"}}],
    }
    return templates.render(request, "catalog/overlap.html", {
        "report": report, "chart_json": json.dumps(chart, ensure_ascii=False)})


@router.get("/admin/ranking", name="catalog.page.ranking", response_class=HTMLResponse)
def ranking_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    scores = department_scores(session)
    chart = {
        "tooltip": {}, "grid": {"left": 160, "right": 20, "top": 10, "bottom": 30},
        "xAxis": {"type": "value", "max": 100}, "yAxis": {"type": "category", "inverse": True,
                                                          "data": [s.department_name for s in scores]},
        "series": [{"type": "bar", "data": [s.score for s in scores], "itemStyle": {"color": "#0b57a4"}}],
    }
    return templates.render(request, "catalog/ranking.html", {
        "scores": scores, "chart_json": json.dumps(chart, ensure_ascii=False), "official": is_official(actor)})
