"""What the sharing services take and give: requests, decisions, grants, row scopes, query pages, verdicts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from govlink.kit.text import plain_text

MAX_SCOPE_VALUES = 1000  # a row scope or filter lists at most this many values of one item
MAX_CONDITIONS = 10


ItemName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Value = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class RowCondition(BaseModel):
    """One condition on the rows: the item's value is one of ``values`` (``in``) or starts with one of them
    (``prefix``, e.g. an address up to its street).  A row scope or a query's filters are conditions ANDed."""

    model_config = ConfigDict(frozen=True)

    item: ItemName
    op: Literal["in", "prefix"] = "in"
    values: tuple[Value, ...] = Field(min_length=1, max_length=MAX_SCOPE_VALUES)

    _item = field_validator("item")(plain_text)

    @field_validator("values")
    @classmethod
    def _values(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(plain_text(v) for v in values))
        if any(not v for v in cleaned):
            raise ValueError("a value is not empty")
        return cleaned


class RegistryView(StrEnum):
    PERSON = "person"  # 人口库
    ENTERPRISE = "enterprise"  # 法人库


class ShareRequestIn(BaseModel):
    """An analyst's request for a resource's data or a registry view: one purpose, only the items needed."""

    resource_code: str | None = Field(default=None, description="The catalog resource requested …")
    registry: RegistryView | None = Field(default=None, description="… or a view of a base registry.")
    application: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        default=None, description="The requesting department's application that will use the data.")
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    legal_basis: Text
    scenario: Text
    items: list[ItemName] = Field(min_length=1, max_length=500)
    unmasked_items: list[ItemName] = Field(default_factory=list, max_length=500,
                                           description="Items asked for in full rather than masked.")
    row_scope: list[RowCondition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    days: int = Field(ge=1, le=3660, description="How long the data is needed, in calendar days.")

    _texts = field_validator("purpose", "legal_basis", "scenario")(plain_text)

    @field_validator("application")
    @classmethod
    def _application(cls, value: str | None) -> str | None:
        return (plain_text(value) or None) if value is not None else None

    @field_validator("items", "unmasked_items")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(plain_text(n) for n in names))

    @model_validator(mode="after")
    def _one_target(self) -> ShareRequestIn:
        if (self.resource_code is None) == (self.registry is None):
            raise ValueError("request either a resource (resource_code) or a registry view (registry)")
        if not self.purpose or not self.legal_basis or not self.scenario:
            raise ValueError("state the purpose, the legal basis and the scenario")
        extra = [n for n in self.unmasked_items if n not in self.items]
        if extra:
            raise ValueError(f"unmasked items must be among the requested items: {', '.join(extra)}")
        return self


class RequestEventOut(BaseModel):
    kind: str
    actor: str
    state: str
    comment: str
    at: dt.datetime


class ShareRequestOut(BaseModel):
    id: int
    department_code: str
    requested_by: str
    application: str | None
    resource_code: str | None
    registry: str | None
    provider_code: str
    share_type: str
    purpose: str
    legal_basis: str
    scenario: str
    items: list[str]
    unmasked_items: list[str]
    row_scope: list[RowCondition]
    days: int
    state: str
    due_on: dt.date | None
    escalated: bool
    grant_id: int | None
    created_at: dt.datetime
    events: list[RequestEventOut]


class GrantOut(BaseModel):
    id: int
    request_id: int | None
    department_code: str
    application: str | None
    resource_code: str | None
    registry: str | None
    purpose: str
    items: list[str]
    unmasked_items: list[str]
    row_scope: list[RowCondition]
    valid_from: dt.datetime
    valid_until: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str
    active: bool


class SortKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    item: ItemName
    descending: bool = False


class QueryPage(BaseModel):
    """One page of a resource's rows as the caller may see them."""

    resource_code: str
    version: int
    grant_id: int | None
    items: list[str]
    masked: list[str] = Field(description="Items shown masked (张*三, 138****5678 …).")
    total: int = Field(description="Rows matching the query within the grant's row scope.")
    rows: list[dict[str, str | None]]
    next_cursor: str | None


class Verdict(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # the registries do not know: neither confirmed nor denied


# --- the API's own bodies ------------------------------------------------------------------------------

MAX_LIMIT = 1000  # rows one query returns at the most
Reason = Annotated[str, StringConstraints(max_length=2000)]
Box = Literal["made", "inbox"]


class RequestsOut(BaseModel):
    box: Box = Field(description="made: your department's requests; inbox: those waiting for your decision.")
    state: str | None = Field(description="the state the list was filtered on, if any")
    requests: list[ShareRequestOut]


class ShareDecisionIn(BaseModel):
    """A decider's answer: approve (possibly narrowed), refuse with the reason, or clear the compliance check."""

    decision: Literal["approve", "refuse", "clear"]
    reason: Reason = Field(default="", description="Required for a refusal; a comment otherwise.")
    items: list[ItemName] | None = Field(default=None, description="Grant only these of the requested items.")
    unmasked_items: list[ItemName] | None = Field(default=None, description="Of those, these in full.")
    days: int | None = Field(default=None, ge=1, le=3660, description="Grant for fewer days than requested.")


class ReasonIn(BaseModel):
    reason: Reason = ""


class GrantsOut(BaseModel):
    grants: list[GrantOut]


class QueryIn(BaseModel):
    """A masked query over a published resource, under a grant or an unconditional share."""

    resource_code: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    grant_id: int | None = Field(default=None, description="The grant to read under; by default the one "
                                 "held for this purpose.")
    items: list[ItemName] | None = Field(default=None, max_length=500, description="Items wanted (default: all "
                                         "the grant allows).")
    filters: list[RowCondition] = Field(default_factory=list, max_length=10)
    sort: list[SortKey] = Field(default_factory=list, max_length=10)
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)
    join_key: bool = Field(default=False, description="Add _join_key: your department's pseudonym of each row's "
                           "subject, for matching without the ID number itself.")


class VerdictOut(BaseModel):
    verdict: Verdict = Field(description="yes, no, or unknown (the registries neither confirm nor deny).")


# Verification takes its question in the body (POST), so ID numbers never sit in URLs or access logs.
class VerifyPersonIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(min_length=1, max_length=40)
    purpose: str = Field(min_length=1, max_length=500, description="Why the caller asks (logged).")


class VerifyEnterpriseIn(BaseModel):
    credit_code: str = Field(min_length=1, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    purpose: str = Field(min_length=1, max_length=500, description="Why the caller asks (logged).")
