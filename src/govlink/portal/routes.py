"""Platform-wide JSON endpoints that belong to no domain."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

import govlink
from govlink.db.migrate import current_revision, head_revision
from govlink.web.deps import DbSession

router = APIRouter(prefix="/api", tags=["platform"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    schema_revision: str | None
    schema_current: bool


@router.get("/health", name="portal.api.health", response_model=Health)
def health(session: DbSession) -> Health:
    """For load balancers: 200 when the database answers; says whether the schema is current."""
    session.execute(text("SELECT 1"))
    connection = session.connection()
    revision = current_revision(connection)
    return Health(
        status="ok",
        version=govlink.__version__,
        database=connection.dialect.name,
        schema_revision=revision,
        schema_current=revision == head_revision(),
    )
