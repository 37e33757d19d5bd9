"""Pulls: a resource's rows read from its department's own database by a SQLAlchemy URL and one query, on demand
or on the resource's update cycle, and published like an uploaded file (a Parquet file of text columns).

A pull only ever reads, and not on the strength of one check: the query must be a single ``SELECT`` (checked as
text, comments stripped); on PostgreSQL it runs in a server-side cursor (one ``SELECT``, no data-modifying
``WITH``) of a session whose every transaction is read-only; a SQLite file is opened read-only with an authorizer
that allows reading alone.  The URL holds the department's password: it is shown with the password hidden, and
the password is scrubbed from every driver message before one is stored, logged or raised.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.catalog import service as catalog
from govlink.catalog.models import Resource
from govlink.catalog.vocabulary import CYCLE_DAYS, Status, UpdateCycle
from govlink.db.base import utcnow
from govlink.db.engine import writing
from govlink.ingest import service
from govlink.ingest.encoding import EncodingProblem
from govlink.ingest.models import DataPull
from govlink.ingest.readers import ReadProblem
from govlink.ingest.sources import Limits
from govlink.jobs.worker import JobContext
from govlink.kit.errors import Forbidden, GovLinkError, InvalidInput, NotFound
from govlink.transparency.service import LogEvent, record

log = logging.getLogger(__name__)

CONNECT_SECONDS = 10  # a department's database that does not answer by then is reported, not waited for
BATCH_ROWS = 50_000  # rows fetched, converted and written at a time: memory stays flat however big the result
CHECK_EVERY = dt.timedelta(minutes=15)  # how often the worker looks for due pulls (app.py's job schedule)
EARLY = dt.timedelta(days=1)  # a scheduled pull runs this long before its resource would count as late
RETRY_AFTER = dt.timedelta(hours=1)  # a failed scheduled pull is tried again this long after, not a cycle later
FAILED = "failed: "  # how last_outcome begins after a failed run
MESSAGE_CHARS = 500
# SQLAlchemy driver name → the SQL dialect the query is checked in.  No MySQL: GovLink ships no MySQL driver.
DRIVERS = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite", "postgresql+psycopg": "postgresql"}
POSTGRESQL_URL_OPTIONS = frozenset({"sslmode", "application_name", "target_session_attrs"})
# Words that write, or turn a SELECT into a write (SELECT … INTO makes a table on PostgreSQL).
WRITING_WORDS = frozenset({"insert", "update", "delete", "merge", "into"})
SQLITE_READS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                          sqlite3.SQLITE_RECURSIVE})


class PullFailed(GovLinkError):
    """A pull that failed: the department's database, its query, or the rows it gave.  :func:`run_pull` notes
    the failure on the pull and the log before raising it, so a caller that commits keeps the note."""

    status = 502
    code = "pull_failed"

    def __init__(self, message: str, *, status: int = 502) -> None:
        super().__init__(message, field="pull")
        self.status = status


# --- the URL -------------------------------------------------------------------------------------------------


def parse_url(text: str) -> tuple[URL, str]:
    """The URL and the dialect of its database; InvalidInput (never quoting the URL) when GovLink cannot use it."""
    try:
        url = make_url(text.strip())
    except (ArgumentError, ValueError):
        raise InvalidInput("not a SQLAlchemy database URL; write e.g. postgresql+psycopg://user:password@host/db",
                           field="url") from None
    dialect = DRIVERS.get(url.drivername)
    if dialect is None:
        raise InvalidInput(_unsupported(url.drivername), field="url")
    if dialect == "sqlite":
        if url.query or not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise InvalidInput("name the SQLite file by its path alone: sqlite:////absolute/path/to/file.db",
                               field="url")
        if not Path(url.database).is_absolute():
            raise InvalidInput("name the SQLite file by its absolute path (sqlite:////srv/…): the web app and the "
                               "worker may run in different folders", field="url")
    else:
        if not url.host or not url.database:
            raise InvalidInput("the URL names no host or no database", field="url")
        unknown = sorted(set(url.query) - POSTGRESQL_URL_OPTIONS)
        if unknown:
            raise InvalidInput(f"the URL option {unknown[0]!r} is not accepted; a pull takes "
                               f"{', '.join(sorted(POSTGRESQL_URL_OPTIONS))}", field="url")
    return url, dialect


def _unsupported(drivername: str) -> str:
    backend = drivername.partition("+")[0]
    if backend in {"mysql", "mariadb"}:
        return "GovLink has no MySQL driver installed, so it cannot pull from MySQL or MariaDB"
    if backend == "postgresql":
        return "write postgresql+psycopg:// (GovLink's PostgreSQL driver is psycopg 3)"
    return (f"GovLink pulls from PostgreSQL (postgresql+psycopg://…) and SQLite files (sqlite:////path.db), "
            f"not {drivername}")


def shown_url(pull: DataPull) -> str:
    """The pull's URL as people may see it: the password hidden."""
    return make_url(pull.url).render_as_string(hide_password=True)


