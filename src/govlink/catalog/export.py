"""DCAT-AP 3 export of what the caller may see: ``/catalog.{jsonld,ttl,rdf}`` (paged) and
``/dataset/<code>.{jsonld,ttl,rdf}``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from govlink.accounts import service as accounts
from govlink.accounts.models import Department
from govlink.catalog import service
from govlink.catalog.dcat import (
    DcatCatalog,
    DcatDataset,
    DcatDistribution,
    DcatPublisher,
    catalog_graph,
    dataset_graph,
    serialise,
)
from govlink.catalog.models import Resource
from govlink.catalog.routes import is_official
from govlink.catalog.vocabulary import CLASS_NAMES, LABELS, OpenType, Status
from govlink.kit.errors import InvalidInput, NotFound
from govlink.web.deps import AppSettings, CurrentActor, DbSession

router = APIRouter(tags=["dcat"])
Format = Literal["jsonld", "ttl", "rdf"]
PAGE_SIZE = 100
LICENCES = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "ODC-BY-1.0": "https://opendatacommons.org/licenses/by/1-0/",
}


def publisher(department: Department) -> DcatPublisher:
    return DcatPublisher(code=department.code, name=department.name, uscc=department.uscc)


def dataset(base: str, resource: Resource, department: Department) -> DcatDataset:
    licence = resource.licence
    distribution = DcatDistribution(url=f"{base}/api/catalog/resources/{resource.code}", format="JSON",
                                    media_type="application/json", title=f"{resource.name}（目录元数据）")
    return DcatDataset(
        code=resource.code, title=resource.name, description=resource.summary or resource.name,
        publisher=publisher(department), keywords=tuple(i.name for i in resource.items[:30]),
        theme=CLASS_NAMES.get(resource.classification[:3], CLASS_NAMES[resource.classification[:1]]),
        issued=resource.published_on, modified=resource.updated_at,
        update_cycle=LABELS[f"cycle.{resource.update_cycle}"],
        licence_url=(licence if licence and licence.startswith("http") else LICENCES.get(licence or "")),
        open_type=LABELS[f"open.{resource.open_type}"], landing_page=f"{base}/catalog/{resource.code}",
        distributions=(distribution,),
    )


def _rdf(graph_bytes: tuple[bytes, str]) -> Response:
    body, media_type = graph_bytes
    return Response(body, media_type=media_type)


@router.get("/catalog.{fmt}", name="catalog.dcat.catalog")
def dcat_catalog(
    fmt: Format, request: Request, session: DbSession, actor: CurrentActor, settings: AppSettings,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The catalog as DCAT-AP 3, 100 datasets a page with hydra paging links."""
    base = str(request.base_url).rstrip("/")
    visible = [Resource.status == Status.PUBLISHED]
    if not is_official(actor):
        visible.append(Resource.open_type != OpenType.CLOSED)
    total = session.scalar(select(func.count()).select_from(Resource).where(*visible)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise InvalidInput(f"the catalog has {pages} page(s)", field="page")
    rows = session.scalars(select(Resource).where(*visible).order_by(Resource.code)
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    departments = accounts.departments_by_id(session)
    office = next((d for d in departments.values() if d.code == settings.information_office), None)
    owner = publisher(office) if office else DcatPublisher(code="govlink", name="GovLink", uscc=None)
    modified = max((r.updated_at for r in rows), default=dt.datetime.now(dt.UTC))
    catalog = DcatCatalog(
        base_url=base, title="政务信息资源目录", description="本区各部门登记并发布的政务信息资源目录（开放部分）。",
        publisher=owner, modified=modified,
        datasets=tuple(dataset(base, r, departments[r.department_id]) for r in rows),
        page=page, page_size=PAGE_SIZE, total=total,
    )
    return _rdf(serialise(catalog_graph(catalog, ext=fmt), fmt))


@router.get("/dataset/{code}.{fmt}", name="catalog.dcat.dataset")
def dcat_dataset(code: str, fmt: Format, request: Request, session: DbSession, actor: CurrentActor) -> Response:
    """One published resource as a DCAT-AP 3 dataset."""
    resource = service.resource_by_code(session, actor, code)
    if resource.status != Status.PUBLISHED:
        raise NotFound(f"no resource {code!r}", field="code")
    department = accounts.department_by_id(session, resource.department_id)
    base = str(request.base_url).rstrip("/")
    return _rdf(serialise(dataset_graph(dataset(base, resource, department), base), fmt))
