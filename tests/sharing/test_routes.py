"""The sharing path through the JSON API and through the pages, in-process: request → the provider's approval →
grant → masked query → revocation → the same query refused (403) and on the log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from govlink.accounts.roles import Role
from govlink.app import create_app
from govlink.settings import Settings
from govlink.transparency import service as transparency
from tests.conftest import csrf_headers, form_csrf, sign_in
from tests.sharing.conftest import BASIS, PERSONS, PURPOSE, District

ITEMS = ["姓名", "公民身份号码", "联系电话", "所属街道"]


def as_user(client: TestClient, username: str) -> dict[str, str]:
    """Sign ``username`` in on ``client`` and return the CSRF header its API calls send."""
    client.cookies.clear()
    sign_in(client, username)
    return csrf_headers(client)


def request_body(code: str, **changes: Any) -> dict[str, Any]:
    return {"resource_code": code, "purpose": PURPOSE, "legal_basis": BASIS, "scenario": "核对低保申请人的户籍信息",
            "items": ITEMS, "unmasked_items": ["公民身份号码"],
            "row_scope": [{"item": "所属街道", "values": ["北山街道"]}], "days": 30, **changes}


def refusals(session: Session) -> list[dict[str, Any]]:
    return [e.document["details"] for e in transparency.search(session, kind="sharing.refused") if e.document]


def test_request_approve_query_revoke_through_the_api(client: TestClient, session: Session, district: District,
                                                      make_user: Callable[..., str]) -> None:
    analyst = make_user(Role.ANALYST, department="MZ")
    approver = make_user(Role.APPROVER, department="GA")
    own_approver = make_user(Role.APPROVER, department="MZ")

    headers = as_user(client, analyst)
    response = client.post("/api/sharing/requests", json=request_body(district.households), headers=headers)
    assert response.status_code == 201, response.text
    made = response.json()
    assert (made["state"], made["provider_code"], made["department_code"]) == ("pending", "GA", "MZ")
    assert [e["kind"] for e in made["events"]] == ["submitted"]
    mine = client.get("/api/sharing/requests").json()
    assert mine["box"] == "made" and [r["id"] for r in mine["requests"]] == [made["id"]]
    bad = client.post("/api/sharing/requests", json=request_body(district.households, items=["公民身份号码", "血型"]),
                      headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "items"

    # The requesting department's own approver may not answer it: refused and on the log.
    headers = as_user(client, own_approver)
    refused = client.post(f"/api/sharing/requests/{made['id']}/decision", json={"decision": "approve"},
                          headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "sharing.decision"
    assert refusals(session)[0]["refusal"] == "decision"

    headers = as_user(client, approver)
    inbox = client.get("/api/sharing/requests", params={"state": "pending"}).json()
    assert inbox["box"] == "inbox" and [r["id"] for r in inbox["requests"]] == [made["id"]]
    no_reason = client.post(f"/api/sharing/requests/{made['id']}/decision", json={"decision": "refuse"},
                            headers=headers)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    decided = client.post(f"/api/sharing/requests/{made['id']}/decision",
                          json={"decision": "approve", "reason": "同意"}, headers=headers)
    assert decided.status_code == 200, decided.text
    answered = decided.json()
    assert answered["state"] == "approved" and answered["grant_id"] is not None
    assert [e["kind"] for e in answered["events"]] == ["submitted", "approved"]
    grant_id = answered["grant_id"]

    headers = as_user(client, analyst)
    held = client.get("/api/sharing/grants", params={"active": True}).json()["grants"]
    assert [g["id"] for g in held] == [grant_id] and held[0]["active"]
    query = {"resource_code": district.households, "purpose": PURPOSE, "grant_id": grant_id, "limit": 2}
    page = client.post("/api/sharing/query", json=query, headers=headers)
    assert page.status_code == 200, page.text
    first = page.json()
    assert first["total"] == 3 and first["masked"] == ["姓名", "联系电话"]
    assert first["rows"][0] == {"姓名": "张*三", "公民身份号码": PERSONS[0][1], "联系电话": "138****5678",
                                "所属街道": "北山街道"}
    rest = client.post("/api/sharing/query", json={**query, "cursor": first["next_cursor"]}, headers=headers).json()
    assert len(rest["rows"]) == 1 and rest["next_cursor"] is None
    keyed = client.post("/api/sharing/query", json={**query, "join_key": True}, headers=headers).json()
    assert keyed["rows"][0]["_join_key"].startswith("p1") and PERSONS[0][1] not in keyed["rows"][0]["_join_key"]
    outside = client.post("/api/sharing/query", json={**query, "items": ["户籍地址"]}, headers=headers)
    assert outside.status_code == 403 and outside.json()["error"]["code"] == "sharing.items"

    headers = as_user(client, approver)
    revoked = client.post(f"/api/sharing/grants/{grant_id}/revoke", json={"reason": "审核已完成"}, headers=headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False and revoked.json()["revoke_reason"] == "审核已完成"

    headers = as_user(client, analyst)
    after = client.post("/api/sharing/query", json=query, headers=headers)
    assert after.status_code == 403 and after.json()["error"]["code"] == "sharing.revoked"
    logged = refusals(session)[0]
    assert (logged["refusal"], logged["grant"], logged["resource"]) == ("revoked", grant_id, district.households)


def test_appeal_and_withdraw_through_the_api(client: TestClient, district: District,
                                             make_user: Callable[..., str]) -> None:
    analyst = make_user(Role.ANALYST, department="MZ")
    approver = make_user(Role.APPROVER, department="GA")
    headers = as_user(client, analyst)
    first = client.post("/api/sharing/requests", json=request_body(district.households), headers=headers).json()
    second = client.post("/api/sharing/requests", json=request_body(district.households), headers=headers).json()
    withdrawn = client.post(f"/api/sharing/requests/{second['id']}/withdraw", json={}, headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"

    headers = as_user(client, approver)
    refused = client.post(f"/api/sharing/requests/{first['id']}/decision",
                          json={"decision": "refuse", "reason": "用途与资源不符"}, headers=headers)
    assert refused.json()["state"] == "refused"
    headers = as_user(client, analyst)
    appealed = client.post(f"/api/sharing/requests/{first['id']}/appeal", json={"reason": "用途符合规定"},
                           headers=headers)
    assert appealed.status_code == 200 and appealed.json()["state"] == "appealed"
    history = client.get(f"/api/sharing/requests/{first['id']}").json()["events"]
    steps = [(e["kind"], e["comment"]) for e in history]
    assert steps[1:] == [("refused", "用途与资源不符"), ("appealed", "用途符合规定")]


def test_verification_answers_without_the_data(client: TestClient, district: District,
                                               make_user: Callable[..., str]) -> None:
    as_user(client, make_user(Role.ANALYST, department="MZ"))
    person = client.post("/api/sharing/verify/person", headers=csrf_headers(client),
                         json={"name": "张小三", "id_number": "123", "purpose": PURPOSE})
    assert person.status_code == 200 and person.json() == {"verdict": "no"}  # not an ID number
    enterprise = client.post("/api/sharing/verify/enterprise", headers=csrf_headers(client),
                             json={"credit_code": "x", "purpose": PURPOSE})
    assert enterprise.json() == {"verdict": "no"}


def test_request_and_decide_through_the_pages(client: TestClient, session: Session, district: District,
                                              make_user: Callable[..., str]) -> None:
    analyst = make_user(Role.ANALYST, department="MZ")
    approver = make_user(Role.APPROVER, department="GA")

    as_user(client, analyst)
    page = client.get("/sharing", params={"resource": district.households})
    assert page.status_code == 200 and 'id="request-form"' in page.text
    form = {"csrf_token": form_csrf(page.text), "resource_code": district.households, "purpose": PURPOSE,
            "legal_basis": BASIS, "scenario": "核对低保申请人的户籍信息", "items": ITEMS,
            "unmasked_items": ["公民身份号码"], "scope_item": "所属街道", "scope_op": "in", "scope_values": "北山街道",
            "days": "30"}
    missing = client.post("/sharing/requests", data={**form, "items": []}, follow_redirects=False)
    assert missing.status_code == 422 and 'class="alert error"' in missing.text
    assert PURPOSE in missing.text  # the form comes back filled in
    sent = client.post("/sharing/requests", data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    shown = client.get(location)
    assert 'id="request-state"' in shown.text and 'id="decide"' not in shown.text  # not the analyst's turn
    request_id = int(location.rsplit("/", 1)[1])

    as_user(client, approver)
    inbox = client.get("/sharing/inbox")
    assert f'href="/sharing/requests/{request_id}"' in inbox.text
    shown = client.get(location)
    assert 'id="decide"' in shown.text
    csrf = form_csrf(shown.text)
    no_reason = client.post(f"{location}/decision", data={"csrf_token": csrf, "decision": "refuse"},
                            follow_redirects=False)
    assert no_reason.status_code == 422 and 'class="alert error"' in no_reason.text
    approved = client.post(f"{location}/decision", data={"csrf_token": csrf, "decision": "approve", "reason": "同意"},
                           follow_redirects=False)
    assert approved.status_code == 303
    assert 'id="decide"' not in client.get(location).text

    grants = client.get("/sharing/grants")
    assert 'action="/sharing/grants/' in grants.text  # the provider's approver may revoke
    grant_id = int(grants.text.split('action="/sharing/grants/', 1)[1].split("/", 1)[0])
    revoked = client.post(f"/sharing/grants/{grant_id}/revoke",
                          data={"csrf_token": form_csrf(grants.text), "reason": "审核已完成"}, follow_redirects=False)
    assert revoked.status_code == 303
    assert 'action="/sharing/grants/' not in client.get("/sharing/grants").text

    headers = as_user(client, analyst)
    after = client.post("/api/sharing/query", json={"resource_code": district.households, "purpose": PURPOSE,
                                                    "grant_id": grant_id}, headers=headers)
    assert after.status_code == 403
    assert refusals(session)[0]["refusal"] == "revoked"


def test_the_grant_data_page_shows_masked_rows_until_the_grant_is_revoked(
        client: TestClient, session: Session, district: District, make_user: Callable[..., str]) -> None:
    analyst = make_user(Role.ANALYST, department="MZ")
    approver = make_user(Role.APPROVER, department="GA")
    headers = as_user(client, analyst)
    made = client.post("/api/sharing/requests", json=request_body(district.households), headers=headers).json()
    headers = as_user(client, approver)
    grant_id = client.post(f"/api/sharing/requests/{made['id']}/decision", json={"decision": "approve"},
                           headers=headers).json()["grant_id"]
    assert f"/sharing/grants/{grant_id}/data" not in client.get("/sharing/grants").text  # the provider's view

    as_user(client, analyst)
    assert f"/sharing/grants/{grant_id}/data" in client.get("/sharing/grants").text
    page = client.get(f"/sharing/grants/{grant_id}/data")
    assert page.status_code == 200
    assert "张*三" in page.text and PERSONS[0][1] in page.text and "138****5678" in page.text
    assert "张小三" not in page.text and "13812345678" not in page.text
    assert PERSONS[3][1] not in page.text  # 文新街道: outside the grant's rows
    read = [e.document["details"] for e in transparency.search(session, kind="sharing.read") if e.document]
    assert read[0]["grant"] == grant_id and read[0]["rows"] == 3

    headers = as_user(client, approver)
    client.post(f"/api/sharing/grants/{grant_id}/revoke", json={"reason": "审核已完成"}, headers=headers)
    as_user(client, analyst)
    after = client.get(f"/sharing/grants/{grant_id}/data")
    assert after.status_code == 403 and "审核已完成" in after.text and "张*三" not in after.text
    assert refusals(session)[0]["refusal"] == "revoked"


def test_the_whole_path_with_the_compliance_check_through_the_api(
        settings: Settings, engine: Engine, sessions: sessionmaker[Session], session: Session, district: District,
        make_user: Callable[..., str]) -> None:
    """request → the information office's compliance check → the provider's approval → grant → masked query →
    revocation → the same query refused and logged, in a district that checks compliance first."""
    checked = create_app(settings.model_copy(update={"sharing_compliance_check": True}), engine=engine,
                         sessions=sessions)
    analyst = make_user(Role.ANALYST, department="MZ")
    approver = make_user(Role.APPROVER, department="GA")
    office = make_user(Role.ADMIN, department="SJJ")
    with TestClient(checked) as client:
        headers = as_user(client, analyst)
        made = client.post("/api/sharing/requests", json=request_body(district.households), headers=headers).json()
        assert made["state"] == "compliance"
        query = {"resource_code": district.households, "purpose": PURPOSE}
        assert client.post("/api/sharing/query", json=query, headers=headers).status_code == 403

        headers = as_user(client, approver)  # not the provider's turn yet
        early = client.post(f"/api/sharing/requests/{made['id']}/decision", json={"decision": "approve"},
                            headers=headers)
        assert early.status_code == 409  # the request waits for the compliance check
        headers = as_user(client, office)
        assert [r["id"] for r in client.get("/api/sharing/requests").json()["requests"]] == [made["id"]]
        cleared = client.post(f"/api/sharing/requests/{made['id']}/decision",
                              json={"decision": "clear", "reason": "目的与法律依据相符"}, headers=headers).json()
        assert cleared["state"] == "pending"

        headers = as_user(client, approver)
        grant_id = client.post(f"/api/sharing/requests/{made['id']}/decision", json={"decision": "approve"},
                               headers=headers).json()["grant_id"]
        headers = as_user(client, analyst)
        page = client.post("/api/sharing/query", json=query, headers=headers).json()
        assert page["grant_id"] == grant_id and page["rows"][0]["姓名"] == "张*三"

        headers = as_user(client, approver)
        client.post(f"/api/sharing/grants/{grant_id}/revoke", json={"reason": "审核已完成"}, headers=headers)
        headers = as_user(client, analyst)
        after = client.post("/api/sharing/query", json={**query, "grant_id": grant_id}, headers=headers)
        assert after.status_code == 403 and after.json()["error"]["code"] == "sharing.revoked"
    kinds = {e.kind for e in transparency.search(session, limit=200)}
    assert {"sharing.submitted", "sharing.compliance_passed", "sharing.approved", "sharing.read", "sharing.revoked",
            "sharing.refused"} <= kinds
