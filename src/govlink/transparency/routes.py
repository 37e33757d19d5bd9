"""The transparency log's public proof API, the auditor's search, and the witness's cosigning."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field

from govlink.kit.errors import InvalidInput, NotFound
from govlink.transparency import service
from govlink.transparency.checkpoint import SigningKey, Verifier
from govlink.transparency.models import LogCheckpoint
from govlink.web.deps import CurrentActor, DbSession

router = APIRouter(prefix="/api/transparency", tags=["transparency"])


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def log_tree(request: Request) -> service.LogTree:
    return cast(service.LogTree, request.app.state.log_tree)


def log_key(request: Request) -> SigningKey:
    return cast(SigningKey, request.app.state.log_key)


def witness_keys(request: Request) -> list[Verifier]:
    return cast(list[Verifier], request.app.state.witness_keys)


Tree = Annotated[service.LogTree, Depends(log_tree)]
Key = Annotated[SigningKey, Depends(log_key)]
Witnesses = Annotated[list[Verifier], Depends(witness_keys)]


class SignatureOut(BaseModel):
    name: str
    key_id: str = Field(description="The 4-byte key ID, hex.")
    signature: str = Field(description="base64 of key ID || Ed25519 signature, as on the note's line.")


class CheckpointOut(BaseModel):
    id: int
    size: int
    root_hash: str = Field(description="base64 SHA-256 Merkle tree hash.")
    timestamp: dt.datetime
    signatures: list[SignatureOut]
    checkpoint: str = Field(description="The signed note (C2SP tlog-checkpoint), signatures included.")


def checkpoint_out(row: LogCheckpoint) -> CheckpointOut:
    signatures = []
    for line in row.note.split("\n\n", 1)[1].splitlines():
        if line.startswith("— "):
            name, encoded = line[2:].rsplit(" ", 1)
            raw = base64.b64decode(encoded)
            signatures.append(SignatureOut(name=name, key_id=raw[:4].hex(), signature=encoded))
    return CheckpointOut(id=row.id, size=row.size, root_hash=b64(row.root_hash), timestamp=row.published_at,
                         signatures=signatures, checkpoint=row.note)


class InclusionOut(BaseModel):
    index: int
    size: int
    root_hash: str = Field(description="Root of the tree of `size` entries (check it against a checkpoint).")
    leaf_hash: str
    proof: list[str]


class ConsistencyOut(BaseModel):
    first: int
    size: int = Field(description="The second (larger) tree's size.")
    first_root_hash: str
    root_hash: str
    proof: list[str]


class PublicKeyOut(BaseModel):
    origin: str
    vkey: str = Field(description="Signed-note verifier key: name+keyid+base64(0x01 || Ed25519 key).")
    witnesses: list[str]


class CosignIn(BaseModel):
    checkpoint_id: int
    note: str = Field(max_length=20_000, description="The checkpoint's note with the witness's signature added.")


class EventOut(BaseModel):
    index: int
    kind: str
    logged_at: dt.datetime
    actor: str
    event: dict[str, Any] | None
    deferred: bool


class StatisticsOut(BaseModel):
    size: int
    by_kind: dict[str, int]


@router.get("/checkpoint", name="transparency.api.checkpoint", response_model=CheckpointOut)
def checkpoint(session: DbSession, tree: Tree, key: Key) -> CheckpointOut:
    """The newest signed tree head (one is published now if the log has none yet)."""
    row = service.latest_checkpoint(session) or service.publish_checkpoint(session, key, tree)
    return checkpoint_out(row)


@router.get("/checkpoints", name="transparency.api.checkpoints", response_model=list[CheckpointOut])
def checkpoints(session: DbSession) -> list[CheckpointOut]:
    """Every published checkpoint, oldest first."""
    return [checkpoint_out(c) for c in service.list_checkpoints(session)]


@router.post("/checkpoints", name="transparency.api.publish", response_model=CheckpointOut,
             status_code=status.HTTP_201_CREATED)
def publish(session: DbSession, tree: Tree, key: Key) -> CheckpointOut:
    """Publish a checkpoint now (otherwise the worker publishes one on its schedule)."""
    return checkpoint_out(service.publish_checkpoint(session, key, tree))


@router.get("/proof/inclusion", name="transparency.api.inclusion", response_model=InclusionOut)
def inclusion_proof(
    session: DbSession, tree: Tree, index: Annotated[int, Query(ge=0)], size: Annotated[int, Query(ge=1)]
) -> InclusionOut:
    """The leaf hash at ``index`` and its audit path in the tree of ``size`` entries (RFC 9162 2.1.3)."""
    leaf, proof = service.inclusion(session, tree, index, size)
    root = tree.synced(session).root(size)
    return InclusionOut(index=index, size=size, root_hash=b64(root), leaf_hash=b64(leaf),
                        proof=[b64(p) for p in proof])


@router.get("/proof/consistency", name="transparency.api.consistency", response_model=ConsistencyOut)
def consistency_proof(
    session: DbSession, tree: Tree, first: Annotated[int, Query(ge=1)], second: Annotated[int, Query(ge=1)]
) -> ConsistencyOut:
    """The consistency path between the trees of ``first`` and ``second`` entries (RFC 9162 2.1.4)."""
    proof = service.consistency(session, tree, first, second)
    merkle = tree.synced(session)
    return ConsistencyOut(first=first, size=second, first_root_hash=b64(merkle.root(first)),
                          root_hash=b64(merkle.root(second)), proof=[b64(p) for p in proof])


@router.get("/public-key", name="transparency.api.public_key", response_model=PublicKeyOut)
def public_key(key: Key, witnesses: Witnesses) -> PublicKeyOut:
    """The log's verifier key and the witnesses it accepts."""
    return PublicKeyOut(origin=key.name, vkey=key.public_key_vkey(), witnesses=[w.vkey for w in witnesses])


