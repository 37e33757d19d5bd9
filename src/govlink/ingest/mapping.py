"""Propose which information item each column of a department's file holds, from its name and its values.

Column names differ by department (身份证号, 公民身份号码, 证件号码, 学生身份证件号 … all mean an ID number), so a
name is matched against patterns per attribute, a prefix names the role of a second entity in the row
(监护人 → guardian, 法定代表人 → legal_rep, 单位 → employer, 女方 → spouse), and the values decide when they are
unmistakable: a column whose values validate as ID numbers is one, whatever it is called. The steward
confirms or corrects the proposal once; it is kept for the next upload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from govlink.standards.credit_code import is_valid_credit_code
from govlink.standards.id_number import is_valid_id_number

# (attribute, entities it applies to, pattern) in order of precedence; the pattern is searched in the name.
NAME_PATTERNS: tuple[tuple[str, frozenset[str], re.Pattern[str]], ...] = tuple(
    (attribute, frozenset(entities.split()), re.compile(pattern))
    for attribute, entities, pattern in (
        ("uscc", "enterprise", r"统一社会信用代码|信用代码|纳税人识别号"),
        ("id_number", "person", r"身份证|证件号|公民身份号码"),
        ("phone", "person", r"电话|手机|联系方式"),
        ("birth_date", "person", r"出生日期|出生年月|生日"),
        ("gender", "person", r"性别"),
        ("ethnicity", "person", r"民族"),
        ("registered_on", "enterprise", r"成立日期|注册日期|登记日期"),
        ("status", "enterprise", r"登记状态|经营状态|企业状态|纳税人状态"),
        ("name", "enterprise", r"企业名称|单位名称|纳税人名称|市场主体名称|^名称$"),
        ("name", "person", r"姓名"),
        ("address", "person enterprise", r"地址|住址|住所|居住地|经营场所"),
    )
)
# Prefixes naming a second entity in the row, and that entity's type.
ROLE_PREFIXES: tuple[tuple[str, str, str], ...] = (
    ("监护人", "guardian", "person"),
    ("法定代表人", "legal_rep", "person"),
    ("法人代表", "legal_rep", "person"),
    ("参保单位", "employer", "enterprise"),
    ("用人单位", "employer", "enterprise"),
    ("工作单位", "employer", "enterprise"),
    ("单位", "employer", "enterprise"),
    ("女方", "spouse", "person"),
    ("配偶", "spouse", "person"),
)
VALUE_SHARE = 0.8  # the share of non-empty sample values that must validate for the values to decide


@dataclass(frozen=True)
class Proposal:
    column: str
    semantic_type: str | None
    reason: str  # "name", "values" or "none", shown to the steward beside the proposal


def _by_values(values: Sequence[str]) -> str | None:
    present = [v for v in values if v and v.strip()]
    if not present:  # a small file's few values still decide: a chance pass of both checks is rare
        return None
    if sum(is_valid_id_number(v) for v in present) >= VALUE_SHARE * len(present):
        return "id_number"
    if sum(is_valid_credit_code(v) for v in present) >= VALUE_SHARE * len(present):
        return "uscc"
    return None


def _role(column: str, subject: str) -> tuple[str | None, str, str]:
    """(role, entity, rest of the name) for a column such as 监护人身份证件号."""
    for prefix, role, entity in ROLE_PREFIXES:
        if column.startswith(prefix) and column != prefix:
            rest = column[len(prefix):]
            if entity == subject and role == "employer":
                return None, subject, column  # an enterprise's own 单位名称 is not a second entity
            return role, entity, rest
    if subject == "enterprise" and column in {"法定代表人", "法定代表人（负责人）", "法定代表人(负责人)"}:
        return "legal_rep", "person", "姓名"
    return None, subject, column


def propose(columns: Sequence[str], samples: Mapping[str, Sequence[str]], subject: str) -> list[Proposal]:
    """A semantic type (or none) for every column of a file whose rows are about ``subject``."""
    proposals = []
    taken: set[str] = set()
    for column in columns:
        role, entity, rest = _role(column.strip(), subject)
        attribute = None
        reason = "none"
        for candidate, entities, pattern in NAME_PATTERNS:
            if entity in entities and pattern.search(rest):
                attribute, reason = candidate, "name"
                break
        by_values = _by_values(samples.get(column, ()))
        if by_values is not None:
            entity = "enterprise" if by_values == "uscc" else ("person" if role is None and subject == "person"
                                                                 else entity)
            attribute, reason = by_values, "values"
        semantic = None
        if attribute is not None:
            semantic = f"{entity}[{role}].{attribute}" if role else f"{entity}.{attribute}"
            if semantic in taken:  # a second column for the same thing (e.g. 户籍地 beside 现居住地址)
                semantic, reason = None, "none"
            else:
                taken.add(semantic)
        proposals.append(Proposal(column, semantic, reason))
    return proposals


def propose_subject(columns: Sequence[str], samples: Mapping[str, Sequence[str]]) -> str:
    """Whether a file's rows are about persons, enterprises or neither, from its unprefixed columns."""
    person = enterprise = 0
    for column in columns:
        if re.fullmatch(r"(企业|单位|纳税人|市场主体)名称", column.strip()):
            enterprise += 1  # 单位名称 alone names the row's own enterprise, not an employer
            continue
        role, _, _ = _role(column, "person")
        if role is not None:
            continue
        found = _by_values(samples.get(column, ()))
        if found == "id_number" or re.search(r"^(学生)?姓名$|^男方姓名$", column):
            person += 1
        if found == "uscc" or re.search(r"企业名称|纳税人名称|单位名称", column):
            enterprise += 1
    if enterprise > person:
        return "enterprise"
    return "person" if person else "none"
