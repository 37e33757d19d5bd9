"""Pages of the accounts domain: sign-in, one's own account and tokens, user administration."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from govlink.accounts import service
from govlink.accounts.roles import Role
from govlink.accounts.schemas import DepartmentIn, TokenIn, UserIn
from govlink.accounts.scopes import Scope
from govlink.kit.errors import GovLinkError, InvalidInput
from govlink.web.deps import SESSION_COOKIE, AppSettings, AppTemplates, CurrentActor, DbSession

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in; anything else (another site) becomes ``/``."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def first_error(exc: ValidationError) -> InvalidInput:
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error["loc"]) or None
    return InvalidInput(str(error["msg"]), field=field)


async def form_dict(request: Request) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        data[key] = values if len(values) > 1 or key in {"roles", "scopes"} else (values[0] if values else "")
    return data


@router.get("/login", name="accounts.page.login_form", response_class=HTMLResponse)
def login_form(request: Request, templates: AppTemplates, next: str | None = None) -> Response:
    return templates.render(request, "accounts/login.html", {"next": safe_next(next)})


@router.post("/login", name="accounts.page.login", response_class=HTMLResponse)
async def login(request: Request, session: DbSession, settings: AppSettings, templates: AppTemplates) -> Response:
    data = await form_dict(request)
    username, password = str(data.get("username", "")).strip(), str(data.get("password", ""))
    target = safe_next(data.get("next"))
    try:
        user = service.authenticate(
            session,
            username,
            password,
            max_failures=settings.login_max_failures,
            lockout=dt.timedelta(minutes=settings.lockout_minutes),
        )
    except GovLinkError as exc:
        session.commit()  # keep the failure count even though the sign-in is refused
        context = {"next": target, "error": exc, "username": username}
        return templates.render(request, "accounts/login.html", context, status_code=exc.status)
    lifetime = dt.timedelta(hours=settings.session_hours)
    secret, _ = service.start_session(session, user, lifetime=lifetime)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


@router.post("/logout", name="accounts.page.logout")
def logout(request: Request, session: DbSession) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.end_session(session, cookie)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _account_context(session: DbSession, actor: CurrentActor, **extra: Any) -> dict[str, Any]:
    user = service.user_by_username(session, actor.username)
    return {
        "user": service.user_out(user),
        "tokens": [service.token_out(t) for t in service.list_tokens(session, actor)],
        "scopes": list(Scope),
        "can_have_tokens": not actor.roles <= {Role.PUBLIC},
        **extra,
    }


@router.get("/account", name="accounts.page.account", response_class=HTMLResponse)
def account(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    return templates.render(request, "accounts/account.html", _account_context(session, actor))


@router.post("/account/password", name="accounts.page.change_password", response_class=HTMLResponse)
async def change_password(
    request: Request, session: DbSession, actor: CurrentActor, settings: AppSettings, templates: AppTemplates
) -> Response:
    data = await form_dict(request)
    try:
        service.authenticate(
            session,
            actor.username,
            str(data.get("current_password", "")),
            max_failures=settings.login_max_failures,
            lockout=dt.timedelta(minutes=settings.lockout_minutes),
        )
        new = str(data.get("new_password", ""))
        if new != data.get("confirm_password"):
            raise InvalidInput("the two new passwords differ", field="confirm_password")
        service.set_password(session, actor, actor.username, new)
    except GovLinkError as exc:
        session.commit()
        context = _account_context(session, actor, password_error=exc)
        return templates.render(request, "accounts/account.html", context, status_code=exc.status)
    context = _account_context(session, actor, password_changed=True)
    return templates.render(request, "accounts/account.html", context)


@router.post("/account/tokens", name="accounts.page.create_token", response_class=HTMLResponse)
async def create_token(
    request: Request, session: DbSession, actor: CurrentActor, settings: AppSettings, templates: AppTemplates
) -> Response:
    data = await form_dict(request)
    try:
        token_in = TokenIn.model_validate(
            {"name": data.get("name"), "scopes": data.get("scopes", []),
             "expires_in_days": data.get("expires_in_days") or 90}
        )
        created = service.create_token(session, actor, actor.username, token_in, max_days=settings.token_max_days)
    except (ValidationError, GovLinkError) as exc:
        error = first_error(exc) if isinstance(exc, ValidationError) else exc
        context = _account_context(session, actor, token_error=error)
        return templates.render(request, "accounts/account.html", context, status_code=error.status)
    return templates.render(request, "accounts/account.html", _account_context(session, actor, created=created))


@router.post("/account/tokens/{token_id}/revoke", name="accounts.page.revoke_token")
def revoke_token(token_id: int, session: DbSession, actor: CurrentActor) -> Response:
    service.revoke_token(session, actor, token_id)
    return RedirectResponse("/account", status_code=303)


def _users_context(session: DbSession, **extra: Any) -> dict[str, Any]:
    return {
        "users": [service.user_out(u) for u in service.list_users(session)],
        "departments": service.list_departments(session),
        "roles": list(Role),
        **extra,
    }


@router.get("/admin/users", name="accounts.page.users", response_class=HTMLResponse)
def users(request: Request, session: DbSession, templates: AppTemplates) -> Response:
    return templates.render(request, "accounts/users.html", _users_context(session))


@router.post("/admin/users", name="accounts.page.create_user", response_class=HTMLResponse)
async def create_user(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    data = await form_dict(request)
    try:
        user_in = UserIn.model_validate(
            {
                "username": data.get("username"),
                "display_name": data.get("display_name"),
                "roles": data.get("roles", []),
                "department_code": data.get("department_code") or None,
                "password": data.get("password") or None,
            }
        )
        created = service.create_user(session, actor, user_in)
    except (ValidationError, GovLinkError) as exc:
        session.rollback()
        error = first_error(exc) if isinstance(exc, ValidationError) else exc
        return templates.render(request, "accounts/users.html", _users_context(session, error=error, form=data),
                                status_code=error.status)
    return templates.render(request, "accounts/users.html", _users_context(session, created=created))


@router.post("/admin/users/{username}/disable", name="accounts.page.disable_user")
def disable_user(username: str, session: DbSession, actor: CurrentActor) -> Response:
    service.disable_user(session, actor, username)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/departments", name="accounts.page.create_department", response_class=HTMLResponse)
async def create_department(
    request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates
) -> Response:
    data = await form_dict(request)
    try:
        department_in = DepartmentIn.model_validate(
            {
                "code": data.get("code"),
                "name": data.get("name"),
                "uscc": data.get("uscc") or None,
                "parent_code": data.get("parent_code") or None,
            }
        )
        service.create_department(session, actor, department_in)
    except (ValidationError, GovLinkError) as exc:
        session.rollback()
        error = first_error(exc) if isinstance(exc, ValidationError) else exc
        departments = [service.department_out(d) for d in service.list_departments(session)]
        return templates.render(
            request, "portal/departments.html",
            {"departments": departments, "error": error, "form": data}, status_code=error.status,
        )
    return RedirectResponse("/departments", status_code=303)
