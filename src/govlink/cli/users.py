"""`govlink user`: accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from govlink.accounts import service
from govlink.accounts.roles import Role
from govlink.accounts.schemas import UserIn
from govlink.cli.context import console, fail_invalid, operator, platform

app = typer.Typer(help="Create, list and disable user accounts.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name: letters, digits and . _ @ -")],
    role: Annotated[
        list[Role],
        typer.Option("--role", "-r", help="A role to hold; repeat for several.", show_default=False),
    ],
    name: Annotated[str | None, typer.Option(help="Display name (defaults to the username).",
                                             show_default=False)] = None,
    department: Annotated[
        str | None,
        typer.Option(help="Code of the department the user works for (required for steward, approver, "
                     "analyst; none for citizens and enterprises).", show_default=False),
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="Password; generated and printed once when omitted.", show_default=False)
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option(help="For a public account: the person or enterprise it speaks for, e.g. person:P00000001.",
                     show_default=False),
    ] = None,
) -> None:
    """Create an account holding one or more roles."""
    try:
        data = UserIn(username=username, display_name=name or username, roles=role,
                      department_code=department, password=password, subject_key=subject)
    except ValidationError as exc:
        fail_invalid(exc)
    with platform(ctx).transaction() as session:
        created = service.create_user(session, operator(), data)
    console.print(f"created {created.username} ({', '.join(created.roles)})")
    if created.password:
        console.print(f"password (shown once): {created.password}")


@app.command(name="list")
def list_users(ctx: typer.Context) -> None:
    """List every account with its department, roles and state."""
    table = Table("username", "name", "department", "roles", "active", "last sign-in")
    with platform(ctx).transaction() as session:
        for user in service.list_users(session):
            out = service.user_out(user)
            last = out.last_login_at.strftime("%Y-%m-%d %H:%M") if out.last_login_at else "-"
            table.add_row(out.username, out.display_name, out.department_code or "-", ", ".join(out.roles),
                          "yes" if out.is_active else "no", last)
    console.print(table)


@app.command()
def disable(ctx: typer.Context, username: Annotated[str, typer.Argument(help="The account to disable.")]) -> None:
    """Disable an account: its sessions end and its API tokens are revoked at once."""
    with platform(ctx).transaction() as session:
        service.disable_user(session, operator(), username)
    console.print(f"disabled {username}; its sessions and tokens no longer work")
