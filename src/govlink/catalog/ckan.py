"""A read-only CKAN-compatible Action API (``/api/action/<name>``, ``/api/3/action/<name>``), so existing
CKAN clients and harvesters work against GovLink: CKAN's envelopes, error types and HTTP statuses."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

import govlink
from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.catalog import service
from govlink.catalog.models import Resource
from govlink.catalog.routes import is_official
from govlink.catalog.search import SearchQuery, find
from govlink.catalog.vocabulary import CLASS_NAMES, LABELS, OpenType, Status, class_label
from govlink.ingest import service as ingest
from govlink.kit.errors import GovLinkError, InvalidInput, NotFound
from govlink.web.deps import CurrentActor, DbSession, no_write_lock

router = APIRouter(tags=["ckan"])

# CKAN facet names and fq fields → GovLink's filters.
FQ_FIELDS = {"organization": "department", "groups": "class", "res_format": "format", "share_type": "share_type",
             "open_type": "open_type", "update_cycle": "update_cycle", "subject_type": "subject_type"}
SORTS = {"score desc": "relevance", "score desc, metadata_modified desc": "relevance",
         "metadata_modified desc": "newest", "name asc": "name", "title_string asc": "name",
         "metadata_created desc": "published", "views_recent desc": "popular"}
_FQ_TERM = re.compile(r'\s*(?:AND\s+)?\+?([a-z_]+):(?:"([^"]*)"|([^\s"]+))\s*')
ERROR_TYPES = {404: "Not Found Error", 403: "Authorization Error", 401: "Authorization Error",
               409: "Validation Error"}


def _envelope(request: Request, name: str, result: Any) -> JSONResponse:
    help_url = str(request.base_url) + f"api/3/action/help_show?name={name}"
    return JSONResponse({"help": help_url, "success": True, "result": result})


def _error(request: Request, name: str, status: int, message: str, field: str | None = None) -> JSONResponse:
    help_url = str(request.base_url) + f"api/3/action/help_show?name={name}"
    status = 409 if status == 422 else status
    error: dict[str, Any] = {"__type": ERROR_TYPES.get(status, "Bad Request"), "message": message}
    if status == 409 and field:
        error[field] = [message]
    return JSONResponse({"help": help_url, "success": False, "error": error}, status_code=status)


def parse_fq(fq: str) -> dict[str, str]:
    """``organization:RS res_format:"CSV"`` → filters; anything else is a Validation Error."""
    filters: dict[str, str] = {}
    position = 0
    while position < len(fq):
        match = _FQ_TERM.match(fq, position)
        if match is None or match.end() == position:
            raise InvalidInput(f"cannot read fq at {fq[position:position + 30]!r}; use field:value", field="fq")
        field, quoted, bare = match.groups()
        if field not in FQ_FIELDS:
            raise InvalidInput(f"cannot filter on {field!r}; fq fields: {', '.join(FQ_FIELDS)}", field="fq")
        filters[FQ_FIELDS[field]] = quoted if quoted is not None else bare
        position = match.end()
    return filters


def _int(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(params.get(name, default))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be a whole number", field=name) from exc
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}", field=name)
    return value


def _organization(department: Any) -> dict[str, Any]:
    return {"id": department.code, "name": department.code, "title": department.name, "type": "organization",
            "description": department.name, "is_organization": True, "state": "active",
            "image_url": "", "approval_status": "approved"}


def package_dict(session: Session, request: Request, resource: Resource, departments: dict[int, Any]) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    department = departments[resource.department_id]
    groups = [{"name": resource.classification[:3], "title": CLASS_NAMES.get(resource.classification[:3], "")}]
    tags = sorted({LABELS[f"share.{resource.share_type}"], LABELS[f"open.{resource.open_type}"],
                   *(i.name for i in resource.items[:20])})
    extras = {"resource_code": resource.code, "classification": class_label(resource.classification),
              "share_type": LABELS[f"share.{resource.share_type}"], "open_type": LABELS[f"open.{resource.open_type}"],
              "update_cycle": LABELS[f"cycle.{resource.update_cycle}"],
              "subject_type": LABELS[f"subject.{resource.subject_type}"],
              "share_condition": resource.share_condition, "information_items": json.dumps(
                  [{"name": i.name, "semantic_type": i.semantic_type} for i in resource.items], ensure_ascii=False)}
    resources = [_resource_dict(base, resource)]
    if ingest.open_version(session, resource) is not None:
        resources.append(_data_resource_dict(base, resource))
    return {
        "id": resource.code, "name": resource.code, "title": resource.name, "notes": resource.summary,
        "type": "dataset", "state": "active", "private": resource.open_type == OpenType.CLOSED,
        "owner_org": department.code, "organization": _organization(department),
        "license_id": resource.licence or "notspecified", "license_title": resource.licence or "未开放",
        "metadata_created": resource.created_at.isoformat(), "metadata_modified": resource.updated_at.isoformat(),
        "url": f"{base}/catalog/{resource.code}", "version": str(resource.revision),
        "num_tags": len(tags), "tags": [{"name": t, "display_name": t, "state": "active"} for t in tags],
        "groups": groups, "num_resources": len(resources), "resources": resources,
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
    }


def _resource_dict(base: str, resource: Resource) -> dict[str, Any]:
    return {"id": f"{resource.code}-metadata", "package_id": resource.code, "name": f"{resource.name}（元数据）",
            "format": "JSON", "url": f"{base}/api/catalog/resources/{resource.code}", "url_type": None,
            "datastore_active": False, "state": "active", "position": 0,
            "description": "GovLink 目录元数据（信息项、共享与开放属性）"}


def _data_resource_dict(base: str, resource: Resource) -> dict[str, Any]:
    return {"id": f"{resource.code}-data", "package_id": resource.code, "name": f"{resource.name}（数据）",
            "format": "CSV", "url": f"{base}/open/{resource.code}.csv", "url_type": "datastore",
            "datastore_active": True, "state": "active", "position": 1,
            "description": "已发布版本的开放数据（不含个人信息项），也可通过 datastore_search 查询"}


def _visible(session: Session, actor: Actor, code: str) -> Resource:
    resource = service.resource_by_code(session, actor, code)
    if resource.status != Status.PUBLISHED:
        raise NotFound("Not found")
    return resource


def package_search(session: Session, request: Request, actor: Actor, p: dict[str, Any]) -> dict[str, Any]:
    filters = parse_fq(str(p.get("fq", "") or ""))
    rows, start = _int(p, "rows", 10, 0, 1000), _int(p, "start", 0, 0, 10_000_000)
    sort_key = str(p.get("sort") or "score desc, metadata_modified desc").strip().lower()
    if sort_key not in SORTS:
        raise InvalidInput(f"cannot sort by {sort_key!r}; one of {', '.join(SORTS)}", field="sort")
    facet_fields = p.get("facet.field", '["organization","groups","res_format"]')
    if isinstance(facet_fields, str):
        try:
            facet_fields = json.loads(facet_fields)
        except ValueError as exc:
            raise InvalidInput("facet.field is a JSON list of field names", field="facet.field") from exc
    if not isinstance(facet_fields, list) or any(f not in FQ_FIELDS for f in facet_fields):
        raise InvalidInput(f"facet.field names come from {', '.join(FQ_FIELDS)}", field="facet.field")
    departments = accounts.departments_by_id(session)
    codes = {d.code: i for i, d in departments.items()}
    q = str(p.get("q", "") or "").strip()
    q = "" if q in ("*:*", "*") else q
    result = find(session, SearchQuery(q=q, filters=filters, sort=SORTS[sort_key], offset=start,
                                       limit=max(rows, 1), public_only=not is_official(actor)), codes)
    facets = {f: result.facets[FQ_FIELDS[f]] for f in facet_fields}
    names = {d.code: d.name for d in departments.values()}
    search_facets = {
        f: {"title": f, "items": [{"name": k, "display_name": names.get(k, CLASS_NAMES.get(k, LABELS.get(k, k))),
                                   "count": v} for k, v in facets[f].items()]}
        for f in facet_fields
    }
    return {"count": result.total, "sort": sort_key, "facets": facets, "search_facets": search_facets,
            "results": [package_dict(session, request, r, departments) for r in result.resources][:rows]}


def _actions() -> dict[str, Callable[[Session, Request, Actor, dict[str, Any]], Any]]:
    def package_show(s: Session, r: Request, a: Actor, p: dict[str, Any]) -> Any:
        return package_dict(s, r, _visible(s, a, str(p.get("id") or p.get("name") or "")),
                            accounts.departments_by_id(s))

    def package_list(s: Session, r: Request, a: Actor, p: dict[str, Any]) -> Any:
        query = select(Resource).where(Resource.status == Status.PUBLISHED).order_by(Resource.code)
        limit, offset = _int(p, "limit", 1000, 1, 10_000), _int(p, "offset", 0, 0, 10_000_000)
        return [x.code for x in s.scalars(query.offset(offset).limit(limit)) if service.can_see(a, x)]

    def organization_list(s: Session, r: Request, a: Actor, p: dict[str, Any]) -> Any:
        departments = accounts.list_departments(s)
        if str(p.get("all_fields", "")).lower() in ("true", "1"):
            return [_organization(d) for d in departments]
        return [d.code for d in departments]

    def organization_show(s: Session, r: Request, a: Actor, p: dict[str, Any]) -> Any:
        department = accounts.department_by_code(s, str(p.get("id", "")))
        found = package_search(s, r, a, {"fq": f"organization:{department.code}", "rows": 100})
        return {**_organization(department), "package_count": found["count"], "packages": found["results"]}

    def group_list(s: Session, r: Request, a: Actor, p: dict[str, Any]) -> Any:
        groups = [c for c in CLASS_NAMES if len(c) == 3]
        if str(p.get("all_fields", "")).lower() in ("true", "1"):
            return [{"id": g, "name": g, "title": CLASS_NAMES[g], "display_name": CLASS_NAMES[g]} for g in groups]
        return groups

    def tag_list(s: Session, r: Request, a: Actor, p: dict[str, Any]) -> Any:
        found = package_search(s, r, a, {"rows": 1000})
        return sorted({t["name"] for pkg in found["results"] for t in pkg["tags"]})

    def status_show(s: Session, r: Request, a: Actor, p: dict[str, Any]) -> Any:
        return {"site_title": "GovLink", "site_url": str(r.base_url).rstrip("/"), "ckan_version": "2.10.0",
                "site_description": "政务信息资源目录", "locale_default": "zh_Hans_CN",
                "extensions": ["govlink"], "govlink_version": govlink.__version__}

    def resource_show(s: Session, r: Request, a: Actor, p: dict[str, Any]) -> Any:
        identifier = str(p.get("id", ""))
        base = str(r.base_url).rstrip("/")
        if identifier.endswith("-data"):
            resource = _visible(s, a, identifier.removesuffix("-data"))
            if ingest.open_version(s, resource) is None:
                raise NotFound("Not found")
            return _data_resource_dict(base, resource)
        if not identifier.endswith("-metadata"):
            raise NotFound("Not found")
        return _resource_dict(base, _visible(s, a, identifier.removesuffix("-metadata")))

    def datastore_search(s: Session, r: Request, a: Actor, p: dict[str, Any]) -> Any:
        identifier = str(p.get("resource_id") or p.get("id") or "")
        if not identifier.endswith("-data"):
            raise NotFound("Not found: only a dataset's -data resource is in the datastore")
        code = identifier.removesuffix("-data")
        _visible(s, a, code)
        limit, offset = _int(p, "limit", 100, 0, 1000), _int(p, "offset", 0, 0, 10**9)
        filters = p.get("filters") or {}
        if isinstance(filters, str):
            try:
                filters = json.loads(filters)
            except ValueError as exc:
                raise InvalidInput("filters must be a JSON object", field="filters") from exc
        if not isinstance(filters, dict):
            raise InvalidInput("filters must be a JSON object", field="filters")
        _, _, fields, total, rows = ingest.open_rows(s, a, code, offset=offset, limit=max(limit, 1),
                                                          filters={str(k): str(v) for k, v in filters.items()})
        path = f"/api/3/action/datastore_search?resource_id={identifier}"
        return {"resource_id": identifier, "include_total": True, "total": total, "limit": limit, "offset": offset,
                "records_format": "objects", "records": rows[:limit],
                "fields": [{"id": "_id", "type": "int"}] + [{"id": f, "type": "text"} for f in fields],
                "_links": {"start": path, "next": f"{path}&offset={offset + limit}"}}

    return {"package_search": package_search, "package_show": package_show, "package_list": package_list,
            "organization_list": organization_list, "organization_show": organization_show,
            "group_list": group_list, "tag_list": tag_list, "status_show": status_show,
            "resource_show": resource_show, "datastore_search": datastore_search}


ACTIONS = _actions()


async def _call(name: str, request: Request, session: Session, actor: Actor) -> JSONResponse:
    if name not in ACTIONS:
        return _error(request, name, 400, f"Bad request - Action name not known: {name}")
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST" and (await request.body()):
        try:
            body = await request.json()
        except ValueError:
            return _error(request, name, 409, "the request body is not JSON")
        if not isinstance(body, dict):
            return _error(request, name, 409, "the request body is a JSON object")
        params.update(body)
    try:
        result = await run_in_threadpool(ACTIONS[name], session, request, actor, params)
        return _envelope(request, name, result)
    except GovLinkError as exc:
        message = "Not found" if isinstance(exc, NotFound) and exc.message.startswith("no resource") else exc.message
        return _error(request, name, exc.status, message, exc.field)


@no_write_lock  # every action here only reads
async def action(name: str, request: Request, session: DbSession, actor: CurrentActor) -> JSONResponse:
    """CKAN Action API (read-only), by GET with query parameters or POST with a JSON body: package_search,
    package_show, package_list, organization_list, organization_show, group_list, tag_list, status_show,
    resource_show, datastore_search. Also under /api/3/action/."""
    return await _call(name, request, session, actor)


for _path in ("/api/action/{name}", "/api/3/action/{name}"):
    _version = "v3" if "/3/" in _path else "v1"
    router.add_api_route(_path, action, methods=["GET"], name=f"catalog.ckan.{_version}_get")
    router.add_api_route(_path, action, methods=["POST"], name=f"catalog.ckan.{_version}_post")
