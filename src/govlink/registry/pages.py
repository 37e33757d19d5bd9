"""Registry pages: search, entity pages, the review queue and pairs, conflicts for stewards (校核纠错), and the
integration map with the information office's thresholds and "run linkage now"."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govlink.accounts.actor import Actor
from govlink.accounts.roles import Role
from govlink.kit.errors import GovLinkError, InvalidInput
from govlink.portal.vocabulary import REGISTRY_WORDS
from govlink.registry import routes, service
from govlink.registry.schemas import EntityType, RegistryMapOut
from govlink.web.deps import AppTemplates, CurrentActor, DbSession
from govlink.web.templating import Templates, chart_json

router = APIRouter(include_in_schema=False)
PAGE = 20
PageNumber = Annotated[int, Query(ge=1, le=10_000)]
# A form's "all" choice sends type= (empty), which reads as no filter.
TypeFilter = Annotated[Literal["person", "enterprise", ""], Query(alias="type")]


def _context(actor: Actor, **values: Any) -> dict[str, Any]:
    return {"words": REGISTRY_WORDS, "may_review": actor.has_role(Role.ADMIN, Role.STEWARD),
            "is_admin": actor.has_role(Role.ADMIN), **values}


@router.get("/registry", name="registry.page.search", response_class=HTMLResponse)
def search_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates,
                q: Annotated[str, Query(max_length=200)] = "", entity_type: TypeFilter = "",
                page: PageNumber = 1) -> Response:
    """Find a person or an enterprise by name, ID number, credit code, phone or address."""
    service.may_read(actor)
    result = None
    if q.strip():
        found = service.search(session, actor, q, entity_type=entity_type or None, limit=PAGE,
                               offset=(page - 1) * PAGE)
        result = {"total": found.total, "entities": [routes.summary_out(e, actor) for e in found.entities],
                  "pages": max(1, -(-found.total // PAGE))}
    return templates.render(request, "registry/search.html", _context(
        actor, q=q, type=entity_type, page=page, result=result))


@router.get("/registry/map", name="registry.page.map", response_class=HTMLResponse)
def map_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates,
             entity_type: Annotated[EntityType, Query(alias="type")] = "person",
             attribute: Annotated[str, Query(max_length=32)] = "name") -> Response:
    """Coverage, overlap (重复建设), information islands and disagreements, each chart with its numbers."""
    return _render_map(request, session, actor, templates, entity_type, attribute)


def _render_map(request: Request, session: DbSession, actor: Actor, templates: Templates, entity_type: str,
                attribute: str, *, error: GovLinkError | None = None, status: int = 200) -> Response:
    maps = routes.map_out(session, actor).registries
    chosen = next(m for m in maps if m.entity_type == entity_type)
    if attribute not in chosen.attributes:
        attribute = chosen.attributes[0]
    context = _context(actor, maps=maps, m=chosen, attribute=attribute, error=error,
                       matrix=_matrix(chosen, attribute), charts=_charts(request, templates, chosen, attribute))
    if actor.has_role(Role.ADMIN):
        context["thresholds"] = service.thresholds(session)
        context["last_run"] = service.last_run(session)
    return templates.render(request, "registry/map.html", context, status_code=status)


def _matrix(m: RegistryMapOut, attribute: str) -> list[list[int]]:
    position = {d.code: n for n, d in enumerate(m.departments)}
    grid = [[0] * len(position) for _ in position]
    for cell in m.overlap:
        if cell.attribute == attribute:
            a, b = position[cell.left], position[cell.right]
            grid[a][b] = grid[b][a] = cell.entities
    return grid


def _charts(request: Request, templates: Templates, m: RegistryMapOut, attribute: str) -> dict[str, str]:
    """The map's ECharts options: coverage bars, islands bars, and the overlap heat map of one attribute."""
    def t(text: str) -> str:
        return templates.gettext(request, text)

    names = [d.name for d in m.departments]
    bars = {"tooltip": {}, "grid": {"left": 220, "right": 30, "top": 10, "bottom": 30},
            "yAxis": {"type": "category", "inverse": True, "data": names}, "xAxis": {"type": "value"}}
    coverage = {**bars, "series": [{"type": "bar", "name": t("Entities"), "data": [d.entities for d in m.departments],
                                    "itemStyle": {"color": "#0b57a4"},
                                    "label": {"show": True, "position": "right", "formatter": "{c}"}}]}
    islands = {**bars, "series": [{"type": "bar", "name": t("Known to this department only"),
                                   "data": [d.islands for d in m.departments], "itemStyle": {"color": "#b3261e"},
                                   "label": {"show": True, "position": "right"}}]}
    grid = _matrix(m, attribute)
    codes = [d.code for d in m.departments]
    heat = {
        "tooltip": {"position": "top"},
        "grid": {"left": 90, "right": 30, "top": 10, "bottom": 90},
        "xAxis": {"type": "category", "data": codes, "splitArea": {"show": True}},
        "yAxis": {"type": "category", "data": codes, "inverse": True, "splitArea": {"show": True}},
        "visualMap": {"min": 0, "max": max([max(row) for row in grid] or [0]) or 1, "calculable": True,
                      "orient": "horizontal", "left": "center", "bottom": 0,
                      "inRange": {"color": ["#f4f6f9", "#f3b7ae", "#b3261e"]}},
        "series": [{"type": "heatmap", "name": t("Entities held by both"),
                    "data": [[x, y, grid[y][x]] for y in range(len(codes)) for x in range(len(codes))],
                    "label": {"show": True}}],
    }
    return {"coverage": chart_json(coverage), "islands": chart_json(islands), "heat": chart_json(heat)}


