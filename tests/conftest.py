"""Test fixtures: one database per run, migrated once with Alembic; each test rolls back.

The database is SQLite in a temporary folder unless ``GOVLINK_TEST_DATABASE_URL`` names a
PostgreSQL server (``postgresql+psycopg://postgres@127.0.0.1:5432/test``): then a fresh database
is created beside it for this run and dropped at the end.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.accounts.schemas import DepartmentIn, UserIn
from govlink.app import create_app
from govlink.db.engine import make_engine
from govlink.db.migrate import upgrade
from govlink.settings import Settings

PASSWORD = "correct-horse-battery"
SERVER_URL = os.environ.get("GOVLINK_TEST_DATABASE_URL", "")


def pytest_report_header() -> str:
    return f"GovLink test database: {'PostgreSQL' if SERVER_URL else 'SQLite'}"


class FreshDatabases:
    """Creates empty databases on the test server (PostgreSQL) or in a folder (SQLite)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.created: list[str] = []

    def new_url(self) -> str:
        if not SERVER_URL:
            return f"sqlite:///{self.folder / f'{uuid.uuid4().hex}.db'}"
        name = f"govlink_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshDatabases]:
    fresh = FreshDatabases(tmp_path_factory.mktemp("databases"))
    yield fresh
    fresh.drop_all()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, databases: FreshDatabases) -> Settings:
    data_dir = tmp_path_factory.mktemp("govlink-data")
    return Settings(
        data_dir=data_dir,
        database_url=databases.new_url(),
        login_max_failures=3,
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back when the test ends."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits are savepoints of the test's transaction."""
    return sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def app(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> FastAPI:
    return create_app(settings, engine=engine, sessions=sessions)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def make_user(session: Session) -> Callable[..., str]:
    """Create a user with the given roles (and a department for roles that need one)."""

    def make(*roles: Role, username: str | None = None, department: str | None = None) -> str:
        if department is None and any(r in {Role.STEWARD, Role.APPROVER, Role.ANALYST} for r in roles):
            department = "TST"
        if department is not None and not session.scalar(
            text("SELECT 1 FROM departments WHERE code = :c"), {"c": department}
        ):
            accounts.create_department(session, SYSTEM, DepartmentIn(code=department, name=f"测试部门 {department}"))
        name = username or f"{'-'.join(r.value for r in roles) or 'nobody'}-{uuid.uuid4().hex[:6]}"
        accounts.create_user(
            session, SYSTEM,
            UserIn(username=name, display_name=name, roles=list(roles), password=PASSWORD,
                   department_code=department),
        )
        session.commit()
        return name

    return make


def form_csrf(html: str) -> str:
    """The CSRF token a page put in its form, as a browser would submit it."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found and found.group(1), "the page's form carries no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a browser would: the token comes from the page."""
    csrf = form_csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def csrf_headers(client: TestClient) -> dict[str, str]:
    if not client.cookies.get("govlink_csrf"):
        client.get("/login")
    return {"X-CSRF-Token": client.cookies.get("govlink_csrf") or ""}


@pytest.fixture
def fresh_url(databases: FreshDatabases) -> str:
    """An empty database of its own, for tests (CLI, migrations) that commit for real."""
    return databases.new_url()
