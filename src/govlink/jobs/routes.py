"""The jobs JSON API and page: what long work is queued, running, done or failed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from govlink.jobs import service
from govlink.web.deps import AppTemplates, DbSession

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
pages = APIRouter(include_in_schema=False)


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    progress: float
    message: str
    attempts: int
    max_attempts: int
    result: dict[str, Any] | None
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


@router.get("", name="jobs.api.list", response_model=list[JobOut])
def list_jobs(session: DbSession, limit: int = 100) -> list[JobOut]:
    """The newest jobs first."""
    return [JobOut.model_validate(j) for j in service.list_jobs(session, limit=max(1, min(limit, 1000)))]


@router.get("/{job_id}", name="jobs.api.get", response_model=JobOut)
def get_job(job_id: int, session: DbSession) -> JobOut:
    return JobOut.model_validate(service.get_job(session, job_id))


@pages.get("/admin/jobs", name="jobs.page.list", response_class=HTMLResponse)
def jobs_page(request: Request, session: DbSession, templates: AppTemplates) -> Response:
    jobs = [JobOut.model_validate(j) for j in service.list_jobs(session)]
    return templates.render(request, "jobs/list.html", {"jobs": jobs})
