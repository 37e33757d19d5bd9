"""The transparency log: append events, keep the tree, publish signed checkpoints, serve proofs.

A leaf is SHA-256(0x00 || salt || canonical JSON of the event); the event (which names its own
index) and its salt are stored apart from the leaf, so personal data never enters the tree and an
erased event leaves the tree verifiable.  Appends run inside the caller's transaction: what the
caller does and its log entry commit together or not at all (fail closed).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from govlink.db.base import utcnow
from govlink.kit import keyfiles
from govlink.kit.bulk import bulk_insert
from govlink.kit.canonical import canonical_json
from govlink.kit.errors import InvalidInput, NotFound
from govlink.transparency.checkpoint import Checkpoint, SigningKey, Verifier, sign_note
from govlink.transparency.merkle import EMPTY_ROOT, MerkleTree, leaf_hash
from govlink.transparency.models import LogCheckpoint, LogEntry, LogEventBody, LogHead


@dataclass(frozen=True)
class LogEvent:
    """Something that must be on the record: who did what, for which department, about whom."""

    kind: str
    actor: str
    details: Mapping[str, Any] = field(default_factory=dict)
    department: str | None = None
    subjects: tuple[str, ...] = ()
    deferred_until: dt.datetime | None = None


def event_document(index: int, event: LogEvent, at: dt.datetime) -> dict[str, Any]:
    """The JSON object whose canonical form (with the salt) is hashed into leaf ``index``."""
    return {
        "index": index,
        "kind": event.kind,
        "at": at.isoformat(timespec="microseconds"),
        "actor": event.actor,
        "department": event.department,
        "subjects": list(event.subjects),
        "details": dict(event.details),
    }


def append(session: Session, events: Sequence[LogEvent]) -> list[int]:
    """Append ``events`` in the caller's transaction and return their indices (contiguous).

    Bumping the head row first takes its lock (PostgreSQL) or the write lock (SQLite), so
    concurrent writers get disjoint, gap-free ranges in commit order.
    """
    if not events:
        return []
    new_size = session.execute(
        update(LogHead).where(LogHead.id == 1).values(size=LogHead.size + len(events)).returning(LogHead.size)
    ).scalar_one()
    start = new_size - len(events)
    now = utcnow()
    entries, bodies = [], []
    for offset, event in enumerate(events):
        index = start + offset
        salt = os.urandom(32)
        document = canonical_json(event_document(index, event, now))
        entries.append({"index": index, "leaf_hash": leaf_hash(salt + document), "kind": event.kind,
                        "logged_at": now})
        bodies.append({"index": index, "salt": salt, "body": document.decode(), "actor": event.actor,
                       "subjects": " ".join(event.subjects), "deferred_until": event.deferred_until})
    bulk_insert(session, LogEntry.__table__, entries)
    bulk_insert(session, LogEventBody.__table__, bodies)
    return list(range(start, new_size))


def record(session: Session, event: LogEvent) -> int:
    """Append one event; see :func:`append`."""
    return append(session, [event])[0]


class LogTree:
    """The Merkle tree of committed leaves, cached in the process and extended as entries commit."""

    def __init__(self) -> None:
        self._tree = MerkleTree()
        self._lock = threading.Lock()

    def synced(self, session: Session) -> MerkleTree:
        with self._lock:
            fresh = session.scalars(
                select(LogEntry.leaf_hash).where(LogEntry.index >= self._tree.size).order_by(LogEntry.index)
            ).all()
            self._tree.extend(bytes(h) for h in fresh)
            return self._tree


# --- signing keys ------------------------------------------------------------------------------


def load_or_create_key(path: Path, name: str) -> SigningKey:
    """The Ed25519 key stored at ``path`` (PEM), made on first use and readable by the owner only."""
    return SigningKey.from_pem(name, keyfiles.read_or_create(path, lambda: SigningKey.generate(name).to_pem()))


# --- checkpoints -------------------------------------------------------------------------------


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.id.desc()).limit(1)).first()


def publish_checkpoint(session: Session, key: SigningKey, tree: LogTree) -> LogCheckpoint:
    """Sign and store a tree head for every committed entry; none is made when nothing was added."""
    merkle = tree.synced(session)
    size = merkle.size
    last = latest_checkpoint(session)
    if last is not None and last.size == size:
        return last
    root = merkle.root(size) if size else EMPTY_ROOT
    now = utcnow()
    body = Checkpoint(key.name, size, root, (f"time {now.isoformat(timespec='seconds')}",)).body()
    checkpoint = LogCheckpoint(size=size, root_hash=root, note=sign_note(body, key), published_at=now)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def list_checkpoints(session: Session) -> Sequence[LogCheckpoint]:
    return session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.id)).all()


def add_cosignature(session: Session, checkpoint_id: int, cosigned_note: str, witnesses: Sequence[Verifier]) -> None:
    """Keep a witness's cosignature: the note must be the stored one plus a valid witness signature."""
    from govlink.transparency.checkpoint import NoteError, verify_note

    checkpoint = session.get(LogCheckpoint, checkpoint_id)
    if checkpoint is None:
        raise NotFound(f"no checkpoint {checkpoint_id}", field="checkpoint")
    if not cosigned_note.startswith(checkpoint.note.split("\n\n", 1)[0] + "\n\n"):
        raise InvalidInput("the note is not this checkpoint", field="note")
    try:
        _text, names = verify_note(cosigned_note, witnesses)
    except NoteError as exc:
        raise InvalidInput(f"no known witness signed the note: {exc}", field="note") from exc
    existing = set(checkpoint.note.splitlines())
    added = [line for line in cosigned_note.splitlines() if line.startswith("— ") and line not in existing]
    if names and added:
        checkpoint.note = checkpoint.note + "".join(line + "\n" for line in added)


