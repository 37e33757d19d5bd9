"""DuckDB statements run to completion (DuckDB 2 refuses new work while a result is still unread)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def run(con: duckdb.DuckDBPyConnection, statement: str, parameters: Sequence[Any] | None = None) -> list[Any]:
    """Execute ``statement`` and return all its rows (none for DDL), leaving the connection free."""
    return con.execute(statement, parameters).fetchall()
