"""Words shown in pages that come from code rather than templates, marked for Babel's extractor.

Templates translate them with ``_(value)``; listing them here is what puts them in the catalogue.
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message


ROLE_NAMES = (N_("admin"), N_("steward"), N_("approver"), N_("analyst"), N_("auditor"), N_("public"))
JOB_STATES = (N_("queued"), N_("running"), N_("done"), N_("failed"))
TIMELINESS = (N_("timely"), N_("overdue"), N_("no_data"), N_("not_applicable"))
REVISION_ACTIONS = (N_("created"), N_("updated"), N_("submitted"), N_("returned"), N_("published"), N_("retired"))
DATA_VERSION_STATES = (N_("staged"), N_("published"), N_("superseded"))
DATA_VERSION_SOURCES = (N_("upload"), N_("pull"), N_("fix"), N_("remap"), N_("restore"))
ERROR_MESSAGES = (
    N_("sign in to continue"),
    N_("your account may not do this"),
    N_("page not found"),
    N_("wrong username or password"),
    N_("too many failed sign-ins; try again later"),
    N_("the form has expired or did not come from this site; reload and try again"),
    N_("something went wrong on our side; it has been logged"),
    N_("the two new passwords differ"),
    N_("say what to change when returning a resource"),
)
