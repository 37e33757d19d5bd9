"""The JSON API of pulls: where a resource's rows are pulled from, running the pull now, and forgetting it."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, SecretStr

from govlink.ingest import pulls, service
from govlink.ingest.models import DataPull
from govlink.web.deps import AppSettings, CurrentActor, DbSession

router = APIRouter(tags=["data"])


class PullIn(BaseModel):
    url: SecretStr = Field(max_length=2000, description="SQLAlchemy URL of the department's database, e.g. "
                           "postgresql+psycopg://user:password@host/database; never shown with its password.")
    query: str = Field(min_length=1, max_length=100_000,
                       description="One SELECT (or WITH … SELECT) statement; it runs read-only.")
    scheduled: bool = Field(default=True, description="Also pull on the resource's update cycle.")


class PullOut(BaseModel):
    resource: str
    url: str = Field(description="The URL with its password hidden.")
    query: str
    scheduled: bool
    last_run_at: str | None
    last_outcome: str
    created_by: str
    created_at: str


def pull_out(code: str, pull: DataPull) -> PullOut:
    return PullOut(resource=code, url=pulls.shown_url(pull), query=pull.query, scheduled=pull.scheduled,
                   last_run_at=pull.last_run_at.isoformat() if pull.last_run_at else None,
                   last_outcome=pull.last_outcome, created_by=pull.created_by, created_at=pull.created_at.isoformat())


@router.put("/api/resources/{code}/pull", name="ingest.api.pull_set", response_model=PullOut)
def set_pull(code: str, body: PullIn, session: DbSession, actor: CurrentActor) -> PullOut:
    """Set (or replace) the database and query the resource's rows are pulled from."""
    pull = pulls.register_pull(session, actor, code, body.url.get_secret_value(), body.query,
                               scheduled=body.scheduled)
    return pull_out(code, pull)


@router.get("/api/resources/{code}/pull", name="ingest.api.pull_get", response_model=PullOut)
def get_pull(code: str, session: DbSession, actor: CurrentActor) -> PullOut:
    """Where the resource's rows are pulled from (password hidden), and how the last run went."""
    resource, pull = pulls.pull_of(session, actor, code)
    return pull_out(resource.code, pull)


@router.post("/api/resources/{code}/pull/run", name="ingest.api.pull_run", response_model=service.IngestOutcome)
def run_pull(code: str, session: DbSession, actor: CurrentActor, settings: AppSettings) -> service.IngestOutcome:
    """Pull the resource's rows now and publish them as its next data version."""
    try:
        outcome = pulls.run_pull(session, actor, code, limits=service.limits_for(settings))
    except pulls.PullFailed:
        session.commit()  # the failed run stays noted on the pull and on the log
        raise
    return outcome


@router.delete("/api/resources/{code}/pull", name="ingest.api.pull_remove", status_code=204,
               response_class=Response)
def remove_pull(code: str, session: DbSession, actor: CurrentActor) -> Response:
    """Stop pulling the resource's rows (its versions stay)."""
    pulls.remove_pull(session, actor, code)
    return Response(status_code=204)
