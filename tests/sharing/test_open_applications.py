"""有条件开放: a citizen's or an enterprise's application for open data, through the API and the pages — the same
process as a department's request (deadline, answer with reasons, appeal), a grant held by the applicant's own
account, open items only, every read logged, and no other account able to see or use any of it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govlink.accounts.roles import Role
from govlink.sharing.quotas import QuotaLimits
from govlink.transparency import service as transparency
from tests.conftest import form_csrf
from tests.sharing.conftest import ENTERPRISES, District
from tests.sharing.test_quotas import limit
from tests.sharing.test_routes import as_user, refusals

OPEN_ITEMS = ["统一社会信用代码", "企业名称", "补贴金额"]  # 联系人 and 联系人电话 are personal


def application(code: str, **changes: Any) -> dict[str, Any]:
    return {"resource_code": code, "purpose": "稳岗补贴政策效果研究", "scenario": "统计各行业企业获得补贴的分布",
            "days": 30, **changes}


def reads(session: Session) -> list[dict[str, Any]]:
    return [e.document["details"] for e in transparency.search(session, kind="sharing.read") if e.document]


def test_an_application_is_answered_and_its_grant_reads_open_items_only(
        client: TestClient, session: Session, district: District, make_user: Callable[..., str]) -> None:
    citizen = make_user(Role.PUBLIC)
    stranger = make_user(Role.PUBLIC)
    approver = make_user(Role.APPROVER, department="RS")

    headers = as_user(client, citizen)
    made = client.post("/api/sharing/applications", json=application(district.subsidies), headers=headers)
    assert made.status_code == 201, made.text
    applied = made.json()
    assert (applied["state"], applied["provider_code"], applied["department_code"], applied["open_application"]) \
        == ("pending", "RS", None, True)
    assert applied["items"] == OPEN_ITEMS and applied["due_on"] is not None
    personal = client.post("/api/sharing/applications", headers=headers,
                           json=application(district.subsidies, items=["企业名称", "联系人电话"]))
    assert personal.status_code == 422 and personal.json()["error"]["field"] == "items"
    closed = client.post("/api/sharing/applications", json=application(district.households), headers=headers)
    assert closed.status_code == 404  # a resource closed to the public is not even listed to them
    officials = client.post("/api/sharing/requests", headers=headers, json={
        "resource_code": district.subsidies, "purpose": "x", "legal_basis": "x", "scenario": "x", "items": ["企业名称"],
        "days": 1})
    assert officials.status_code == 403  # the public applies for open data, never for shared data
    mine = client.get("/api/sharing/requests").json()
    assert mine["box"] == "made" and [r["id"] for r in mine["requests"]] == [applied["id"]]

    # Another account sees nothing of it and cannot withdraw it.
    headers = as_user(client, stranger)
    assert client.get("/api/sharing/requests").json()["requests"] == []
    assert client.get(f"/api/sharing/requests/{applied['id']}").status_code == 404
    assert client.post(f"/api/sharing/requests/{applied['id']}/withdraw", json={}, headers=headers).status_code == 404

    headers = as_user(client, approver)
    inbox = client.get("/api/sharing/requests", params={"state": "pending"}).json()["requests"]
    assert [r["id"] for r in inbox] == [applied["id"]]
    decided = client.post(f"/api/sharing/requests/{applied['id']}/decision", headers=headers,
                          json={"decision": "approve", "items": ["企业名称", "补贴金额"], "reason": "同意用于研究"})
    assert decided.status_code == 200, decided.text
    grant_id = decided.json()["grant_id"]

    headers = as_user(client, citizen)
    held = client.get("/api/sharing/grants").json()["grants"]
    assert [(g["id"], g["open_application"], g["department_code"]) for g in held] == [(grant_id, True, None)]
    page = client.get(f"/api/sharing/grants/{grant_id}/open-rows")
    assert page.status_code == 200, page.text
    assert page.json()["fields"] == ["企业名称", "补贴金额"] and page.json()["total"] == 2
    assert [r["企业名称"] for r in page.json()["records"]] == [e[1] for e in ENTERPRISES]
    logged = reads(session)[0]
    assert (logged["grant"], logged["rows"], logged["open_application"]) == (grant_id, 2, True)
    download = client.get(f"/sharing/grants/{grant_id}/open.csv")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert table[0] == ["企业名称", "补贴金额"] and len(table) == 3
    assert not any(ENTERPRISES[0][2] in cell for row in table for cell in row)  # the contact is never in it
    assert reads(session)[0]["format"] == "csv"

    as_user(client, stranger)
    taken = client.get(f"/api/sharing/grants/{grant_id}/open-rows")
    assert taken.status_code == 403 and taken.json()["error"]["code"] == "sharing.holder"
    assert refusals(session)[0]["refusal"] == "holder"
    assert client.get(f"/sharing/grants/{grant_id}/open.csv").status_code == 403

    headers = as_user(client, approver)
    revoked = client.post(f"/api/sharing/grants/{grant_id}/revoke", json={"reason": "研究已结束"}, headers=headers)
    assert revoked.status_code == 200, revoked.text
    as_user(client, citizen)
    after = client.get(f"/api/sharing/grants/{grant_id}/open-rows")
    assert after.status_code == 403 and after.json()["error"]["code"] == "sharing.revoked"


def test_open_data_reads_are_held_to_the_applications_quota(
        app: FastAPI, client: TestClient, session: Session, district: District,
        make_user: Callable[..., str]) -> None:
    citizen = make_user(Role.PUBLIC)
    applied = client.post("/api/sharing/applications", json=application(district.subsidies),
                          headers=as_user(client, citizen)).json()
    grant_id = client.post(f"/api/sharing/requests/{applied['id']}/decision",
                           headers=as_user(client, make_user(Role.APPROVER, department="RS")),
                           json={"decision": "approve", "reason": "同意"}).json()["grant_id"]
    limit(app, QuotaLimits(daily_rows=2))
    as_user(client, citizen)

    page = client.get(f"/api/sharing/grants/{grant_id}/open-rows", params={"limit": 1})
    assert page.status_code == 200 and page.headers["RateLimit-Remaining"] == "1"
    refused = client.get(f"/sharing/grants/{grant_id}/open.csv")  # the whole file: two rows, but not today
    assert refused.status_code == 429 and refusals(session)[0]["route"] == "sharing.page.open_download"
    cut = client.get(f"/api/sharing/grants/{grant_id}/open-rows", params={"offset": 1})
    assert len(cut.json()["records"]) == 1 and cut.headers["RateLimit-Remaining"] == "0"
    assert client.get(f"/api/sharing/grants/{grant_id}/open-rows").status_code == 429


def test_a_refused_application_is_appealed_and_on_the_public_record(
        client: TestClient, district: District, make_user: Callable[..., str]) -> None:
    citizen = make_user(Role.PUBLIC)
    approver = make_user(Role.APPROVER, department="RS")
    headers = as_user(client, citizen)
    applied = client.post("/api/sharing/applications", json=application(district.subsidies), headers=headers).json()
    headers = as_user(client, approver)
    client.post(f"/api/sharing/requests/{applied['id']}/decision", headers=headers,
                json={"decision": "refuse", "reason": "用途未说明研究机构"})
    headers = as_user(client, citizen)
    appealed = client.post(f"/api/sharing/requests/{applied['id']}/appeal", json={"reason": "个人研究，已说明用途"},
                           headers=headers)
    assert appealed.status_code == 200 and appealed.json()["state"] == "appealed"

    shown = client.get("/api/sharing/record", params={"department": "RS"}).json()
    assert shown["departments"][0]["received"]["total"] == 1
    refusal = shown["refusals"][0]
    assert (refusal["requester_code"], refusal["provider_code"], refusal["reason"]) == ("", "RS", "用途未说明研究机构")
    assert "purpose" not in refusal and citizen not in str(shown)


def test_apply_and_withdraw_through_the_pages(client: TestClient, district: District,
                                              make_user: Callable[..., str]) -> None:
    citizen = make_user(Role.PUBLIC)
    as_user(client, citizen)
    resource_page = client.get(f"/catalog/{district.subsidies}").text
    assert f'href="/sharing/apply/{district.subsidies}"' in resource_page
    form = client.get(f"/sharing/apply/{district.subsidies}")
    assert form.status_code == 200 and "联系人电话" not in form.text  # personal items are not offered
    csrf = form_csrf(form.text)
    empty = client.post(f"/sharing/apply/{district.subsidies}", data={"csrf_token": csrf, "purpose": "研究",
                                                                     "scenario": "", "days": "30"})
    assert empty.status_code == 422 and 'value="研究"' in empty.text  # the form comes back filled in
    sent = client.post(f"/sharing/apply/{district.subsidies}", follow_redirects=False, data={
        "csrf_token": csrf, "purpose": "稳岗补贴政策效果研究", "scenario": "统计分布", "items": ["企业名称"],
        "days": "30"})
    assert sent.status_code == 303, sent.text
    page = client.get(sent.headers["location"])
    assert "稳岗补贴政策效果研究" in page.text and "/withdraw" in page.text
    withdrawn = client.post(sent.headers["location"] + "/withdraw", follow_redirects=True,
                            data={"csrf_token": form_csrf(page.text), "reason": "不再需要"})
    assert withdrawn.status_code == 200 and "/withdraw" not in withdrawn.text
    number = sent.headers["location"].rsplit("/", 1)[1]
    assert client.get(f"/api/sharing/requests/{number}").json()["state"] == "withdrawn"
    listed = client.get("/sharing").text
    assert sent.headers["location"] in listed
