"""Accounts through the API and pages: departments, users, sign-in, lockout, tokens, disabling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from govlink.accounts.roles import Role
from tests.conftest import PASSWORD, csrf_headers, sign_in

VALID_USCC = "11330106MB0000000D"


def test_admin_registers_department_with_checked_credit_code(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    sign_in(client, make_user(Role.ADMIN))
    headers = csrf_headers(client)
    bad = client.post("/api/departments", json={"code": "MZ", "name": "民政局", "uscc": "91350100M000100Y44"},
                      headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "uscc"
    parent = client.post("/api/departments", json={"code": "ZFB", "name": "区政府办"}, headers=headers)
    assert parent.status_code == 201
    child = client.post(
        "/api/departments",
        json={"code": "MZ", "name": "民政局", "uscc": "91350100M000100Y43", "parent_code": "ZFB"},
        headers=headers,
    )
    assert child.status_code == 201, child.text
    assert child.json()["parent_code"] == "ZFB"
    again = client.post("/api/departments", json={"code": "MZ", "name": "x"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "code"
    listed = client.get("/api/departments").json()
    assert [d["code"] for d in listed if d["code"] in {"MZ", "ZFB"}] == ["MZ", "ZFB"]


def test_unknown_parent_is_refused_with_field(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.ADMIN))
    response = client.post("/api/departments", json={"code": "X1", "name": "x", "parent_code": "NOPE"},
                           headers=csrf_headers(client))
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "department"


def test_steward_needs_department(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.ADMIN))
    response = client.post(
        "/api/users", json={"username": "s1", "display_name": "S", "roles": ["steward"]},
        headers=csrf_headers(client),
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "department_code"


def test_created_user_gets_generated_password_once(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.ADMIN))
    created = client.post(
        "/api/users", json={"username": "citizen1", "display_name": "市民", "roles": ["public"]},
        headers=csrf_headers(client),
    ).json()
    password = created["password"]
    assert password and len(password) >= 16
    shown = client.get("/api/users/citizen1").json()
    assert "password" not in shown
    other = TestClient(client.app)
    sign_in(other, "citizen1", password)
    assert other.get("/api/me").json()["roles"] == ["public"]


def test_wrong_password_locks_account_after_repeated_failures(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    name = make_user(Role.ANALYST)
    client.get("/login")
    csrf = client.cookies.get("govlink_csrf")
    for _ in range(3):  # login_max_failures is 3 in the test settings
        r = client.post("/login", data={"username": name, "password": "wrong-password", "csrf_token": csrf})
        assert r.status_code == 401
    locked = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf})
    assert locked.status_code == 423
    assert "登录" in locked.text or "Sign in" in locked.text


def test_login_form_without_csrf_is_refused(client: TestClient, make_user: Callable[..., str]) -> None:
    name = make_user(Role.ANALYST)
    response = client.post("/login", data={"username": name, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/api/me").status_code == 401


def test_login_does_not_redirect_off_site(client: TestClient, make_user: Callable[..., str]) -> None:
    name = make_user(Role.ANALYST)
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": client.cookies.get("govlink_csrf"),
              "next": "//evil.example/steal"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_logout_ends_session(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.AUDITOR))
    assert client.get("/api/me").status_code == 200
    client.post("/logout", data={"csrf_token": client.cookies.get("govlink_csrf")})
    assert client.get("/api/me").status_code == 401


def test_token_lifecycle_and_scopes(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.ADMIN))
    created = client.post(
        "/api/tokens", json={"name": "benefits system", "scopes": ["accounts:read"], "expires_in_days": 30},
        headers=csrf_headers(client),
    )
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    listed = client.get("/api/tokens").json()
    assert "token" not in listed[0]
    machine = TestClient(client.app)
    bearer = {"Authorization": f"Bearer {secret}"}
    me = machine.get("/api/me", headers=bearer)
    assert me.status_code == 200 and me.json()["via"] == "token"
    assert machine.get("/api/users", headers=bearer).status_code == 200
    # accounts:write is not among its scopes
    assert machine.post("/api/departments", json={"code": "Q", "name": "q"}, headers=bearer).status_code == 403
    # a token cannot mint tokens
    assert machine.post("/api/tokens", json={"name": "x", "scopes": ["accounts:read"]},
                        headers=bearer).status_code == 403
    revoked = client.delete(f"/api/tokens/{created.json()['id']}", headers=csrf_headers(client))
    assert revoked.status_code == 200
    assert machine.get("/api/me", headers=bearer).status_code == 401


def test_tampered_token_is_refused(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.ADMIN))
    secret = client.post(
        "/api/tokens", json={"name": "t", "scopes": ["accounts:read"]}, headers=csrf_headers(client)
    ).json()["token"]
    tampered = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    assert TestClient(client.app).get("/api/me", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_disabling_user_ends_sessions_and_tokens(client: TestClient, make_user: Callable[..., str]) -> None:
    analyst = make_user(Role.ANALYST)
    browser = TestClient(client.app)
    sign_in(browser, analyst)
    token = browser.post("/api/tokens", json={"name": "app", "scopes": ["accounts:read"]},
                         headers=csrf_headers(browser)).json()["token"]
    machine = TestClient(client.app)
    assert machine.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    sign_in(client, make_user(Role.ADMIN))
    assert client.post(f"/api/users/{analyst}/disable", headers=csrf_headers(client)).status_code == 200
    assert browser.get("/api/me").status_code == 401
    assert machine.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    fresh = TestClient(client.app)
    fresh.get("/login")
    again = fresh.post("/login", data={"username": analyst, "password": PASSWORD,
                                       "csrf_token": fresh.cookies.get("govlink_csrf")})
    assert again.status_code == 401


def test_pages_escape_html_in_names(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.ADMIN))
    client.post("/api/departments", json={"code": "XSS", "name": "<script>alert(1)</script>"},
                headers=csrf_headers(client))
    page = client.get("/departments").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_admin_creates_user_through_page(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.ADMIN))
    response = client.post(
        "/admin/users",
        data={"username": "new.steward", "display_name": "新专员", "roles": ["steward"],
              "department_code": "", "csrf_token": client.cookies.get("govlink_csrf")},
    )
    assert response.status_code == 422  # a steward needs a department
    assert "department_code" in response.text


def test_token_created_and_revoked_through_account_page(client: TestClient, make_user: Callable[..., str]) -> None:
    from tests.conftest import form_csrf

    sign_in(client, make_user(Role.STEWARD))
    page = client.get("/account").text
    created = client.post("/account/tokens", data={"name": "统计系统", "scopes": ["accounts:read"],
                                                    "expires_in_days": "30", "csrf_token": form_csrf(page)})
    assert created.status_code == 200
    assert "glk_" in created.text and "统计系统" in created.text
    token_id = client.get("/api/tokens").json()[0]["id"]
    revoked = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": form_csrf(created.text)})
    assert revoked.status_code == 200
    assert client.get("/api/tokens").json()[0]["revoked_at"] is not None


def test_sign_in_is_committed_before_the_response_is_sent(
    app: Any, make_user: Callable[..., str], monkeypatch: Any
) -> None:
    """A browser follows the redirect at once: its session must already be in the database."""
    from sqlalchemy.orm import Session

    events: list[str] = []
    real_commit = Session.commit

    def commit(self: Session) -> None:
        events.append("commit")
        real_commit(self)

    async def recording_app(scope: Any, receive: Any, send: Any) -> None:
        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                events.append("response")
            await send(message)

        await app(scope, receive, recording_send)

    name = make_user(Role.ANALYST)
    browser = TestClient(recording_app)  # type: ignore[arg-type]
    page = browser.get("/login").text
    from tests.conftest import form_csrf

    monkeypatch.setattr(Session, "commit", commit)
    events.clear()
    response = browser.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": form_csrf(page)},
                            follow_redirects=False)
    assert response.status_code == 303
    assert "commit" in events and events.index("commit") < events.index("response"), events
