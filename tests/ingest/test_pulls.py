"""Pulls: a resource's rows read from a department's database by URL and query, published as a version; only a
SELECT, run on a connection that cannot write; the URL's password never shown, kept in an outcome or logged; due
on the resource's update cycle; over HTTP and from the shell."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.accounts.schemas import DepartmentIn
from govlink.catalog import service as catalog
from govlink.cli.main import app
from govlink.db.base import utcnow
from govlink.ingest import pulls, service
from govlink.ingest.models import DataPull, DataVersion
from govlink.ingest.sources import Limits
from govlink.jobs.worker import JobContext
from govlink.kit.errors import Forbidden, InvalidInput, NotFound
from govlink.settings import Settings
from govlink.standards.id_number import Gender, make_id_number
from govlink.transparency.models import LogEntry, LogEventBody
from tests.conftest import SERVER_URL, csrf_headers, sign_in

ID1 = make_id_number("330106", dt.date(1980, 5, 17), 12, Gender.MALE)
ID2 = make_id_number("330106", dt.date(1992, 11, 3), 45, Gender.FEMALE)
ID3 = make_id_number("330102", dt.date(2001, 2, 28), 7, Gender.MALE)
BAD_ID = ID3[:-1] + ("0" if ID3[-1] != "0" else "1")  # the check character no longer fits
PEOPLE = [  # 编号, 姓名, 身份证号, 出生日期: two records break a rule (a check digit, 30 February)
    (1, "张三", ID1, "1980-05-17"),
    (2, "李四", ID2, "1992-11-03"),
    (3, "王五", BAD_ID, "2001-02-28"),
    (4, "赵六", ID3, "2001-02-30"),
    (5, "孙七", None, "1975-07-09"),
]
QUERY = "SELECT 编号, 姓名, 身份证号, 出生日期 FROM people -- the department's register\nORDER BY 编号;"
UNREACHABLE = "postgresql+psycopg://u:secret@127.0.0.1:1/x"


def source_database(folder: Path) -> Path:
    """The department's own database: a SQLite file with a table of people."""
    path = folder / "department.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE people (编号 INTEGER PRIMARY KEY, 姓名 TEXT, 身份证号 TEXT, 出生日期 TEXT)")
        connection.executemany("INSERT INTO people VALUES (?, ?, ?, ?)", PEOPLE)
    connection.close()
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def department(session: Session) -> int:
    accounts.create_department(session, SYSTEM, DepartmentIn(code="RS", name="人力资源和社会保障局"))
    session.flush()
    return accounts.department_by_code(session, "RS").id


@pytest.fixture
def steward(department: int) -> Actor:
    return Actor(user_id=1, username="steward.rs", roles=frozenset({Role.STEWARD}), department_id=department,
                 via="session")


@pytest.fixture
def admin() -> Actor:
    return Actor(user_id=2, username="admin.sjj", roles=frozenset({Role.ADMIN}), via="session")


def new_resource(session: Session, steward: Actor, folder: Path, name: str = "参保人员") -> str:
    """A resource of RS made from a one-row file, so a pull has somewhere to publish."""
    seed = folder / f"{name}.csv"
    seed.write_text(f"编号,姓名,身份证号,出生日期\n1,张三,{ID1},1980-05-17\n", encoding="utf-8")
    return service.ingest(session, steward, seed, file_name=seed.name, department_code="RS").resource


