"""A small district for the sharing tests: the demo departments, one resource of each share type with published
data, a resource open on conditions (有条件开放), and the officials who request, check, approve and read."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.catalog import service as catalog
from govlink.catalog.schemas import ResourceIn
from govlink.demo.service import register_departments
from govlink.ingest import service as ingest
from govlink.sharing.policy import SharingRules
from govlink.standards.credit_code import make_credit_code
from govlink.standards.id_number import Gender, make_id_number

PERSONS = (  # name, ID number, gender, phone, address, street
    ("张小三", make_id_number("330106", dt.date(1980, 5, 17), 12, Gender.MALE), "男", "13812345678",
     "浙江省杭州市西湖区北山街道保俶路12号", "北山街道"),
    ("李四", make_id_number("330106", dt.date(1992, 11, 3), 45, Gender.FEMALE), "女", "13812345679",
     "浙江省杭州市西湖区北山街道曙光路8号", "北山街道"),
    ("欧阳娜娜", make_id_number("330106", dt.date(2001, 2, 28), 7, Gender.FEMALE), "女", "13912345670",
     "浙江省杭州市西湖区北山街道西溪路1号", "北山街道"),
    ("王五", make_id_number("330106", dt.date(1975, 7, 9), 88, Gender.MALE), "男", "13712345671",
     "浙江省杭州市西湖区文新街道文一西路5号", "文新街道"),
    ("赵六", make_id_number("330106", dt.date(1968, 1, 30), 21, Gender.MALE), "男", "13612345672",
     "浙江省杭州市西湖区文新街道古墩路9号", "文新街道"),
)
ENTERPRISES = (  # credit code, name, legal representative, their ID number, status
    (make_credit_code("9", "1", "330106", "MA2B3C4D"), "杭州隆宇医疗器械有限公司", "张小三", PERSONS[0][1], "存续"),
    (make_credit_code("9", "1", "330106", "MA2B3C5F"), "杭州知正文化传媒有限公司", "李四", PERSONS[1][1], "注销"),
)
PURPOSE = "最低生活保障资格审核"
BASIS = "《社会救助暂行办法》第十一条"


@dataclass
class District:
    rules: SharingRules
    households: str  # GA's 有条件共享 resource of persons
    enterprises: str  # SC's 无条件共享 resource of enterprises
    health: str  # WJ's 不予共享 resource
    subsidies: str  # RS's 有条件开放 resource of enterprises, with personal contact items
    analyst: Actor  # MZ, the consuming department
    approver: Actor  # GA, the provider
    steward: Actor  # GA
    admin: Actor  # SJJ, the information office
    analyst_rs: Actor  # RS, a third department
    approver_rs: Actor
    approver_mz: Actor  # of the requesting department
    approver_wj: Actor


def official(session: Session, username: str, role: Role, department: str) -> Actor:
    found = accounts.department_by_code(session, department)
    return Actor(user_id=zlib.crc32(username.encode()), username=username, roles=frozenset({role}),
                 department_id=found.id, via="session")


def _publish(session: Session, folder: Path, data: dict[str, Any], rows: list[tuple[str, ...]]) -> str:
    """Register and publish a resource as the information office does, then load its data as its steward."""
    resource = catalog.register_and_publish(session, SYSTEM, ResourceIn.model_validate(data))
    path = folder / f"{resource.code}.csv"
    header = ",".join(i["name"] for i in data["items"])
    path.write_text(header + "\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    outcome = ingest.ingest(session, SYSTEM, path, file_name=path.name, resource_code=resource.code)
    assert outcome.rows_quarantined == 0, outcome
    return resource.code


@pytest.fixture
def district(session: Session, tmp_path: Path) -> District:
    register_departments(session)
    households = _publish(session, tmp_path, {
        "name": "户籍人口信息", "department_code": "GA", "classification": "101", "subject_type": "person",
        "share_type": "conditional", "share_condition": "用于社会救助与公共服务，须经公安分局审批",
        "summary": "辖区户籍人口的基本信息。", "update_cycle": "daily",
        "items": [{"name": "姓名", "semantic_type": "person.name"},
                  {"name": "公民身份号码", "semantic_type": "person.id_number", "grade": "core"},
                  {"name": "性别", "semantic_type": "person.gender"},
                  {"name": "联系电话", "semantic_type": "person.phone"},
                  {"name": "户籍地址", "semantic_type": "person.address"},
                  {"name": "所属街道"}],
    }, [tuple(p) for p in PERSONS])
    enterprises = _publish(session, tmp_path, {
        "name": "企业登记信息", "department_code": "SC", "classification": "102", "subject_type": "enterprise",
        "share_type": "unconditional", "summary": "辖区企业的登记信息。", "update_cycle": "daily",
        "items": [{"name": "统一社会信用代码", "semantic_type": "enterprise.uscc"},
                  {"name": "企业名称", "semantic_type": "enterprise.name"},
                  {"name": "法定代表人", "semantic_type": "person[legal_rep].name"},
                  {"name": "法定代表人证件号码", "semantic_type": "person[legal_rep].id_number"},
                  {"name": "登记状态", "semantic_type": "enterprise.status"}],
    }, [tuple(e) for e in ENTERPRISES])
    health = _publish(session, tmp_path, {
        "name": "居民健康档案信息", "department_code": "WJ", "classification": "202", "subject_type": "person",
        "share_type": "none", "share_basis": "《基本医疗卫生与健康促进法》第九十二条", "summary": "居民健康档案。",
        "items": [{"name": "姓名", "semantic_type": "person.name"},
                  {"name": "证件号码", "semantic_type": "person.id_number"}, {"name": "建档日期"}],
    }, [(p[0], p[1], "2020-01-01") for p in PERSONS[:2]])
    subsidies = _publish(session, tmp_path, {
        "name": "稳岗补贴发放信息", "department_code": "RS", "classification": "102", "subject_type": "enterprise",
        "share_type": "unconditional", "open_type": "conditional", "open_condition": "申请时说明用途，仅用于研究与监督",
        "licence": "CC-BY-4.0", "summary": "向辖区企业发放的稳岗补贴。", "update_cycle": "monthly",
        "items": [{"name": "统一社会信用代码", "semantic_type": "enterprise.uscc"},
                  {"name": "企业名称", "semantic_type": "enterprise.name"},
                  {"name": "补贴金额"}, {"name": "联系人", "semantic_type": "person.name"},
                  {"name": "联系人电话", "semantic_type": "person.phone"}],
    }, [(e[0], e[1], str(1000 * (n + 1)), e[2], PERSONS[n][3]) for n, e in enumerate(ENTERPRISES)])
    session.flush()
    return District(
        rules=SharingRules(information_office="SJJ"), households=households, enterprises=enterprises,
        health=health, subsidies=subsidies, analyst=official(session, "analyst.mz", Role.ANALYST, "MZ"),
        approver=official(session, "approver.ga", Role.APPROVER, "GA"),
        steward=official(session, "steward.ga", Role.STEWARD, "GA"),
        admin=official(session, "admin", Role.ADMIN, "SJJ"),
        analyst_rs=official(session, "analyst.rs", Role.ANALYST, "RS"),
        approver_rs=official(session, "approver.rs", Role.APPROVER, "RS"),
        approver_mz=official(session, "approver.mz", Role.APPROVER, "MZ"),
        approver_wj=official(session, "approver.wj", Role.APPROVER, "WJ"),
    )
