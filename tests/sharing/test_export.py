"""Bulk export through the API: every row the grant allows, in CSV, XLSX or Parquet, masked as the query masks,
spreadsheet formulas neutralised, refused and logged outside the grant, and logged when it leaves."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from govlink.accounts.roles import Role
from govlink.sharing import service
from govlink.sharing.schemas import ShareRequestIn
from govlink.transparency import service as transparency
from tests.sharing.conftest import BASIS, ENTERPRISES, PERSONS, PURPOSE, District, _publish
from tests.sharing.test_routes import as_user, refusals

CHECK = "企业资质核查"
FORMULAS = ("=1+2", "@SUM(A1)")  # what a department's free-text column may hold


@pytest.fixture
def scopes(session: Session, district: District, tmp_path: Path) -> str:
    """SC's 无条件共享 resource of enterprises' business scopes, two of which read like spreadsheet formulas."""
    return _publish(session, tmp_path, {
        "name": "企业经营范围信息", "department_code": "SC", "classification": "102", "subject_type": "enterprise",
        "share_type": "unconditional", "summary": "辖区企业的经营范围。", "update_cycle": "daily",
        "items": [{"name": "统一社会信用代码", "semantic_type": "enterprise.uscc"},
                  {"name": "法定代表人", "semantic_type": "person[legal_rep].name"}, {"name": "经营范围"}],
    }, [(code, legal_rep, formula) for (code, _, legal_rep, _, _), formula in zip(ENTERPRISES, FORMULAS, strict=True)])


def read_file(fmt: str, content: bytes) -> list[dict[str, Any]]:
    if fmt == "csv":
        assert content.startswith("\ufeff".encode())
        return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    if fmt == "xlsx":
        rows = list(load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))
        return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    return list(pq.read_table(io.BytesIO(content)).to_pylist())


def last_export(session: Session) -> dict[str, Any]:
    found = transparency.search(session, kind="sharing.export", limit=1)
    assert found and found[0].document is not None, "no sharing.export entry on the log"
    return found[0].document


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_every_format_is_masked_and_spreadsheets_get_no_formulas(
        client: TestClient, session: Session, district: District, scopes: str, fmt: str,
        make_user: Callable[..., str]) -> None:
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    response = client.post("/api/sharing/export", headers=headers,
                           json={"resource_code": scopes, "purpose": CHECK, "format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{scopes}-v1.{fmt}"'
    rows = read_file(fmt, response.content)
    assert [r["统一社会信用代码"] for r in rows] == [e[0] for e in ENTERPRISES]
    assert [r["法定代表人"] for r in rows] == ["张*三", "李*"]  # a person's name, masked without a grant
    quoted = fmt != "parquet"  # Parquet is typed data for programs: values as they are
    assert [r["经营范围"] for r in rows] == [("'" if quoted else "") + f for f in FORMULAS]

    logged = last_export(session)
    assert logged["department"] == "MZ"
    assert {k: logged["details"][k] for k in ("resource", "grant", "purpose", "rows", "format", "version",
                                              "basis")} == {
        "resource": scopes, "grant": None, "purpose": CHECK, "rows": 2, "format": fmt, "version": 1,
        "basis": "unconditional"}
    assert logged["details"]["items"] == ["统一社会信用代码", "法定代表人", "经营范围"]
    assert logged["details"]["unmasked"] == ["统一社会信用代码", "经营范围"]


def grant_households(session: Session, district: District) -> int:
    request = service.submit_request(session, district.analyst, ShareRequestIn(
        resource_code=district.households, purpose=PURPOSE, legal_basis=BASIS, scenario="核对低保申请人的户籍信息",
        items=["姓名", "公民身份号码", "联系电话", "所属街道"], unmasked_items=["公民身份号码"],
        row_scope=[{"item": "所属街道", "values": ["北山街道"]}], days=30), district.rules)  # type: ignore[list-item]
    return service.approve(session, district.approver, request.id, district.rules).id


def test_an_export_keeps_to_the_grants_rows_items_and_masking(client: TestClient, session: Session,
                                                              district: District,
                                                              make_user: Callable[..., str]) -> None:
    grant = grant_households(session, district)
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    body = {"resource_code": district.households, "purpose": PURPOSE, "grant_id": grant, "join_key": True}
    response = client.post("/api/sharing/export", headers=headers, json=body)
    assert response.status_code == 200, response.text
    rows = read_file("csv", response.content)
    beishan = [p for p in PERSONS if p[5] == "北山街道"]
    assert [r["公民身份号码"] for r in rows] == [p[1] for p in beishan]  # in full: the grant names it
    assert [r["姓名"] for r in rows] == ["张*三", "李*", "欧**娜"]
    assert rows[0]["联系电话"] == "138****5678" and {r["所属街道"] for r in rows} == {"北山街道"}
    assert all(r["_join_key"].startswith("p1") for r in rows)
    # The query shows the very same values.
    page = client.post("/api/sharing/query", headers=headers, json=body).json()
    assert page["rows"] == rows
    logged = last_export(session)["details"]
    assert (logged["grant"], logged["rows"], logged["unmasked"], logged["join_key"]) == (
        grant, 3, ["公民身份号码", "所属街道"], True)


@pytest.mark.parametrize(("change", "code"), [
    ({"items": ["户籍地址"]}, "sharing.items"),
    ({"filters": [{"item": "所属街道", "values": ["文新街道"]}]}, "sharing.rows"),
    ({"purpose": "招商引资"}, "sharing.purpose"),
])
def test_an_export_outside_the_grant_is_refused_and_logged(
        client: TestClient, session: Session, district: District, make_user: Callable[..., str],
        change: dict[str, Any], code: str) -> None:
    grant = grant_households(session, district)
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    body = {"resource_code": district.households, "purpose": PURPOSE, "grant_id": grant, "format": "xlsx", **change}
    response = client.post("/api/sharing/export", headers=headers, json=body)
    assert response.status_code == 403 and response.json()["error"]["code"] == code
    logged = refusals(session)[0]
    assert (logged["refusal"], logged["resource"], logged["grant"]) == (code.split(".")[1], district.households,
                                                                        grant)
    assert transparency.search(session, kind="sharing.export") == []


def test_no_grant_no_export(client: TestClient, session: Session, district: District,
                            make_user: Callable[..., str]) -> None:
    headers = as_user(client, make_user(Role.ANALYST, department="RS"))
    response = client.post("/api/sharing/export", headers=headers,
                           json={"resource_code": district.households, "purpose": PURPOSE, "format": "parquet"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "sharing.no_grant"
    assert refusals(session)[0]["refusal"] == "no_grant"


def test_bad_exports_name_the_field(client: TestClient, session: Session, district: District,
                                    make_user: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    body = {"resource_code": district.enterprises, "purpose": CHECK}
    wrong = client.post("/api/sharing/export", headers=headers, json={**body, "format": "pdf"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "format"
    monkeypatch.setattr("govlink.kit.tablefiles.XLSX_MAX_ROWS", 1)
    too_many = client.post("/api/sharing/export", headers=headers, json={**body, "format": "xlsx"})
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "format"
    assert transparency.search(session, kind="sharing.export") == []  # nothing left, nothing logged
