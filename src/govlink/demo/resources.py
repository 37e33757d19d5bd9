"""The synthetic district's catalog: one resource per department extract, made by ingesting the extract, with
the share and open types a district would give them, plus open statistics; all published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from govlink.accounts.actor import SYSTEM
from govlink.catalog import service as catalog
from govlink.catalog.schemas import ResourceIn
from govlink.catalog.vocabulary import ENTERPRISE_ATTRIBUTES, PERSON_ATTRIBUTES
from govlink.demo.district import department
from govlink.demo.generator import DistrictManifest, ExtractInfo
from govlink.ingest import service as ingest
from govlink.ingest.service import NewResource

ROLE_ENTITY = {"employer": "enterprise", "spouse": "person", "guardian": "person", "legal_rep": "person"}
OPEN: dict[str, Any] = {"open_type": "open", "licence": "CC-BY-4.0"}

# Per extract: classification, update cycle and the share/open decision a district would take.
POLICY: dict[str, dict[str, Any]] = {
    "ga_huji_renkou.csv": {"classification": "101", "update_cycle": "daily", "share_type": "conditional",
                           "share_condition": "用于户籍核验、社会救助与公共服务办理，须经公安分局审批"},
    "ga_liudong_renkou.txt": {"classification": "101", "update_cycle": "weekly", "share_type": "conditional",
                              "share_condition": "用于社区治理与公共服务，须经公安分局审批"},
    "rs_canbao_renyuan.csv": {"classification": "201", "update_cycle": "monthly", "share_type": "conditional",
                              "share_condition": "用于社会救助资格审核、就业服务，须经人社局审批"},
    "mz_shehui_jiuzhu.xlsx": {"classification": "201", "update_cycle": "monthly", "share_type": "conditional",
                              "share_condition": "用于救助对象动态管理，须经民政局审批"},
    "mz_hunyin_dengji.csv": {"classification": "201", "update_cycle": "daily", "share_type": "conditional",
                             "share_condition": "用于户籍、住房、社保等业务核验"},
    "wj_jumin_jiankang_dangan.xlsx": {
        "classification": "202", "update_cycle": "daily", "share_type": "none",
        "share_basis": "《中华人民共和国基本医疗卫生与健康促进法》第九十二条：个人健康信息不得非法提供",
    },
    "jy_zaixiao_xuesheng.jsonl": {"classification": "203", "update_cycle": "half_yearly",
                                  "share_type": "conditional", "share_condition": "用于学生资助与入学服务"},
    "sc_qiye_dengji.csv": {"classification": "102", "update_cycle": "daily", "share_type": "unconditional", **OPEN},
    "sw_shuiwu_dengji.csv": {"classification": "102", "update_cycle": "monthly", "share_type": "unconditional",
                             "open_type": "conditional", "licence": "CC-BY-4.0",
                             "open_condition": "用于学术研究与社会监督，申请时说明用途；不含个人信息"},
    "hb_paiwu_xuke.xlsx": {"classification": "205", "update_cycle": "monthly", "share_type": "unconditional",
                           **OPEN},
}

STATISTICS: tuple[dict[str, Any], ...] = (
    {"department_code": "GA", "name": "各街道户籍人口统计", "classification": "101", "update_cycle": "yearly",
     "summary": "按街道、性别和年龄段统计的户籍人口数量，每年更新，不含个人信息。", "subject_type": "none",
     "share_type": "unconditional", **OPEN,
     "items": [{"name": "街道"}, {"name": "性别"}, {"name": "年龄段"}, {"name": "人数", "data_type": "integer"}]},
    {"department_code": "SC", "name": "市场主体登记统计", "classification": "204", "update_cycle": "monthly",
     "summary": "按行业和企业类型统计的市场主体新设、注销和存续数量，每月更新。", "subject_type": "none",
     "share_type": "unconditional", **OPEN,
     "items": [{"name": "统计月份", "data_type": "date"}, {"name": "行业"}, {"name": "企业类型"},
               {"name": "新设数量", "data_type": "integer"}, {"name": "注销数量", "data_type": "integer"}]},
)


def semantic_type(subject: str, field: str) -> str | None:
    """``employer.uscc`` in a person's row → ``enterprise[employer].uscc``; unknown attributes → None."""
    role, _, attribute = field.rpartition(".")
    entity = ROLE_ENTITY.get(role, subject) if role else subject
    allowed = PERSON_ATTRIBUTES if entity == "person" else ENTERPRISE_ATTRIBUTES
    if attribute not in allowed:
        return None
    return f"{entity}[{role}].{attribute}" if role else f"{entity}.{attribute}"


def ingest_extract(session: Session, extracts: Path, extract: ExtractInfo) -> str:
    """Ingest one department extract as its steward would with ``govlink ingest FILE --department D``: the
    resource is created from the file (items, semantic types and subject proposed), then published."""
    policy = POLICY.get(extract.file_name, {})
    summary = (f"{extract.title}，由{department(extract.department_code).name}提供，共{len(extract.columns)}个信息项，"
               f"原始文件为{extract.format.upper()}格式。")
    new = NewResource(name=extract.title, summary=summary, **policy)
    outcome = ingest.ingest(session, SYSTEM, extracts / extract.file_name, file_name=extract.file_name,
                            department_code=extract.department_code, new=new)
    catalog.submit(session, SYSTEM, outcome.resource)
    catalog.review(session, SYSTEM, outcome.resource, approve=True, comment="")
    return outcome.resource


def register_district_catalog(session: Session, manifest: DistrictManifest, extracts: Path) -> list[str]:
    """Ingest every extract into its department's new resource, register the open statistics; publish all."""
    codes = [ingest_extract(session, extracts, e) for e in manifest.extracts]
    for spec in STATISTICS:
        codes.append(catalog.register_and_publish(session, SYSTEM, ResourceIn.model_validate(spec)).code)
    return codes
