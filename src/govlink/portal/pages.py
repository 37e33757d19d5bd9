"""Public pages: home, the department directory and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govlink.accounts import service as accounts
from govlink.accounts.pages import safe_next
from govlink.web.deps import AppSettings, AppTemplates, DbSession
from govlink.web.i18n import LOCALES
from govlink.web.templating import LANG_COOKIE

router = APIRouter(include_in_schema=False)


@router.get("/", name="portal.page.home", response_class=HTMLResponse)
def home(request: Request, session: DbSession, templates: AppTemplates) -> Response:
    departments = accounts.list_departments(session)
    context = {
        "department_count": len(departments),
        "user_count": accounts.count_users(session),
        "departments": departments[:12],
    }
    return templates.render(request, "portal/home.html", context)


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
