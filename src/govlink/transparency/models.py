"""Tables of the transparency log: public leaves, access-controlled event bodies, checkpoints."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govlink.db.base import Base, UtcDateTime, utcnow


class LogHead(Base):
    """One row holding the log's size; appending updates it first, which serialises writers."""

    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)


class LogEntry(Base):
    """A leaf of the Merkle tree: public, and all a verifier needs."""

    __tablename__ = "log_entries"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    logged_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class LogEventBody(Base):
    """What happened, kept apart from the tree under access control; erasable where law requires."""

    __tablename__ = "log_event_bodies"

    index: Mapped[int] = mapped_column(
        ForeignKey("log_entries.index", ondelete="RESTRICT"), primary_key=True, autoincrement=False
    )
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    body: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    # Space-separated keys of the persons and enterprises concerned (person:P…, enterprise:E…).
    subjects: Mapped[str] = mapped_column(Text, default="")
    # Entries withheld by law (e.g. an ongoing investigation) are counted but shown only after this.
    deferred_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class LogCheckpoint(Base):
    """A signed tree head as published, with any witness cosignatures appended to its note."""

    __tablename__ = "log_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
