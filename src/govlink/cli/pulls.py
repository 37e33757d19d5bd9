"""`govlink pull`: pull a resource's rows from its department's database, now or on its update cycle."""

from __future__ import annotations

from typing import Annotated

import typer

from govlink.cli.context import console, fail, operator, platform
from govlink.cli.ingest import print_outcome
from govlink.ingest import pulls, service
from govlink.ingest.service import IngestOutcome

app = typer.Typer(help="Pull resources' data from their departments' databases.", no_args_is_help=True)

Code = Annotated[str, typer.Argument(help="Code of the catalog resource.")]


@app.command(name="set")
def set_pull(
    ctx: typer.Context,
    code: Code,
    url: Annotated[str, typer.Option(
        envvar="GOVLINK_PULL_URL", show_envvar=False,
        help="SQLAlchemy URL of the department's database: postgresql+psycopg://user:password@host/database, or "
        "(admins only) sqlite:////absolute/path.db. GOVLINK_PULL_URL keeps the password out of the shell's history.")],
    query: Annotated[str, typer.Option(help="One SELECT (or WITH … SELECT) statement; it runs read-only.")],
    schedule: Annotated[bool, typer.Option(
        "--schedule/--no-schedule", help="Also pull on the resource's update cycle (the worker runs it).")] = True,
) -> None:
    """Set (or replace) the database and query a resource's rows are pulled from."""
    with platform(ctx).transaction() as session:
        pull = pulls.register_pull(session, operator(), code, url, query, scheduled=schedule)
        when = "on demand and on its update cycle" if pull.scheduled else "on demand only"
        console.print(f"{code} pulls from {pulls.shown_url(pull)} {when}", markup=False, highlight=False)


@app.command()
def run(
    ctx: typer.Context,
    code: Code,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as one JSON object.")] = False,
) -> None:
    """Pull a resource's rows now and publish them as its next data version (printed as by govlink ingest)."""
    target = platform(ctx)
    outcome: IngestOutcome | None = None
    failure = ""
    with target.transaction() as session:
        try:
            outcome = pulls.run_pull(session, operator(), code, limits=service.limits_for(target.settings))
        except pulls.PullFailed as exc:
            failure = exc.message  # leaving the block normally commits the failure noted on the pull
    if outcome is None:
        fail(failure)
    print_outcome(outcome, as_json=as_json)


@app.command()
def show(ctx: typer.Context, code: Code) -> None:
    """Show where a resource's rows are pulled from (password hidden) and how the last run went."""
    with platform(ctx).transaction() as session:
        resource, pull = pulls.pull_of(session, operator(), code)
        last = pull.last_run_at.isoformat(timespec="seconds") if pull.last_run_at else "never"
        for label, value in (("resource", resource.code), ("url", pulls.shown_url(pull)), ("query", pull.query),
                             ("scheduled", "yes" if pull.scheduled else "no"), ("last run", last),
                             ("last outcome", pull.last_outcome or "-")):
            console.print(f"{label:<13} {value}", markup=False, highlight=False)


@app.command()
def remove(ctx: typer.Context, code: Code) -> None:
    """Stop pulling a resource's rows (its versions stay)."""
    with platform(ctx).transaction() as session:
        pulls.remove_pull(session, operator(), code)
    console.print(f"{code} is no longer pulled", markup=False, highlight=False)
