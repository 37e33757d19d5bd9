"""What the sharing services take and give: requests, decisions, grants, row scopes, query pages, verdicts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

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


class OpenApplicationIn(BaseModel):
    """A citizen's or an enterprise's application for a 有条件开放 resource's open data (开放申请): what for, how
    the data will be used, and which of its open items."""

    resource_code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    scenario: Text = Field(description="How the data will be used.")
    legal_basis: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="", description="How the resource's open condition is met (a qualification, a basis), if asked.")
    items: list[ItemName] = Field(default_factory=list, max_length=500,
                                  description="The open items needed; every open item when empty.")
    days: int = Field(ge=1, le=3660, description="How long the data is needed, in calendar days.")

    _texts = field_validator("resource_code", "purpose", "scenario", "legal_basis")(plain_text)

    @field_validator("items")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(plain_text(n) for n in names))

    @model_validator(mode="after")
    def _stated(self) -> OpenApplicationIn:
        if not self.purpose or not self.scenario:
            raise ValueError("state the purpose and how the data will be used")
        return self


class OpenGrantPage(BaseModel):
    """A page of the open data an approved application lets the applicant read (never a personal item)."""

    grant_id: int
    resource_code: str
    version: int
    fields: list[str]
    total: int
    offset: int
    records: list[dict[str, Any]]


class RequestEventOut(BaseModel):
    kind: str
    actor: str
    state: str
    comment: str
    at: dt.datetime


class ShareRequestOut(BaseModel):
    id: int
    department_code: str | None = Field(description="The requesting department; none for an open application.")
    open_application: bool = Field(description="A citizen's or an enterprise's application for 有条件开放 open "
                                   "data, made from their own account.")
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
    department_code: str | None = Field(description="The holding department; none for an open application's.")
    open_application: bool = Field(description="Held by the citizen's or enterprise's account that applied.")
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


class ReadIn(BaseModel):
    """What every delivery call states: its purpose, the grant it reads under, the items and the filters."""

    purpose: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    grant_id: int | None = Field(default=None, description="The grant to read under; by default the one "
                                 "held for this purpose.")
    items: list[ItemName] | None = Field(default=None, max_length=500, description="Items wanted (default: all "
                                         "the grant allows); of a registry view, its attributes (name, "
                                         "birth_date, address …).")
    filters: list[RowCondition] = Field(default_factory=list, max_length=MAX_CONDITIONS)


class Paged(BaseModel):
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class RowsIn(ReadIn):
    """A published resource's rows under a grant or an unconditional share."""

    resource_code: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    join_key: bool = Field(default=False, description="Add _join_key: your department's pseudonym of each row's "
                           "subject, for matching without the ID number itself.")


class QueryIn(RowsIn, Paged):
    """A masked query over a published resource, a page at a time."""

    sort: list[SortKey] = Field(default_factory=list, max_length=10)


class RegistryQueryIn(ReadIn, Paged):
    """A page of a base registry's golden records under the department's grant for that registry view."""

    registry: RegistryView


class RegistryPage(BaseModel):
    registry: str
    grant_id: int
    items: list[str]
    masked: list[str] = Field(description="Attributes shown masked (the grant does not name them in full).")
    total: int = Field(description="Golden records matching the grant's row scope and the filters.")
    rows: list[dict[str, str | None]]
    next_cursor: str | None


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


# --- the public sharing record and the department evaluation (考核) ----------------------------------------


class RequestCounts(BaseModel):
    """Requests by where they stand now."""

    total: int = 0
    approved: int = 0
    refused: int = Field(default=0, description="Refused, or refused and the appeal dismissed.")
    withdrawn: int = 0
    pending: int = Field(default=0, description="Still waiting: compliance check, provider, coordination, appeal.")


class DepartmentRecordOut(BaseModel):
    """One department's sharing record: what it asked of others and how it answered what others asked of it."""

    department_code: str
    department_name: str
    made: RequestCounts = Field(description="Requests the department made of other departments.")
    received: RequestCounts = Field(description="Requests other departments made of its data.")
    refused_by_department: int = Field(description="Received requests the department itself refused (its approver, "
                                       "or the office in its place), whatever came of an appeal; the other "
                                       "refusals were the information office's, at a compliance check or a "
                                       "coordination.")
    answered: int = Field(description="Received requests its approver (or the office in its place) answered.")
    median_answer_days: float | None = Field(description="Working days from the request reaching the department "
                                             "to its answer (0: the same day); None before any answer.")
    mean_answer_days: float | None
    answered_late: int = Field(description="Answered after the deadline.")
    open_overdue: int = Field(description="Still unanswered past the deadline.")
    deadlines_missed: int = Field(description="answered_late + open_overdue.")
    escalated: int = Field(description="Escalated to the information office once the deadline passed.")


class MonthOut(BaseModel):
    month: str = Field(description="YYYY-MM, district time.")
    received: int = Field(description="Requests made in the month.")
    answered: int = Field(description="Requests first answered (approved or refused) in the month.")
    refused: int = Field(description="Refusals given in the month.")


class RefusalOut(BaseModel):
    """A refusal as the public sees it: which data, which departments, when, and the reason given."""

    request_id: int
    resource_code: str | None
    resource_name: str | None
    registry: str | None
    unlisted: bool = Field(default=False, description="A resource the catalog lists for officials only: "
                           "neither its code nor its name is shown to the public.")
    requester_code: str = Field(description="The requesting department; empty for a citizen's or an "
                                "enterprise's open application.")
    provider_code: str
    refused_by_code: str | None = Field(description="The department whose decider refused (the information "
                                        "office at a compliance check, a coordination or an appeal).")
    stage: str = Field(description="refused (by the provider or in its place), compliance_refused, "
                       "appeal_dismissed.")
    reason: str
    requested_on: dt.date
    refused_on: dt.date


