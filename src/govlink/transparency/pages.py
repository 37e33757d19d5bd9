"""Pages of the transparency log: the public record and its proofs, and the auditor's search."""

from __future__ import annotations

import base64
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from govlink.transparency import service
from govlink.transparency.routes import Key, Tree, my_record_entries
from govlink.web.deps import AppTemplates, CurrentActor, DbSession

router = APIRouter(include_in_schema=False)


@router.get("/transparency", name="transparency.page.public", response_class=HTMLResponse)
def public(request: Request, session: DbSession, templates: AppTemplates, tree: Tree, key: Key) -> Response:
    checkpoint = service.latest_checkpoint(session) or service.publish_checkpoint(session, key, tree)
    stats = service.statistics(session)
    chart = {
        "tooltip": {},
        "grid": {"left": 180, "right": 20, "top": 10, "bottom": 30},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "data": list(stats["by_kind"])},
        "series": [{"type": "bar", "data": list(stats["by_kind"].values()), "itemStyle": {"color": "#b3261e"}}],
    }
    context = {
        "checkpoint": checkpoint,
        "root_b64": base64.b64encode(checkpoint.root_hash).decode(),
        "stats": stats,
        "chart_json": json.dumps(chart, ensure_ascii=False),
        "vkey": key.public_key_vkey(),
    }
    return templates.render(request, "transparency/public.html", context)


@router.get("/me/record", name="transparency.page.my_record", response_class=HTMLResponse)
def my_record(request: Request, session: DbSession, actor: CurrentActor, templates: AppTemplates) -> Response:
    record = my_record_entries(session, actor.subject_key) if actor.subject_key else None
    return templates.render(request, "transparency/my_record.html", {"record": record})


@router.get("/audit/log", name="transparency.page.audit", response_class=HTMLResponse)
def audit(
    request: Request,
    session: DbSession,
    templates: AppTemplates,
    kind: str | None = None,
    by: str | None = None,
    subject: str | None = None,
    before: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    found = service.search(session, kind=kind or None, actor=by or None, subject=subject or None, before=before)
    context = {
        "events": found,
        "filters": {"kind": kind or "", "by": by or "", "subject": subject or ""},
        "kinds": list(service.statistics(session)["by_kind"]),
        "next_before": found[-1].index if len(found) == 50 else None,
    }
    return templates.render(request, "transparency/audit.html", context)
