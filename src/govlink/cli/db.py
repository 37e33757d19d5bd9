"""`govlink db`: the database schema."""

from __future__ import annotations

import typer

from govlink.cli.context import console, platform
from govlink.db.migrate import head_revision

app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration (safe to run again; does nothing when up to date)."""
    target = platform(ctx)
    before = target.revision()
    target.upgrade()
    after = target.revision()
    state = "already up to date" if before == after else f"upgraded from {before or 'empty'}"
    console.print(f"database at revision {after} ({state})")


@app.command()
def status(ctx: typer.Context) -> None:
    """Show the database's revision and the one this version of GovLink needs."""
    target = platform(ctx)
    console.print(f"database revision: {target.revision() or 'empty'}")
    console.print(f"required revision: {head_revision()}")
