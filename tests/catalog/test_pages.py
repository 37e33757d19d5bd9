"""Catalog pages as a steward, the information office and the public use them."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.accounts.schemas import DepartmentIn
from tests.conftest import form_csrf, sign_in


def test_register_review_and_find_through_pages(
    client: TestClient, session: Session, make_user: Callable[..., str]
) -> None:
    accounts.create_department(session, SYSTEM, DepartmentIn(code="RS", name="人力资源和社会保障局"))
    session.commit()
    steward, admin = make_user(Role.STEWARD, department="RS"), make_user(Role.ADMIN)
    browser = TestClient(client.app)
    sign_in(browser, steward)
    form = browser.get("/workspace/new").text
    fields = {
        "csrf_token": form_csrf(form), "name": "社会保险参保人员信息", "classification": "201",
        "summary": "本区参保人员的基本信息与参保状态，按月更新，供社会救助审核使用。", "format": "CSV",
        "subject_type": "person", "update_cycle": "monthly", "share_type": "conditional",
        "share_condition": "社会救助审核", "open_type": "open", "licence": "CC-BY-4.0",
        "item_name": ["姓名", "身份证号", ""], "item_data_type": ["string", "string", "string"],
        "item_semantic_type": ["person.name", "person.id_number", ""], "item_grade": ["important", "core", "general"],
        "item_required": ["1"],
    }
    checked = browser.post("/workspace/check", data={**fields, "share_condition": ""})
    assert "share_condition" in checked.text
    bad = browser.post("/workspace/new", data={**fields, "classification": "9x"})
    assert bad.status_code == 422 and "社会保险参保人员信息" in bad.text  # the form keeps what was typed
    created = browser.post("/workspace/new", data=fields, follow_redirects=False)
    assert created.status_code == 303
    code = created.headers["location"].rsplit("/", 1)[1]
    page = browser.get(f"/catalog/{code}").text
    assert "身份证号" in page and "person.id_number" in page
    browser.post(f"/workspace/{code}/submit", data={"csrf_token": form_csrf(page)})

    office = TestClient(client.app)
    sign_in(office, admin)
    queue = office.get("/admin/review").text
    assert code in queue
    office.post(f"/admin/review/{code}", data={"csrf_token": form_csrf(queue), "decision": "approve"})
    assert code not in office.get("/admin/review").text
    assert "人力资源和社会保障局" in office.get("/admin/ranking").text
    assert office.get("/admin/overlap").status_code == 200

    results = client.get("/catalog", params={"q": "社保"}).text
    assert "社会保险参保人员信息" in results and "有条件共享" in results
    assert "社会保险参保人员信息" in client.get("/catalog", params={"department": "RS"}).text
    assert client.get(f"/catalog/{code}").status_code == 200


def test_unknown_resource_is_a_readable_404(client: TestClient) -> None:
    response = client.get("/catalog/101-999999")
    assert response.status_code == 404 and "<html" in response.text


def test_home_and_department_pages_show_the_catalog(client: TestClient, session: Session) -> None:
    from govlink.catalog import service as catalog
    from govlink.catalog.schemas import ResourceIn

    accounts.create_department(session, SYSTEM, DepartmentIn(code="HB", name="生态环境分局"))
    catalog.register_and_publish(session, SYSTEM, ResourceIn.model_validate({
        "name": "排污许可证信息", "classification": "205", "department_code": "HB", "share_type": "unconditional",
        "open_type": "open", "licence": "CC-BY-4.0", "summary": "本区排污单位的许可证信息，按月更新。",
        "items": [{"name": "单位名称", "semantic_type": "enterprise.name"}]}))
    session.commit()
    home = client.get("/").text
    assert "排污许可证信息" in home and 'href="/catalog?class=205"' in home
    page = client.get("/departments/HB").text
    assert "排污许可证信息" in page and "生态环境分局" in page
    assert client.get("/departments/NOPE").status_code == 404
