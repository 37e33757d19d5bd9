"""What the catalog API takes and gives."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from govlink.catalog.vocabulary import (
    DataGrade,
    DataType,
    OpenType,
    ShareType,
    SubjectType,
    UpdateCycle,
    parse_semantic_type,
    validate_classification,
)
from govlink.kit.text import plain_text

FORMATS = ("CSV", "XLSX", "XLS", "JSON", "XML", "PDF", "数据库", "接口", "其他")


ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=4000)]


class ItemIn(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    data_type: DataType = DataType.STRING
    semantic_type: str | None = Field(default=None, description="e.g. person.id_number or person[guardian].name")
    grade: DataGrade = DataGrade.GENERAL
    personal: bool | None = Field(default=None, description="Defaults from the semantic type.")
    required: bool = False

    _name = field_validator("name")(plain_text)

    @field_validator("semantic_type")
    @classmethod
    def _semantic(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return str(parse_semantic_type(value))

    @model_validator(mode="after")
    def _personal_default(self) -> ItemIn:
        if self.personal is None:
            self.personal = bool(self.semantic_type and parse_semantic_type(self.semantic_type).is_personal)
        return self


class ResourceIn(BaseModel):
    name: ShortText
    classification: str = Field(description="类(1)+项(2)+目(3)+细目(3) digits, e.g. 101 for 基础信息资源/人口.")
    summary: LongText = ""
    department_code: str | None = Field(default=None, description="Provider; defaults to the steward's own.")
    format: str = "CSV"
    subject_type: SubjectType = SubjectType.NONE
    share_type: ShareType
    share_condition: LongText = ""
    share_basis: LongText = ""
    open_type: OpenType = OpenType.CLOSED
    open_condition: LongText = ""
    licence: Annotated[str, StringConstraints(max_length=200)] | None = None
    update_cycle: UpdateCycle = UpdateCycle.IRREGULAR
    items: list[ItemIn] = Field(default_factory=list, max_length=500)
    related: list[str] = Field(default_factory=list, max_length=50, description="Codes of related resources.")

    _texts = field_validator("name", "summary", "share_condition", "share_basis", "open_condition")(plain_text)

    @field_validator("classification")
    @classmethod
    def _classification(cls, value: str) -> str:
        return validate_classification(value.strip())

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"format is one of {', '.join(FORMATS)}")
        return value

    @model_validator(mode="after")
    def _rules(self) -> ResourceIn:
        if self.share_type is ShareType.CONDITIONAL and not self.share_condition:
            raise ValueError("有条件共享 needs its condition (share_condition)")
        if self.share_type is ShareType.NONE and not self.share_basis:
            raise ValueError("不予共享 needs its legal basis (share_basis)")
        if self.open_type is not OpenType.CLOSED and not self.licence:
            raise ValueError("an open resource needs a licence")
        if self.open_type is OpenType.CONDITIONAL and not self.open_condition:
            raise ValueError("有条件开放 needs its condition (open_condition)")
        names = [i.name for i in self.items]
        if len(names) != len(set(names)):
            raise ValueError("information item names must be unique within a resource")
        return self


class ItemOut(BaseModel):
    position: int
    name: str
    data_type: str
    semantic_type: str | None
    grade: str
    personal: bool
    required: bool


class ResourceOut(BaseModel):
    code: str
    name: str
    classification: str
    classification_label: str
    summary: str
    department_code: str
    department_name: str
    format: str
    subject_type: str
    share_type: str
    share_condition: str
    share_basis: str
    open_type: str
    open_condition: str
    licence: str | None
    update_cycle: str
    published_on: dt.date | None
    status: str
    revision: int
    review_comment: str
    data_updated_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    items: list[ItemOut]
    related: list[str]
    quality: dict[str, Any]


class RevisionOut(BaseModel):
    number: int
    action: str
    actor: str
    comment: str
    at: dt.datetime
    diff: list[dict[str, Any]]


class ReviewIn(BaseModel):
    approve: bool
    comment: Annotated[str, StringConstraints(max_length=4000)] = ""


class OverlapOut(BaseModel):
    code: str
    name: str
    department_code: str
    department_name: str
    shared_items: list[str]
    score: float = Field(description="Share of the compared resource's semantic items the other one also holds.")
