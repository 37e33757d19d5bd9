"""What every command needs: settings, an engine and sessions, built once per invocation."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from govlink.accounts.actor import Actor
from govlink.accounts.roles import Role
from govlink.db.engine import make_engine, make_sessionmaker, writing
from govlink.db.migrate import current_revision, head_revision, upgrade
from govlink.kit.errors import GovLinkError
from govlink.settings import Settings

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def progress_bar() -> Progress:
    """The bar of every command that takes more than a second: step, bar, percentage, time so far."""
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=console)


@dataclass
class Platform:
    """Settings and database handles for one CLI invocation."""

    overrides: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        return Settings(**self.overrides)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    def upgrade(self) -> None:
        try:
            upgrade(self.engine)
        except OperationalError as exc:
            fail(f"cannot reach the database at {self.engine.url.render_as_string()}: {exc.orig}")

    def revision(self) -> str | None:
        """The database's schema revision; stops with one line when the database does not answer."""
        try:
            return current_revision(self.engine)
        except OperationalError as exc:
            fail(f"cannot reach the database at {self.engine.url.render_as_string()}: {exc.orig}")

    def require_schema(self) -> None:
        """Stop with advice when the database is missing or behind the code."""
        if self.revision() != head_revision():
            fail(
                "the database is not set up for this version of GovLink; "
                "run `govlink init` (new platform) or `govlink db upgrade` (existing one)"
            )

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A committed session for one command; domain errors become a one-line message.  A command that
        writes holds the write lock from the start (a server may be writing beside it); ``write=False`` for one
        that only reads, which must not hold it up."""
        self.require_schema()
        with self.sessions() as session:
            try:
                with writing(session) if write else session.begin():
                    yield session
            except GovLinkError as exc:
                where = f" ({exc.field})" if exc.field else ""
                fail(f"{exc.message}{where}")


def platform(ctx: typer.Context) -> Platform:
    obj = ctx.find_root().obj
    if not isinstance(obj, Platform):
        obj = Platform()
        ctx.find_root().obj = obj
    return obj


def set_data_dir(ctx: typer.Context, data_dir: Path | None) -> None:
    """Let a command's own --data-dir override the global one."""
    if data_dir is not None:
        target = platform(ctx)
        target.overrides["data_dir"] = data_dir
        for name in ("settings", "engine", "sessions"):
            target.__dict__.pop(name, None)


def operator() -> Actor:
    """Who a shell command acts as in the transparency log: the operating-system user."""
    return Actor(user_id=None, username=f"cli:{getpass.getuser()}"[:64], roles=frozenset({Role.ADMIN}),
                 via="system")


def fail_invalid(exc: ValidationError) -> NoReturn:
    """Stop with the first invalid field of a command's input, named."""
    error = exc.errors()[0]
    fail(f"{'.'.join(map(str, error['loc']))}: {error['msg']}")


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)
