"""`govlink`: set up, run and administer a GovLink platform from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from govlink import __version__
from govlink.accounts import service as accounts
from govlink.accounts.roles import Role
from govlink.accounts.schemas import UserIn
from govlink.cli import audit, db, demo, departments, pulls, registry, tokens, users
from govlink.cli.context import Platform, console, fail, operator, platform, set_data_dir
from govlink.cli.ingest import ingest
from govlink.cli.witness import witness

app = typer.Typer(
    name="govlink",
    help="GovLink: a district's information resource catalog, base registries, data sharing and "
    "transparency log. Settings come from GOVLINK_* environment variables or ./govlink.toml.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="user")
app.add_typer(departments.app, name="department")
app.add_typer(tokens.app, name="token")
app.add_typer(demo.app, name="demo")
app.add_typer(audit.app, name="audit")
app.add_typer(pulls.app, name="pull")
app.add_typer(registry.app, name="registry")
app.command(name="witness")(witness)
app.command(name="ingest")(ingest)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder for the embedded database and files (GOVLINK_DATA_DIR).",
                 show_default=False),
]


def _version(value: bool) -> None:
    if value:
        console.print(f"govlink {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: DataDir = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="SQLAlchemy URL of the database (GOVLINK_DATABASE_URL).",
                     show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    ctx.obj = Platform(overrides)


@app.command()
def init(
    ctx: typer.Context,
    admin_username: Annotated[str, typer.Option(help="Username of the first admin account.")] = "admin",
    admin_password: Annotated[
        str | None,
        typer.Option(help="Password of the first admin (at least 10 characters); generated and printed "
                     "once when omitted.", show_default=False),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Set up a fresh platform: create the database schema and one admin account."""
    set_data_dir(ctx, data_dir)
    target = platform(ctx)
    target.upgrade()
    with target.transaction() as session:
        if accounts.count_users(session):
            fail("this platform already has accounts; use `govlink user create` to add more")
        created = accounts.create_user(
            session,
            operator(),
            UserIn(username=admin_username, display_name="Administrator", roles=[Role.ADMIN],
                   password=admin_password),
        )
    console.print(f"Platform ready: {target.settings.sqlalchemy_url.split('@')[-1]}")
    console.print(f"Admin account: {created.username}")
    if created.password:
        console.print(f"Password (shown once, write it down): {created.password}")
    console.print("Start it with: govlink serve")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).",
                                             show_default=False)] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).", show_default=False)] = None,
    worker: Annotated[bool, typer.Option(help="Also run a background-job worker in this process.")] = True,
    access_log: Annotated[bool, typer.Option(help="Print a line per HTTP request (every access to data is on "
                                             "the transparency log either way).")] = True,
) -> None:
    """Serve the web app and the API (and, by default, run background jobs)."""
    target = platform(ctx)
    target.require_schema()
    run_server(target, host or target.settings.host, port or target.settings.port, worker=worker,
               access_log=access_log)


def run_server(target: Platform, host: str, port: int, *, worker: bool, access_log: bool = True) -> None:
    import uvicorn

    from govlink.app import create_app

    web = create_app(target.settings, engine=target.engine, start_worker=worker)
    uvicorn.run(web, host=host, port=port, log_level="info", access_log=access_log, proxy_headers=False)


@app.command(name="worker")
def worker_command(ctx: typer.Context) -> None:
    """Run background jobs until stopped (Ctrl-C); several workers may run at once."""
    from govlink.app import make_worker

    target = platform(ctx)
    target.require_schema()
    runner = make_worker(target.settings, target.engine)
    console.print(f"worker {runner.name} started; Ctrl-C to stop")
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        runner.stop()


def main() -> None:
    app()