def test_a_pull_publishes_the_rows_of_its_query_and_identical_rows_make_no_version(
        session: Session, steward: Actor, admin: Actor, tmp_path: Path) -> None:
    code = new_resource(session, steward, tmp_path)
    pulls.register_pull(session, admin, code, sqlite_url(source_database(tmp_path)), QUERY)
    outcome = pulls.run_pull(session, steward, code)
    assert (outcome.version, outcome.unchanged, outcome.format) == (2, False, "parquet")
    assert (outcome.rows_read, outcome.rows_accepted, outcome.rows_quarantined) == (5, 3, 2)
    assert outcome.mapping["身份证号"] == "身份证号"
    _, version = service.version(session, steward, code, 2)
    assert (version.source, version.file_name, version.state) == ("pull", f"{code}-pull.parquet", "published")
    _, records = service.quarantine(session, steward, code, 2)
    assert [r.values["编号"] for r in records] == ["3", "4"]  # integers arrive as text
    assert records[1].values["出生日期"] == "2001-02-30"

    again = pulls.run_pull(session, steward, code)
    assert again.unchanged and again.version == 2
    _, pull = pulls.pull_of(session, steward, code)
    assert pull.last_outcome.startswith("unchanged: identical to version 2") and pull.last_run_at is not None
    bodies = [json.loads(b) for b in session.scalars(
        select(LogEventBody.body).join(LogEntry, LogEntry.index == LogEventBody.index)
        .where(LogEntry.kind == "data.pulled").order_by(LogEntry.index))]
    assert [b["details"] for b in bodies] == [
        {"resource": code, "rows": 5, "outcome": "published", "version": 2},
        {"resource": code, "rows": 5, "outcome": "unchanged", "version": 2}]


@pytest.mark.parametrize("query", [
    "DELETE FROM people",
    "UPDATE people SET 姓名 = 'x'",
    "SELECT * FROM people;DROP TABLE people",
    "SELECT 1; -- two\nSELECT 2",
    "WITH gone AS (DELETE FROM people RETURNING *) SELECT * FROM gone",
    "SELECT * INTO copy FROM people",
    "PRAGMA query_only = 0",
    "SELECT 'never closed",
])
def test_anything_but_one_select_is_refused(query: str) -> None:
    for dialect in ("sqlite", "postgresql"):
        with pytest.raises(InvalidInput) as refused:
            pulls.check_query(query, dialect)
        assert refused.value.field == "query"


@pytest.mark.parametrize(("query", "runs"), [
    ("select * from people;", "select * from people"),
    ("/* all; of them */ SELECT 'delete; me' AS note, \"update\" FROM people -- ; DROP\n",
     "SELECT 'delete; me' AS note, \"update\" FROM people"),
    ("WITH adults AS (SELECT * FROM people) SELECT * FROM adults", "WITH adults AS (SELECT * FROM people) "
     "SELECT * FROM adults"),
])
def test_a_select_runs_without_its_comments(query: str, runs: str) -> None:
    assert pulls.check_query(query, "sqlite") == runs


def test_postgresql_quoting_hides_no_second_statement() -> None:
    for query in ("SELECT E'\\'', 1; DELETE FROM t; --'", "SELECT $$'$$; DELETE FROM t; --'",
                  "SELECT /* /* */ ' */ DELETE FROM t"):
        with pytest.raises(InvalidInput):
            pulls.check_query(query, "postgresql")
    assert pulls.check_query("SELECT $q$ ; DELETE $q$ AS text", "postgresql") == "SELECT $q$ ; DELETE $q$ AS text"


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00")))
def test_any_string_literal_reads_back_as_written(value: str) -> None:
    literal = "'" + value.replace("'", "''") + "'"
    query = f"SELECT {literal} AS v"
    assert pulls.check_query(query, "sqlite") == query
    assert pulls.check_query(query, "postgresql") == query
    with sqlite3.connect(":memory:") as connection:
        assert connection.execute(pulls.check_query(query, "sqlite")).fetchone() == (value,)
    with pytest.raises(InvalidInput):
        pulls.check_query(f"{query}; DELETE FROM t", "sqlite")


def test_the_connection_cannot_write(tmp_path: Path) -> None:
    path = source_database(tmp_path)
    with pulls.read_only_connection(sqlite_url(path), seconds=5) as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM people").scalar() == 5
        for write in ("INSERT INTO people (姓名) VALUES ('钱八')", "DELETE FROM people", "PRAGMA query_only = 0",
                      f"ATTACH DATABASE '{tmp_path / 'other.db'}' AS other"):
            with pytest.raises(DBAPIError):
                connection.exec_driver_sql(write)
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM people").fetchone() == (5,)
    check.close()
    assert not (tmp_path / "other.db").exists()