# --- proofs ------------------------------------------------------------------------------------


def inclusion(session: Session, tree: LogTree, index: int, size: int) -> tuple[bytes, list[bytes]]:
    """The leaf hash at ``index`` and its audit path in the tree of ``size`` leaves."""
    merkle = tree.synced(session)
    if not 0 < size <= merkle.size:
        raise InvalidInput(f"size must be between 1 and the log's size {merkle.size}", field="size")
    if not 0 <= index < size:
        raise InvalidInput(f"index must be between 0 and size - 1 ({size - 1})", field="index")
    return merkle.leaf_hash(index), merkle.inclusion_proof(index, size)


def consistency(session: Session, tree: LogTree, first: int, second: int) -> list[bytes]:
    merkle = tree.synced(session)
    if not 0 < second <= merkle.size:
        raise InvalidInput(f"second must be between 1 and the log's size {merkle.size}", field="second")
    if not 0 < first <= second:
        raise InvalidInput("first must be between 1 and second", field="first")
    return merkle.consistency_proof(first, second)


# --- reading the record ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedEvent:
    index: int
    kind: str
    logged_at: dt.datetime
    actor: str
    document: dict[str, Any] | None  # None when erased
    deferred: bool


def search(
    session: Session,
    *,
    kind: str | None = None,
    actor: str | None = None,
    subject: str | None = None,
    before: int | None = None,
    limit: int = 50,
    include_deferred: bool = True,
) -> list[RecordedEvent]:
    """Events newest first, filtered; ``before`` pages backwards by index."""
    query = (
        select(LogEntry, LogEventBody)
        .join(LogEventBody, LogEventBody.index == LogEntry.index)
        .order_by(LogEntry.index.desc())
        .limit(max(1, min(limit, 500)))
    )
    if kind:
        query = query.where(LogEntry.kind == kind)
    if actor:
        query = query.where(LogEventBody.actor == actor)
    if subject:
        query = query.where((" " + LogEventBody.subjects + " ").contains(f" {subject} "))
    if before is not None:
        query = query.where(LogEntry.index < before)
    now = utcnow()
    found = []
    for entry, body in session.execute(query).all():
        deferred = body.deferred_until is not None and body.deferred_until > now
        if deferred and not include_deferred:
            found.append(RecordedEvent(entry.index, entry.kind, entry.logged_at, "", None, True))
            continue
        document = json.loads(body.body) if body.body is not None else None
        found.append(RecordedEvent(entry.index, entry.kind, entry.logged_at, body.actor, document, deferred))
    return found


