"""The public sharing record and the department evaluation (考核), after a scripted month of requests: answered
in time, refused with a reason, answered late, left overdue and escalated, withdrawn; read by others."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.catalog import service as catalog
from govlink.registry.models import RegistryConflict, RegistryEntity
from govlink.sharing import delivery, evaluation, record, service
from govlink.sharing.schemas import ShareRequestIn
from tests.conftest import sign_in
from tests.sharing.conftest import BASIS, PERSONS, PURPOSE, District, _publish

REASON = "申请用途与户籍数据无关，请改为申请低保家庭名单"
NOW = dt.datetime(2026, 4, 10, 2, tzinfo=dt.UTC)  # when the record is read


def at(month: int, day: int, hour: int = 1) -> dt.datetime:
    """A moment in 2026, UTC (01:00 UTC is 09:00 in the district)."""
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def asking(code: str, items: list[str]) -> ShareRequestIn:
    return ShareRequestIn(resource_code=code, purpose=PURPOSE, legal_basis=BASIS, scenario="核对低保申请人的信息",
                          items=items, days=30)


@dataclasses.dataclass
class Scripted:
    district: District
    insured: str  # RS's 有条件共享 resource
    refused_id: int


@pytest.fixture
def scripted(session: Session, district: District, tmp_path: Path) -> Scripted:
    """MZ asks GA four times in March (approved next day, refused with a reason, never answered, answered late)
    and RS twice in April (approved the same day and read, withdrawn); GA reads its own data."""
    insured = _publish(session, tmp_path, {
        "name": "社会保险参保信息", "department_code": "RS", "classification": "103", "subject_type": "person",
        "share_type": "conditional", "share_condition": "用于社会救助，须经人社局审批",
        "summary": "辖区参保人员的参保状态。", "update_cycle": "daily",
        "items": [{"name": "姓名", "semantic_type": "person.name"},
                  {"name": "公民身份号码", "semantic_type": "person.id_number"}, {"name": "参保状态"}],
    }, [(p[0], p[1], "参保") for p in PERSONS])
    d, rules, households = district, district.rules, district.households
    items = ["姓名", "公民身份号码"]

    def ask(code: str, when: dt.datetime) -> int:
        return service.submit_request(session, d.analyst, asking(code, items), rules, now=when).id

    in_time, refused, ignored, late = (ask(households, at(3, 2)) for _ in range(4))
    service.approve(session, d.approver, in_time, rules, now=at(3, 3))
    service.refuse(session, d.approver, refused, rules, reason=REASON, now=at(3, 5))
    assert service.escalate_overdue(session, now=at(3, 17, 2)) == {"escalated": 2, "reminded": 0}
    service.approve(session, d.approver, late, rules, now=at(3, 18))

    same_day, withdrawn = ask(insured, at(4, 1)), ask(insured, at(4, 1))
    grant = service.approve(session, d.approver_rs, same_day, rules, now=at(4, 1, 5))
    service.withdraw(session, d.analyst, withdrawn, now=at(4, 2))
    delivery.query(session, d.analyst, insured, purpose=PURPOSE, grant_id=grant.id, now=at(4, 3))
    delivery.query(session, d.steward, households, purpose="本部门核对", now=at(4, 3))  # its own: not use by others

    for code in (households, insured, d.enterprises, d.health):  # every resource updated yesterday
        catalog.record_data_update(session, catalog.resource_by_code(session, SYSTEM, code), NOW - dt.timedelta(1))
    assert ignored
    return Scripted(d, insured, refused)


def test_record_counts_the_scripted_requests(session: Session, scripted: Scripted) -> None:
    found = record.sharing_record(session, scripted.district.rules, SYSTEM, now=NOW)
    by_code = {d.department_code: d for d in found.departments}
    ga, rs, mz = by_code["GA"], by_code["RS"], by_code["MZ"]

    assert ga.received.model_dump() == {"total": 4, "approved": 2, "refused": 1, "withdrawn": 0, "pending": 1}
    assert (ga.refused_by_department, ga.answered) == (1, 3)
    # 1, 3 and 12 working days (3 March → 18 March); the deadline closed on 16 March.
    assert (ga.median_answer_days, ga.mean_answer_days) == (3.0, 5.33)
    assert (ga.answered_late, ga.open_overdue, ga.deadlines_missed, ga.escalated) == (1, 1, 2, 2)
    assert rs.received.model_dump() == {"total": 2, "approved": 1, "refused": 0, "withdrawn": 1, "pending": 0}
    assert (rs.median_answer_days, rs.deadlines_missed) == (0.0, 0)
    assert mz.made.model_dump() == {"total": 6, "approved": 3, "refused": 1, "withdrawn": 1, "pending": 1}
    assert mz.received.total == 0 and mz.median_answer_days is None
    assert [m.model_dump() for m in found.trend] == [
        {"month": "2026-03", "received": 4, "answered": 3, "refused": 1},
        {"month": "2026-04", "received": 2, "answered": 1, "refused": 0}]

    assert found.refusals_total == 1
    refusal = found.refusals[0]
    assert (refusal.request_id, refusal.resource_code, refusal.requester_code, refusal.provider_code,
            refusal.refused_by_code, refusal.stage, refusal.reason) == (
        scripted.refused_id, scripted.district.households, "MZ", "GA", "GA", "refused", REASON)
    assert (refusal.requested_on, refusal.refused_on) == (dt.date(2026, 3, 2), dt.date(2026, 3, 5))


def test_record_of_one_department_and_since_a_day(session: Session, scripted: Scripted) -> None:
    rules = scripted.district.rules
    april = record.sharing_record(session, rules, SYSTEM, since=dt.date(2026, 4, 1), now=NOW)
    by_code = {d.department_code: d for d in april.departments}
    assert by_code["GA"].received.total == 0 and by_code["RS"].received.total == 2
    assert april.refusals == [] and [m.month for m in april.trend] == ["2026-04"]

    rs = record.sharing_record(session, rules, SYSTEM, department="RS", now=NOW)
    assert [d.department_code for d in rs.departments] == ["RS"]
    assert [(m.month, m.received) for m in rs.trend] == [("2026-04", 2)] and rs.refusals_total == 0
    mz = record.sharing_record(session, rules, SYSTEM, department="MZ", now=NOW)
    assert mz.refusals_total == 1  # a refusal shows on the record of both departments


def test_the_public_record_names_no_person(client: TestClient, scripted: Scripted) -> None:
    response = client.get("/api/sharing/record")  # anonymous
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refusals"][0]["reason"] == REASON
    assert {d["department_code"]: d["received"]["refused"] for d in body["departments"]}["GA"] == 1
    text = response.text
    d = scripted.district
    for username in (d.analyst, d.approver, d.approver_rs, d.steward):
        assert username.username not in text
    for name, id_number, _gender, phone, address, _street in PERSONS:
        assert name not in text and id_number not in text and phone not in text and address not in text
    assert PURPOSE not in text and BASIS not in text  # the request's own words stay with the two departments
    # The household register is listed for officials only: the public learns of the refusal, not of the resource.
    assert d.households not in text and "户籍人口信息" not in text and body["refusals"][0]["unlisted"] is True

    one = client.get("/api/sharing/record", params={"department": "GA", "since": "2026-03-01"}).json()
    assert [x["department_code"] for x in one["departments"]] == ["GA"] and one["since"] == "2026-03-01"
    assert client.get("/api/sharing/record", params={"department": "NOPE"}).status_code == 404


def test_the_record_page_is_public(client: TestClient, scripted: Scripted) -> None:
    page = client.get("/sharing/record")
    assert page.status_code == 200
    assert 'id="record-table"' in page.text and 'data-chart="trend-chart"' in page.text
    assert 'data-chart="answers-chart"' in page.text and REASON in page.text
    assert 'href="/sharing/record"' in client.get("/").text  # in everyone's navigation
    chosen = client.get("/sharing/record", params={"department": "RS", "since": ""})
    assert chosen.status_code == 200 and 'id="record-RS"' in chosen.text and 'id="record-GA"' not in chosen.text
    assert client.get("/sharing/record", params={"since": "yesterday"}).status_code == 422


def test_evaluation_is_for_the_office_and_audit(client: TestClient, scripted: Scripted,
                                                make_user: Callable[..., str]) -> None:
    assert client.get("/api/sharing/evaluation").status_code == 401
    assert client.get("/sharing/evaluation", follow_redirects=False).status_code in (303, 401)
    sign_in(client, make_user(Role.ANALYST, department="MZ"))
    assert client.get("/api/sharing/evaluation").status_code == 403
    assert client.get("/sharing/evaluation").status_code == 403

    client.cookies.clear()
    sign_in(client, make_user(Role.AUDITOR))
    ranked = client.get("/api/sharing/evaluation")
    assert ranked.status_code == 200, ranked.text
    first = ranked.json()["departments"][0]
    assert (first["rank"], first["department_code"]) == (1, "RS")
    page = client.get("/sharing/evaluation")
    assert page.status_code == 200 and 'id="ranking-table"' in page.text and 'id="compliance-queue"' not in page.text

    client.cookies.clear()
    sign_in(client, make_user(Role.ADMIN, department="SJJ"))
    page = client.get("/sharing/evaluation")
    assert 'data-chart="ranking-chart"' in page.text and 'href="/sharing/inbox"' in page.text


def test_evaluation_ranks_departments_as_the_data_implies(session: Session, scripted: Scripted) -> None:
    ga_id = accounts.department_by_code(session, "GA").id
    entity = RegistryEntity(registry_id="P09999999", entity_type="person", state="active")
    session.add(entity)
    session.flush()
    for state, value in (("open", "张小叁"), ("corrected", "张晓三")):  # two of GA's values lost to others'
        session.add(RegistryConflict(entity_id=entity.id, attribute="name", chosen="张小三", chosen_resource_id=1,
                                     value=value, resource_id=1, department_id=ga_id, state=state))
    session.flush()

    ranked = evaluation.evaluate(session, scripted.district.rules, now=NOW)
    by_code = {d.department_code: d for d in ranked.departments}
    ga, rs, hb = by_code["GA"], by_code["RS"], by_code["HB"]
    assert ga.components == {"completeness": round(ga.completeness or 0, 3), "timeliness": 1.0,
                             "answer_time": 0.5, "refusals": 0.667, "complaints": 0.5, "use": 0.5}
    assert (ga.grants_to_others, ga.reads_by_others, ga.conflicts, ga.conflicts_open) == (1, 0, 2, 1)
    assert (rs.grants_to_others, rs.reads_by_others, rs.refusal_rate) == (1, 1, 0.0)
    assert rs.components["answer_time"] == 1.0 and rs.components["complaints"] is None
    assert rs.components["use"] == 1.0
    # RS answered in time, refused nothing and is read by others: it ranks above GA; a department with
    # nothing in the catalog and no request ranks last.
    assert rs.rank < ga.rank < hb.rank and hb.score == 0.0
    assert ranked.departments == sorted(ranked.departments, key=lambda e: -e.score)

    only_use = evaluation.Weights(completeness=0, timeliness=0, answer_time=0, refusals=0, complaints=0, use=1)
    by_use = {d.department_code: d for d in evaluation.evaluate(session, scripted.district.rules, now=NOW,
                                                                weights=only_use).departments}
    assert (by_use["RS"].score, by_use["GA"].score, by_use["RS"].rank) == (100.0, 50.0, 1)


def test_composite_gives_the_weight_of_what_does_not_apply_to_the_rest() -> None:
    weights = evaluation.Weights(completeness=1, timeliness=1, answer_time=2, refusals=0, complaints=0, use=0)
    assert evaluation.composite({"completeness": 1.0, "timeliness": 0.5, "answer_time": None}, weights) == 75.0
    assert evaluation.composite({"completeness": None}, weights) == 0.0
    assert record.median(record.Counter({0: 1, 4: 1})) == 2.0 and record.median(record.Counter()) is None
