"""Re-derive the whole log from what is stored and check it against every published checkpoint.

Catches, and names the entry for: an edited event body or leaf (the leaf no longer matches salt and
body), an entry deleted or moved (indices not contiguous, or an event that names another index), a
truncated log (fewer entries than the head or a checkpoint says), a changed leaf whose body was
re-hashed to match (the checkpoints' roots no longer match; the range of entries is named), a forged
checkpoint (signature), and a database restored from an old backup (an outside checkpoint, e.g. one
a witness or auditor kept, is ahead of or inconsistent with the stored log).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from govlink.transparency.checkpoint import Checkpoint, NoteError, Verifier, open_note, verify_note
from govlink.transparency.merkle import EMPTY_ROOT, MerkleTree, leaf_hash
from govlink.transparency.models import LogCheckpoint, LogEntry, LogEventBody, LogHead


@dataclass(frozen=True)
class Problem:
    index: int | None
    message: str

    def __str__(self) -> str:
        return f"entry {self.index}: {self.message}" if self.index is not None else self.message


@dataclass
class Report:
    entries: int = 0
    erased: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(
    session: Session,
    log_key: Verifier,
    witnesses: Sequence[Verifier] = (),
    outside: Iterable[str] = (),
    batch: int = 50_000,
) -> Report:
    """Check every stored entry and checkpoint, and any checkpoint notes kept outside the database."""
    report = Report()
    leaves: list[bytes] = []
    expected = 0
    last = None
    rows = session.execute(
        select(LogEntry.index, LogEntry.leaf_hash, LogEntry.logged_at, LogEventBody.salt, LogEventBody.body)
        .outerjoin(LogEventBody, LogEventBody.index == LogEntry.index)
        .order_by(LogEntry.index)
        .execution_options(yield_per=batch)
    )
    for index, stored_leaf, logged_at, salt, body in rows:
        stored_leaf = bytes(stored_leaf)
        if index != expected:
            report.problems.append(Problem(expected, f"missing: the next stored entry is {index}"))
            expected = index
        if last is not None and logged_at < last:
            report.problems.append(Problem(index, "logged earlier than the entry before it (reordered)"))
        last = logged_at
        if body is None or salt is None:
            report.erased += 1
        else:
            if leaf_hash(bytes(salt) + body.encode()) != stored_leaf:
                report.problems.append(Problem(index, "the event body or salt does not match the leaf"))
            elif (logged_as := json.loads(body).get("index")) != index:
                report.problems.append(Problem(index, f"holds the event logged as entry {logged_as}"))
        leaves.append(stored_leaf)
        expected += 1
    tree = MerkleTree(leaves)  # built level by level at once: far faster than leaf by leaf
    report.entries = tree.size
    head = session.scalar(select(LogHead.size).where(LogHead.id == 1))
    if head is not None and head != tree.size:
        report.problems.append(Problem(None, f"the log's head says {head} entries but {tree.size} are stored"))

    good_size = 0
    for checkpoint in session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.id)):
        report.checkpoints += 1
        label = f"checkpoint #{checkpoint.id} (size {checkpoint.size})"
        good_size = _check_note(checkpoint.note, label, log_key, witnesses, tree, good_size, report)
    for number, note in enumerate(outside, 1):
        good_size = _check_note(note, f"outside checkpoint {number}", log_key, witnesses, tree, good_size, report)
    return report


def _check_note(
    note: str,
    label: str,
    log_key: Verifier,
    witnesses: Sequence[Verifier],
    tree: MerkleTree,
    good_size: int,
    report: Report,
) -> int:
    """Check one signed checkpoint against the re-derived tree; returns the largest size known good."""
    try:
        checkpoint, _names = open_note(note, [log_key])
    except NoteError as exc:
        report.problems.append(Problem(None, f"{label}: not signed by the log's key ({exc})"))
        return good_size
    if witnesses:
        try:
            _text, cosigners = verify_note(note, witnesses)
            report.cosignatures += len(cosigners)
        except NoteError:
            pass
    if checkpoint.size > tree.size:
        report.problems.append(Problem(
            None, f"{label}: the log was published with {checkpoint.size} entries but only {tree.size} are "
            "stored (truncated, or restored from an older backup)"))
        return good_size
    root = tree.root(checkpoint.size) if checkpoint.size else EMPTY_ROOT
    if root != checkpoint.root_hash:
        report.problems.append(Problem(
            None, f"{label}: stored entries no longer hash to the published root; an entry between "
            f"{good_size} and {checkpoint.size - 1} was changed, removed or reordered"))
        return good_size
    return max(good_size, checkpoint.size)


def parse_checkpoint_note(note: str, log_key: Verifier) -> Checkpoint:
    """A signed checkpoint note, checked against the log's key."""
    checkpoint, _names = open_note(note, [log_key])
    return checkpoint