@pytest.mark.skipif(not SERVER_URL, reason="needs the PostgreSQL test server (GOVLINK_TEST_DATABASE_URL)")
def test_a_postgresql_connection_cannot_write() -> None:
    with pulls.read_only_connection(SERVER_URL, seconds=5) as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
        with pytest.raises(DBAPIError, match="read-only transaction"):
            connection.exec_driver_sql("CREATE TABLE govlink_pull_probe (a integer)")


def test_a_pull_stops_past_the_row_limit_and_the_time_budget(tmp_path: Path) -> None:
    url = sqlite_url(source_database(tmp_path))
    with pytest.raises(pulls.PullFailed, match="more than 3 rows"):
        pulls.fetch(url, QUERY, tmp_path / "rows.parquet", Limits(max_rows=3))
    endless = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
    with pytest.raises(pulls.PullFailed, match="longer than"):
        pulls.fetch(url, endless, tmp_path / "rows.parquet", Limits(seconds=0.1))
    with pytest.raises(pulls.PullFailed, match="no rows"):
        pulls.fetch(url, "SELECT * FROM people WHERE 编号 > 99", tmp_path / "rows.parquet", Limits())


def test_the_password_is_never_shown_kept_in_an_outcome_or_logged(session: Session, steward: Actor,
                                                                   tmp_path: Path) -> None:
    code = new_resource(session, steward, tmp_path)
    pull = pulls.register_pull(session, steward, code, UNREACHABLE, "SELECT 1 AS a")
    assert pull.url == UNREACHABLE  # kept to connect with
    assert pulls.shown_url(pull) == "postgresql+psycopg://u:***@127.0.0.1:1/x"
    with pytest.raises(pulls.PullFailed) as failed:
        pulls.run_pull(session, steward, code)
    assert failed.value.status == 502 and "cannot connect to postgresql+psycopg://u:***@" in failed.value.message
    assert "secret" not in failed.value.message and "secret" not in str(failed.value)
    assert pull.last_outcome.startswith(pulls.FAILED) and "secret" not in pull.last_outcome
    bodies = session.scalars(select(LogEventBody.body)).all()
    assert any('"outcome":"failed"' in b for b in bodies) and not any("secret" in b for b in bodies)


def test_the_password_is_scrubbed_as_written_and_as_url_encoded() -> None:
    url = make_url("postgresql+psycopg://u:p%40ss%2Fw%C3%B6rd@db.example/x")
    assert url.password == "p@ss/wörd"
    said = "auth failed for p@ss/wörd (p%40ss%2Fw%C3%B6rd) in postgresql://u:p%40ss%2Fw%C3%B6rd@db.example/x"
    assert pulls.scrub(said, url) == "auth failed for *** (***) in postgresql://u:***@db.example/x"
    with pytest.raises(InvalidInput) as refused:
        pulls.parse_url("postgresql+psycopg://u:secret@db.example:port/x")
    assert "secret" not in refused.value.message


def test_who_may_set_a_pull_and_from_where(session: Session, steward: Actor, admin: Actor, tmp_path: Path,
                                           department: int) -> None:
    code = new_resource(session, steward, tmp_path)
    source = sqlite_url(source_database(tmp_path))
    accounts.create_department(session, SYSTEM, DepartmentIn(code="GA", name="公安分局"))
    session.flush()
    other = Actor(user_id=3, username="steward.ga", roles=frozenset({Role.STEWARD}),
                  department_id=accounts.department_by_code(session, "GA").id, via="session")
    with pytest.raises(NotFound):  # a draft of RS: GA's steward does not even see it
        pulls.register_pull(session, other, code, UNREACHABLE, "SELECT 1")
    with pytest.raises(Forbidden):  # a file on GovLink's own server is for the information office to name
        pulls.register_pull(session, steward, code, source, QUERY)
    own = session.get_bind().engine.url.render_as_string(hide_password=False)
    refusals = {"mysql+pymysql://u:p@h/db": "MySQL", "postgresql://u:p@h/db": "psycopg",
                "sqlite:///relative.db": "absolute", "postgresql+psycopg://u:p@h/db?host=/tmp": "host",
                own: "own database"}
    for url, reason in refusals.items():
        with pytest.raises(InvalidInput, match=reason):
            pulls.register_pull(session, admin, code, url, "SELECT 1")
    with pytest.raises(InvalidInput, match="one statement"):
        pulls.register_pull(session, admin, code, source, "SELECT * FROM people;DROP TABLE people")
    pulls.register_pull(session, admin, code, source, QUERY, scheduled=False)
    pull = pulls.register_pull(session, steward, code, UNREACHABLE, "SELECT 1")
    assert (pull.created_by, pull.scheduled, pull.last_run_at) == ("steward.rs", True, None)
    pulls.remove_pull(session, steward, code)
    assert session.scalar(select(DataPull)) is None


