"""The department evaluation (考核) the information office runs over the catalog and the sharing record.

Six components, each a score from 0 to 1 (None when it does not apply to the department; its weight then goes to
the others), weighed into a composite from 0 to 100 by :class:`Weights`:

- **completeness**: the mean stored metadata completeness of the department's published resources (the catalog's
  score, :mod:`govlink.catalog.quality`); 0 when it has published none.
- **timeliness**: the share of its published resources with an update cycle whose data was last published
  within that cycle (the catalog's timeliness); 0 when it has published none.
- **answer_time**: the share of the requests it received that were answered within the deadline, of those
  answered or already past it (the median and mean working days are shown beside it).
- **refusals**: 1 − its refusal rate (the requests it refused, of those it answered).
- **complaints**: data-quality complaints are the base registries' conflicts raised against the department's
  values (its value lost to the golden record's and went to its steward to check, 校核纠错): the score is the
  share of them its steward has checked (整改率).
- **use**: how much of its data others use: the grants other departments hold on its data now, and the
  sharing.read and sharing.export log entries of other departments on its resources, each relative to the most
  used department on a logarithmic scale (so one heavy reader does not flatten the rest), averaged.

Requests and reads count from ``since`` (all when None); the catalog, the conflicts and the grants are as of now.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.catalog import service as catalog
from govlink.db.base import utcnow
from govlink.registry import service as registry
from govlink.sharing.models import Grant
from govlink.sharing.policy import SharingRules
from govlink.sharing.record import Tally, day_start, median, tallies, trend
from govlink.sharing.schemas import DepartmentEvaluationOut, EvaluationOut, EvaluationWeightsOut
from govlink.transparency import service as transparency

READS = ("sharing.read", "sharing.export")


@dataclass(frozen=True)
class Weights:
    """How much each component weighs in the composite (any non-negative numbers; they are normalised)."""

    completeness: float = 20
    timeliness: float = 15
    answer_time: float = 20
    refusals: float = 15
    complaints: float = 10
    use: float = 20


DEFAULT_WEIGHTS = Weights()


def composite(components: Mapping[str, float | None], weights: Weights) -> float:
    """0–100: the weighted mean of the components that apply."""
    weighed = [(getattr(weights, name), value) for name, value in components.items() if value is not None]
    total = sum(w for w, _ in weighed)
    return round(100 * sum(w * v for w, v in weighed) / total, 1) if total else 0.0


def relative(value: int, best: int) -> float | None:
    """``value`` against the ``best`` of all departments, on a logarithmic scale (None when nobody has any)."""
    return math.log1p(value) / math.log1p(best) if best else None


def grants_to_others(session: Session, now: dt.datetime) -> Counter[int]:
    """Per providing department id, the grants in force that other departments hold on its data."""
    rows = session.execute(select(Grant.provider_id, func.count())
                           .where(Grant.department_id != Grant.provider_id, Grant.revoked_at.is_(None),
                                  Grant.valid_from <= now, Grant.valid_until > now).group_by(Grant.provider_id))
    return Counter({provider: n for provider, n in rows})


def reads_by_others(session: Session, since: dt.date | None) -> Counter[int]:
    """Per providing department id, the log's reads and exports of its resources by other departments."""
    found = transparency.count_by(session, kinds=READS, fields=("department", "details.resource"),
                                  since=day_start(since) if since else None)
    codes = {resource for _, resource in found if resource}
    providers = {r.code: r.department_id for r in catalog.resource_refs(session, codes=codes)}
    readers = {d.code: d.id for d in accounts.list_departments(session)}
    out: Counter[int] = Counter()
    for (reader, resource), n in found.items():
        provider = providers.get(resource or "")
        if provider is not None and readers.get(reader or "") != provider:
            out[provider] += n
    return out


def evaluate(session: Session, rules: SharingRules, *, since: dt.date | None = None, now: dt.datetime | None = None,
             weights: Weights = DEFAULT_WEIGHTS) -> EvaluationOut:
    """Every department's evaluation, ranked (the same score, the same rank)."""
    now = now or utcnow()
    found = tallies(session, rules, since=since, now=now)
    quality = catalog.department_quality(session, now)
    conflicts = registry.conflict_counts(session)
    grants, reads = grants_to_others(session, now), reads_by_others(session, since)
    most_grants, most_reads = max(grants.values(), default=0), max(reads.values(), default=0)

    out = []
    for department in accounts.list_departments(session):
        tally = found.get(department.id, Tally())
        q = quality.get(department.id)
        c = conflicts.get(department.id, registry.ConflictCount(0, 0, 0))
        judged = tally.answered + tally.open_overdue
        refusal_rate = min(1.0, tally.refused_by_department / tally.answered) if tally.answered else None
        use = [u for u in (relative(grants[department.id], most_grants), relative(reads[department.id], most_reads))
               if u is not None]
        components = {
            "completeness": q.completeness if q else 0.0,
            "timeliness": (q.timeliness if q else 0.0),
            "answer_time": 1 - tally.deadlines_missed / judged if judged else None,
            "refusals": 1 - refusal_rate if refusal_rate is not None else None,
            "complaints": 1 - c.open / c.raised if c.raised else None,
            "use": sum(use) / len(use) if use else None,
        }
        out.append(DepartmentEvaluationOut(
            rank=0, department_code=department.code, department_name=department.name,
            resources=q.resources if q else 0, completeness=q.completeness if q else None,
            timely=q.timely if q else 0, overdue=q.overdue if q else 0, no_data=q.no_data if q else 0,
            received=sum(tally.received.values()), answered=tally.answered,
            median_answer_days=median(tally.answer_days), deadlines_missed=tally.deadlines_missed,
            refused=tally.refused_by_department, refusal_rate=refusal_rate, conflicts=c.raised,
            conflicts_open=c.open, grants_to_others=grants[department.id], reads_by_others=reads[department.id],
            components={k: round(v, 3) if v is not None else None for k, v in components.items()},
            score=composite(components, weights)))
    out.sort(key=lambda e: (-e.score, e.department_code))
    for e in out:
        e.rank = 1 + sum(other.score > e.score for other in out)
    return EvaluationOut(since=since, weights=EvaluationWeightsOut(**asdict(weights)), departments=out,
                         trend=trend(session, since=since))