@dataclass(frozen=True)
class SubjectRecord:
    """What the log holds about one person or enterprise, as they may see it."""

    events: list[RecordedEvent]
    deferred: int  # entries withheld by law for now: counted, never silently missing


def subject_record(session: Session, subject_key: str, *, limit: int = 500) -> SubjectRecord:
    found = search(session, subject=subject_key, limit=limit, include_deferred=False)
    visible = [e for e in found if not e.deferred]
    return SubjectRecord(visible, len(found) - len(visible))


def event_about(session: Session, index: int, subject_key: str) -> tuple[dict[str, Any], bytes]:
    """An event with its salt, only if it concerns ``subject_key`` and is not deferred."""
    body = session.get(LogEventBody, index)
    if body is None or subject_key not in body.subjects.split():
        raise NotFound(f"no entry {index} about you", field="index")
    if body.deferred_until is not None and body.deferred_until > utcnow():
        raise NotFound(f"entry {index} is withheld until {body.deferred_until:%Y-%m-%d}", field="index")
    return event_with_salt(session, index)


def event_with_salt(session: Session, index: int) -> tuple[dict[str, Any], bytes]:
    """An event and its salt, for someone entitled to check its leaf offline."""
    body = session.get(LogEventBody, index)
    if body is None or body.body is None or body.salt is None:
        raise NotFound(f"no readable event at index {index}", field="index")
    return json.loads(body.body), bytes(body.salt)


def statistics(session: Session) -> dict[str, Any]:
    """Aggregate counts the public may see: entries by kind, and the log's size."""
    rows = session.execute(select(LogEntry.kind, func.count()).group_by(LogEntry.kind)).all()
    by_kind = {kind: int(count) for kind, count in rows}
    size = session.scalar(select(LogHead.size).where(LogHead.id == 1)) or 0
    return {"size": size, "by_kind": {k: by_kind[k] for k in sorted(by_kind)}}


def _document_field(session: Session, path: str) -> ColumnElement[Any]:
    """A field of the stored event document (a dotted path such as ``details.resource``) as text, in SQL."""
    parts = path.split(".")
    if not all(p.isidentifier() for p in parts):
        raise ValueError(f"not a field path: {path!r}")
    if session.get_bind().dialect.name == "postgresql":
        field: ColumnElement[Any] = cast(LogEventBody.body, JSONB)[tuple(parts)].astext
    else:
        field = func.json_extract(LogEventBody.body, "$." + path, type_=String)
    return field


def count_by(session: Session, *, kinds: Sequence[str], fields: Sequence[str],
             since: dt.datetime | None = None) -> dict[tuple[str | None, ...], int]:
    """How many entries of ``kinds`` (logged at or after ``since``) hold each combination of values of the
    document ``fields`` (dotted paths: ``department``, ``details.resource``), counted in the database.

    Deferred entries count (a count discloses nothing of them); erased ones cannot be read, so do not."""
    values = [_document_field(session, f) for f in fields]
    query = (select(*values, func.count()).join(LogEntry, LogEntry.index == LogEventBody.index)
             .where(LogEntry.kind.in_(list(kinds)), LogEventBody.body.is_not(None)).group_by(*values))
    if since is not None:
        query = query.where(LogEntry.logged_at >= since)
    counts: dict[tuple[str | None, ...], int] = {}
    for *keys, count in session.execute(query):
        counts[tuple(keys)] = count
    return counts


def erase_event(session: Session, index: int) -> None:
    """Erase an event's body and salt where law requires; its leaf stays, so the tree still verifies."""
    body = session.get(LogEventBody, index)
    if body is None:
        raise NotFound(f"no event at index {index}", field="index")
    body.body = None
    body.salt = None
    body.erased_at = utcnow()
