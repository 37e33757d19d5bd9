"""The authorization matrix is complete and enforced: every route, every role, allowed or refused."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute, Match, Mount, Route

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.accounts.schemas import DepartmentIn, UserIn
from govlink.app import all_routes
from govlink.authz import MATRIX
from tests.conftest import PASSWORD

CSRF = "csrf-for-tests"
SAMPLE_PARAMS = {
    "code": "AZT", "username": "authz-target", "token_id": "1", "job_id": "1", "locale": "en", "index": "0",
    "name": "status_show", "fmt": "ttl", "number": "1", "department": "AZT",
    "registry_id": "P00000001", "review_id": "1", "conflict_id": "1", "entity_type": "person", "key": "x",
    "request_id": "1", "grant_id": "1",
}
WHO = [None, *Role]  # None: an anonymous visitor


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def endpoints(app: FastAPI) -> Iterator[Endpoint]:
    for route in all_routes(app):
        if isinstance(route, Mount):
            yield Endpoint(route.name or "", "GET", f"{route.path}/css/govlink.css")
        elif isinstance(route, APIRoute | Route):
            for method in sorted((route.methods or {"GET"}) - {"HEAD", "OPTIONS"}):
                yield Endpoint(route.name, method, route.path)


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    names = {e.name for e in endpoints(app)}
    missing = sorted(names - MATRIX.keys())
    assert not missing, f"routes missing from govlink.authz.MATRIX: {missing}"
    stale = sorted(MATRIX.keys() - names)
    assert not stale, f"matrix entries for routes that do not exist: {stale}"


@pytest.fixture
def principals(session: Session) -> dict[Role, str]:
    accounts.create_department(session, SYSTEM, DepartmentIn(code="AZT", name="授权测试部门"))
    users = {}
    for role in Role:
        name = f"authz-{role.value}"
        department = "AZT" if role in {Role.STEWARD, Role.APPROVER, Role.ANALYST, Role.ADMIN} else None
        accounts.create_user(session, SYSTEM, UserIn(username=name, display_name=name, roles=[role],
                                             department_code=department, password=PASSWORD))
        users[role] = name
    for name in ("authz-target", "authz-login"):
        accounts.create_user(session, SYSTEM, UserIn(username=name, display_name=name, roles=[Role.PUBLIC],
                                             password=PASSWORD))
    session.commit()
    return users


def _request(client: TestClient, session: Session, endpoint: Endpoint, username: str | None) -> tuple[int, str]:
    client.cookies.clear()
    client.cookies.set("govlink_csrf", CSRF)
    if username is not None:
        user = accounts.user_by_username(session, username)
        secret, _ = accounts.start_session(session, user, lifetime=dt.timedelta(hours=1))
        session.commit()
        client.cookies.set("govlink_session", secret)
    path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE_PARAMS[m.group(1)], endpoint.path)
    kwargs: dict[str, object] = {"headers": {"X-CSRF-Token": CSRF}, "follow_redirects": False}
    if endpoint.method != "GET":
        if endpoint.is_api:
            kwargs["json"] = {}
        elif endpoint.name == "accounts.page.login":
            kwargs["data"] = {"username": username or "authz-login", "password": PASSWORD, "csrf_token": CSRF}
        elif endpoint.name == "accounts.page.change_password":
            kwargs["data"] = {"current_password": PASSWORD, "new_password": PASSWORD,
                              "confirm_password": PASSWORD, "csrf_token": CSRF}
        else:
            kwargs["data"] = {"csrf_token": CSRF}
    response = client.request(endpoint.method, path, **kwargs)  # type: ignore[arg-type]
    return response.status_code, response.headers.get("location", "")


def test_matrix_is_enforced_for_every_role(
    app: FastAPI, client: TestClient, session: Session, principals: dict[Role, str]
) -> None:
    wrong = []
    for endpoint in endpoints(app):
        rule = MATRIX[endpoint.name]
        for role in WHO:
            actor = Actor(user_id=1 if role else None, username="x", roles=frozenset({role} if role else ()),
                          via="session" if role else "anonymous")
            username = principals[role] if role else None
            status, location = _request(client, session, endpoint, username)
            refused = status in (401, 403) or (status == 303 and location.startswith("/login"))
            if rule.permits(actor) == refused:
                wrong.append(f"{endpoint.method} {endpoint.path} as {role or 'anonymous'}: {status}")
            if refused and role is not None and status != 403:
                wrong.append(f"{endpoint.method} {endpoint.path} as {role}: refused with {status}, not 403")
            if refused and role is None and endpoint.is_api and status != 401:
                wrong.append(f"{endpoint.method} {endpoint.path} anonymously: refused with {status}, not 401")
    assert not wrong, "\n".join(wrong)


def test_tokens_reach_only_routes_of_their_scopes(
    app: FastAPI, client: TestClient, session: Session, principals: dict[Role, str]
) -> None:
    from govlink.accounts.actor import SYSTEM
    from govlink.accounts.schemas import TokenIn
    from govlink.accounts.scopes import Scope

    secret = accounts.create_token(
        session, SYSTEM, principals[Role.ADMIN], TokenIn(name="t", scopes=[Scope.ACCOUNTS_READ]), max_days=365
    ).token
    session.commit()
    for endpoint in endpoints(app):
        if not endpoint.is_api or endpoint.name in {"openapi", "portal.api.health"}:
            continue
        rule = MATRIX[endpoint.name]
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE_PARAMS[m.group(1)], endpoint.path)
        client.cookies.clear()
        response = client.request(endpoint.method, path, headers={"Authorization": f"Bearer {secret}"},
                                  json={} if endpoint.method != "GET" else None)
        allowed = rule.scope is Scope.ACCOUNTS_READ
        assert (response.status_code not in (401, 403)) == allowed, (endpoint, response.status_code)


def test_no_route_is_hidden_behind_an_earlier_one(app: FastAPI) -> None:
    """Routers are tried in order (the delivery API first, as it is called most): the order must never decide
    which route answers a path, only how soon."""
    routers = list(app.router.routes)

    def inside(route: BaseRoute) -> Iterator[BaseRoute]:
        inner = getattr(route, "original_router", None)
        yield from (r for child in inner.routes for r in inside(child)) if inner is not None else (route,)

    def example(path: str) -> str:  # each path parameter given a value its convertor accepts
        return re.sub(r"\{[^}:]+(:path)?\}", lambda m: "a/b" if m.group(1) else "1", path)

    for position, router in enumerate(routers):
        for route in inside(router):
            if not isinstance(route, APIRoute | Route):
                continue
            for method in sorted(route.methods or {"GET"}):
                scope = {"type": "http", "path": example(route.path), "method": method, "root_path": "",
                         "headers": [], "query_string": b""}
                first = next(i for i, other in enumerate(routers) if other.matches(scope)[0] == Match.FULL)
                assert first == position, f"{method} {route.path} is answered by an earlier router"