@router.post("/registry/thresholds", name="registry.page.thresholds")
async def thresholds_page(request: Request, session: DbSession, actor: CurrentActor,
                          templates: AppTemplates) -> Response:
    """The admin's thresholds form beside the map."""
    form = await request.form()
    try:
        upper, lower = float(str(form.get("upper", ""))), float(str(form.get("lower", "")))
        service.set_thresholds(session, actor, upper=upper, lower=lower)
    except (ValueError, GovLinkError) as exc:
        session.rollback()
        error = exc if isinstance(exc, GovLinkError) else InvalidInput(
            "thresholds are probabilities such as 0.95", field="upper")
        return _render_map(request, session, actor, templates, "person", "name", error=error, status=error.status)
    return RedirectResponse("/registry/map", status_code=303)


@router.post("/registry/runs", name="registry.page.run")
def run_page(session: DbSession, actor: CurrentActor) -> Response:
    """Run linkage now (the admin's button on the map); the map shows the run's summary."""
    service.link(session, actor)
    return RedirectResponse("/registry/map", status_code=303)


# --- review ------------------------------------------------------------------------------------------------------


@router.get("/registry/reviews", name="registry.page.reviews", response_class=HTMLResponse)
def reviews_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates,
                 entity_type: TypeFilter = "", page: PageNumber = 1) -> Response:
    total, items = service.review_queue(session, actor, entity_type=entity_type or None, limit=PAGE,
                                        offset=(page - 1) * PAGE)
    return templates.render(request, "registry/reviews.html", _context(
        actor, items=[routes.review_item_out(i) for i in items], total=total, type=entity_type, page=page,
        pages=max(1, -(-total // PAGE))))


@router.get("/registry/reviews/{review_id}", name="registry.page.review", response_class=HTMLResponse)
def review_page(review_id: int, request: Request, session: DbSession, actor: CurrentActor,
                templates: AppTemplates) -> Response:
    pair = routes.review_pair_out(session, actor, review_id)
    return templates.render(request, "registry/review.html", _context(
        actor, pair=pair, fields=("name", "code", "birth_date", "gender", "phone", "address")))


@router.post("/registry/reviews/{review_id}", name="registry.page.decide")
async def decide_page(review_id: int, request: Request, session: DbSession, actor: CurrentActor) -> Response:
    """Match / Not a match, then on to the next pair of the queue."""
    decision = str((await request.form()).get("decision", ""))
    if decision not in {"match", "non_match"}:
        raise InvalidInput("choose Match or Not a match", field="decision")
    item = service.decide(session, actor, review_id, match=decision == "match")
    _, following = service.review_queue(session, actor, entity_type=item.entity_type, limit=1)
    target = f"/registry/reviews/{following[0].id}" if following else "/registry/reviews"
    return RedirectResponse(target, status_code=303)


# --- conflicts ---------------------------------------------------------------------------------------------------


@router.get("/registry/conflicts", name="registry.page.conflicts", response_class=HTMLResponse)
def conflicts_page(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates,
                   state: Annotated[str, Query(pattern="^(open|confirmed|corrected)$")] = "open",
                   page: PageNumber = 1) -> Response:
    """The values of the steward's department that disagree with the golden records, to check at source."""
    total, found = service.conflicts_for(session, actor, state=state, limit=PAGE, offset=(page - 1) * PAGE)
    return templates.render(request, "registry/conflicts.html", _context(
        actor, conflicts=found, total=total, state=state, page=page, pages=max(1, -(-total // PAGE))))


@router.post("/registry/conflicts/{conflict_id}", name="registry.page.resolve")
async def resolve_page(conflict_id: int, request: Request, session: DbSession, actor: CurrentActor) -> Response:
    form = await request.form()
    decision = str(form.get("decision", ""))
    if decision not in {"confirm", "corrected"}:
        raise InvalidInput("choose Confirm or Corrected at source", field="decision")
    service.resolve_conflict(session, actor, conflict_id, confirm=decision == "confirm",
                             note=str(form.get("note", "")))
    return RedirectResponse("/registry/conflicts", status_code=303)


# --- entities (last: /registry/{registry_id} would match the pages above) ----------------------------------------


@router.get("/registry/{registry_id}", name="registry.page.entity", response_class=HTMLResponse)
def entity_page(registry_id: str, request: Request, session: DbSession, actor: CurrentActor,
                templates: AppTemplates) -> Response:
    """Golden record with sources and other values, every source record, relations, history and conflicts."""
    page = routes.entity_page_out(session, actor, registry_id[:16])
    sources = {s.resource_id: s for s in page.sources}
    return templates.render(request, "registry/entity.html", _context(actor, p=page, e=page.entity, sources=sources))
