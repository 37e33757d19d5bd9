"""Request dependencies: the database session, the actor, authorization and CSRF.

``authorize`` runs for every route (it is an app-wide dependency): it finds the route's rule in
:data:`govlink.authz.MATRIX` and refuses the request unless the rule permits the actor.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar, cast

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from govlink.accounts import service as accounts
from govlink.accounts.actor import ANONYMOUS, Actor
from govlink.authz import rule_for
from govlink.db.engine import began_writing, begin_writing, has_side_writes
from govlink.kit.errors import Forbidden, NotSignedIn
from govlink.kit.tokens import new_secret, same
from govlink.settings import Settings
from govlink.transparency.writer import collect_entries, settle_entries
from govlink.web.templating import Templates

SESSION_COOKIE = "govlink_session"
CSRF_COOKIE = "govlink_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# ``async``: FastAPI would run a plain ``def`` dependency in a worker thread, a hop for nothing here.
async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


async def get_templates(request: Request) -> Templates:
    return cast(Templates, request.app.state.templates)


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
Result = TypeVar("Result")

_NO_WRITE_LOCK = "_govlink_no_write_lock"


def no_write_lock(endpoint: Endpoint) -> Endpoint:
    """Mark a POST or PUT route whose transaction must not begin with the write lock: one that only reads (a
    query sent in a body), or one that receives a file first and takes the lock itself once the file is in."""
    setattr(endpoint, _NO_WRITE_LOCK, True)
    return endpoint


# Threads for a request's work that shapes rows in Python (a page of rows read, masked and logged): more of them
# than a couple per core only take the GIL from one another.  Measured on 2 cores, 16 clients asking for a masked
# 100-row page: 15.5 ms of CPU an answer in 4 threads, 18.9 ms in the 40 of the shared pool.
ROW_THREADS = 2 * (os.cpu_count() or 1)


async def in_row_threads(request: Request, work: Callable[[], Result]) -> Result:
    """Run ``work`` in one of the app's :data:`ROW_THREADS` threads (waiting for one without holding the loop),
    leaving the shared pool to routes that wait on the database or a file."""
    limiter = getattr(request.app.state, "row_threads", None)
    if limiter is None:  # made on the event loop, which anyio's limiter needs
        limiter = request.app.state.row_threads = anyio.CapacityLimiter(ROW_THREADS)
    return await anyio.to_thread.run_sync(work, limiter=limiter)


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, committed when the route returns without an error.

    A request that changes something (POST, PUT, PATCH, DELETE) runs in a transaction that holds the write
    lock from its start (:func:`govlink.db.engine.begin_writing`), unless its route is marked
    :func:`no_write_lock`.  The transparency-log entries the request made are committed before the answer
    (:func:`govlink.transparency.writer.settle_entries`), awaited rather than waited for in a thread.

    ``async``: making a session touches no database, and a transaction that only read ends at once, so a
    worker thread (a hop every request pays for) is taken only to begin writing and to end a transaction that
    began writing (the request's own, or an upload's once its file is in).  A request holds one of the app's
    database slots (:data:`govlink.db.engine.REQUEST_SLOTS`) while it has a session, so work done on the event
    loop never waits for a pooled connection."""
    async with cast(asyncio.Semaphore, request.app.state.request_slots):
        session = cast(sessionmaker[Session], request.app.state.sessions)()
        collect_entries(session)
        route = request.scope.get("route")
        writes = request.method in UNSAFE_METHODS and not getattr(getattr(route, "endpoint", None), _NO_WRITE_LOCK,
                                                                  False)
        try:
            if writes:
                await run_in_threadpool(begin_writing, session)
            try:
                yield session
            finally:
                await settle_entries(session)  # a refusal's entry too: committed before any answer
        except Exception:
            await _finish(session, commit=False)
            raise
        await _finish(session, commit=True)


@asynccontextmanager
async def slot_given_back(request: Request) -> AsyncIterator[None]:
    """Give the request's database slot back for the block, for a request that waits long on its client with no
    transaction open (an upload streaming in), so that slow clients cannot hold every slot; taken again after."""
    slots = cast(asyncio.Semaphore, request.app.state.request_slots)
    slots.release()
    try:
        yield
    finally:
        await slots.acquire()


async def _finish(session: Session, *, commit: bool) -> None:
    if not session.in_transaction():
        session.close()
    elif began_writing(session) or has_side_writes(session):
        await run_in_threadpool(_end, session, commit=commit)
    else:  # a reading transaction's end waits for nothing: no thread for it
        _end(session, commit=commit)


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


# scope="function": the transaction commits before the response is sent. With the default ("request") it
# would commit afterwards, so a browser following a redirect could arrive before its new session exists,
# and data could leave before its transparency-log entry is committed.
DbSession = Annotated[Session, Depends(db_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]
AppTemplates = Annotated[Templates, Depends(get_templates)]


async def current_actor(request: Request, session: DbSession, settings: AppSettings) -> Actor:
    """The caller: a bearer token wins over a session cookie; otherwise anonymous.

    ``async``: one indexed read, done on the event loop (the request holds a database slot), costs less than
    the hop to a worker thread every request would pay."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        actor = accounts.actor_from_token(session, header[7:].strip())
        if actor is None:
            raise NotSignedIn("the API token is unknown, expired or revoked", code="bad_token")
        request.state.actor = actor
        return actor
    actor = ANONYMOUS
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = accounts.actor_from_session(
            session, cookie, lifetime=dt.timedelta(hours=settings.session_hours)
        )
        if found is not None:
            actor = found[0]
    request.state.actor = actor
    request.state.csrf_token = request.cookies.get(CSRF_COOKIE) or new_secret(24)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def authorize(request: Request, actor: CurrentActor) -> None:
    """Refuse the request unless the matrix lets this actor call this route; check CSRF."""
    route = request.scope.get("route")
    rule = rule_for(getattr(route, "name", None))
    if rule is None or not rule.permits(actor):
        if not actor.is_authenticated and (rule is None or rule.allow != "anyone"):
            raise NotSignedIn("sign in to continue")
        raise Forbidden("your account may not do this")
    # CSRF guards ambient credentials (the session cookie) and the sign-in form; an anonymous API call
    # carries none, and a token is never sent by a browser on its own.
    anonymous_api = actor.via == "anonymous" and request.url.path.startswith("/api/")
    if request.method in UNSAFE_METHODS and actor.via != "token" and not anonymous_api:
        await _check_csrf(request)


async def _check_csrf(request: Request) -> None:
    """Double-submit check: the form field or header must equal the CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        presented = value if isinstance(value, str) else None
    if not cookie or not presented or not same(cookie, presented):
        raise Forbidden("the form has expired or did not come from this site; reload and try again",
                        code="csrf")
