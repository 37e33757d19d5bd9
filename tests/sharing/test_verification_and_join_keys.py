"""Verification (核验) answers yes / no / unknown from the registries, logged, never the data; join keys are
pseudonyms of the consuming department."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.kit.errors import Forbidden, InvalidInput
from govlink.registry import service as registry
from govlink.sharing import delivery, pseudonyms, service
from govlink.sharing.schemas import ShareRequestIn, Verdict
from govlink.sharing.verification import verify_enterprise, verify_person
from govlink.standards.credit_code import make_credit_code
from govlink.standards.id_number import Gender, make_id_number
from govlink.transparency import service as transparency
from tests.sharing.conftest import BASIS, ENTERPRISES, PERSONS, PURPOSE, District

CHECK = "社会救助申请人身份核验"


@pytest.fixture
def linked(session: Session, district: District) -> District:
    """The district's persons and enterprises linked into the base registries."""
    registry.link(session, SYSTEM)
    return district


def test_a_name_is_checked_against_the_id_number(session: Session, linked: District) -> None:
    name, number = PERSONS[0][0], PERSONS[0][1]
    ask = linked.analyst
    assert verify_person(session, ask, name=name, id_number=number, purpose=CHECK) is Verdict.YES
    assert verify_person(session, ask, name="張小三", id_number=number.lower(), purpose=CHECK) is Verdict.YES
    assert verify_person(session, ask, name=PERSONS[1][0], id_number=number, purpose=CHECK) is Verdict.NO
    broken = number[:-1] + ("0" if number[-1] != "0" else "1")  # the check character no longer fits
    assert verify_person(session, ask, name=name, id_number=broken, purpose=CHECK) is Verdict.NO  # no one's
    stranger = make_id_number("110101", dt.date(1990, 3, 7), 3, Gender.MALE)
    assert verify_person(session, ask, name=name, id_number=stranger, purpose=CHECK) is Verdict.UNKNOWN
    logged = transparency.search(session, kind="sharing.verified", limit=5)
    assert [e.document["details"]["verdict"] for e in logged if e.document] == ["unknown", "no", "no", "yes", "yes"]
    first = logged[-1].document
    assert first is not None and first["subjects"] and first["subjects"][0].startswith("person:P")
    assert first["details"]["purpose"] == CHECK and number not in str(first)  # the log holds no ID number


def test_a_credit_code_is_checked_for_registration_and_status(session: Session, linked: District) -> None:
    active, deregistered = ENTERPRISES[0][0], ENTERPRISES[1][0]
    ask = linked.analyst
    assert verify_enterprise(session, ask, credit_code=active, purpose=CHECK) is Verdict.YES
    assert verify_enterprise(session, ask, credit_code=active, name="杭州隆宇医疗器械有限公司",
                             purpose=CHECK) is Verdict.YES
    assert verify_enterprise(session, ask, credit_code=active, name="另一家公司", purpose=CHECK) is Verdict.NO
    assert verify_enterprise(session, ask, credit_code=deregistered, purpose=CHECK) is Verdict.NO
    unknown = make_credit_code("9", "1", "330106", "MA7W8Y9X")
    assert verify_enterprise(session, ask, credit_code=unknown, purpose=CHECK) is Verdict.UNKNOWN
    assert verify_enterprise(session, ask, credit_code="91330106", purpose=CHECK) is Verdict.NO


def test_verification_is_for_officials_with_a_purpose(session: Session, linked: District) -> None:
    public = Actor(user_id=99, username="citizen", roles=frozenset({Role.PUBLIC}), via="session")
    with pytest.raises(Forbidden):
        verify_person(session, public, name="张小三", id_number=PERSONS[0][1], purpose=CHECK)
    with pytest.raises(InvalidInput):
        verify_person(session, linked.analyst, name="张小三", id_number=PERSONS[0][1], purpose=" ")


def _grant_for(session: Session, district: District, analyst: Actor) -> int:
    request = service.submit_request(session, analyst, ShareRequestIn(
        resource_code=district.households, purpose=PURPOSE, legal_basis=BASIS, scenario="比对本部门救助对象",
        items=["姓名", "公民身份号码"], days=30), district.rules)
    return service.approve(session, district.approver, request.id, district.rules).id


def test_join_keys_are_per_department_pseudonyms(session: Session, district: District) -> None:
    secret = bytes(range(32))
    mz, rs = _grant_for(session, district, district.analyst), _grant_for(session, district, district.analyst_rs)

    def keys(actor: Actor, grant: int) -> list[str | None]:
        page = delivery.query(session, actor, district.households, purpose=PURPOSE, grant_id=grant,
                              join_key_secret=secret)
        assert all(r["公民身份号码"] != p[1] for r, p in zip(page.rows, PERSONS, strict=True))  # still masked
        return [r[delivery.JOIN_KEY] for r in page.rows]

    first, again, other = keys(district.analyst, mz), keys(district.analyst, mz), keys(district.analyst_rs, rs)
    assert first == again and len(set(first)) == len(PERSONS)
    assert first[0] == pseudonyms.pseudonymise(secret, "MZ", "person", PERSONS[0][1])
    assert not set(first) & set(other)  # two departments cannot join their extracts on it
    assert transparency.search(session, kind="sharing.read", limit=1)[0].document["details"]["join_key"]  # type: ignore[index]


def test_a_join_key_needs_the_subjects_number_in_the_grant(session: Session, district: District) -> None:
    request = service.submit_request(session, district.analyst, ShareRequestIn(
        resource_code=district.households, purpose=PURPOSE, legal_basis=BASIS, scenario="统计", items=["所属街道"],
        days=30), district.rules)
    grant = service.approve(session, district.approver, request.id, district.rules)
    with pytest.raises(Forbidden) as refused:
        delivery.query(session, district.analyst, district.households, purpose=PURPOSE, grant_id=grant.id,
                       join_key_secret=bytes(32))
    assert refused.value.code == "sharing.items"
