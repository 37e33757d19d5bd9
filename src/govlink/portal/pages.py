"""Public pages: home, the department directory and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govlink.accounts import service as accounts
from govlink.accounts.pages import safe_next
from govlink.catalog.routes import department_scores, search_resources
from govlink.catalog.vocabulary import CLASSES, LABELS
from govlink.web.deps import AppSettings, AppTemplates, CurrentActor, DbSession
from govlink.web.i18n import LOCALES
from govlink.web.templating import LANG_COOKIE

router = APIRouter(include_in_schema=False)


@router.get("/", name="portal.page.home", response_class=HTMLResponse)
def home(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    departments = accounts.list_departments(session)
    newest, _ = search_resources(session, actor, "", {}, "published", 0, 6)
    popular, _ = search_resources(session, actor, "", {}, "popular", 0, 6)
    context = {
        "department_count": len(departments),
        "user_count": accounts.count_users(session),
        "resource_count": newest.total,
        "classes": [(c.code, c.name, newest.facets["class"].get(c.code, 0)) for c in CLASSES if len(c.code) == 3],
        "newest": newest.results,
        "popular": popular.results,
        "departments": departments[:12],
        "labels": LABELS,
    }
    return templates.render(request, "portal/home.html", context)


@router.get("/departments/{code}", name="portal.page.department", response_class=HTMLResponse)
def department(code: str, request: Request, session: DbSession, actor: CurrentActor,
               templates: AppTemplates) -> Response:
    found = accounts.department_out(accounts.department_by_code(session, code))
    result, _ = search_resources(session, actor, "", {"department": code}, "name", 0, 100)
    score = next((s for s in department_scores(session) if s.department_code == code), None)
    context = {"department": found, "result": result, "score": score, "labels": LABELS}
    return templates.render(request, "portal/department.html", context)


@router.get("/departments", name="portal.page.departments", response_class=HTMLResponse)
def departments(request: Request, session: DbSession, templates: AppTemplates) -> Response:
    rows = [accounts.department_out(d) for d in accounts.list_departments(session)]
    return templates.render(request, "portal/departments.html", {"departments": rows})


@router.get("/lang/{locale}", name="portal.page.set_language")
def set_language(locale: str, settings: AppSettings, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(
            LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax", secure=settings.secure_cookies
        )
    return response
