"""Arrow batches read back exactly what was stored, on either database: text of any kind, nulls, numbers, flags."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Column, Integer, MetaData, Table, Text, insert, select
from sqlalchemy.orm import Session

from govlink.kit.bulk import arrow_batches

SCHEMA = pa.schema([("n", pa.int64()), ("label", pa.string()), ("flag", pa.bool_())])
# Any text a department's file may hold, except NUL (neither database keeps it in a text column).
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40)
ROWS = st.lists(st.tuples(TEXT | st.none(), st.booleans() | st.none()), max_size=30)


def _table(session: Session) -> Table:
    table = Table("bulk_read_probe", MetaData(), Column("n", Integer, primary_key=True), Column("label", Text),
                  Column("flag", Boolean))
    table.create(session.connection(), checkfirst=True)
    session.execute(table.delete())
    return table


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
def test_rows_come_back_as_stored_in_order(session: Session, rows: list[tuple[str | None, bool | None]]) -> None:
    table = _table(session)
    if rows:
        session.execute(insert(table), [{"n": n, "label": label, "flag": flag}
                                        for n, (label, flag) in enumerate(rows)])
    query = select(table.c.n, table.c.label, table.c.flag).order_by(table.c.n.desc())
    batches = list(arrow_batches(session, query, SCHEMA, chunk_rows=7))
    read = pa.Table.from_batches(batches, schema=SCHEMA)
    expected = [{"n": n, "label": label, "flag": flag} for n, (label, flag) in reversed(list(enumerate(rows)))]
    assert read.to_pylist() == expected
    assert all(batch.num_rows <= 7 for batch in batches)
