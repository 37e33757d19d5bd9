"""`govlink department`: departments and sub-offices."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from govlink.accounts import service
from govlink.accounts.schemas import DepartmentIn
from govlink.cli.context import console, fail_invalid, operator, platform

app = typer.Typer(help="Register and list departments.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Short code, e.g. GA for 公安分局 (letters, digits, - and _).")],
    name: Annotated[str, typer.Argument(help="Full name, e.g. 西湖区公安分局.")],
    uscc: Annotated[
        str | None,
        typer.Option(help="Unified social credit code (统一社会信用代码, 18 characters, checked).",
                     show_default=False),
    ] = None,
    parent: Annotated[
        str | None, typer.Option(help="Code of the department this one belongs to.", show_default=False)
    ] = None,
) -> None:
    """Register a department."""
    try:
        data = DepartmentIn(code=code, name=name, uscc=uscc, parent_code=parent)
    except ValidationError as exc:
        fail_invalid(exc)
    with platform(ctx).transaction() as session:
        department = service.create_department(session, operator(), data)
        console.print(f"registered {department.code} {department.name}")


@app.command(name="list")
def list_departments(ctx: typer.Context) -> None:
    """List every department with its code, credit code and parent."""
    table = Table("code", "name", "credit code", "parent")
    with platform(ctx).transaction() as session:
        for department in service.list_departments(session):
            out = service.department_out(department)
            table.add_row(out.code, out.name, out.uscc or "-", out.parent_code or "-")
    console.print(table)