def scrub(text: str, url: URL) -> str:
    """``text`` with the URL's password (as written and as URL-encoded) replaced by ***."""
    password = url.password
    if not password:
        return text
    for form in sorted({str(password), quote(str(password), safe=""), quote_plus(str(password))}, key=len,
                       reverse=True):
        text = text.replace(form, "***")
    return text


def _driver_message(exc: BaseException, url: URL) -> str:
    """The driver's own words (not SQLAlchemy's wrapping, which quotes the statement), on one line, scrubbed."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = scrub(" ".join(str(original).split()), url)
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "…"


def _local(host: str | None) -> str | None:
    """Every way of naming this machine (a Unix socket folder too) as one."""
    return "localhost" if not host or host.startswith("/") or host in {"localhost", "127.0.0.1", "::1"} else host


def _is_own_database(url: URL, session: Session) -> bool:
    own = session.get_bind().engine.url
    if url.get_backend_name() != own.get_backend_name():
        return False
    if url.get_backend_name() == "sqlite":
        return bool(own.database) and Path(str(url.database)).resolve() == Path(str(own.database)).resolve()
    return ((_local(url.host), url.port or 5432, url.database) == (_local(own.host), own.port or 5432, own.database))


# --- the query -----------------------------------------------------------------------------------------------

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _scan(query: str, dialect: str) -> tuple[str, str]:
    """(the query without its comments, its code alone: string literals and quoted names blanked).

    Quoting follows the dialect where the two differ (PostgreSQL: nested comments, E'…' escapes, $tag$ strings;
    SQLite: [names] and `names`), so nothing the database reads as code can hide in what this takes for a string.
    """
    kept: list[str] = []
    code: list[str] = []
    i, n = 0, len(query)
    while i < n:
        char, pair = query[i], query[i:i + 2]
        if pair == "--":
            newline = query.find("\n", i)
            i = n if newline < 0 else newline
            kept.append(" ")
            code.append(" ")
            continue
        if pair == "/*":
            i = _comment_end(query, i, nested=dialect == "postgresql")
            kept.append(" ")
            code.append(" ")
            continue
        end = _literal_end(query, i, dialect)
        if end is not None:
            kept.append(query[i:end])
            code.append(" _ ")
            i = end
            continue
        kept.append(char)
        code.append(char)
        i += 1
    return "".join(kept), "".join(code)


def _comment_end(query: str, start: int, *, nested: bool) -> int:
    depth, i = 0, start
    while i < len(query):
        pair = query[i:i + 2]
        if pair == "/*" and (nested or depth == 0):
            depth, i = depth + 1, i + 2
        elif pair == "*/":
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    raise InvalidInput("the query has a /* comment that never ends", field="query")


def _literal_end(query: str, i: int, dialect: str) -> int | None:
    """Where the string literal or quoted name starting at ``i`` ends, or None when none starts there."""
    char = query[i]
    before = query[i - 1] if i else " "
    if char == "'":
        backslashes = dialect == "postgresql" and before in "eE" and (i < 2 or not _is_name_char(query[i - 2]))
        return _quoted_end(query, i, "'", backslashes=backslashes)
    if char == '"' or (dialect == "sqlite" and char == "`"):
        return _quoted_end(query, i, char, backslashes=False)
    if dialect == "sqlite" and char == "[":
        end = query.find("]", i + 1)
        if end < 0:
            raise InvalidInput("the query has a [name that never ends", field="query")
        return end + 1
    if dialect == "postgresql" and char == "$" and not _is_name_char(before):
        tag = _DOLLAR_TAG.match(query, i)
        if tag:
            end = query.find(tag.group(0), tag.end())
            if end < 0:
                raise InvalidInput(f"the query has a {tag.group(0)} string that never ends", field="query")
            return end + len(tag.group(0))
    return None


def _quoted_end(query: str, start: int, quote_char: str, *, backslashes: bool) -> int:
    i = start + 1
    while i < len(query):
        if backslashes and query[i] == "\\":
            i += 2
        elif query[i] == quote_char:
            if query[i + 1:i + 2] != quote_char:
                return i + 1
            i += 2
        else:
            i += 1
    raise InvalidInput(f"the query has a {quote_char} that is never closed", field="query")


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


def check_query(query: str, dialect: str) -> str:
    """The query as it will run (comments and a final ``;`` removed) if it is one ``SELECT`` or ``WITH … SELECT``
    that writes nothing; InvalidInput saying what is wrong otherwise.  The database runs it read-only anyway."""
    kept, code = _scan(query, dialect)
    if code.count(";") > 1 or (";" in code and code.rstrip()[-1:] != ";"):
        raise InvalidInput("a pull runs one statement: nothing may follow a ;", field="query")
    kept, code = kept.rstrip().removesuffix(";").strip(), code.rstrip().removesuffix(";")
    first = _WORD.match(code.lstrip(" \t\r\n("))
    if first is None or first.group(0).lower() not in {"select", "with"}:
        raise InvalidInput("a pull runs one SELECT (or WITH … SELECT) statement", field="query")
    words = [w.lower() for w in _WORD.findall(code)]
    writing = next((w for w in words if w in WRITING_WORDS), None)
    if writing is not None:
        raise InvalidInput(f"a pull only reads: the query may not use {writing.upper()} (if it names a column, "
                           f'quote it: "{writing}")', field="query")
    return kept


# --- who may ------------------------------------------------------------------------------------------------


def _changeable(session: Session, actor: Actor, code: str) -> Resource:
    resource = catalog.resource_by_code(session, actor, code)
    service.may_ingest(actor, resource.department_id)
    return resource


def _pull(session: Session, resource: Resource) -> DataPull:
    pull = session.scalar(select(DataPull).where(DataPull.resource_id == resource.id))
    if pull is None:
        raise NotFound(f"resource {resource.code} has no pull; set one first", field="code")
    return pull


def pull_of(session: Session, actor: Actor, code: str) -> tuple[Resource, DataPull]:
    """A resource's pull, for its own department's stewards and approvers and the information office."""
    resource = catalog.resource_by_code(session, actor, code)
    if not service.may_read_rows(actor, resource):
        raise Forbidden("a resource's pull is for its own department's stewards and approvers")
    return resource, _pull(session, resource)


def register_pull(session: Session, actor: Actor, code: str, url: str, query: str, *,
                  scheduled: bool = True) -> DataPull:
    """Set (or replace) where a resource's rows are pulled from: its department's stewards or an admin; a SQLite
    file, being a path on GovLink's own server, only an admin.  Nothing is read until the pull runs."""
    resource = _changeable(session, actor, code)
    parsed, dialect = parse_url(url)
    if dialect == "sqlite" and not actor.has_role(Role.ADMIN):
        raise Forbidden("a SQLite file is a path on GovLink's own server: only the information office names one; "
                        "pull from the department's database server instead", field="url")
    if _is_own_database(parsed, session):
        raise InvalidInput("the URL names GovLink's own database; name the department's", field="url")
    check_query(query, dialect)
    stored, text = parsed.render_as_string(hide_password=False), query.strip()
    pull = session.scalar(select(DataPull).where(DataPull.resource_id == resource.id))
    if pull is None:
        pull = DataPull(resource_id=resource.id, last_outcome="")
        session.add(pull)
    elif (pull.url, pull.query) != (stored, text):
        pull.last_run_at, pull.last_outcome = None, ""  # a new source: the next check runs it
    pull.url, pull.query, pull.scheduled = stored, text, scheduled
    pull.created_by, pull.created_at = actor.username, utcnow()
    session.flush()
    return pull


