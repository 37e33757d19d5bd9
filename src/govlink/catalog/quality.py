"""Metadata completeness and timeliness of a resource, and of a department's resources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from govlink.catalog.vocabulary import CYCLE_DAYS, OpenType, Status, SubjectType, UpdateCycle


class Described(Protocol):
    summary: str
    subject_type: str
    open_type: str
    licence: str | None
    update_cycle: str
    status: str
    data_updated_at: dt.datetime | None

    @property
    def items(self) -> Iterable[Any]: ...


@dataclass(frozen=True)
class Quality:
    completeness: float  # 0–1: the share of the checks below that pass
    missing: list[str] = field(default_factory=list)
    timeliness: str = "not_applicable"  # timely | overdue | no_data | not_applicable

    @property
    def score(self) -> int:
        """0–100: completeness weighs 70, timeliness 30 (full marks when a cycle does not apply)."""
        timely = {"timely": 1.0, "not_applicable": 1.0, "no_data": 0.0, "overdue": 0.0}[self.timeliness]
        return round(70 * self.completeness + 30 * timely)

    def as_dict(self) -> dict[str, Any]:
        return {"completeness": round(self.completeness, 3), "missing": self.missing,
                "timeliness": self.timeliness, "score": self.score}


def quality_of(resource: Described, now: dt.datetime | None = None) -> Quality:
    items = list(resource.items)
    checks = {
        "summary": len(resource.summary.strip()) >= 20,
        "items": bool(items),
        "semantic_types": bool(items) and all(i.semantic_type for i in items if i.personal),
        "subject_type": resource.subject_type != SubjectType.NONE or not any(i.semantic_type for i in items),
        "licence": resource.open_type == OpenType.CLOSED or bool(resource.licence),
        "update_cycle": resource.update_cycle != UpdateCycle.IRREGULAR,
    }
    missing = [name for name, ok in checks.items() if not ok]
    return Quality(1 - len(missing) / len(checks), missing, _timeliness(resource, now or dt.datetime.now(dt.UTC)))


class Stored(Protocol):
    completeness: float
    quality_missing: list[str]
    update_cycle: str
    status: str
    data_updated_at: dt.datetime | None


def stored_quality(resource: Stored, now: dt.datetime | None = None) -> Quality:
    """The quality kept on the row at its last change, with timeliness as of now (no items loaded)."""
    return Quality(resource.completeness, list(resource.quality_missing),
                   _timeliness(resource, now or dt.datetime.now(dt.UTC)))


def _timeliness(resource: Described | Stored, now: dt.datetime) -> str:
    days = CYCLE_DAYS.get(UpdateCycle(resource.update_cycle))
    if days is None or resource.status != Status.PUBLISHED:
        return "not_applicable"
    if resource.data_updated_at is None:
        return "no_data"
    return "timely" if now - resource.data_updated_at <= dt.timedelta(days=days) else "overdue"
