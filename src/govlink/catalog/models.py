"""Tables of the catalog: resources, their information items, revisions and relations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govlink.db.base import Base, UtcDateTime, utcnow


class Resource(Base):
    """An information resource (信息资源) as its provider department declares it."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    classification: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    format: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(16))
    share_type: Mapped[str] = mapped_column(String(16), index=True)
    share_condition: Mapped[str] = mapped_column(Text, default="")
    share_basis: Mapped[str] = mapped_column(Text, default="")  # legal basis of 不予共享
    open_type: Mapped[str] = mapped_column(String(16), index=True)
    open_condition: Mapped[str] = mapped_column(Text, default="")
    licence: Mapped[str | None] = mapped_column(String(200))
    update_cycle: Mapped[str] = mapped_column(String(16))
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    data_updated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    # Metadata completeness as of the last change (timeliness is computed when read: it changes with time).
    completeness: Mapped[float] = mapped_column(Float, default=0.0)
    quality_missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    initials_key: Mapped[str] = mapped_column(Text, default="")
    pinyin_key: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

    items: Mapped[list[ResourceItem]] = relationship(
        cascade="all, delete-orphan", order_by="ResourceItem.position", lazy="selectin"
    )


class ResourceItem(Base):
    """An information item (信息项): one column of the resource's data."""

    __tablename__ = "resource_items"
    __table_args__ = (UniqueConstraint("resource_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    data_type: Mapped[str] = mapped_column(String(16))
    semantic_type: Mapped[str | None] = mapped_column(String(64), index=True)
    grade: Mapped[str] = mapped_column(String(16))
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False)


class ResourceRevision(Base):
    """One change of a resource: who, when, what (a field-by-field diff) and the state after it."""

    __tablename__ = "resource_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ResourceRelation(Base):
    __tablename__ = "resource_relations"

    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    related_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)


class ResourceSequence(Base):
    """The next sequence number per classification, so resource codes are unique and never reused."""

    __tablename__ = "resource_sequences"

    classification: Mapped[str] = mapped_column(String(12), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