@router.post("/cosign", name="transparency.api.cosign", status_code=status.HTTP_204_NO_CONTENT)
def cosign(data: CosignIn, session: DbSession, witnesses: Witnesses) -> None:
    """A witness hands back a checkpoint it cosigned (after checking it is consistent with the last)."""
    if not witnesses:
        raise InvalidInput("this log accepts no witness (GOVLINK_WITNESS_KEYS is empty)", field="note")
    service.add_cosignature(session, data.checkpoint_id, data.note, witnesses)


@router.get("/entries", name="transparency.api.entries", response_model=list[EventOut])
def entries(
    session: DbSession,
    actor: CurrentActor,
    kind: str | None = None,
    by: Annotated[str | None, Query(description="Only events of this actor (username).")] = None,
    subject: Annotated[str | None, Query(description="Only events about this person or enterprise.")] = None,
    before: Annotated[int | None, Query(ge=0, description="Page backwards: entries below this index.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[EventOut]:
    """Search the record, newest first (auditors and the information office)."""
    found = service.search(session, kind=kind, actor=by, subject=subject, before=before, limit=limit)
    return [EventOut(index=e.index, kind=e.kind, logged_at=e.logged_at, actor=e.actor, event=e.document,
                     deferred=e.deferred) for e in found]


@router.get("/entries/{index}/salt", name="transparency.api.entry_salt")
def entry_salt(index: int, session: DbSession) -> dict[str, Any]:
    """An event with its salt, so its leaf hash can be recomputed offline (auditors)."""
    event, salt = service.event_with_salt(session, index)
    return {"index": index, "event": event, "salt": b64(salt)}


class RecordEntryOut(BaseModel):
    index: int
    at: str
    kind: str
    department: str | None
    role: str | None = Field(description="The official's role, not their name.")
    purpose: str | None
    grant: str | int | None
    items: list[str]


class MyRecordOut(BaseModel):
    subject: str
    entries: list[RecordEntryOut]
    deferred: int = Field(description="Entries withheld by law for now; shown when the deferral ends.")


def _subject_of(actor: CurrentActor) -> str:
    if not actor.subject_key:
        raise NotFound("this account speaks for no person or enterprise of the registry", field="subject")
    return actor.subject_key


def my_record_entries(session: DbSession, subject: str) -> MyRecordOut:
    record = service.subject_record(session, subject)
    entries = []
    for event in record.events:
        document = event.document or {}
        details = document.get("details", {})
        entries.append(RecordEntryOut(
            index=event.index, at=str(document.get("at", event.logged_at.isoformat())), kind=event.kind,
            department=document.get("department"), role=details.get("role"), purpose=details.get("purpose"),
            grant=details.get("grant"), items=[str(i) for i in details.get("items", [])]))
    return MyRecordOut(subject=subject, entries=entries, deferred=record.deferred)


@router.get("/my-record", name="transparency.api.my_record", response_model=MyRecordOut)
def my_record(session: DbSession, actor: CurrentActor) -> MyRecordOut:
    """Every access to the caller's own records (citizens and enterprises): when, which department,
    which official's role, for which purpose and grant, which items."""
    return my_record_entries(session, _subject_of(actor))


@router.get("/my-record/{index}/proof", name="transparency.api.my_record_proof")
def my_record_proof(index: int, session: DbSession, actor: CurrentActor, tree: Tree, key: Key) -> dict[str, Any]:
    """One entry about the caller with everything to check it offline: the event and its salt, the
    inclusion proof and the signed checkpoint it proves against (`govlink audit verify --proof FILE`)."""
    event, salt = service.event_about(session, index, _subject_of(actor))
    checkpoint = service.latest_checkpoint(session)
    if checkpoint is None or checkpoint.size <= index:
        checkpoint = service.publish_checkpoint(session, key, tree)
    leaf, proof = service.inclusion(session, tree, index, checkpoint.size)
    return {"index": index, "size": checkpoint.size, "root_hash": b64(checkpoint.root_hash),
            "leaf_hash": b64(leaf), "proof": [b64(p) for p in proof], "event": event, "salt": b64(salt),
            "checkpoint": checkpoint.note}


@router.get("/statistics", name="transparency.api.statistics", response_model=StatisticsOut)
def statistics(session: DbSession) -> StatisticsOut:
    """Counts the public may see: the log's size and its entries by kind."""
    return StatisticsOut(**service.statistics(session))