def remove_pull(session: Session, actor: Actor, code: str) -> None:
    """Forget where a resource's rows are pulled from (its versions stay)."""
    resource = _changeable(session, actor, code)
    session.delete(_pull(session, resource))
    session.flush()


# --- reading --------------------------------------------------------------------------------------------------


def _sqlite_reads_only(action: int, arg1: str | None, arg2: str | None, _database: str | None,
                       _source: str | None) -> int:
    if action in SQLITE_READS or (action == sqlite3.SQLITE_PRAGMA and arg2 is None):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _read_only_engine(url: URL, dialect: str, seconds: float) -> Engine:
    if dialect == "sqlite":
        target = URL.create("sqlite", database=f"file:{quote(str(url.database))}",
                            query={"mode": "ro", "uri": "true"})
        engine = create_engine(target, poolclass=NullPool, connect_args={"timeout": CONNECT_SECONDS})
        deadline = time.monotonic() + seconds

        @event.listens_for(engine, "connect")
        def _reads_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.set_authorizer(_sqlite_reads_only)
            dbapi_connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)

        return engine
    options = (f"-c default_transaction_read_only=on -c statement_timeout={math.ceil(seconds * 1000)} "
               f"-c idle_in_transaction_session_timeout={math.ceil(seconds * 1000)}")
    arguments: dict[str, Any] = {"connect_timeout": CONNECT_SECONDS, "options": options}
    if "application_name" not in url.query:
        arguments["application_name"] = "govlink-pull"
    return create_engine(url, poolclass=NullPool, connect_args=arguments, hide_parameters=True)


