"""One department extract under construction: columns, who each row mentions, and what was changed.

Columns are built whole (a list per column) and corrupted at chosen rows; duplicates are appended
and the rows shuffled at the end, with the mentions and the noise log following every move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from govlink.demo.noise import unencodable

BoolArray = npt.NDArray[np.bool_]
ValueTransform = Callable[[Any, int], Any]


@dataclass(frozen=True, slots=True)
class Mention:
    """Who the rows mention in one role ("" for the row's subject); None where a row names nobody."""

    role: str
    entity_type: str  # "person" or "enterprise"
    ids: list[str | None]


@dataclass(frozen=True, slots=True)
class Perturbation:
    """A change that turns a copied row into a near duplicate."""

    column: str
    role: str
    field: str
    kind: str
    transform: ValueTransform
    eligible: BoolArray | None = None


@dataclass(slots=True)
class _Column:
    header: str
    values: list[Any]
    role: str
    field: str
    taken: BoolArray  # rows already changed in this column


class ExtractTable:
    """Rows of one extract, column-major, with ground truth and a noise log kept in step."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.rng = rng
        self.size = size
        self._columns: dict[str, _Column] = {}
        self.mentions: list[Mention] = []
        self.noise: dict[int, list[tuple[str, str, str]]] = {}  # row -> (role, field, kind)

    @property
    def headers(self) -> list[str]:
        return list(self._columns)

    def values(self, header: str) -> list[Any]:
        return self._columns[header].values

    def fields(self) -> list[tuple[str, str]]:
        """(header, field) for columns that carry a field of an entity; the field is ``role.field`` for roles."""
        return [(c.header, f"{c.role}.{c.field}" if c.role else c.field) for c in self._columns.values() if c.field]

    def columns(self) -> list[list[Any]]:
        return [c.values for c in self._columns.values()]

    def add(self, header: str, values: Sequence[Any], *, role: str = "", field: str = "") -> None:
        """Append a column; ``role`` and ``field`` name what its noise is logged under."""
        if len(values) != self.size:
            raise ValueError(f"column {header!r} has {len(values)} values for {self.size} rows")
        if header in self._columns:
            raise ValueError(f"column {header!r} added twice")
        self._columns[header] = _Column(header, list(values), role, field, np.zeros(self.size, dtype=bool))

    def mention(self, role: str, entity_type: str, ids: Sequence[str | None]) -> None:
        if len(ids) != self.size:
            raise ValueError(f"mention {role!r} has {len(ids)} ids for {self.size} rows")
        self.mentions.append(Mention(role, entity_type, list(ids)))

    def log(self, row: int, role: str, field: str, kind: str) -> None:
        self.noise.setdefault(row, []).append((role, field, kind))

    def mark(self, header: str, rows: Sequence[int], kind: str) -> None:
        """Log a change made while the column was built (such as an old address)."""
        column = self._columns[header]
        for row in rows:
            self.log(row, column.role, column.field, kind)
        column.taken[list(rows)] = True

    def corrupt(
        self,
        header: str,
        kind: str,
        rate: float,
        transform: ValueTransform,
        eligible: BoolArray | None = None,
    ) -> int:
        """Apply ``transform`` to a share ``rate`` of the eligible rows not yet corrupted in this column.

        Kinds are exclusive within a column, so each logged change is the only one in its cell.
        Returns how many rows were changed.
        """
        column = self._columns[header]
        mask = (self.rng.random(self.size) < rate) & ~column.taken
        if eligible is not None:
            mask &= np.asarray(eligible, dtype=bool)  # an empty list comprehension arrives as float
        rows = np.flatnonzero(mask).tolist()
        draws = self.rng.integers(0, 2**31 - 1, len(rows)).tolist()
        values = column.values
        for row, r in zip(rows, draws, strict=True):
            values[row] = transform(values[row], r)
            self.log(row, column.role, column.field, kind)
        column.taken[rows] = True
        return len(rows)

    def make_unencodable_safe(self, encoding: str) -> None:
        """Replace characters the file encoding cannot hold with ``?`` and log them as noise."""
        for column in self._columns.values():
            values = column.values
            for row, value in enumerate(values):
                if isinstance(value, str) and not value.isascii():
                    try:
                        value.encode(encoding)
                    except UnicodeEncodeError:
                        values[row] = unencodable(value, encoding)
                        self.log(row, column.role, column.field, "unencodable")

    def duplicate(self, exact_rate: float, near_rate: float, perturbations: Sequence[Perturbation] = ()) -> None:
        """Append exact copies of some rows and near copies (one field changed) of others."""
        base = self.size
        exact = np.flatnonzero(self.rng.random(base) < exact_rate)
        near = np.flatnonzero(self.rng.random(base) < near_rate) if perturbations else np.array([], dtype=np.int64)
        sources = np.concatenate((exact, near)).astype(np.int64).tolist()
        if not sources:
            return
        for column in self._columns.values():
            column.values.extend(column.values[i] for i in sources)
            column.taken = np.concatenate((column.taken, column.taken[sources]))
        for mention in self.mentions:
            mention.ids.extend(mention.ids[i] for i in sources)
        for k, source in enumerate(sources):
            row = base + k
            for entry in self.noise.get(source, ()):
                self.log(row, *entry)
        self.size = base + len(sources)
        for k in range(len(exact)):
            self.log(base + k, "", "", "duplicate_exact")
        picks = self.rng.integers(0, len(perturbations) if perturbations else 1, len(near)).tolist()
        draws = self.rng.integers(0, 2**31 - 1, len(near)).tolist()
        for k, (source, pick, r) in enumerate(zip(near.tolist(), picks, draws, strict=True)):
            row = base + len(exact) + k
            for step in range(len(perturbations)):
                p = perturbations[(pick + step) % len(perturbations)]
                column = self._columns[p.column]
                # A cell carries at most one kind of noise, so only clean cells are changed.
                if column.taken[source] or (p.eligible is not None and not p.eligible[source]):
                    continue
                changed = p.transform(column.values[row], r)
                if changed != column.values[row]:
                    column.values[row] = changed
                    column.taken[row] = True
                    self.log(row, p.role, p.field, p.kind)
                    self.log(row, "", "", "duplicate_near")
                    break
            else:
                self.log(row, "", "", "duplicate_exact")

    def shuffle(self) -> None:
        """Put the rows in a random order, as an export without ORDER BY would."""
        order = self.rng.permutation(self.size)
        new_position = np.empty(self.size, dtype=np.int64)
        new_position[order] = np.arange(self.size)
        indices = order.tolist()
        for column in self._columns.values():
            column.values = [column.values[i] for i in indices]
        for k, mention in enumerate(self.mentions):
            self.mentions[k] = Mention(mention.role, mention.entity_type, [mention.ids[i] for i in indices])
        positions = new_position.tolist()
        self.noise = {positions[row]: entries for row, entries in self.noise.items()}