def test_a_resource_without_a_pull_says_so(session: Session, steward: Actor, tmp_path: Path) -> None:
    code = new_resource(session, steward, tmp_path)
    with pytest.raises(NotFound, match="no pull"):
        pulls.run_pull(session, steward, code)


def test_due_pulls_follow_the_update_cycle(session: Session, steward: Actor, admin: Actor, tmp_path: Path) -> None:
    now = utcnow()
    source = sqlite_url(source_database(tmp_path))
    cases = {  # name: (update cycle, last run how long ago, last outcome, scheduled, due?)
        "月报-过期": ("monthly", dt.timedelta(days=40), "published version 2", True, True),
        "月报-新鲜": ("monthly", dt.timedelta(days=1), "published version 2", True, False),
        "日报-从未": ("daily", None, "", True, True),
        "日报-失败": ("daily", dt.timedelta(hours=2), pulls.FAILED + "cannot connect", True, True),
        "日报-刚失败": ("daily", dt.timedelta(minutes=10), pulls.FAILED + "cannot connect", True, False),
        "不定期": ("irregular", None, "", True, False),
        "按需": ("weekly", None, "", False, False),
    }
    expected = set()
    for name, (cycle, ago, outcome, scheduled, due) in cases.items():
        code = new_resource(session, steward, tmp_path, name)
        catalog.resource_by_code(session, steward, code).update_cycle = cycle
        pull = pulls.register_pull(session, admin, code, source, QUERY, scheduled=scheduled)
        pull.last_run_at, pull.last_outcome = (now - ago if ago else None), outcome
        if due:
            expected.add(pull.id)
    session.flush()
    assert {p.id for p in pulls.due_pulls(session, now)} == expected
    assert pulls.pull_interval("realtime") == pulls.CHECK_EVERY and pulls.pull_interval("irregular") is None


def test_the_job_runs_each_due_pull_and_notes_a_failure_without_stopping(
        session: Session, sessions: sessionmaker[Session], settings: Settings, steward: Actor, admin: Actor,
        tmp_path: Path) -> None:
    broken = new_resource(session, steward, tmp_path, "甲")
    working = new_resource(session, steward, tmp_path, "乙")
    pulls.register_pull(session, steward, broken, UNREACHABLE, "SELECT 1 AS a")
    pulls.register_pull(session, admin, working, sqlite_url(source_database(tmp_path)), QUERY)
    session.commit()
    reports: list[tuple[float, str]] = []

    def report(fraction: float, message: str) -> bool:
        reports.append((fraction, message))
        return True

    context = JobContext(job_id=1, payload={}, sessions=sessions, settings=settings, _report=report)
    assert pulls.run_due_pulls(context) == {"due": 2, "published": 1, "unchanged": 0, "failed": 1}
    assert reports[-1][0] == 1.0
    session.expire_all()
    outcomes = {code: pulls.pull_of(session, steward, code)[1].last_outcome for code in (broken, working)}
    assert outcomes[broken].startswith(pulls.FAILED) and "secret" not in outcomes[broken]
    assert outcomes[working].startswith("published version 2")
    assert session.scalar(select(DataVersion.source).where(DataVersion.number == 2)) == "pull"
    assert pulls.due_pulls(session, utcnow()) == []


# --- over HTTP and from the shell (once app.py, authz.py and cli/main.py know them) -------------------------



