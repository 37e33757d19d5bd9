"""Tables of the base registries (人口库, 法人库): mentions, entities, their history, reviews and conflicts.

A *mention* is one person or enterprise named in one record of a resource's published data: the record's
subject, or a second entity the catalog marks with a role (a student's guardian, an enterprise's legal
representative).  Linking assigns every mention to an *entity*, whose registry ID (``P…`` for persons, ``E…``
for enterprises) stays the same across re-runs and new uploads.  A mention is known across versions by its
``mention_key`` (resource, role, hash of the record's original values, occurrence), so a record that did not
change keeps its entity and every reviewer's decision about it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govlink.db.base import Base, UtcDateTime, utcnow


class RegistryEntity(Base):
    """One person or enterprise of the district, with its golden record."""

    __tablename__ = "registry_entities"
    __table_args__ = (Index("ix_registry_entities_type_key", "entity_type", "key"),)  # lookups by key

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_id: Mapped[str] = mapped_column(String(16), unique=True)  # P00000001 / E00000001, never reused
    entity_type: Mapped[str] = mapped_column(String(16), index=True)  # person | enterprise
    state: Mapped[str] = mapped_column(String(16), index=True)  # active | merged | retired
    merged_into: Mapped[int | None] = mapped_column(Integer)
    # The golden record's searchable values (standard forms), then every attribute with its sources.
    name: Mapped[str | None] = mapped_column(String(200), index=True)
    key: Mapped[str | None] = mapped_column(String(32), index=True)  # ID number or credit code
    golden: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    mentions: Mapped[int] = mapped_column(Integer, default=0)
    departments: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class RegistryMention(Base):
    """A person or enterprise named in one record of a resource's published data, with its linking features."""

    __tablename__ = "registry_mentions"
    __table_args__ = (
        Index("ix_registry_mentions_version_record", "version_id", "record"),
        Index("ix_registry_mentions_type_key", "entity_type", "key"),
        # An incremental relink finds a new mention's blocking neighbours through these, name and phone.
        Index("ix_registry_mentions_birth_date", "birth_date"),
        Index("ix_registry_mentions_road_number", "road", "number"),
        Index("ix_registry_mentions_street_number", "street", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_key: Mapped[str] = mapped_column(String(96), unique=True)
    entity_type: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("registry_entities.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(Integer)
    record: Mapped[int] = mapped_column(Integer)  # 1-based data record of the version's file
    role: Mapped[str] = mapped_column(String(32), default="")  # "" for the record's subject
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    # Standardised features (what linking compares and search finds); full records stay in the version.
    key: Mapped[str | None] = mapped_column(String(32))  # a valid ID number, or the credit code / its org code
    name: Mapped[str | None] = mapped_column(String(200), index=True)
    birth_date: Mapped[str | None] = mapped_column(String(10))
    gender: Mapped[str | None] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    street: Mapped[str | None] = mapped_column(String(60))
    road: Mapped[str | None] = mapped_column(String(80))
    number: Mapped[str | None] = mapped_column(String(40))
    code: Mapped[str | None] = mapped_column(String(32))  # the ID number or credit code as standardised
    extra: Mapped[str | None] = mapped_column(Text)  # the mention's other attributes, as a JSON object
    linked_by: Mapped[str] = mapped_column(String(16), default="")  # key | score | review | alone
    probability: Mapped[float | None] = mapped_column(Float)


class RegistryEvent(Base):
    """What happened to an entity: created, merged into another, absorbed another, split, retired."""

    __tablename__ = "registry_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("registry_entities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # created | merged | absorbed | split | split_from | retired
    other_registry_id: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    run_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class RegistryReview(Base):
    """A pair of mentions scored between the review and the link thresholds, and the reviewer's decision.

    Decisions are kept by mention key, so they hold in every later run while the records are unchanged.
    """

    __tablename__ = "registry_reviews"
    __table_args__ = (UniqueConstraint("left_key", "right_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(16))
    left_key: Mapped[str] = mapped_column(String(96))
    right_key: Mapped[str] = mapped_column(String(96))
    probability: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending | match | non_match | stale
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class RegistryConflict(Base):
    """Sources disagree on an entity's attribute: the losing value goes to its department's steward (校核纠错)."""

    __tablename__ = "registry_conflicts"
    __table_args__ = (UniqueConstraint("entity_id", "attribute", "resource_id", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("registry_entities.id"), index=True)
    attribute: Mapped[str] = mapped_column(String(32))
    chosen: Mapped[str] = mapped_column(Text)
    chosen_resource_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(Text)
    resource_id: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # open | confirmed | corrected
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class RegistryRun(Base):
    """One run of linking, full or incremental, with what it found and the models it trained."""

    __tablename__ = "registry_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # full | incremental
    state: Mapped[str] = mapped_column(String(16))  # running | done | failed
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    models: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # entity type → Splink settings (trained)
    created_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class RegistrySetting(Base):
    """The admin's choices for linking: thresholds and which source is authoritative for which attribute."""

    __tablename__ = "registry_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
