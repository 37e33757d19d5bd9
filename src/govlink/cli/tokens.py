"""`govlink token`: API tokens for machine clients."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from govlink.accounts import service
from govlink.accounts.actor import SYSTEM
from govlink.accounts.schemas import TokenIn
from govlink.accounts.scopes import Scope
from govlink.cli.context import console, fail_invalid, operator, platform

app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option(help="The account the token acts as.", show_default=False)],
    scope: Annotated[
        list[Scope], typer.Option("--scope", "-s", help="A scope to grant; repeat for several.", show_default=False)
    ],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. the client application.")] = "cli",
    department: Annotated[
        str | None,
        typer.Option(help="Department the token acts for (defaults to the user's).", show_default=False),
    ] = None,
    days: Annotated[int, typer.Option(help="Days until the token expires.")] = 90,
) -> None:
    """Issue a token and print its secret once (send it as `Authorization: Bearer …`)."""
    try:
        data = TokenIn(name=name, scopes=scope, expires_in_days=days, department_code=department)
    except ValidationError as exc:
        fail_invalid(exc)
    target = platform(ctx)
    with target.transaction() as session:
        created = service.create_token(session, operator(), user, data, max_days=target.settings.token_max_days)
    console.print(f"token {created.id} for {created.username}, scopes {', '.join(created.scopes)}, "
                  f"expires {created.expires_at:%Y-%m-%d}")
    console.print(created.token, highlight=False, soft_wrap=True)


@app.command(name="list")
def list_tokens(ctx: typer.Context) -> None:
    """List every token (never its secret)."""
    table = Table("id", "prefix", "user", "department", "scopes", "expires", "state")
    with platform(ctx).transaction() as session:
        for token in service.list_tokens(session, SYSTEM, everyone=True):
            out = service.token_out(token)
            state = "revoked" if out.revoked_at else ("active" if out.is_usable else "expired")
            table.add_row(str(out.id), out.prefix, out.username, out.department_code or "-",
                          " ".join(out.scopes), f"{out.expires_at:%Y-%m-%d}", state)
    console.print(table)


@app.command()
def revoke(ctx: typer.Context, token_id: Annotated[int, typer.Argument(help="The token's id (see `list`).")]) -> None:
    """Revoke a token at once."""
    with platform(ctx).transaction() as session:
        service.revoke_token(session, operator(), token_id)
    console.print(f"revoked token {token_id}")
