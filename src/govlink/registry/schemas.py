"""What the registries' API takes and gives: entities (masked as the caller may see them), entity pages, review
pairs, conflicts, thresholds, runs and the integration map."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EntityType = Literal["person", "enterprise"]


class GoldenOther(BaseModel):
    value: str | None
    sources: list[int] = Field(description="ids of the resources that hold this value")


class GoldenValue(BaseModel):
    value: str | None = Field(description="the chosen value (masked unless the caller sees values in full)")
    sources: list[int] = Field(description="ids of the resources that hold the chosen value")
    others: list[GoldenOther] = Field(description="the values other sources hold, with their resources")


class EntitySummary(BaseModel):
    registry_id: str
    entity_type: str
    state: str = Field(description="active | merged | retired")
    name: str | None
    key: str | None = Field(description="ID number (persons) or unified social credit code (enterprises)")
    mentions: int = Field(description="records that name the entity")
    departments: int = Field(description="departments whose records name it")
    masked: bool


class EntityOut(EntitySummary):
    golden: dict[str, GoldenValue] = Field(description="attribute → chosen value, its sources and the others")


class SearchOut(BaseModel):
    total: int
    offset: int
    limit: int
    entities: list[EntitySummary]


class SourceOut(BaseModel):
    """A resource that golden values come from."""

    resource_id: int
    code: str
    name: str
    department: str


class MentionOut(BaseModel):
    resource_code: str
    resource_name: str
    department: str
    version: int
    file_name: str
    record: int = Field(description="1-based data record of the version's file")
    role: str = Field(description="'' for the record's subject, else guardian, legal_rep, employer, spouse …")
    quarantined: bool
    linked_by: str = Field(description="key | score | review | alone")
    probability: float | None
    values: dict[str, str | None]


class RelatedOut(BaseModel):
    relation: str
    direction: Literal["has", "is"] = Field(description="has: the other holds the role in this entity's records; "
                                                        "is: this entity holds it in theirs")
    registry_id: str
    entity_type: str
    name: str


class EventOut(BaseModel):
    kind: str = Field(description="created | merged | absorbed | split | split_from | retired")
    other: str | None
    reason: str
    at: dt.datetime
    run: int | None


class ConflictOut(BaseModel):
    id: int
    registry_id: str
    attribute: str
    chosen: str | None = Field(description="the golden record's value")
    value: str | None = Field(description="the value the department holds")
    state: str = Field(description="open | confirmed | corrected")
    department: str
    note: str
    resource_id: int


class EntityPageOut(BaseModel):
    entity: EntityOut
    sources: list[SourceOut]
    mentions: list[MentionOut]
    related: list[RelatedOut]
    history: list[EventOut]
    conflicts: list[ConflictOut]


class ReviewItemOut(BaseModel):
    id: int
    entity_type: str
    probability: float
    state: str = Field(description="pending | match | non_match | stale")
    created_at: dt.datetime


class ReviewQueueOut(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ReviewItemOut]


class ReviewSide(BaseModel):
    missing: bool = False
    resource: str | None = None
    resource_name: str | None = None
    record: int | None = None
    role: str | None = None
    registry_id: str | None = None
    name: str | None = None
    code: str | None = None
    birth_date: str | None = None
    gender: str | None = None
    phone: str | None = None
    address: str | None = None


class Evidence(BaseModel):
    comparison: str
    weight: float = Field(description="match weight (log2 Bayes factor): above 0 speaks for a match")


class ReviewPairOut(ReviewItemOut):
    decided_by: str | None
    decided_at: dt.datetime | None
    left: ReviewSide
    right: ReviewSide
    evidence_for: list[Evidence]
    evidence_against: list[Evidence]


class DecisionIn(BaseModel):
    match: bool = Field(description="true: the two records are the same person or enterprise")


class ConflictsOut(BaseModel):
    total: int
    offset: int
    limit: int
    state: str
    conflicts: list[ConflictOut]


class ResolveIn(BaseModel):
    confirm: bool = Field(description="true: our value is right (the sources really differ); "
                                      "false: corrected at source")
    note: str = Field(default="", max_length=2000)


class Thresholds(BaseModel):
    upper: float = Field(ge=0.5, le=1.0, description="link threshold: pairs at or above it are linked")
    lower: float = Field(ge=0.5, le=1.0, description="review threshold: pairs between it and upper are reviewed")

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.lower >= self.upper:
            raise ValueError("the review threshold (lower) must be below the link threshold (upper)")
        return self


class RunOut(BaseModel):
    """What a linkage run found (the run's own summary)."""

    model_config = ConfigDict(extra="allow")

    run_id: int
    kind: str
    mentions: int
    entities: int
    created: int
    merged: int
    split: int
    retired: int
    review_pending: int
    conflicts: int
    seconds: float
    by_type: dict[str, dict[str, Any]]


class RunStateOut(BaseModel):
    run_id: int
    kind: str
    state: str = Field(description="running | done | failed")
    created_by: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    stats: dict[str, Any]


class DepartmentCoverageOut(BaseModel):
    department_id: int
    code: str
    name: str
    entities: int
    mentions: int
    share: float = Field(description="entities / all active entities of the type")
    islands: int = Field(description="entities no other department knows")
    attributes: dict[str, int] = Field(description="attribute → entities the department holds it for")


class OverlapCellOut(BaseModel):
    attribute: str
    left: str
    right: str
    entities: int = Field(description="entities both departments hold the attribute for (left = right: its own)")


class DisagreementOut(BaseModel):
    attribute: str
    department: str
    department_name: str
    conflicts: int
    open: int


class RegistryMapOut(BaseModel):
    entity_type: str
    total: int
    shared: int
    islands: int
    attributes: list[str]
    departments: list[DepartmentCoverageOut]
    overlap: list[OverlapCellOut]
    disagreements: list[DisagreementOut]


class IntegrationMapOut(BaseModel):
    registries: list[RegistryMapOut]
