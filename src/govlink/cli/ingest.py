"""`govlink ingest`: load a department's file into a resource as a new published version of its data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from govlink.cli.context import console, fail, operator, platform
from govlink.ingest import service
from govlink.ingest.encoding import EncodingProblem
from govlink.ingest.readers import ReadProblem


def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The department's file: CSV, TSV, TXT, XLSX, XLS, JSON Lines, "
                                         "JSON or Parquet.", exists=True, dir_okay=False, readable=True)],
    department: Annotated[str, typer.Option(help="Code of the department the file comes from, e.g. GA.")],
    resource: Annotated[str | None, typer.Option(
        help="Code of the catalog resource to load into; without it, a draft resource is created from the file.",
        show_default=False)] = None,
    sheet: Annotated[str | None, typer.Option(help="Spreadsheet sheet name (default: the first).",
                                              show_default=False)] = None,
    header_row: Annotated[int | None, typer.Option(
        "--header-row", min=1, help="Line or row of the header, 1-based (default: detected).",
        show_default=False)] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding, e.g. GBK (default: detected).",
                                                 show_default=False)] = None,
    mapping: Annotated[list[str] | None, typer.Option(
        "--map", help="COLUMN=ITEM: map a column to an information item (repeatable); COLUMN= leaves it out.",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as one JSON object.")] = False,
) -> None:
    """Read, map, standardise and validate a file and publish it as the resource's next data version."""
    target = platform(ctx)
    options = service.ReadOptions(encoding=encoding, sheet=sheet, header_row=header_row)
    try:
        with target.transaction() as session:
            outcome = service.ingest(session, operator(), file, file_name=file.name, resource_code=resource,
                                     department_code=department, options=options,
                                     overrides=service.parse_map(mapping or []))
    except (ReadProblem, EncodingProblem) as exc:
        fail(f"{file.name}: {exc}")
    print_outcome(outcome, as_json=as_json)


def print_outcome(outcome: service.IngestOutcome, *, as_json: bool) -> None:
    """The ingestion contract: one JSON object, or the same for a person to read."""
    if as_json:
        print(json.dumps(outcome.as_dict(), ensure_ascii=False))
        return
    verb = "unchanged: identical to" if outcome.unchanged else "published"
    console.print(f"{verb} {outcome.resource} version {outcome.version}"
                  f"{' (new draft resource)' if outcome.created_resource else ''}")
    console.print(f"format {outcome.format}, encoding {outcome.encoding or '-'}")
    table = Table("column", "item")
    for column, item in outcome.mapping.items():
        # Names come from the department's file: shown as text, never read as Rich markup.
        table.add_row(escape(column), escape(item) if item else "(not kept as an item)")
    console.print(table)
    console.print(f"rows read {outcome.rows_read:,} = accepted {outcome.rows_accepted:,} "
                  f"+ quarantined {outcome.rows_quarantined:,}")
    for reason, count in outcome.quarantine_reasons.items():
        console.print(f"  {reason}: {count:,}")