@contextmanager
def read_only_connection(url: str, *, seconds: float) -> Iterator[Connection]:
    """A connection to a department's database on which nothing can be written, and no statement runs longer
    than ``seconds``; SQLAlchemy's errors propagate (unscrubbed: callers scrub)."""
    parsed, dialect = parse_url(url)
    engine = _read_only_engine(parsed, dialect, seconds)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _text(value: Any, column: str) -> str:
    """A value from the department's database as the text a file would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        integral = math.isfinite(value) and value == math.trunc(value) and abs(value) < 1e38
        return str(int(value)) if integral else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        raise PullFailed(f"column {column!r} holds binary data, which a pull does not take; leave it out of the "
                         "query", status=422)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _batch(rows: Sequence[Sequence[Any]], schema: pa.Schema) -> pa.RecordBatch:
    columns = []
    for name, values in zip(schema.names, zip(*rows, strict=True), strict=True):
        texts = [v if v is None or type(v) is str else _text(v, name) for v in values]
        columns.append(pa.array(texts, pa.string()))
    return pa.record_batch(columns, schema=schema)


def _columns(names: Sequence[str], limits: Limits) -> pa.Schema:
    if len(names) > limits.max_columns:
        raise PullFailed(f"the query returns {len(names):,} columns, more than the {limits.max_columns:,} allowed",
                         status=422)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise PullFailed(f"the query returns two columns named {name!r}; name them apart with AS", status=422)
        seen.add(name)
    return pa.schema([(name, pa.string()) for name in names])


def fetch(url: str, query: str, target: Path, limits: Limits) -> int:
    """Run a pull's query read-only and write its rows to ``target`` (Parquet, every column text, NULL kept);
    the number of rows written.  Raises PullFailed, its message free of the URL's password."""
    try:
        parsed, dialect = parse_url(url)
        sql = check_query(query, dialect)
    except InvalidInput as exc:  # a pull set before a rule was tightened
        raise PullFailed(f"the pull's {exc.field}: {exc.message}", status=422) from None
    shown = parsed.render_as_string(hide_password=True)
    deadline = time.monotonic() + limits.seconds
    engine = _read_only_engine(parsed, dialect, limits.seconds)
    rows = 0
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            raise PullFailed(f"cannot connect to {shown}: {_driver_message(exc, parsed)}") from None
        with connection:
            result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS,
                                                  no_parameters=True).exec_driver_sql(sql)
            schema = _columns(list(result.keys()), limits)
            with pq.ParquetWriter(target, schema) as writer:
                for batch in result.partitions():
                    rows += len(batch)
                    if rows > limits.max_rows:
                        raise PullFailed(f"the query returns more than {limits.max_rows:,} rows, the most one version "
                                         "may hold; narrow it with WHERE", status=422)
                    if time.monotonic() > deadline:
                        raise PullFailed(f"the query took longer than {limits.seconds:g} seconds")
                    writer.write_batch(_batch(batch, schema))
    except SQLAlchemyError as exc:
        message = _driver_message(exc, parsed)
        if message == "interrupted":  # SQLite's progress handler stopped it
            message = f"it took longer than {limits.seconds:g} seconds"
        raise PullFailed(f"the query failed on {shown}: {message}") from None
    except (pa.ArrowException, OSError) as exc:
        raise PullFailed(f"the pulled rows could not be written: {scrub(str(exc), parsed)}") from None
    finally:
        engine.dispose()
    if rows == 0:
        raise PullFailed("the query returned no rows, so nothing was published (the published version stays)",
                         status=422)
    return rows


