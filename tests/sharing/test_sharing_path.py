"""The whole sharing path through the services — request → compliance → approval → grant → masked query →
revocation → refused query — and every grant boundary refused and on the log."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.db.base import utcnow
from govlink.ingest import service as ingest
from govlink.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from govlink.sharing import delivery, service
from govlink.sharing.models import Grant
from govlink.sharing.schemas import RowCondition, ShareRequestIn, SortKey
from govlink.transparency import service as transparency
from tests.sharing.conftest import BASIS, PERSONS, PURPOSE, District, official

BEISHAN = RowCondition(item="所属街道", values=("北山街道",))


def request_in(code: str, **changes: object) -> ShareRequestIn:
    data: dict[str, object] = {
        "resource_code": code, "purpose": PURPOSE, "legal_basis": BASIS, "scenario": "核对低保申请人的户籍信息",
        "items": ["姓名", "公民身份号码", "联系电话", "所属街道"], "unmasked_items": ["公民身份号码"],
        "row_scope": [BEISHAN.model_dump()], "days": 30, **changes}
    return ShareRequestIn.model_validate(data)


def granted(session: Session, district: District, **changes: object) -> Grant:
    request = service.submit_request(session, district.analyst, request_in(district.households, **changes),
                                     district.rules)
    return service.approve(session, district.approver, request.id, district.rules)


def last_event(session: Session, kind: str) -> dict[str, object]:
    found = transparency.search(session, kind=kind, limit=1)
    assert found and found[0].document is not None, f"no {kind} entry on the log"
    return found[0].document


def test_request_compliance_approval_query_revocation(session: Session, district: District) -> None:
    rules = dataclasses.replace(district.rules, compliance_check=True)
    request = service.submit_request(session, district.analyst, request_in(district.households), rules)
    assert request.state == "compliance" and request.due_on is not None
    assert list(service.inbox(session, district.approver)) == []  # not yet the provider's turn
    assert [r.id for r in service.inbox(session, district.admin)] == [request.id]

    service.pass_compliance(session, district.admin, request.id, rules, comment="依据充分")
    assert request.state == "pending"
    assert [r.id for r in service.inbox(session, district.approver)] == [request.id]
    grant = service.approve(session, district.approver, request.id, rules, comment="同意")
    assert request.state == "approved" and request.due_on is None
    assert (grant.items, grant.unmasked_items) == (request.items, ["公民身份号码"])
    assert [e.kind for e in request.events] == ["submitted", "compliance_passed", "approved"]
    assert all(e.log_index is not None for e in request.events)
    out = service.request_out(session, request)
    assert out.grant_id == grant.id and out.provider_code == "GA" and out.department_code == "MZ"

    page = delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id)
    assert page.total == 3 and len(page.rows) == 3  # only the street of the row scope
    assert page.items == ["姓名", "公民身份号码", "联系电话", "所属街道"]
    assert page.masked == ["姓名", "联系电话"]
    first = page.rows[0]
    assert first == {"姓名": "张*三", "公民身份号码": PERSONS[0][1], "联系电话": "138****5678", "所属街道": "北山街道"}
    logged = last_event(session, "sharing.read")
    assert logged["details"]["rows"] == 3 and logged["details"]["grant"] == grant.id  # type: ignore[index]
    assert logged["department"] == "MZ"

    service.revoke_grant(session, district.approver, grant.id, reason="申请人已完成审核")
    with pytest.raises(Forbidden) as refused:
        delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id)
    assert refused.value.code == "sharing.revoked"
    assert last_event(session, "sharing.refused")["details"]["refusal"] == "revoked"  # type: ignore[index]
    # Without naming the grant, the department holds nothing for this purpose any more.
    with pytest.raises(Forbidden, match="request it first"):
        delivery.query(session, district.analyst, district.households, purpose=PURPOSE)


@pytest.mark.parametrize(("call", "code"), [
    ({"items": ["户籍地址"]}, "items"),
    ({"filters": [RowCondition(item="所属街道", values=("文新街道",))]}, "rows"),
    ({"filters": [RowCondition(item="所属街道", values=("北山街道", "文新街道"))]}, "rows"),
    ({"filters": [RowCondition(item="户籍地址", op="prefix", values=("浙江省",))]}, "items"),
    ({"sort": [SortKey(item="性别")]}, "items"),
    ({"purpose": "招商引资"}, "purpose"),
    ({"now": "expired"}, "expired"),
    ({"now": "early"}, "expired"),
])
def test_every_grant_boundary_is_refused_and_logged(session: Session, district: District,
                                                    call: dict[str, object], code: str) -> None:
    grant = granted(session, district)
    arguments: dict[str, object] = {"purpose": PURPOSE, "grant_id": grant.id, **call}
    if call.get("now") == "expired":
        arguments["now"] = grant.valid_until + dt.timedelta(seconds=1)
    elif call.get("now") == "early":
        arguments["now"] = grant.valid_from - dt.timedelta(seconds=1)
    before = transparency.statistics(session)["by_kind"].get("sharing.refused", 0)
    with pytest.raises(Forbidden) as refused:
        delivery.query(session, district.analyst, district.households, **arguments)  # type: ignore[arg-type]
    assert refused.value.code == f"sharing.{code}"
    assert transparency.statistics(session)["by_kind"]["sharing.refused"] == before + 1
    logged = last_event(session, "sharing.refused")
    assert logged["actor"] == district.analyst.username and logged["details"]["refusal"] == code  # type: ignore[index]
    assert transparency.search(session, kind="sharing.read") == []  # nothing was read


def test_filters_within_the_row_scope_are_anded(session: Session, district: District) -> None:
    grant = granted(session, district)
    page = delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id,
                          items=["公民身份号码"],
                          filters=[RowCondition(item="公民身份号码", values=(PERSONS[1][1], PERSONS[3][1]))])
    # 王五 lives in 文新街道: the row scope keeps him out even when a filter names him.
    assert page.rows == [{"公民身份号码": PERSONS[1][1]}] and page.total == 1


def test_another_departments_grant_and_no_grant_are_refused(session: Session, district: District) -> None:
    grant = granted(session, district)
    with pytest.raises(Forbidden) as refused:
        delivery.query(session, district.analyst_rs, district.households, purpose=PURPOSE, grant_id=grant.id)
    assert refused.value.code == "sharing.department"
    with pytest.raises(Forbidden) as refused:
        delivery.query(session, district.analyst_rs, district.households, purpose=PURPOSE)
    assert refused.value.code == "sharing.no_grant"
    with pytest.raises(Forbidden) as refused:
        delivery.query(session, district.analyst, district.enterprises, purpose=PURPOSE, grant_id=grant.id)
    assert refused.value.code == "sharing.resource"
    kinds = [e.document["details"]["refusal"] for e in transparency.search(session, kind="sharing.refused")
             if e.document]
    assert kinds == ["resource", "no_grant", "department"]


def test_the_grant_is_found_by_its_purpose(session: Session, district: District) -> None:
    granted(session, district)
    page = delivery.query(session, district.analyst, district.households, purpose=f"  {PURPOSE} ")
    assert page.grant_id is not None and page.total == 3
    with pytest.raises(Forbidden) as refused:
        delivery.query(session, district.analyst, district.households, purpose="人口普查")
    assert refused.value.code == "sharing.purpose"


@pytest.mark.parametrize("who", ["approver_mz", "approver_rs", "analyst", "steward", "admin"])
def test_only_the_providers_approver_decides(session: Session, district: District, who: str) -> None:
    request = service.submit_request(session, district.analyst, request_in(district.households), district.rules)
    actor: Actor = getattr(district, who)
    with pytest.raises(Forbidden) as refused:
        service.approve(session, actor, request.id, district.rules)
    assert refused.value.code == "sharing.decision"
    logged = last_event(session, "sharing.refused")
    assert logged["actor"] == actor.username and logged["details"]["request"] == request.id  # type: ignore[index]
    assert request.state == "pending" and session.scalar(select(Grant.id)) is None


def test_nobody_decides_their_own_departments_request(session: Session, district: District) -> None:
    # A request of the information office's own analyst: its admins may not check it.
    rules = dataclasses.replace(district.rules, compliance_check=True)
    analyst = official(session, "analyst.sjj", Role.ANALYST, "SJJ")
    request = service.submit_request(session, analyst, request_in(district.households), rules)
    with pytest.raises(Forbidden, match="own department"):
        service.pass_compliance(session, district.admin, request.id, rules)
    assert last_event(session, "sharing.refused")["details"]["action"] == "clear"  # type: ignore[index]


def test_the_approval_may_narrow_the_request(session: Session, district: District) -> None:
    request = service.submit_request(session, district.analyst, request_in(district.households), district.rules)
    with pytest.raises(InvalidInput):
        service.approve(session, district.approver, request.id, district.rules, items=["户籍地址"])
    with pytest.raises(InvalidInput):
        service.approve(session, district.approver, request.id, district.rules, days=31)
    grant = service.approve(session, district.approver, request.id, district.rules, items=["姓名", "公民身份号码"],
                            unmasked_items=[], days=7)
    assert grant.items == ["姓名", "公民身份号码"] and grant.unmasked_items == []
    assert grant.valid_until - grant.valid_from == dt.timedelta(days=7)
    assert "approved in part" in request.events[-1].comment
    page = delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id)
    assert page.rows[0] == {"姓名": "张*三", "公民身份号码": PERSONS[0][1][:6] + "********" + PERSONS[0][1][-4:]}


def test_a_refusal_needs_its_reason_and_may_be_appealed(session: Session, district: District) -> None:
    rules = district.rules
    request = service.submit_request(session, district.analyst, request_in(district.households), rules)
    with pytest.raises(InvalidInput):
        service.refuse(session, district.approver, request.id, rules, reason="  ")
    service.refuse(session, district.approver, request.id, rules, reason="申请事项超出低保审核所需")
    assert request.state == "refused" and request.refused_stage == "pending"
    with pytest.raises(NotFound):
        service.appeal(session, district.analyst_rs, request.id, rules, reason="x")
    service.appeal(session, district.analyst, request.id, rules, reason="低保审核确需核对户籍")
    assert request.state == "appealed" and request.due_on is not None
    with pytest.raises(Forbidden):  # the provider does not judge the appeal of its own refusal
        service.approve(session, district.approver, request.id, rules)
    grant = service.approve(session, district.admin, request.id, rules, comment="经协调予以共享")
    assert request.state == "approved" and grant.granted_by == district.admin.username
    assert [e.kind for e in request.events] == ["submitted", "refused", "appealed", "approved"]
    refused = transparency.search(session, kind="sharing.refused")
    assert refused and refused[0].document is not None


def test_a_dismissed_appeal_ends_the_request(session: Session, district: District) -> None:
    rules = district.rules
    request = service.submit_request(session, district.analyst, request_in(district.households), rules)
    service.refuse(session, district.approver, request.id, rules, reason="不符合共享条件")
    service.appeal(session, district.analyst, request.id, rules, reason="请求复核")
    service.refuse(session, district.admin, request.id, rules, reason="维持原决定")
    assert request.state == "dismissed"
    with pytest.raises(Conflict):
        service.appeal(session, district.analyst, request.id, rules, reason="再次复核")


def test_not_shared_resources_go_to_the_information_office(session: Session, district: District) -> None:
    data = request_in(district.health, items=["姓名", "证件号码"], unmasked_items=[], row_scope=[])
    request = service.submit_request(session, district.analyst, data, district.rules)
    assert request.state == "coordination" and request.share_type == "none"
    with pytest.raises(Forbidden):
        service.approve(session, district.approver_wj, request.id, district.rules)
    grant = service.approve(session, district.admin, request.id, district.rules, comment="依法协调共享")
    page = delivery.query(session, district.analyst, district.health, purpose=PURPOSE, grant_id=grant.id)
    assert page.total == 2 and page.rows[0]["姓名"] == "张*三"


def test_unconditional_resources_need_no_request_but_a_purpose(session: Session, district: District) -> None:
    with pytest.raises(InvalidInput, match="needs no request"):
        service.submit_request(session, district.analyst, request_in(
            district.enterprises, items=["企业名称"], unmasked_items=[], row_scope=[]), district.rules)
    with pytest.raises(InvalidInput):
        delivery.query(session, district.analyst, district.enterprises, purpose=" ")
    page = delivery.query(session, district.analyst, district.enterprises, purpose="企业资质核查")
    assert page.grant_id is None and page.total == 2
    assert page.rows[0]["企业名称"] == "杭州隆宇医疗器械有限公司"  # registration facts are public
    assert page.rows[0]["法定代表人"] == "张*三"
    assert page.rows[0]["法定代表人证件号码"] == PERSONS[0][1][:6] + "********" + PERSONS[0][1][-4:]
    assert last_event(session, "sharing.read")["details"]["basis"] == "unconditional"  # type: ignore[index]
    # Seeing the legal representative's ID number in full takes a request and a grant.
    request = service.submit_request(session, district.analyst, request_in(
        district.enterprises, items=["企业名称", "法定代表人证件号码"], unmasked_items=["法定代表人证件号码"],
        row_scope=[]), district.rules)
    assert request.state == "pending" and request.provider_id != request.department_id


def test_own_department_reads_without_a_request(session: Session, district: District) -> None:
    with pytest.raises(InvalidInput, match="own department"):
        service.submit_request(session, district.steward, request_in(district.households), district.rules)
    page = delivery.query(session, district.steward, district.households, purpose="数据质量核查")
    assert page.total == len(PERSONS) and page.masked == []  # a steward sees the department's data in full


def test_cursor_paging_and_sorting(session: Session, district: District) -> None:
    grant = granted(session, district)
    arguments = {"purpose": PURPOSE, "grant_id": grant.id, "sort": [SortKey(item="公民身份号码", descending=True)],
                 "items": ["公民身份号码"], "limit": 2}
    first = delivery.query(session, district.analyst, district.households, **arguments)  # type: ignore[arg-type]
    assert first.total == 3 and len(first.rows) == 2 and first.next_cursor
    second = delivery.query(session, district.analyst, district.households, cursor=first.next_cursor,
                            **arguments)  # type: ignore[arg-type]
    assert len(second.rows) == 1 and second.next_cursor is None
    numbers = [r["公民身份号码"] for r in first.rows + second.rows]
    assert numbers == sorted((p[1] for p in PERSONS[:3]), reverse=True)
    with pytest.raises(InvalidInput, match="another query"):
        delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id,
                       cursor=first.next_cursor)
    with pytest.raises(InvalidInput):
        delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id,
                       cursor="not-a-cursor")


def test_grants_are_listed_and_expire_by_themselves(session: Session, district: District) -> None:
    grant = granted(session, district)
    now = utcnow()
    assert [g.id for g in service.list_grants(session, district.analyst, active_at=now)] == [grant.id]
    assert [g.id for g in service.list_grants(session, district.approver)] == [grant.id]  # the provider sees it
    assert service.list_grants(session, district.analyst_rs) == []
    later = grant.valid_until + dt.timedelta(minutes=1)
    assert service.list_grants(session, district.analyst, active_at=later) == []
    assert not service.grant_out(session, grant, now=later).active
    with pytest.raises(NotFound):  # a grant is the business of its two departments and the overseers
        service.revoke_grant(session, district.analyst_rs, grant.id, reason="x")


def test_a_withdrawn_request_takes_no_decision(session: Session, district: District) -> None:
    request = service.submit_request(session, district.analyst, request_in(district.households), district.rules)
    service.withdraw(session, district.analyst, request.id, comment="不再需要")
    assert request.state == "withdrawn" and request.due_on is None
    with pytest.raises(Conflict):
        service.approve(session, district.approver, request.id, district.rules)


def test_requests_are_validated_against_the_catalog(session: Session, district: District) -> None:
    with pytest.raises(InvalidInput, match="no item"):
        service.submit_request(session, district.analyst, request_in(district.households, items=["婚姻状况"],
                                                                     unmasked_items=[]), district.rules)
    with pytest.raises(InvalidInput, match="scope"):
        service.submit_request(session, district.analyst, request_in(district.households, row_scope=[
            {"item": "社区", "values": ["x"]}]), district.rules)
    with pytest.raises(InvalidInput, match="at most"):
        service.submit_request(session, district.analyst, request_in(district.households, days=400), district.rules)
    with pytest.raises(ValueError, match="among the requested"):
        request_in(district.households, unmasked_items=["户籍地址"])
    registry_request = service.submit_request(session, district.analyst, ShareRequestIn(
        registry="person", purpose=PURPOSE, legal_basis=BASIS, scenario="核对", items=["name", "id_number"],
        days=30), district.rules)
    assert registry_request.registry_view == "person" and registry_request.state == "pending"
    assert service.request_out(session, registry_request).provider_code == "SJJ"


def test_a_refusal_stays_on_the_record_when_the_caller_rolls_back(session: Session, district: District) -> None:
    with pytest.raises(Forbidden):
        delivery.query(session, district.analyst_rs, district.households, purpose=PURPOSE)
    session.rollback()  # what the web layer does with any error
    assert last_event(session, "sharing.refused")["actor"] == district.analyst_rs.username


def test_a_cursor_does_not_cross_into_a_new_version(session: Session, district: District, tmp_path: Path) -> None:
    grant = granted(session, district)
    first = delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id,
                           limit=1)
    assert first.version == 1 and first.next_cursor
    path = tmp_path / "again.csv"
    rows = [",".join(p) for p in PERSONS[:3]]
    path.write_text("姓名,公民身份号码,性别,联系电话,户籍地址,所属街道\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest.ingest(session, SYSTEM, path, file_name=path.name, resource_code=district.households)
    with pytest.raises(Conflict) as stale:
        delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id, limit=1,
                       cursor=first.next_cursor)
    assert stale.value.code == "stale_cursor"
    assert delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id,
                          limit=1).version == 2