class SharingRecordOut(BaseModel):
    """The public sharing record (共享记录): every department's requests, answers, times and refusals."""

    since: dt.date | None = Field(description="Only requests made on or after this day, when given.")
    answer_days: int = Field(description="The answer deadline in working days the late answers are judged by.")
    departments: list[DepartmentRecordOut]
    trend: list[MonthOut]
    refusals: list[RefusalOut] = Field(description="The newest refusals first.")
    refusals_total: int


class EvaluationWeightsOut(BaseModel):
    completeness: float
    timeliness: float
    answer_time: float
    refusals: float
    complaints: float
    use: float


class DepartmentEvaluationOut(BaseModel):
    """One department's evaluation (考核): the measures, each component's 0–1 score, and the composite."""

    rank: int
    department_code: str
    department_name: str
    resources: int = Field(description="Published resources in the catalog.")
    completeness: float | None = Field(description="Mean stored metadata completeness of its resources, 0–1.")
    timely: int
    overdue: int
    no_data: int
    received: int
    answered: int
    median_answer_days: float | None
    deadlines_missed: int
    refused: int = Field(description="Refusals by the department (its approver or the office in its place).")
    refusal_rate: float | None = Field(description="refused / its answers, 0–1.")
    conflicts: int = Field(description="Registry conflicts raised against its values (data-quality complaints).")
    conflicts_open: int = Field(description="Of those, not yet checked by its steward.")
    grants_to_others: int = Field(description="Grants in force held by other departments on its data.")
    reads_by_others: int = Field(description="sharing.read and sharing.export log entries of other departments "
                                 "on its resources.")
    components: dict[str, float | None] = Field(description="Each component's score, 0–1; None: not applicable "
                                                "(its weight goes to the others).")
    score: float = Field(description="The weighted composite, 0–100.")


class EvaluationOut(BaseModel):
    since: dt.date | None
    weights: EvaluationWeightsOut
    departments: list[DepartmentEvaluationOut] = Field(description="Ranked, the highest score first.")
    trend: list[MonthOut]


# --- bulk export and subscriptions (delivery) ---------------------------------------------------------------

ExportFormat = Literal["csv", "xlsx", "parquet"]


class ExportIn(RowsIn):
    """A bulk export of a published resource: the query's rules (grant, items, row scope, masking, join keys),
    every matching row, one file."""

    format: ExportFormat = Field(default="csv", description="csv (UTF-8 with BOM) or xlsx, whose cells that a "
                                 "spreadsheet would read as formulas (= + - @ …) start with a single quote; or "
                                 "parquet, typed values as they are.")


class SubscriptionIn(BaseModel):
    """Hear of a resource's new versions or a registry's changes: in the feed, and at a webhook if given."""

    resource_code: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = Field(
        default=None, description="The catalog resource whose new versions you want to hear of …")
    registry: RegistryView | None = Field(default=None, description="… or the base registry whose changes.")
    webhook_url: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = Field(
        default=None, description="An http(s) URL each notice is POSTed to, signed (X-GovLink-Signature).")

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = urlsplit(plain_text(value, lines=False))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("a webhook is an http:// or https:// URL with a host")
        if url.username or url.password:
            raise ValueError("a webhook URL carries no user name or password: notices are signed instead")
        return url.geturl()

    @model_validator(mode="after")
    def _one_target(self) -> SubscriptionIn:
        if (self.resource_code is None) == (self.registry is None):
            raise ValueError("subscribe to either a resource (resource_code) or a registry (registry)")
        return self


class DeliveryOut(BaseModel):
    """One notice's delivery to the webhook."""

    notice: int
    state: str = Field(description="pending (retried later), delivered, or failed (given up after the last try).")
    attempts: int
    last_status: int | None = Field(description="The webhook's HTTP status of the last attempt; None: no answer.")
    last_error: str
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None


class SubscriptionOut(BaseModel):
    id: int
    department_code: str
    created_by: str
    resource_code: str | None
    registry: str | None
    webhook_url: str | None
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    active: bool
    deliveries: list[DeliveryOut] = Field(description="The webhook's latest deliveries, newest first.")


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str | None = Field(description="The key (its UTF-8 bytes) of the HMAC-SHA256 signature of every "
                               "notice POSTed to the webhook. Shown only now: keep it.")


class SubscriptionsOut(BaseModel):
    subscriptions: list[SubscriptionOut]


class NoticeOut(BaseModel):
    """Something new for a subscriber: a version of a resource was published, or a linkage run changed the
    registries. It names no person and holds no data."""

    id: int = Field(description="The notice's number (its transparency-log index): the feed's order.")
    kind: Literal["version_published", "registry_changed"]
    at: dt.datetime = Field(description="When the version was published or the run finished.")
    subscriptions: list[int] = Field(description="Your subscriptions it answers.")
    resource_code: str | None = None
    version: int | None = None
    rows: int | None = Field(default=None, description="Rows the published version holds.")
    restored: bool = Field(default=False, description="An earlier version was published again.")
    run: int | None = Field(default=None, description="The linkage run (it relinks both registries).")
    run_kind: str | None = Field(default=None, description="full or incremental.")
    records_changed: int | None = Field(default=None, description="Registry records the run created, merged, "
                                        "split or retired.")
    mentions: int | None = Field(default=None, description="Records of departments' data the run linked.")


class FeedOut(BaseModel):
    notices: list[NoticeOut] = Field(description="Oldest first.")
    next_cursor: str = Field(description="Pass as ?after= to get what comes next (poll with it).")