# --- running ---------------------------------------------------------------------------------------------------


def _note(session: Session, actor: Actor, resource: Resource, pull: DataPull, started: dt.datetime, text: str, *,
          outcome: str, rows: int, version: int | None) -> None:
    """The run on the pull (last run, last outcome) and on the transparency log; never the URL."""
    pull.last_run_at, pull.last_outcome = started, text
    department = accounts.department_by_id(session, resource.department_id)
    record(session, LogEvent(kind="data.pulled", actor=actor.username, department=department.code, details={
        "resource": resource.code, "rows": rows, "outcome": outcome, "version": version}))
    session.flush()


def _publish(session: Session, actor: Actor, resource: Resource, path: Path,
             limits: Limits) -> service.IngestOutcome:
    """Ingest the pulled file in a savepoint, so a refused version leaves nothing behind but the note."""
    savepoint = session.begin_nested()
    try:
        outcome = service.ingest(session, actor, path, file_name=f"{resource.code}-pull.parquet",
                                 resource_code=resource.code, limits=limits, source="pull")
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return outcome


def run_pull(session: Session, actor: Actor, code: str, *, limits: Limits | None = None) -> service.IngestOutcome:
    """Pull the resource's rows now and publish them as its next version (identical rows make none).

    The run is noted on the pull and put on the log in the caller's session whatever its outcome; a failure is
    then raised as :class:`PullFailed`, so a caller that commits on it keeps the note.
    """
    limits = limits or Limits()
    resource = _changeable(session, actor, code)
    pull = _pull(session, resource)
    started = utcnow()
    try:
        with tempfile.TemporaryDirectory(prefix="govlink-pull-") as folder:
            path = Path(folder) / "pull.parquet"
            fetch(pull.url, pull.query, path, limits)
            try:
                outcome = _publish(session, actor, resource, path, limits)
            except (GovLinkError, ReadProblem, EncodingProblem) as exc:
                message = exc.message if isinstance(exc, GovLinkError) else str(exc)
                raise PullFailed(f"the pulled rows were refused: {message}", status=422) from None
    except PullFailed as exc:
        _note(session, actor, resource, pull, started, FAILED + exc.message, outcome="failed", rows=0, version=None)
        raise
    if outcome.unchanged:
        text = f"unchanged: identical to version {outcome.version} ({outcome.rows_read:,} rows)"
    else:
        text = (f"published version {outcome.version}: {outcome.rows_read:,} rows read, {outcome.rows_accepted:,} "
                f"accepted, {outcome.rows_quarantined:,} quarantined")
    _note(session, actor, resource, pull, started, text, outcome="unchanged" if outcome.unchanged else "published",
          rows=outcome.rows_read, version=outcome.version)
    return outcome


