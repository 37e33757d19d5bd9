"""The catalog's fixed vocabularies, after the national 政务信息资源目录编制指南 (trial, 2017).

Codes are English identifiers stored in the database; labels are the precise Chinese terms shown to users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ShareType(StrEnum):
    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NONE = "none"  # 不予共享


class OpenType(StrEnum):
    OPEN = "open"  # 无条件开放
    CONDITIONAL = "conditional"  # 有条件开放
    CLOSED = "closed"  # 不予开放


class UpdateCycle(StrEnum):
    REALTIME = "realtime"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"
    IRREGULAR = "irregular"


class SubjectType(StrEnum):
    PERSON = "person"
    ENTERPRISE = "enterprise"
    NONE = "none"


class DataGrade(StrEnum):
    GENERAL = "general"  # 一般数据
    IMPORTANT = "important"  # 重要数据
    CORE = "core"  # 核心数据


class DataType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"
    RETIRED = "retired"


LABELS: dict[str, str] = {
    "share.unconditional": "无条件共享", "share.conditional": "有条件共享", "share.none": "不予共享",
    "open.open": "无条件开放", "open.conditional": "有条件开放", "open.closed": "不予开放",
    "cycle.realtime": "实时", "cycle.daily": "每日", "cycle.weekly": "每周", "cycle.monthly": "每月",
    "cycle.quarterly": "每季度", "cycle.half_yearly": "每半年", "cycle.yearly": "每年", "cycle.irregular": "不定期",
    "subject.person": "自然人", "subject.enterprise": "法人", "subject.none": "无",
    "grade.general": "一般", "grade.important": "重要", "grade.core": "核心",
    "status.draft": "草稿", "status.submitted": "待审核", "status.returned": "已退回", "status.published": "已发布",
    "status.retired": "已撤销",
}

# Days within which a resource of each cycle must be updated to count as timely (None: never overdue).
CYCLE_DAYS: dict[UpdateCycle, int | None] = {
    UpdateCycle.REALTIME: 1, UpdateCycle.DAILY: 2, UpdateCycle.WEEKLY: 8, UpdateCycle.MONTHLY: 32,
    UpdateCycle.QUARTERLY: 93, UpdateCycle.HALF_YEARLY: 184, UpdateCycle.YEARLY: 366, UpdateCycle.IRREGULAR: None,
}


@dataclass(frozen=True)
class CatalogClass:
    """A node of the classification: 类 (1 digit), 项 (2 digits), 目 (3), 细目 (3)."""

    code: str
    name: str


# 类: 基础信息资源 (1), 主题信息资源 (2), 部门信息资源 (3); with their 项.
CLASSES: tuple[CatalogClass, ...] = (
    CatalogClass("1", "基础信息资源"),
    CatalogClass("101", "人口"), CatalogClass("102", "法人单位"), CatalogClass("103", "自然资源和空间地理"),
    CatalogClass("104", "社会信用"), CatalogClass("105", "电子证照"),
    CatalogClass("2", "主题信息资源"),
    CatalogClass("201", "社会保障"), CatalogClass("202", "健康保障"), CatalogClass("203", "教育文化"),
    CatalogClass("204", "市场监管"), CatalogClass("205", "生态环境"), CatalogClass("206", "城乡建设"),
    CatalogClass("207", "社区治理"), CatalogClass("208", "财税金融"), CatalogClass("209", "安全生产"),
    CatalogClass("3", "部门信息资源"),
)
CLASS_NAMES = {c.code: c.name for c in CLASSES}
_CLASSIFICATION = re.compile(r"^[123](\d{2}(\d{3}(\d{3})?)?)?$")


def validate_classification(code: str) -> str:
    """A classification code: 类, 类+项, 类+项+目 or 类+项+目+细目; 项 must be a known one or a department's."""
    if not _CLASSIFICATION.fullmatch(code):
        raise ValueError("a classification is 1 digit (类), then 2 (项), 3 (目) and 3 (细目), e.g. 101 or 101001")
    if code[0] in "12" and len(code) >= 3 and code[:3] not in CLASS_NAMES:
        raise ValueError(f"{code[:3]} is not a 项 of {CLASS_NAMES[code[0]]}")
    return code


def class_label(code: str) -> str:
    """The readable path of a classification code, e.g. 基础信息资源 / 人口."""
    parts = [CLASS_NAMES.get(code[:1], code[:1])]
    if len(code) >= 3:
        parts.append(CLASS_NAMES.get(code[:3], code[1:3]))
    if len(code) > 3:
        parts.append(code[3:])
    return " / ".join(parts)


# Semantic types: what an information item holds, so linkage and masking know it.
PERSON_ATTRIBUTES = ("id_number", "name", "gender", "birth_date", "phone", "address", "ethnicity", "household_id")
ENTERPRISE_ATTRIBUTES = ("name", "uscc", "old_tax_id", "address", "registered_on", "status", "legal_rep_name")
ROLES = ("guardian", "legal_rep", "employer", "spouse", "head", "contact", "applicant")
_SEMANTIC = re.compile(r"^(person|enterprise)(?:\[([a-z_]+)\])?\.([a-z_]+)$")


@dataclass(frozen=True)
class SemanticType:
    entity: str
    role: str | None
    attribute: str

    def __str__(self) -> str:
        role = f"[{self.role}]" if self.role else ""
        return f"{self.entity}{role}.{self.attribute}"

    @property
    def is_personal(self) -> bool:
        # An enterprise's name, code and address are public registration facts; its legal representative is a person.
        return self.entity == "person" or self.attribute == "legal_rep_name"


def parse_semantic_type(value: str) -> SemanticType:
    """``person.name``, ``person[guardian].id_number``, ``enterprise[employer].uscc`` …; raises ValueError."""
    match = _SEMANTIC.fullmatch(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a semantic type such as person.name or person[guardian].id_number")
    entity, role, attribute = match.groups()
    allowed = PERSON_ATTRIBUTES if entity == "person" else ENTERPRISE_ATTRIBUTES
    if attribute not in allowed:
        raise ValueError(f"{entity} has no attribute {attribute!r}; one of {', '.join(allowed)}")
    if role is not None and role not in ROLES:
        raise ValueError(f"{role!r} is not a role; one of {', '.join(ROLES)}")
    return SemanticType(entity, role, attribute)


def semantic_types() -> list[str]:
    """Every subject-level semantic type (roles are added with [role])."""
    return [f"person.{a}" for a in PERSON_ATTRIBUTES] + [f"enterprise.{a}" for a in ENTERPRISE_ATTRIBUTES]
