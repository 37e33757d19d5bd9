"""Tables of ingestion: a resource's data versions, their quarantined cells, its kept column mapping, pulls.

The rows themselves live in one table per version (``resource_data_<version id>``, made by
:mod:`govlink.ingest.storage`), like CKAN's DataStore: in the same database, so one transaction publishes a
version and one place holds access control.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govlink.db.base import Base, UtcDateTime, utcnow


class DataVersion(Base):
    """One upload (or pull, fix or restore) of a resource's data: immutable once written."""

    __tablename__ = "data_versions"
    __table_args__ = (UniqueConstraint("resource_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)  # published | superseded
    table_name: Mapped[str] = mapped_column(String(63))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)  # of the rows, not of the file's bytes
    source: Mapped[str] = mapped_column(String(16))  # upload | pull | fix | restore
    file_name: Mapped[str] = mapped_column(String(255), default="")  # shown only, never used as a path
    format: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str] = mapped_column(String(32), default="")
    sheet: Mapped[str | None] = mapped_column(String(100))
    header_row: Mapped[int] = mapped_column(Integer, default=1)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_accepted: Mapped[int] = mapped_column(Integer)
    rows_quarantined: Mapped[int] = mapped_column(Integer)
    quarantine_reasons: Mapped[dict[str, int]] = mapped_column(JSON)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON)
    based_on: Mapped[int | None] = mapped_column(Integer)  # the version a fix or restore started from
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class QuarantinedCell(Base):
    """Why a record of a version was kept out of the published data: one row per broken cell."""

    __tablename__ = "quarantined_cells"
    __table_args__ = (Index("ix_quarantined_cells_version_record", "version_id", "record"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("data_versions.id", ondelete="CASCADE"))
    record: Mapped[int] = mapped_column(Integer)  # 1-based ordinal of the data record in the file
    column: Mapped[str] = mapped_column(String(200))  # the file's column name ("" for a record-level reason)
    reason: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")


class ColumnMapping(Base):
    """Which information item a file column holds, as the steward confirmed it; kept for the next upload."""

    __tablename__ = "column_mappings"

    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    column: Mapped[str] = mapped_column(String(200), primary_key=True)
    item: Mapped[str | None] = mapped_column(String(100))  # None: the column is not kept as an item
    confirmed_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class DataPull(Base):
    """A database a department lets GovLink read a resource's rows from, on demand or on its update cycle."""

    __tablename__ = "data_pulls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), unique=True)
    url: Mapped[str] = mapped_column(Text)  # holds credentials: never logged, shown only with the password hidden
    query: Mapped[str] = mapped_column(Text)
    scheduled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_outcome: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