# --- on the update cycle ------------------------------------------------------------------------------------


def pull_interval(update_cycle: str) -> dt.timedelta | None:
    """How often a resource of this update cycle is pulled: a day before it would count as late (CYCLE_DAYS),
    and at least every CHECK_EVERY (so realtime means every check); None (irregular) means on demand only."""
    try:
        days = CYCLE_DAYS[UpdateCycle(update_cycle)]
    except ValueError:
        return None
    if days is None:
        return None
    return max(dt.timedelta(days=days) - EARLY, CHECK_EVERY)


def due_pulls(session: Session, now: dt.datetime) -> list[DataPull]:
    """Scheduled pulls of resources still taking data whose cycle has elapsed since their last run (or that
    failed more than RETRY_AFTER ago, or never ran)."""
    found = session.execute(
        select(DataPull, Resource.update_cycle).join(Resource, Resource.id == DataPull.resource_id)
        .where(DataPull.scheduled, Resource.status != Status.RETIRED).order_by(DataPull.id))
    due = []
    for pull, cycle in found:
        every = pull_interval(cycle)
        if every is None:
            continue
        last = pull.last_run_at
        if last is None or now - last >= every or (pull.last_outcome.startswith(FAILED) and now - last >= RETRY_AFTER):
            due.append(pull)
    return due


def run_due_pulls(context: JobContext) -> dict[str, Any]:
    """Job: run every due pull, each in its own transaction; a failure is noted on its pull and the rest run."""
    limits = service.limits_for(context.settings)
    with context.sessions() as session:
        due = due_pulls(session, utcnow())
        codes = list(session.scalars(select(Resource.code).where(Resource.id.in_([p.resource_id for p in due]))
                                     .order_by(Resource.code)))
    counts = {"due": len(codes), "published": 0, "unchanged": 0, "failed": 0}
    for done, code in enumerate(codes, start=1):
        counts[_run_scheduled(context, code, limits)] += 1
        context.progress(done / len(codes), f"pulled {code}")
    return counts


def _run_scheduled(context: JobContext, code: str, limits: Limits) -> str:
    try:
        # Not begun holding the write lock: the department's database may take its time to answer.
        with context.sessions() as session, session.begin():
            try:
                outcome = run_pull(session, SYSTEM, code, limits=limits)
            except PullFailed:
                return "failed"  # noted on the pull: leaving the block normally commits the note
            return "unchanged" if outcome.unchanged else "published"
    except Exception:
        # Not the department's database (run_pull scrubs and wraps all of that) but GovLink's own trouble.
        log.exception("the scheduled pull of %s failed", code)
        with context.sessions() as session, writing(session):
            resource = session.scalar(select(Resource).where(Resource.code == code))
            pull = None if resource is None else session.scalar(
                select(DataPull).where(DataPull.resource_id == resource.id))
            if resource is not None and pull is not None:  # it may have been removed meanwhile
                _note(session, SYSTEM, resource, pull, utcnow(),
                      FAILED + "GovLink could not publish the rows; the worker's log says why", outcome="failed",
                      rows=0, version=None)
        return "failed"
