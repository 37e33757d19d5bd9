"""The roles a GovLink account can hold (see DESIGN.md, "Who uses it")."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # 信息主管部门: the district's information office
    STEWARD = "steward"  # a department's data officer
    APPROVER = "approver"  # a department head deciding 有条件共享 requests
    ANALYST = "analyst"  # an official of a consuming department
    AUDITOR = "auditor"  # 审计 / 纪检
    PUBLIC = "public"  # a citizen or an enterprise


# Roles that act for a department and so need one.
DEPARTMENT_ROLES = frozenset({Role.STEWARD, Role.APPROVER, Role.ANALYST})
# Sign-ins of these roles are privileged and will be written to the transparency log.
PRIVILEGED_ROLES = frozenset({Role.ADMIN, Role.STEWARD, Role.APPROVER, Role.ANALYST, Role.AUDITOR})
