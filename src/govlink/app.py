"""The application factory: the one module that knows every domain's routes and job handlers."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import govlink
from govlink.accounts import pages as accounts_pages
from govlink.accounts import routes as accounts_routes
from govlink.accounts import service as accounts
from govlink.catalog import ckan as catalog_ckan
from govlink.catalog import export as catalog_export
from govlink.catalog import pages as catalog_pages
from govlink.catalog import routes as catalog_routes
from govlink.db.engine import REQUEST_SLOTS, make_engine, make_sessionmaker, writing
from govlink.ingest import pages as ingest_pages
from govlink.ingest import pull_routes as ingest_pull_routes
from govlink.ingest import pulls as ingest_pulls
from govlink.ingest import routes as ingest_routes
from govlink.jobs import routes as jobs_routes
from govlink.jobs.worker import Handler, JobContext, Worker
from govlink.kit.errors import GovLinkError, NotSignedIn
from govlink.portal import pages as portal_pages
from govlink.portal import routes as portal_routes
from govlink.registry import pages as registry_pages
from govlink.registry import routes as registry_routes
from govlink.registry import service as registry
from govlink.settings import Settings
from govlink.sharing import pages as sharing_pages
from govlink.sharing import quotas as sharing_quotas
from govlink.sharing import routes as sharing_routes
from govlink.sharing import service as sharing
from govlink.sharing import subscriptions as sharing_subscriptions
from govlink.transparency import pages as transparency_pages
from govlink.transparency import routes as transparency_routes
from govlink.transparency import service as transparency
from govlink.transparency.checkpoint import Verifier
from govlink.transparency.writer import LOG_WRITER, LogWriter
from govlink.web.deps import CSRF_COOKIE, authorize
from govlink.web.templating import Templates

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "portal" / "static"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}


def _purge_sessions(context: JobContext) -> dict[str, Any]:
    with context.sessions() as session, writing(session):
        return {"purged": accounts.purge_expired_sessions(session)}


def _publish_checkpoint(context: JobContext) -> dict[str, Any]:
    key = transparency.load_or_create_key(context.settings.log_key_path, context.settings.log_origin)
    with context.sessions() as session, writing(session):
        checkpoint = transparency.publish_checkpoint(session, key, transparency.LogTree())
        return {"checkpoint": checkpoint.id, "size": checkpoint.size}


def job_handlers() -> dict[str, Handler]:
    """Every kind of background job and the function that runs it."""
    return {
        "accounts.purge_sessions": _purge_sessions,
        "transparency.publish_checkpoint": _publish_checkpoint,
        "ingest.run_due_pulls": ingest_pulls.run_due_pulls,
        "registry.relink": registry.relink_job,
        "sharing.escalate_overdue": sharing.escalate_overdue_job,
        "sharing.deliver_notices": sharing_subscriptions.deliver_notices_job,
    }


def job_schedule(settings: Settings) -> dict[str, dt.timedelta]:
    """Work the worker queues for itself, and how often."""
    return {
        "accounts.purge_sessions": dt.timedelta(hours=1),
        "transparency.publish_checkpoint": dt.timedelta(minutes=settings.checkpoint_minutes),
        "ingest.run_due_pulls": ingest_pulls.CHECK_EVERY,
        "sharing.escalate_overdue": dt.timedelta(hours=1),  # reminders and escalations of sharing requests
        "sharing.deliver_notices": dt.timedelta(minutes=1),  # subscriptions' webhooks
    }


def make_worker(settings: Settings, engine: Engine) -> Worker:
    return Worker(settings, make_sessionmaker(engine), job_handlers(), job_schedule(settings))


def all_routes(app: FastAPI) -> Iterator[BaseRoute]:
    """Every route of the app, looking inside included routers (FastAPI nests them lazily)."""
    pending = list(app.routes)
    while pending:
        route = pending.pop(0)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending[:0] = list(inner.routes)
        else:
            yield route


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    sessions: sessionmaker[Session] | None = None,
    start_worker: bool = False,
) -> FastAPI:
    """Build the web app for ``settings``; ``start_worker`` also runs a job worker in a thread.

    ``sessions`` replaces the session factory (tests bind it to a connection they roll back).
    """
    engine = engine or make_engine(settings)
    log_writer, log_engine = None, None
    if sessions is None:  # reads are logged through one group-committing writer (tests log in their transaction)
        # Its own engine: a writer waiting for a connection that the requests waiting for it hold would never come.
        log_engine = make_engine(settings)
        log_writer = LogWriter(make_sessionmaker(log_engine))
        sessions = make_sessionmaker(engine, info={LOG_WRITER: log_writer})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = Worker(settings, sessions, job_handlers(), job_schedule(settings)) if start_worker else None
        if worker is not None:
            worker.start_thread()
        yield
        if worker is not None:
            worker.stop()
        if log_writer is not None and log_engine is not None:
            log_writer.close()
            log_engine.dispose()

    app = FastAPI(
        title="GovLink",
        version=govlink.__version__,
        description="信息资源整合与共享平台 — the JSON API of GovLink. "
        "Authenticate with `Authorization: Bearer <token>` (tokens are issued on the account page).",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(authorize)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.request_slots = asyncio.Semaphore(REQUEST_SLOTS)
    app.state.templates = Templates(settings.default_locale)
    app.state.log_tree = transparency.LogTree()
    app.state.log_key = transparency.load_or_create_key(settings.log_key_path, settings.log_origin)
    app.state.witness_keys = [Verifier.parse(v) for v in settings.witness_keys]
    app.state.sharing_quotas = sharing_quotas.Quotas.from_settings(settings)  # this process's rate limiter

    # Starlette tries routes in order, every route of every router before the one that matches (about 1.5 µs
    # each): the delivery API that departments' applications call at volume (queries, verifications) comes first.
    for router in (
        sharing_routes.router,
        portal_routes.router,
        portal_pages.router,
        accounts_routes.router,
        accounts_pages.router,
        jobs_routes.router,
        jobs_routes.pages,
        catalog_routes.router,
        catalog_ckan.router,
        catalog_export.router,
        catalog_pages.router,
        ingest_routes.router,
        ingest_pull_routes.router,
        ingest_pages.router,
        registry_routes.router,
        registry_pages.router,
        sharing_pages.router,
        transparency_routes.router,
        transparency_pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_error_handlers(app)
    _install_middleware(app, settings)
    return app


def _error_response(request: Request, status: int, code: str, message: str, field: str | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message, "field": field}}, status_code=status)
    templates: Templates = request.app.state.templates
    context = {"status": status, "code": code, "message": templates.gettext(request, message), "field": field}
    return templates.render(request, "error.html", context, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GovLinkError)
    async def domain_error(request: Request, exc: GovLinkError) -> Response:
        if isinstance(exc, NotSignedIn) and not _wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={target}", status_code=303)
        response = _error_response(request, exc.status, exc.code, exc.message, exc.field)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or None
        return _error_response(request, 422, "invalid", str(first.get("msg")), field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = "page not found" if exc.status_code == 404 else str(exc.detail)
        return _error_response(request, exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_response(request, 500, "internal", "something went wrong on our side; it has been logged")


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(SecurityHeaders, secure_cookies=settings.secure_cookies)


class SecurityHeaders:
    """Every answer gets the security headers, and the CSRF cookie when the request was given a new token.

    Plain ASGI (it edits the response's start message), not Starlette's ``@app.middleware``, which runs every
    request through an extra task and body stream."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                token = scope.get("state", {}).get("csrf_token")  # set on request.state by current_actor
                if token and Request(scope).cookies.get(CSRF_COOKIE) != token:
                    cookie = Response()
                    cookie.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                                      secure=self.secure_cookies)
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, send_with_headers)
