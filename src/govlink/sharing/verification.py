"""Verification services (核验): yes, no or unknown from the base registries, never the data itself.

"Does this name go with this ID number?" and "is this credit code registered and active?" are answered
from the golden records of the registries.  ``unknown`` means the registries hold no such person or
enterprise (or no status for it): the platform neither confirms nor denies.  Every call is on the log
with its purpose and verdict, naming the entity it concerned, before the verdict is returned.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from govlink.accounts.actor import Actor
from govlink.accounts.roles import DEPARTMENT_ROLES, Role
from govlink.kit.errors import Forbidden, InvalidInput, NotFound
from govlink.registry import service as registry
from govlink.registry.golden import golden_value
from govlink.sharing.quotas import application_name
from govlink.sharing.schemas import Verdict
from govlink.sharing.service import department_code
from govlink.standards.credit_code import CreditCodeError, parse_credit_code
from govlink.standards.id_number import IdNumberError, parse_id_number
from govlink.standards.names import normalise_enterprise_name, normalise_person_name
from govlink.transparency.service import LogEvent
from govlink.transparency.writer import record_committed

# Registration statuses (登记状态) as departments write them.
ACTIVE_STATUSES = frozenset({"存续", "在业", "开业", "正常", "迁入", "active"})
INACTIVE_STATUSES = frozenset({"注销", "吊销", "撤销", "迁出", "歇业", "清算", "deregistered", "revoked"})
VERIFIERS = DEPARTMENT_ROLES | {Role.ADMIN}


def _may_verify(actor: Actor, purpose: str) -> None:
    if actor.department_id is None or not actor.roles & VERIFIERS:
        raise Forbidden("verification serves a department's officials and applications")
    if not purpose.strip():
        raise InvalidInput("name the purpose of the verification", field="purpose")


def _log(session: Session, actor: Actor, what: str, purpose: str, verdict: Verdict, subject: str | None) -> None:
    record_committed(session, LogEvent(kind="sharing.verified", actor=actor.username,
                                       department=department_code(session, actor.department_id),
                                       subjects=(subject,) if subject else (),
                                       details={"what": what, "purpose": purpose.strip(), "verdict": verdict.value,
                                                "application": application_name(session, actor)}))


def verify_person(session: Session, actor: Actor, *, name: str, id_number: str, purpose: str) -> Verdict:
    """Whether ``name`` is the name the population registry holds for ``id_number``.

    A number that is not a valid ID number belongs to no one: ``no``."""
    _may_verify(actor, purpose)
    subject = None
    try:
        standard = parse_id_number(id_number).value
    except IdNumberError:
        verdict = Verdict.NO
    else:
        try:
            entity = registry.find_by_key(session, actor, "person", standard)
        except NotFound:
            verdict = Verdict.UNKNOWN
        else:
            subject = f"person:{entity.registry_id}"
            known = entity.name or golden_value(entity.golden, "name")
            if not known:
                verdict = Verdict.UNKNOWN
            else:
                same = normalise_person_name(name) == normalise_person_name(known)
                verdict = Verdict.YES if same else Verdict.NO
    _log(session, actor, "person name and ID number", purpose, verdict, subject)
    return verdict


def verify_enterprise(session: Session, actor: Actor, *, credit_code: str, purpose: str,
                      name: str | None = None) -> Verdict:
    """Whether ``credit_code`` is registered and active in the legal-person registry (and, when ``name`` is
    given, registered under that name).  An invalid code is ``no``."""
    _may_verify(actor, purpose)
    subject = None
    try:
        standard = parse_credit_code(credit_code).value
    except CreditCodeError:
        verdict = Verdict.NO
    else:
        try:
            entity = registry.find_by_key(session, actor, "enterprise", standard)
        except NotFound:
            verdict = Verdict.UNKNOWN
        else:
            subject = f"enterprise:{entity.registry_id}"
            status = (golden_value(entity.golden, "status") or "").strip()
            known_name = entity.name or golden_value(entity.golden, "name")
            if name is not None and known_name and \
                    normalise_enterprise_name(name) != normalise_enterprise_name(known_name):
                verdict = Verdict.NO
            elif status in ACTIVE_STATUSES:
                verdict = Verdict.YES
            elif status in INACTIVE_STATUSES:
                verdict = Verdict.NO
            else:
                verdict = Verdict.UNKNOWN
    _log(session, actor, "enterprise credit code" + (" and name" if name is not None else ""), purpose, verdict,
         subject)
    return verdict
