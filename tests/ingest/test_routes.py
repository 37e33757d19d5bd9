"""Ingestion over HTTP: a streamed upload with its size limit, versions and quarantine for the department,
open data downloads and CKAN's datastore_search for everyone, with personal items left out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.accounts.schemas import DepartmentIn
from govlink.catalog import service as catalog
from govlink.standards.credit_code import make_credit_code
from govlink.standards.id_number import Gender, make_id_number
from tests.conftest import csrf_headers, sign_in

USCC = make_credit_code("9", "1", "330106", "MA2B3C4D")
USCC2 = make_credit_code("9", "1", "330106", "MA27Y8JQ")
BAD_USCC = USCC2[:-1] + ("0" if USCC2[-1] != "0" else "1")
LEGAL_REP_ID = make_id_number("330106", dt.date(1980, 1, 2), 3, Gender.MALE)
ENTERPRISES = ("企业名称,统一社会信用代码,法定代表人,法定代表人身份证号,行业\n"
               f"杭州某某科技有限公司,{USCC},张三,{LEGAL_REP_ID},软件\n"
               f"=HYPERLINK(\"http://x\"),{BAD_USCC},李四,,零售\n")


@pytest.fixture
def users(session: Session, make_user: Callable[..., str]) -> dict[str, str]:
    accounts.create_department(session, SYSTEM, DepartmentIn(code="SC", name="市场监督管理局"))
    session.commit()
    return {"steward": make_user(Role.STEWARD, department="SC"), "admin": make_user(Role.ADMIN),
            "analyst": make_user(Role.ANALYST, department="SC")}


def signed_in(client: TestClient, username: str) -> TestClient:
    other = TestClient(client.app)
    sign_in(other, username)
    return other


def upload_new(client: TestClient, body: bytes, name: str = "企业登记.csv") -> dict[str, object]:
    response = client.post("/api/departments/SC/uploads", params={"file_name": name}, content=body,
                           headers=csrf_headers(client))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_steward_uploads_and_reads_the_quarantine(client: TestClient, users: dict[str, str]) -> None:
    steward = signed_in(client, users["steward"])
    outcome = upload_new(steward, ENTERPRISES.encode("gbk"))
    assert (outcome["rows_read"], outcome["rows_accepted"], outcome["rows_quarantined"]) == (2, 1, 1)
    code = outcome["resource"]
    versions = steward.get(f"/api/resources/{code}/versions").json()
    assert versions[0]["state"] == "published" and versions[0]["encoding"] == "gbk"
    quarantine = steward.get(f"/api/resources/{code}/versions/1/quarantine").json()
    assert quarantine["total"] == 1 and quarantine["records"][0]["record"] == 2
    download = steward.get(f"/api/resources/{code}/versions/1/quarantine.csv")
    rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["record", "reasons"] and rows[1][0] == "2"
    page = steward.get(f"/data/{code}/versions/1")
    assert page.status_code == 200 and BAD_USCC in page.text
    assert "统一社会信用代码校验码错误" in page.text  # the reason, in the steward's language
    fixed = steward.post(f"/api/resources/{code}/versions/1/fixes",
                         json={"fixes": {"2": {"统一社会信用代码": USCC2}}}, headers=csrf_headers(steward))
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["version"] == 2 and fixed.json()["rows_quarantined"] == 0
    diff = steward.get(f"/api/resources/{code}/diff", params={"from": 1, "to": 2}).json()
    assert diff["added"] == 1
    compared = steward.get(f"/data/{code}/versions/2", params={"compare": 1})
    assert compared.status_code == 200 and "compare=1" not in compared.text


def test_an_upload_over_the_limit_is_refused_while_it_streams(client: TestClient, users: dict[str, str]) -> None:
    steward = signed_in(client, users["steward"])
    limit = client.app.state.settings.max_upload_bytes  # type: ignore[attr-defined]
    client.app.state.settings.max_upload_bytes = 2048  # type: ignore[attr-defined]
    try:
        response = steward.post("/api/departments/SC/uploads", params={"file_name": "big.csv"},
                                content=ENTERPRISES.encode() * 100, headers=csrf_headers(steward))
    finally:
        client.app.state.settings.max_upload_bytes = limit  # type: ignore[attr-defined]
    assert response.status_code == 413 and "2,048" in response.json()["error"]["message"]


def test_a_file_that_cannot_be_read_says_why(client: TestClient, users: dict[str, str]) -> None:
    steward = signed_in(client, users["steward"])
    response = steward.post("/api/departments/SC/uploads", params={"file_name": "../../etc/passwd"},
                            content=b"\x81\x30\xff\xfe binary", headers=csrf_headers(steward))
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("passwd: ")


def test_other_roles_may_not_upload(client: TestClient, users: dict[str, str]) -> None:
    analyst = signed_in(client, users["analyst"])
    response = analyst.post("/api/departments/SC/uploads", params={"file_name": "x.csv"},
                            content=ENTERPRISES.encode(), headers=csrf_headers(analyst))
    assert response.status_code == 403


def test_open_data_is_downloadable_and_searchable_without_personal_items(
        client: TestClient, users: dict[str, str], session: Session) -> None:
    steward = signed_in(client, users["steward"])
    code = str(upload_new(steward, ENTERPRISES.encode())["resource"])
    resource = catalog.resource_by_code(session, SYSTEM, code)
    resource.open_type, resource.licence, resource.share_type = "open", "CC-BY-4.0", "unconditional"
    session.commit()
    catalog.submit(session, SYSTEM, code)
    catalog.review(session, SYSTEM, code, approve=True, comment="")
    session.commit()

    anonymous = TestClient(client.app)
    rows = anonymous.get(f"/api/open/{code}/rows").json()
    assert rows["fields"] == ["企业名称", "统一社会信用代码", "行业"] and rows["total"] == 1
    as_csv = anonymous.get(f"/open/{code}.csv")
    assert as_csv.status_code == 200 and "张三" not in as_csv.text and USCC in as_csv.text
    as_json = json.loads(anonymous.get(f"/open/{code}.json").content)
    assert as_json == [{"企业名称": "杭州某某科技有限公司", "统一社会信用代码": USCC, "行业": "软件"}]
    book = load_workbook(io.BytesIO(anonymous.get(f"/open/{code}.xlsx").content), read_only=True)
    assert [list(r) for r in book.active.iter_rows(values_only=True)][1][0] == "杭州某某科技有限公司"

    found = anonymous.get("/api/3/action/datastore_search", params={"resource_id": f"{code}-data"}).json()
    assert found["success"] and found["result"]["total"] == 1
    assert [f["id"] for f in found["result"]["fields"]] == ["_id", "企业名称", "统一社会信用代码", "行业"]
    filtered = anonymous.get("/api/3/action/datastore_search", params={
        "resource_id": f"{code}-data", "filters": json.dumps({"行业": "零售"})}).json()
    assert filtered["result"]["total"] == 0
    package = anonymous.get("/api/3/action/package_show", params={"id": code}).json()["result"]
    assert [r["id"] for r in package["resources"]] == [f"{code}-metadata", f"{code}-data"]
    page = anonymous.get(f"/catalog/{code}")
    assert "杭州某某科技有限公司" in page.text and "张三" not in page.text


def test_closed_data_is_not_open(client: TestClient, users: dict[str, str]) -> None:
    steward = signed_in(client, users["steward"])
    code = upload_new(steward, ENTERPRISES.encode())["resource"]
    assert TestClient(client.app).get(f"/open/{code}.csv").status_code == 404
    found = TestClient(client.app).get("/api/3/action/datastore_search", params={"resource_id": f"{code}-data"})
    assert found.status_code == 404 and found.json()["success"] is False


def test_a_steward_creates_a_resource_from_a_file_on_the_workspace(client: TestClient, users: dict[str, str]) -> None:
    steward = signed_in(client, users["steward"])
    page = steward.get("/workspace/upload")
    assert page.status_code == 200 and 'data-url="/api/departments/SC/uploads"' in page.text
    assert signed_in(client, users["admin"]).get("/workspace/upload").status_code == 422  # no department


def test_the_mapping_form_maps_a_version_again(client: TestClient, users: dict[str, str]) -> None:
    from tests.conftest import form_csrf

    steward = signed_in(client, users["steward"])
    code = upload_new(steward, ENTERPRISES.encode())["resource"]
    page = steward.get(f"/data/{code}/versions/1")
    assert 'name="item:行业"' in page.text
    response = steward.post(f"/data/{code}/versions/1/mapping", data={
        "csrf_token": form_csrf(page.text), "item:行业": "", "item:企业名称": "企业名称",
        "item:统一社会信用代码": "统一社会信用代码", "item:法定代表人": "法定代表人",
        "item:法定代表人身份证号": "法定代表人身份证号"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/data/{code}/versions/2"
    mapping = steward.get(f"/api/resources/{code}/versions/2").json()["columns"]
    assert {c["name"]: c["item"] for c in mapping}["行业"] is None
