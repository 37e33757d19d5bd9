"""A registry view (人口库) read under its grant: the granted attributes, masked by default, every entity on the page
named on the log; anything outside the grant refused and logged."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.kit.errors import Forbidden
from govlink.registry import service as registry
from govlink.sharing import delivery, service
from govlink.sharing.schemas import RowCondition, ShareRequestIn
from govlink.transparency import service as transparency
from tests.sharing.conftest import BASIS, PERSONS, PURPOSE, District, official
from tests.sharing.test_routes import as_user


def granted(session: Session, district: District) -> int:
    registry.link(session, SYSTEM)  # the district's persons into the population registry
    request = service.submit_request(session, district.analyst, ShareRequestIn(
        registry="person", purpose=PURPOSE, legal_basis=BASIS, scenario="核对低保申请人的基本信息",
        items=["name", "gender", "birth_date", "address"], unmasked_items=["birth_date"], days=30), district.rules)
    assert request.provider_id != request.department_id  # the information office answers for the registries
    office_approver = official(session, "approver.sjj", Role.APPROVER, "SJJ")
    return service.approve(session, office_approver, request.id, district.rules).id


def test_a_registry_view_is_read_masked_under_its_grant_and_logged(session: Session, district: District) -> None:
    grant_id = granted(session, district)
    page = delivery.query_registry(session, district.analyst, "person", purpose=PURPOSE)
    assert page.grant_id == grant_id and page.total == len(PERSONS)
    assert page.items == ["name", "gender", "birth_date", "address"] and page.masked == ["name", "address"]
    shown = {row["birth_date"]: row for row in page.rows}
    assert shown["1980-05-17"]["name"] == "张*三" and shown["1980-05-17"]["gender"] in ("男", "1", "M")
    assert all(p[0] not in str(page.rows) and p[1] not in str(page.rows) for p in PERSONS)  # no names, no IDs
    read = next(e for e in transparency.search(session, kind="sharing.read") if e.document)
    assert read.document is not None and read.document["details"]["registry"] == "person"
    assert len(read.document["subjects"]) == len(PERSONS)
    assert all(s.startswith("person:P") for s in read.document["subjects"])

    one = delivery.query_registry(session, district.analyst, "person", purpose=PURPOSE, limit=2)
    rest = delivery.query_registry(session, district.analyst, "person", purpose=PURPOSE, limit=2,
                                   cursor=one.next_cursor)
    assert one.rows + rest.rows == page.rows[:4]


@pytest.mark.parametrize(("call", "code"), [
    ({"items": ["phone"]}, "items"),
    ({"filters": [RowCondition(item="phone", values=("13812345678",))]}, "items"),
    ({"purpose": "招商引资"}, "purpose"),
])
def test_outside_the_registry_grant_is_refused_and_logged(session: Session, district: District,
                                                          call: dict[str, object], code: str) -> None:
    granted(session, district)
    arguments: dict[str, object] = {"purpose": PURPOSE, **call}
    with pytest.raises(Forbidden) as refused:
        delivery.query_registry(session, district.analyst, "person", **arguments)  # type: ignore[arg-type]
    assert refused.value.code == f"sharing.{code}"
    logged = next(e for e in transparency.search(session, kind="sharing.refused") if e.document)
    assert logged.document is not None and logged.document["details"]["refusal"] == code


def test_without_a_grant_the_registry_is_not_read(session: Session, district: District) -> None:
    granted(session, district)
    with pytest.raises(Forbidden) as refused:
        delivery.query_registry(session, district.analyst_rs, "person", purpose=PURPOSE)
    assert refused.value.code == "sharing.no_grant"


def test_the_registry_query_through_the_api(client: TestClient, session: Session, district: District,
                                           make_user: Callable[..., str]) -> None:
    granted(session, district)
    analyst = make_user(Role.ANALYST, department="MZ")
    headers = as_user(client, analyst)
    answer = client.post("/api/sharing/registry-query", headers=headers,
                         json={"registry": "person", "purpose": PURPOSE, "items": ["name"], "limit": 3})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == len(PERSONS) and len(body["rows"]) == 3 and "*" in body["rows"][0]["name"]
    assert "ratelimit-remaining" in answer.headers
    outside = client.post("/api/sharing/registry-query", headers=headers,
                          json={"registry": "enterprise", "purpose": PURPOSE})
    assert outside.status_code == 403
