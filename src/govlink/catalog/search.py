"""Full-text search over the catalog, the same on SQLite (FTS5) and PostgreSQL (tsvector).

GovLink segments Chinese itself (``search_terms``: jieba words, abbreviations, pinyin); the database
only stores and matches those terms, so both engines see identical terms and rank by name matches
first (FTS5 bm25 with column weights; ts_rank with weight A for the name).  Pinyin and initials
queries (``shebao``, ``sbcb``) match keys kept on the resource row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, Integer, Select, String, func, literal_column, or_, select, text, type_coerce, union_all
from sqlalchemy.orm import Session, lazyload

from govlink.catalog.models import Resource
from govlink.catalog.search_terms import index_terms, initials_key, is_latin, pinyin_key, query_terms
from govlink.catalog.vocabulary import OpenType, Status
from govlink.kit.errors import InvalidInput

# Match a pinyin or initials key: ranked as strongly as a name match.
KEY_SCORE = -100.0


def index_resource(session: Session, resource: Resource) -> None:
    """(Re)index one resource at once: the next search sees it."""
    name_terms = index_terms(resource.name)
    other_terms = index_terms(resource.summary, *(item.name for item in resource.items))
    resource.initials_key = initials_key(resource.name)
    resource.pinyin_key = pinyin_key(resource.name)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "INSERT INTO resource_search (resource_id, document) VALUES (:id, "
                "setweight(array_to_tsvector(CAST(:name AS text[])), 'A') || "
                "setweight(array_to_tsvector(CAST(:other AS text[])), 'B')) "
                "ON CONFLICT (resource_id) DO UPDATE SET document = excluded.document"
            ),
            {"id": resource.id, "name": _lexemes(name_terms), "other": _lexemes(other_terms)},
        )
    else:
        session.execute(text("DELETE FROM resource_search WHERE rowid = :id"), {"id": resource.id})
        session.execute(
            text("INSERT INTO resource_search (rowid, name_terms, other_terms) VALUES (:id, :name, :other)"),
            {"id": resource.id, "name": name_terms, "other": other_terms},
        )


def remove_from_index(session: Session, resource_id: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("DELETE FROM resource_search WHERE resource_id = :id"), {"id": resource_id})
    else:
        session.execute(text("DELETE FROM resource_search WHERE rowid = :id"), {"id": resource_id})


def _lexemes(terms: str) -> list[str]:
    return sorted({t for t in terms.split() if t})


def matches(session: Session, query: str) -> Select[tuple[int, float]] | None:
    """A SELECT of (resource_id, score) for the query, lower score first; None for an empty query."""
    terms = query_terms(query)
    parts: list[Select[tuple[int, float]]] = []
    if terms:
        if session.get_bind().dialect.name == "postgresql":
            tsquery = " | ".join("'" + t.replace("\\", "").replace("'", "''") + "'" for t in terms)
            fulltext = text(
                "SELECT resource_id, -ts_rank(document, q) AS score "
                "FROM resource_search, to_tsquery('simple', :tsq) AS q WHERE document @@ q"
            ).bindparams(tsq=tsquery)
        else:
            fts = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
            fulltext = text(
                "SELECT rowid AS resource_id, bm25(resource_search, 10.0, 1.0) AS score "
                # LIMIT -1 (no limit) keeps SQLite from flattening the subquery: bm25 only works here.
                "FROM resource_search WHERE resource_search MATCH :fts LIMIT -1"
            ).bindparams(fts=fts)
        sub = fulltext.columns(resource_id=Integer, score=Float).subquery("fulltext")
        parts.append(select(sub.c.resource_id, sub.c.score))
    if is_latin(query) and query.strip():
        pattern = "%" + query.strip().lower().replace(" ", "").replace("%", "").replace("_", "") + "%"
        parts.append(
            select(Resource.id.label("resource_id"), literal_column(str(KEY_SCORE), Float).label("score")).where(
                or_(Resource.initials_key.like(pattern), Resource.pinyin_key.like(pattern))
            )
        )
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else union_all(*parts)  # type: ignore[return-value]


# --- finding -----------------------------------------------------------------------------------

FACETS = {
    "department": Resource.department_id,
    "class": None,  # the 项 (first three digits) of the classification, computed below
    "share_type": Resource.share_type,
    "open_type": Resource.open_type,
    "format": Resource.format,
    "update_cycle": Resource.update_cycle,
    "subject_type": Resource.subject_type,
}
SORTS = ("relevance", "name", "newest", "published", "popular")
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)  # facet name → value (department: its code)
    sort: str = "relevance"
    offset: int = 0
    limit: int = 20
    public_only: bool = True  # anonymous visitors and the public see only open resources


@dataclass(frozen=True)
class SearchResult:
    total: int
    resources: list[Resource]
    facets: dict[str, dict[str, int]]


def _validated(query: SearchQuery) -> None:
    unknown = set(query.filters) - FACETS.keys()
    if unknown:
        raise InvalidInput(f"cannot filter on {sorted(unknown)[0]!r}; filters: {', '.join(FACETS)}", field="fq")
    if query.sort not in SORTS:
        raise InvalidInput(f"cannot sort by {query.sort!r}; one of {', '.join(SORTS)}", field="sort")
    if query.offset < 0 or not 1 <= query.limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"paging: start ≥ 0 and 1 ≤ rows ≤ {MAX_PAGE_SIZE}", field="rows")
    if len(query.q) > 200:
        raise InvalidInput("a query has at most 200 characters", field="q")


def _sort_column(sort: str, ranked: bool) -> tuple[Any, bool]:
    """The one column a sort needs (fetching only it keeps the per-hit cost low) and whether descending."""
    if sort == "name":
        return Resource.name, False
    if sort == "newest":
        return type_coerce(Resource.updated_at, String), True  # raw values: no per-row datetime parsing
    if sort == "published":
        return Resource.published_on, True  # every published resource has its date
    if sort == "popular" or not ranked:
        return Resource.use_count, True
    return None, False  # relevance: the score, lower is better on both engines


def find(session: Session, query: SearchQuery, department_ids: Mapping[str, int]) -> SearchResult:
    """Published resources matching the query and filters, with facet counts over the matches."""
    _validated(query)
    conditions: list[Any] = [Resource.status == Status.PUBLISHED]
    if query.public_only:
        conditions.append(Resource.open_type != OpenType.CLOSED)
    for name, value in query.filters.items():
        if name == "department":
            conditions.append(Resource.department_id == department_ids.get(value, -1))
        elif name == "class":
            conditions.append(Resource.classification.startswith(value, autoescape=True))
        else:
            conditions.append(FACETS[name] == value)
    matched = matches(session, query.q) if query.q.strip() else None
    if query.q.strip() and matched is None:
        return SearchResult(0, [], {name: {} for name in FACETS})
    facet_columns = [Resource.department_id, func.substr(Resource.classification, 1, 3), Resource.share_type,
                     Resource.open_type, Resource.format, Resource.update_cycle, Resource.subject_type]
    sort_column, descending = _sort_column(query.sort, matched is not None)
    hits = select(Resource.id, *facet_columns).where(*conditions)
    if sort_column is not None:
        hits = hits.add_columns(sort_column)
    if matched is not None:
        ranked_rows = matched.subquery("ranked_rows")
        if isinstance(matched, Select):  # one source of matches: each resource appears once already
            ranked = ranked_rows
        else:  # full text and pinyin keys: a resource may match both, keep its best score
            ranked = (select(ranked_rows.c.resource_id, func.min(ranked_rows.c.score).label("score"))
                      .group_by(ranked_rows.c.resource_id).subquery("ranked"))
        if sort_column is None:
            hits = hits.add_columns(ranked.c.score)
        hits = hits.join(ranked, ranked.c.resource_id == Resource.id)
    # One query brings every hit's facet and sort values: the facets are counted here, not by seven more
    # queries that would each run the full-text match again.
    rows: list[tuple[Any, ...]] = [tuple(row) for row in session.execute(hits)]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(len(FACETS) + 1)]
    facets = {name: {str(value): count for value, count in Counter(columns[position]).most_common()}
              for position, name in enumerate(FACETS, start=1)}
    codes = {v: k for k, v in department_ids.items()}
    facets["department"] = {codes.get(int(k), k): v for k, v in facets["department"].items()}
    # Sort on (value, id); ties fall to the id in the same direction, so paging is stable.
    rows.sort(key=lambda row: (row[8], row[0]), reverse=descending)
    page_ids = [row[0] for row in rows[query.offset:query.offset + query.limit]]
    page = select(Resource).where(Resource.id.in_(page_ids)).options(lazyload(Resource.items))
    loaded = {r.id: r for r in session.scalars(page)}
    resources = [loaded[i] for i in page_ids]
    total = len(rows)
    return SearchResult(total, resources, facets)
