"""Every table of GovLink, for Alembic and the models-match-migrations test.

Like ``app.py`` this is a composition root: it may import every domain's models.
"""

from govlink.accounts import models as accounts_models
from govlink.db.base import Base
from govlink.jobs import models as jobs_models
from govlink.transparency import models as transparency_models

__all__ = ["Base", "accounts_models", "jobs_models", "transparency_models"]

metadata = Base.metadata
