"""The demo district's first sharing traffic, so that every page has something true to show.

Run as the demo accounts through the same services the API uses: the civil-affairs bureau (民政局) asks the
police (公安分局) for the household register to check 低保 applicants and is granted it, reads a page of it and
the record of the demo citizen, and verifies a name against an ID number; the human-resources bureau (人社局)
asks for more of the register than its purpose needs and is refused with the reason; a request for the social
insurance roll waits in the human-resources approver's inbox; the demo enterprise applies for the tax bureau's
有条件开放 registration data, is granted it and reads a page.  Every step is on the transparency log, so the
demo citizen sees who read their record, and the public sharing record is not empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.catalog import service as catalog
from govlink.registry import service as registry
from govlink.settings import Settings
from govlink.sharing import delivery, opendata, service, verification
from govlink.sharing.policy import SharingRules
from govlink.sharing.schemas import OpenApplicationIn, RowCondition, ShareRequestIn

HOUSEHOLDS = "ga_huji_renkou.csv"
INSURANCE = "rs_canbao_renyuan.csv"
TAX = "sw_shuiwu_dengji.csv"  # 有条件开放
ASSISTANCE = "最低生活保障资格审核"
ASSISTANCE_BASIS = "《社会救助暂行办法》第十一条；《最低生活保障审核确认办法》第十四条"


@dataclass(frozen=True)
class Traffic:
    granted: int  # the request approved
    refused: int  # the request refused, with its public reason
    pending: int  # the request still waiting
    grant: int
    rows_read: int
    open_application: int  # the demo enterprise's application for open data, approved


def _as(session: Session, username: str) -> Actor:
    return accounts.acting_as(accounts.user_by_username(session, username))


def _items(session: Session, actor: Actor, code: str, wanted: Sequence[str], fallback: int) -> list[str]:
    """The wanted items the resource has, or its first ``fallback`` items."""
    names = [i.name for i in catalog.resource_by_code(session, actor, code).items]
    return [n for n in wanted if n in names] or names[:fallback]


def run_sharing_traffic(session: Session, settings: Settings, codes: dict[str, str], citizen: str) -> Traffic:
    """Request, approve, read, verify, refuse and leave one request waiting; ``codes`` maps extract file names to
    resource codes, ``citizen`` is the demo citizen's subject (``person:P00000001``)."""
    rules = SharingRules.from_settings(settings)
    analyst_mz, analyst_rs = _as(session, "analyst.mz"), _as(session, "analyst.rs")
    approver_ga = _as(session, "approver.ga")
    households = codes[HOUSEHOLDS]
    items = _items(session, analyst_mz, households, ["姓名", "公民身份号码", "性别", "联系电话", "户籍地址"], 4)
    id_item = "公民身份号码" if "公民身份号码" in items else items[0]

    asked = service.submit_request(session, analyst_mz, ShareRequestIn(
        resource_code=households, purpose=ASSISTANCE, legal_basis=ASSISTANCE_BASIS,
        scenario="街道受理低保申请后，核对申请人及共同生活家庭成员的户籍信息", items=items,
        unmasked_items=[id_item], days=180), rules)
    grant = service.approve(session, approver_ga, asked.id, rules, comment="同意，身份证号可明文用于比对，其余项脱敏")

    page = delivery.query(session, analyst_mz, households, purpose=ASSISTANCE, grant_id=grant.id, limit=20)
    person = registry.entity_by_id(session, analyst_mz, citizen.split(":", 1)[1])
    rows_read = len(page.rows)
    if person.key and id_item == "公民身份号码":
        mine = delivery.query(session, analyst_mz, households, purpose=ASSISTANCE, grant_id=grant.id,
                              filters=[RowCondition(item=id_item, values=(person.key,))])
        rows_read += len(mine.rows)
        verification.verify_person(session, analyst_mz, name=person.name or "", id_number=person.key,
                                   purpose=ASSISTANCE)

    broad = service.submit_request(session, analyst_rs, ShareRequestIn(
        resource_code=households, purpose="就业困难人员认定", legal_basis="《就业促进法》第五十二条",
        scenario="认定就业困难人员时核对户籍", items=_items(session, analyst_rs, households, [], 6), days=365), rules)
    service.refuse(session, approver_ga, broad.id, rules,
                   reason="认定就业困难人员只需核验身份与户籍地，申请的联系电话、户籍地址等超出所需；请改用身份核验服务或缩小信息项后重新申请")

    insurance = codes[INSURANCE]
    waiting = service.submit_request(session, analyst_mz, ShareRequestIn(
        resource_code=insurance, purpose=ASSISTANCE, legal_basis=ASSISTANCE_BASIS,
        scenario="核对低保申请人的参保与缴费状态", items=_items(session, analyst_mz, insurance, [], 3), days=90),
        rules)
    applicant = _as(session, "enterprise")
    applied = service.submit_application(session, applicant, OpenApplicationIn(
        resource_code=codes[TAX], purpose="辖区企业税务登记状况研究",
        scenario="按行业统计企业的登记状态分布，用于行业协会年度报告", days=90), rules)
    open_grant = service.approve(session, _as(session, "approver.sw"), applied.id, rules, comment="同意，仅限研究使用")
    opendata.read_page(session, applicant, open_grant.id, limit=20)
    return Traffic(granted=asked.id, refused=broad.id, pending=waiting.id, grant=grant.id, rows_read=rows_read,
                   open_application=applied.id)
