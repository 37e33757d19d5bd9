"""`govlink registry`: build the base registries by linking every mention, and export the links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from govlink.cli.context import console, operator, platform, progress_bar
from govlink.registry import service

app = typer.Typer(help="Base registries of persons and enterprises (人口库, 法人库).", no_args_is_help=True)


@app.command()
def link(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's summary as one JSON object.")] = False,
) -> None:
    """Link every person and enterprise mentioned in the published resources (again), keeping registry IDs
    and reviewers' decisions."""
    # Not holding the write lock from the start: scoring reads for most of the run (see relink_job).
    with platform(ctx).transaction(write=False) as session, progress_bar() as bar:
        task = bar.add_task("reading mentions", total=1.0)
        summary = service.link(session, operator(),
                               progress=lambda step, fraction: bar.update(task, description=step, completed=fraction))
    if as_json:
        console.print_json(json.dumps(summary.as_dict()))
        return
    for label, value in (("mentions", summary.mentions), ("entities", summary.entities),
                         ("new", summary.created), ("merged", summary.merged), ("split", summary.split),
                         ("retired", summary.retired), ("to review", summary.review_pending),
                         ("seconds", summary.seconds)):
        console.print(f"{label:<10} {value}", markup=False, highlight=False)


@app.command(name="export-links")
def export_links(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="CSV file to write: file,row,role,entity_type,entity_id.",
                                        dir_okay=False, writable=True)],
) -> None:
    """Write one line per mention: the uploaded file and its 1-based data record, the role ('' for the
    record's subject), and the registry ID it links to."""
    with platform(ctx).transaction(write=False) as session:
        count = service.export_links(session, operator(), out)
    console.print(f"{count} mentions written to {out}", markup=False, highlight=False)
