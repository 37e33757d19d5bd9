"""Every table of GovLink, for Alembic and the models-match-migrations test.

Like ``app.py`` this is a composition root: it may import every domain's models.
"""

from govlink.accounts import models as accounts_models
from govlink.catalog import models as catalog_models
from govlink.db.base import Base
from govlink.ingest import models as ingest_models
from govlink.jobs import models as jobs_models
from govlink.registry import models as registry_models
from govlink.sharing import models as sharing_models
from govlink.transparency import models as transparency_models

__all__ = ["Base", "accounts_models", "catalog_models", "ingest_models", "jobs_models", "registry_models",
           "sharing_models", "transparency_models"]

metadata = Base.metadata

# Tables made by migrations in a database-specific form and so kept out of the models: the catalog's
# full-text index (an FTS5 virtual table with its shadow tables on SQLite, a tsvector table on PostgreSQL),
# and the per-version tables of resource data, whose columns follow each uploaded file.
UNMODELLED_PREFIXES = ("resource_search", "resource_data_")


def is_modelled(name: str | None, type_: str, *_: object) -> bool:
    """Alembic's include_name hook: leave the unmodelled tables out of comparisons."""
    return not (type_ == "table" and name is not None and name.startswith(UNMODELLED_PREFIXES))