def test_pulls_over_http(client: TestClient, session: Session, make_user: Callable[..., str],
                         tmp_path: Path) -> None:
    names = {"steward": make_user(Role.STEWARD, department="RS"), "admin": make_user(Role.ADMIN),
             "other": make_user(Role.STEWARD, department="GA")}
    users: dict[str, TestClient] = {}
    for role, name in names.items():
        users[role] = TestClient(client.app)
        sign_in(users[role], name)
    seed = f"编号,姓名,身份证号,出生日期\n1,张三,{ID1},1980-05-17\n".encode()
    created = users["steward"].post("/api/departments/RS/uploads", params={"file_name": "参保人员.csv"},
                                    content=seed, headers=csrf_headers(users["steward"]))
    assert created.status_code == 200, created.text
    code = created.json()["resource"]
    api = f"/api/resources/{code}/pull"

    def put(who: str, body: dict[str, Any]) -> Any:
        return users[who].put(api, json=body, headers=csrf_headers(users[who]))

    refused = put("steward", {"url": sqlite_url(source_database(tmp_path)), "query": QUERY})
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "url"
    assert put("steward", {"url": UNREACHABLE, "query": "DELETE FROM people"}).status_code == 422
    shown = put("steward", {"url": UNREACHABLE, "query": "SELECT 1 AS a"})
    assert shown.status_code == 200 and shown.json()["url"] == "postgresql+psycopg://u:***@127.0.0.1:1/x"
    failed = users["steward"].post(f"{api}/run", headers=csrf_headers(users["steward"]))
    assert failed.status_code == 502 and "secret" not in failed.text
    kept = users["steward"].get(api).json()  # the failed run was committed with its note
    assert kept["last_outcome"].startswith(pulls.FAILED) and "secret" not in json.dumps(kept)

    assert put("admin", {"url": sqlite_url(tmp_path / "department.db"), "query": QUERY,
                         "scheduled": False}).status_code == 200
    ran = users["steward"].post(f"{api}/run", headers=csrf_headers(users["steward"]))
    assert ran.status_code == 200, ran.text
    assert (ran.json()["version"], ran.json()["rows_read"], ran.json()["rows_quarantined"]) == (2, 5, 2)
    assert users["steward"].get(api).json()["scheduled"] is False
    assert users["other"].get(api).status_code == 404  # another department's draft is not even seen
    assert users["other"].delete(api, headers=csrf_headers(users["other"])).status_code == 404
    assert users["steward"].delete(api, headers=csrf_headers(users["steward"])).status_code == 204
    assert users["steward"].get(api).status_code == 404




def test_pulls_from_the_shell(fresh_url: str, tmp_path: Path) -> None:
    runner = CliRunner()

    def govlink(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        result = runner.invoke(app, ["--data-dir", str(tmp_path), "--database-url", fresh_url, *args], env=env)
        return result.exit_code, result.output

    assert govlink("init")[0] == 0
    assert govlink("department", "create", "RS", "人社局")[0] == 0
    seed = tmp_path / "参保人员.csv"
    seed.write_text(f"编号,姓名,身份证号,出生日期\n1,张三,{ID1},1980-05-17\n", encoding="utf-8")
    code, out = govlink("ingest", str(seed), "--department", "RS", "--json")
    assert code == 0, out
    resource = json.loads(out)["resource"]
    source = sqlite_url(source_database(tmp_path))
    code, out = govlink("pull", "set", resource, "--query", QUERY, "--no-schedule", env={"GOVLINK_PULL_URL": source})
    assert code == 0 and "on demand only" in out, out
    code, out = govlink("pull", "run", resource, "--json")
    assert code == 0, out
    assert {k: json.loads(out)[k] for k in ("version", "rows_read", "rows_quarantined")} == {
        "version": 2, "rows_read": 5, "rows_quarantined": 2}
    code, out = govlink("pull", "run", resource)
    assert code == 0 and "unchanged" in out
    assert govlink("pull", "set", resource, "--url", UNREACHABLE, "--query", "SELECT 1 AS a")[0] == 0
    code, out = govlink("pull", "run", resource)
    assert code == 1 and "cannot connect" in out and "secret" not in out and len(out.strip().splitlines()) == 1
    code, out = govlink("pull", "show", resource)
    assert code == 0 and "u:***@127.0.0.1" in out and "failed: cannot connect" in out and "secret" not in out
    assert govlink("pull", "remove", resource)[0] == 0
    code, out = govlink("pull", "show", resource)
    assert code == 1 and "no pull" in out
