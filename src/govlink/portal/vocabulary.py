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

# Why a record was quarantined, by reason code (the code and the standardiser's own sentence are shown beside it).
QUARANTINE_REASONS = {
    "id.length": N_("ID number of the wrong length"),
    "id.format": N_("ID number with characters that do not belong"),
    "id.area": N_("ID number with an unknown area code"),
    "id.birth_date": N_("ID number with a birth date that does not exist"),
    "id.check_digit": N_("ID number whose check character does not fit"),
    "uscc.length": N_("credit code of the wrong length"),
    "uscc.format": N_("credit code with characters that do not belong"),
    "uscc.authority": N_("credit code with an unknown registration authority"),
    "uscc.org_type": N_("credit code with an organisation type its authority does not issue"),
    "uscc.area": N_("credit code with an invalid area code"),
    "uscc.check_digit": N_("credit code whose check character does not fit"),
    "uscc.org_code": N_("credit code whose organisation code fails its own check"),
    "date.format": N_("date in a form that is not recognised"),
    "date.invalid": N_("date that does not exist"),
    "date.range": N_("date outside the plausible range"),
    "date.future": N_("date in the future"),
    "required.missing": N_("required item missing"),
    "excel.mangled": N_("number cut to 15 digits by Excel"),
    "read.too_many_columns": N_("line with more fields than the header"),
    "read.missing_columns": N_("line with fewer fields than the header"),
    "read.unquoted_value": N_("line with an unclosed or stray quote"),
    "read.line_size_over_maximum": N_("line longer than allowed"),
    "read.line_too_long": N_("line longer than allowed"),
    "read.cell_too_long": N_("cell longer than allowed"),
    "read.unsplit": N_("line that could not be split into the header's fields"),
    "json.invalid": N_("line that is not valid JSON"),
    "json.not_object": N_("JSON value that is not an object"),
}

# The registries' codes as shown in pages (``_(words["attribute." ~ code])``), and the charts' series names.
REGISTRY_WORDS = {
    "type.person": N_("Persons"), "type.enterprise": N_("Enterprises"),
    "attribute.name": N_("Name"), "attribute.id_number": N_("ID number"), "attribute.uscc": N_("Credit code"),
    "attribute.code": N_("ID number or credit code"), "attribute.birth_date": N_("Birth date"),
    "attribute.gender": N_("Gender"), "attribute.phone": N_("Phone"), "attribute.address": N_("Address"),
    "attribute.ethnicity": N_("Ethnicity"), "attribute.household_id": N_("Household number"),
    "attribute.old_tax_id": N_("Old tax ID"), "attribute.registered_on": N_("Registered on"),
    "attribute.status": N_("Business status"), "attribute.legal_rep_name": N_("Legal representative's name"),
    "state.active": N_("in use"), "state.merged": N_("merged into another entity"),
    "state.retired": N_("no record names it any more"),
    "linked_by.key": N_("same ID number or credit code"), "linked_by.score": N_("matched by score"),
    "linked_by.review": N_("matched by a reviewer"), "linked_by.alone": N_("no other record"),
    "role.": N_("subject of the record"), "role.guardian": N_("guardian"), "role.legal_rep": N_("legal representative"),
    "role.employer": N_("employer"), "role.spouse": N_("spouse"), "role.head": N_("head of household"),
    "role.contact": N_("contact"), "role.applicant": N_("applicant"),
    "event.created": N_("first linked"), "event.merged": N_("merged into"), "event.absorbed": N_("absorbed"),
    "event.split": N_("split, some records now belong to"), "event.split_from": N_("split from"),
    "event.retired": N_("retired: no record names it any more"),
    "review.pending": N_("waiting for a decision"), "review.match": N_("decided: the same"),
    "review.non_match": N_("decided: not the same"), "review.stale": N_("no longer current"),
    "conflict.open": N_("to check"), "conflict.confirmed": N_("confirmed: the sources really differ"),
    "conflict.corrected": N_("corrected at source"),
    "gender.1": N_("male"), "gender.2": N_("female"),
}
CHART_WORDS = (N_("Entities"), N_("Known to this department only"), N_("Entities held by both"))

# Sharing requests' states and steps as shown in pages (``_(words["state." ~ code])``).
SHARING_WORDS = {
    "state.compliance": N_("waiting for the compliance check"), "state.pending": N_("waiting for the provider"),
    "state.coordination": N_("waiting for coordination by the information office"),
    "state.appealed": N_("appealed to the information office"), "state.approved": N_("approved"),
    "state.refused": N_("refused"), "state.dismissed": N_("appeal dismissed"), "state.withdrawn": N_("withdrawn"),
    "event.submitted": N_("requested"), "event.compliance_passed": N_("compliance check passed"),
    "event.compliance_refused": N_("refused at the compliance check"), "event.approved": N_("approved"),
    "event.refused": N_("refused"), "event.appealed": N_("appealed"), "event.appeal_dismissed": N_("appeal dismissed"),
    "event.withdrawn": N_("withdrawn"), "event.commented": N_("commented"), "event.reminded": N_("reminded"),
    "event.escalated": N_("escalated to the information office"),
    "decision.approve": N_("Approve"), "decision.refuse": N_("Refuse"), "decision.clear": N_("Compliant: pass on"),
}
