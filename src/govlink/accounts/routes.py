"""The accounts JSON API: who am I, departments, users and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, status

from govlink.accounts import service
from govlink.accounts.roles import Role
from govlink.accounts.schemas import (
    DepartmentIn,
    DepartmentOut,
    Me,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserCreated,
    UserIn,
    UserOut,
)
from govlink.web.deps import AppSettings, CurrentActor, DbSession

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/me", name="accounts.api.me", response_model=Me)
def me(session: DbSession, actor: CurrentActor) -> Me:
    """The caller's identity, roles and (for a token) scopes."""
    out = service.user_out(service.user_by_username(session, actor.username))
    return Me(
        username=out.username,
        display_name=out.display_name,
        roles=out.roles,
        department_code=out.department_code,
        via=actor.via,
        scopes=sorted(actor.scopes),
    )


@router.get("/departments", name="accounts.api.list_departments", response_model=list[DepartmentOut])
def list_departments(session: DbSession) -> list[DepartmentOut]:
    """Every department, by code."""
    return [service.department_out(d) for d in service.list_departments(session)]


@router.get("/departments/{code}", name="accounts.api.get_department", response_model=DepartmentOut)
def get_department(code: str, session: DbSession) -> DepartmentOut:
    return service.department_out(service.department_by_code(session, code))


@router.post(
    "/departments",
    name="accounts.api.create_department",
    response_model=DepartmentOut,
    status_code=status.HTTP_201_CREATED,
)
def create_department(data: DepartmentIn, session: DbSession, actor: CurrentActor) -> DepartmentOut:
    """Register a department (admin); the credit code is checked against GB 32100."""
    return service.department_out(service.create_department(session, actor, data))


@router.get("/users", name="accounts.api.list_users", response_model=list[UserOut])
def list_users(session: DbSession) -> list[UserOut]:
    return [service.user_out(u) for u in service.list_users(session)]


@router.get("/users/{username}", name="accounts.api.get_user", response_model=UserOut)
def get_user(username: str, session: DbSession) -> UserOut:
    return service.user_out(service.user_by_username(session, username))


@router.post(
    "/users", name="accounts.api.create_user", response_model=UserCreated, status_code=status.HTTP_201_CREATED
)
def create_user(data: UserIn, session: DbSession, actor: CurrentActor) -> UserCreated:
    """Create an account (admin); a generated password is in the answer, once."""
    return service.create_user(session, actor, data)


@router.post("/users/{username}/disable", name="accounts.api.disable_user", response_model=UserOut)
def disable_user(username: str, session: DbSession, actor: CurrentActor) -> UserOut:
    """Disable an account; its sessions end and its tokens are revoked at once."""
    return service.user_out(service.disable_user(session, actor, username))


@router.get("/tokens", name="accounts.api.list_tokens", response_model=list[TokenOut])
def list_tokens(session: DbSession, actor: CurrentActor, all: bool = False) -> list[TokenOut]:
    """The caller's tokens (an admin may pass ``all=true`` for everyone's)."""
    everyone = all and actor.has_role(Role.ADMIN)
    return [service.token_out(t) for t in service.list_tokens(session, actor, everyone=everyone)]


@router.post(
    "/tokens", name="accounts.api.create_token", response_model=TokenCreated, status_code=status.HTTP_201_CREATED
)
def create_token(
    data: TokenIn, session: DbSession, actor: CurrentActor, settings: AppSettings
) -> TokenCreated:
    """Issue a token for the caller; the secret is in the answer, once."""
    return service.create_token(session, actor, actor.username, data, max_days=settings.token_max_days)


@router.delete("/tokens/{token_id}", name="accounts.api.revoke_token", response_model=TokenOut)
def revoke_token(token_id: int, session: DbSession, actor: CurrentActor) -> TokenOut:
    return service.token_out(service.revoke_token(session, actor, token_id))
