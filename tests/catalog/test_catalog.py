"""The catalog through its API: register, review, publish, search in Chinese, overlap, versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.accounts.schemas import DepartmentIn
from tests.conftest import csrf_headers, sign_in

SOCIAL_INSURANCE: dict[str, Any] = {
    "name": "社会保险参保人员信息",
    "classification": "201",
    "summary": "本区职工养老保险、医疗保险参保人员的基本信息与参保状态，按月更新。",
    "format": "CSV",
    "subject_type": "person",
    "share_type": "conditional",
    "share_condition": "用于社会救助资格审核，需经人社局审批",
    "open_type": "closed",
    "update_cycle": "monthly",
    "items": [
        {"name": "姓名", "semantic_type": "person.name", "grade": "important"},
        {"name": "身份证号", "semantic_type": "person.id_number", "grade": "core", "required": True},
        {"name": "手机号码", "semantic_type": "person.phone"},
        {"name": "参保单位统一社会信用代码", "semantic_type": "enterprise[employer].uscc"},
        {"name": "参保状态"},
    ],
}


@pytest.fixture
def district(session: Session, make_user: Callable[..., str]) -> dict[str, str]:
    for code, name in (("RS", "人力资源和社会保障局"), ("MZ", "民政局"), ("SC", "市场监督管理局")):
        accounts.create_department(session, SYSTEM, DepartmentIn(code=code, name=name))
    session.commit()
    return {
        "admin": make_user(Role.ADMIN),
        "rs": make_user(Role.STEWARD, department="RS"),
        "mz": make_user(Role.STEWARD, department="MZ"),
        "analyst": make_user(Role.ANALYST, department="MZ"),
    }


def as_user(client: TestClient, username: str) -> TestClient:
    other = TestClient(client.app)
    sign_in(other, username)
    return other


def publish(steward: TestClient, admin: TestClient, body: dict[str, Any]) -> str:
    created = steward.post("/api/catalog/resources", json=body, headers=csrf_headers(steward))
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert steward.post(f"/api/catalog/resources/{code}/submit", headers=csrf_headers(steward)).status_code == 200
    reviewed = admin.post(f"/api/catalog/resources/{code}/review", json={"approve": True},
                          headers=csrf_headers(admin))
    assert reviewed.status_code == 200, reviewed.text
    return str(code)


def test_lifecycle_with_return_comments_and_versions(client: TestClient, district: dict[str, str]) -> None:
    rs, admin = as_user(client, district["rs"]), as_user(client, district["admin"])
    created = rs.post("/api/catalog/resources", json=SOCIAL_INSURANCE, headers=csrf_headers(rs)).json()
    code = created["code"]
    assert code.startswith("201-") and created["status"] == "draft" and created["department_code"] == "RS"
    assert created["items"][1]["personal"] is True
    rs.post(f"/api/catalog/resources/{code}/submit", headers=csrf_headers(rs))
    returned = admin.post(f"/api/catalog/resources/{code}/review", json={"approve": False},
                          headers=csrf_headers(admin))
    assert returned.status_code == 422 and returned.json()["error"]["field"] == "comment"
    admin.post(f"/api/catalog/resources/{code}/review", json={"approve": False, "comment": "请补充更新频率说明"},
               headers=csrf_headers(admin))
    seen = rs.get(f"/api/catalog/resources/{code}").json()
    assert seen["status"] == "returned" and seen["review_comment"] == "请补充更新频率说明"
    changed = {**SOCIAL_INSURANCE, "summary": SOCIAL_INSURANCE["summary"] + "每月5日前更新。"}
    assert rs.put(f"/api/catalog/resources/{code}", json=changed, headers=csrf_headers(rs)).status_code == 200
    rs.post(f"/api/catalog/resources/{code}/submit", headers=csrf_headers(rs))
    published = admin.post(f"/api/catalog/resources/{code}/review", json={"approve": True},
                           headers=csrf_headers(admin)).json()
    assert published["status"] == "published" and published["code"] == code and published["published_on"]
    revisions = rs.get(f"/api/catalog/resources/{code}/revisions").json()
    assert [r["action"] for r in revisions] == ["published", "submitted", "updated", "returned", "submitted",
                                                "created"]
    edit = next(r for r in revisions if r["action"] == "updated")
    assert edit["actor"] == district["rs"]
    assert [d["field"] for d in edit["diff"]] == ["summary"]
    moved = {**SOCIAL_INSURANCE, "classification": "101"}
    refused = rs.put(f"/api/catalog/resources/{code}", json=moved, headers=csrf_headers(rs))
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "classification"


def test_steward_cannot_touch_another_departments_resource(client: TestClient, district: dict[str, str]) -> None:
    rs, mz = as_user(client, district["rs"]), as_user(client, district["mz"])
    code = rs.post("/api/catalog/resources", json=SOCIAL_INSURANCE, headers=csrf_headers(rs)).json()["code"]
    assert mz.put(f"/api/catalog/resources/{code}", json=SOCIAL_INSURANCE, headers=csrf_headers(mz)).status_code == 404
    other = {**SOCIAL_INSURANCE, "department_code": "RS"}
    assert mz.post("/api/catalog/resources", json=other, headers=csrf_headers(mz)).status_code == 403


@pytest.mark.parametrize(
    ("change", "field_hint"),
    [
        ({"share_type": "conditional", "share_condition": ""}, "share_condition"),
        ({"share_type": "none", "share_basis": ""}, "share_basis"),
        ({"open_type": "open", "licence": None}, "licence"),
        ({"classification": "9"}, "classification"),
        ({"classification": "150"}, "classification"),
        ({"items": [{"name": "x", "semantic_type": "person.shoe_size"}]}, "semantic_type"),
        ({"items": [{"name": "x"}, {"name": "x"}]}, "unique"),
        ({"name": "x" * 201}, "name"),
        ({"format": "EXE"}, "format"),
    ],
)
def test_bad_metadata_is_refused_with_the_field_and_nothing_is_stored(
    client: TestClient, district: dict[str, str], change: dict[str, Any], field_hint: str
) -> None:
    rs = as_user(client, district["rs"])
    response = rs.post("/api/catalog/resources", json={**SOCIAL_INSURANCE, **change}, headers=csrf_headers(rs))
    assert response.status_code == 422
    error = response.json()["error"]
    assert field_hint in (error["field"] or "") + error["message"]
    assert client.get("/api/catalog/resources").json()["total"] == 0


def test_chinese_pinyin_and_initials_search(client: TestClient, district: dict[str, str]) -> None:
    rs, mz, admin = (as_user(client, district[k]) for k in ("rs", "mz", "admin"))
    insured = publish(rs, admin, {**SOCIAL_INSURANCE, "open_type": "open", "licence": "CC-BY-4.0"})
    publish(mz, admin, {**SOCIAL_INSURANCE, "name": "最低生活保障对象名单", "classification": "201",
                        "summary": "享受城乡居民最低生活保障的家庭成员名单。", "open_type": "open",
                        "licence": "CC-BY-4.0"})
    for query in ("社保", "参保", "社会保险", "shebao", "sbcb", "SBCB"):
        found = client.get("/api/catalog/resources", params={"q": query}).json()
        assert [r["code"] for r in found["results"]][:1] == [insured], query
    low = client.get("/api/catalog/resources", params={"q": "低保"}).json()
    assert low["results"][0]["name"] == "最低生活保障对象名单"
    facets = client.get("/api/catalog/resources", params={"q": "保障"}).json()["facets"]
    assert facets["department"] and facets["share_type"] == {"conditional": facets["share_type"]["conditional"]}
    by_department = client.get("/api/catalog/resources", params={"department": "MZ"}).json()
    assert {r["department_code"] for r in by_department["results"]} == {"MZ"}


def test_public_sees_only_open_resources(client: TestClient, district: dict[str, str]) -> None:
    rs, admin, analyst = (as_user(client, district[k]) for k in ("rs", "admin", "analyst"))
    closed = publish(rs, admin, SOCIAL_INSURANCE)
    assert client.get(f"/api/catalog/resources/{closed}").status_code == 404
    assert client.get("/api/catalog/resources", params={"q": "社保"}).json()["total"] == 0
    assert analyst.get(f"/api/catalog/resources/{closed}").status_code == 200
    assert analyst.get("/api/catalog/resources", params={"q": "社保"}).json()["total"] == 1


def test_indexing_is_immediate_after_an_edit(client: TestClient, district: dict[str, str]) -> None:
    rs, admin = as_user(client, district["rs"]), as_user(client, district["admin"])
    code = publish(rs, admin, {**SOCIAL_INSURANCE, "open_type": "open", "licence": "CC-BY-4.0"})
    renamed = {**SOCIAL_INSURANCE, "name": "就业登记人员信息", "open_type": "open", "licence": "CC-BY-4.0"}
    rs.put(f"/api/catalog/resources/{code}", json=renamed, headers=csrf_headers(rs))
    assert client.get("/api/catalog/resources", params={"q": "就业"}).json()["results"][0]["code"] == code


@pytest.mark.parametrize("params", [{"sort": "name;drop table"}, {"limit": 0}, {"limit": 1000}, {"offset": -1},
                                    {"share_type": "maybe"}, {"q": "x" * 201}])
def test_malformed_search_is_a_clear_error(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/api/catalog/resources", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["field"]


def test_paging_past_the_end_is_empty_not_an_error(client: TestClient, district: dict[str, str]) -> None:
    response = client.get("/api/catalog/resources", params={"offset": 500})
    assert response.status_code == 200 and response.json()["results"] == []


def test_duplicates_and_overlap_report(client: TestClient, district: dict[str, str]) -> None:
    rs, mz, admin = (as_user(client, district[k]) for k in ("rs", "mz", "admin"))
    insured = publish(rs, admin, SOCIAL_INSURANCE)
    proposal = {"subject_type": "person", "semantic_types": ["person.name", "person.id_number", "person.address"]}
    similar = mz.post("/api/catalog/duplicates", json=proposal, headers=csrf_headers(mz)).json()
    assert similar[0]["code"] == insured
    assert similar[0]["shared_items"] == ["person.id_number", "person.name"]
    assert rs.post("/api/catalog/duplicates", json=proposal, headers=csrf_headers(rs)).json() == []  # own department
    publish(mz, admin, {**SOCIAL_INSURANCE, "name": "低保对象信息", "items": SOCIAL_INSURANCE["items"][:2]})
    report = admin.get("/api/catalog/overlap").json()
    id_numbers = next(r for r in report if r["semantic_type"] == "person.id_number")
    assert id_numbers["department_count"] == 2
    assert {d["code"] for d in id_numbers["departments"]} == {"RS", "MZ"}
    ranking = admin.get("/api/catalog/ranking").json()
    assert {r["department_code"] for r in ranking} == {"RS", "MZ"}
    assert all(r["no_data"] == r["resources"] for r in ranking)  # no data uploaded yet: not timely


def test_html_in_text_fields_is_escaped_in_pages(client: TestClient, district: dict[str, str]) -> None:
    rs, admin = as_user(client, district["rs"]), as_user(client, district["admin"])
    code = publish(rs, admin, {**SOCIAL_INSURANCE, "summary": "<script>alert('x')</script> 参保信息说明文字足够长",
                               "open_type": "open", "licence": "CC-BY-4.0"})
    api = client.get(f"/api/catalog/resources/{code}").json()
    assert api["summary"].startswith("<script>")


def test_sorting_and_paging(client: TestClient, district: dict[str, str]) -> None:
    rs, admin = as_user(client, district["rs"]), as_user(client, district["admin"])
    codes = [publish(rs, admin, {**SOCIAL_INSURANCE, "name": name, "open_type": "open", "licence": "CC-BY-4.0"})
             for name in ("乙类名单", "甲类名单", "丙类名单")]
    newest = client.get("/api/catalog/resources", params={"sort": "newest"}).json()["results"]
    assert [r["code"] for r in newest] == codes[::-1]
    by_name = [r["name"] for r in client.get("/api/catalog/resources", params={"sort": "name"}).json()["results"]]
    assert by_name == sorted(by_name)
    pages = [client.get("/api/catalog/resources", params={"sort": "newest", "offset": n, "limit": 1}).json()
             for n in range(3)]
    assert [p["results"][0]["code"] for p in pages] == codes[::-1] and all(p["total"] == 3 for p in pages)
