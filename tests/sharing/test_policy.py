"""The sharing rules as pure decisions: states, who decides, row scopes, masking and pseudonyms."""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.accounts.roles import Role
from govlink.sharing import pseudonyms
from govlink.sharing.policy import (
    Action,
    Decider,
    RequestState,
    SharingRules,
    decision_refusal,
    filters_refusal,
    first_state,
    is_masked,
    mask_item,
    next_state,
    same_purpose,
)
from govlink.sharing.schemas import RowCondition
from govlink.standards.credit_code import make_credit_code
from govlink.standards.id_number import Gender, make_id_number

S = RequestState


@pytest.mark.parametrize(("share_type", "check", "expected"), [
    ("conditional", False, S.PENDING), ("none", False, S.COORDINATION), ("conditional", True, S.COMPLIANCE),
    ("none", True, S.COMPLIANCE),
])
def test_where_a_request_waits_first(share_type: str, check: bool, expected: RequestState) -> None:
    assert first_state(share_type, SharingRules("SJJ", compliance_check=check)) is expected


@pytest.mark.parametrize(("state", "action", "share_type", "expected"), [
    (S.COMPLIANCE, Action.CLEAR, "conditional", S.PENDING),
    (S.COMPLIANCE, Action.CLEAR, "none", S.COORDINATION),
    (S.COMPLIANCE, Action.REFUSE, "conditional", S.REFUSED),
    (S.PENDING, Action.APPROVE, "conditional", S.APPROVED),
    (S.PENDING, Action.REFUSE, "conditional", S.REFUSED),
    (S.COORDINATION, Action.APPROVE, "none", S.APPROVED),
    (S.APPEALED, Action.APPROVE, "conditional", S.APPROVED),
    (S.APPEALED, Action.REFUSE, "conditional", S.DISMISSED),
    (S.PENDING, Action.WITHDRAW, "conditional", S.WITHDRAWN),
])
def test_allowed_steps(state: RequestState, action: Action, share_type: str, expected: RequestState) -> None:
    assert next_state(state, action, share_type=share_type) is expected


@pytest.mark.parametrize(("state", "action", "refused_stage"), [
    (S.COMPLIANCE, Action.APPROVE, None),  # the check is not the provider's answer
    (S.APPROVED, Action.REFUSE, None),
    (S.REFUSED, Action.APPROVE, "pending"),
    (S.REFUSED, Action.APPEAL, "compliance"),  # the office does not hear an appeal of its own refusal
    (S.DISMISSED, Action.APPEAL, "pending"),
    (S.WITHDRAWN, Action.WITHDRAW, None),
])
def test_refused_steps(state: RequestState, action: Action, refused_stage: str | None) -> None:
    with pytest.raises(ValueError):
        next_state(state, action, share_type="conditional", refused_stage=refused_stage)


def test_an_appeal_follows_a_providers_refusal() -> None:
    assert next_state(S.REFUSED, Action.APPEAL, share_type="conditional", refused_stage="pending") is S.APPEALED


REQUESTER, PROVIDER, THIRD, OFFICE = 1, 2, 3, 4


def decider(role: Role, department: int, name: str = "someone") -> Decider:
    return Decider(name, frozenset({role}), department)


@pytest.mark.parametrize(("who", "state", "escalated", "allowed"), [
    (decider(Role.APPROVER, PROVIDER), S.PENDING, False, True),
    (decider(Role.STEWARD, PROVIDER), S.PENDING, False, False),
    (decider(Role.APPROVER, THIRD), S.PENDING, False, False),
    (decider(Role.APPROVER, REQUESTER), S.PENDING, False, False),
    (decider(Role.ADMIN, OFFICE), S.PENDING, False, False),
    (decider(Role.ADMIN, OFFICE), S.PENDING, True, True),
    (decider(Role.ADMIN, OFFICE), S.COMPLIANCE, False, True),
    (decider(Role.APPROVER, PROVIDER), S.COORDINATION, False, False),
    (decider(Role.APPROVER, PROVIDER), S.APPEALED, False, False),
    (decider(Role.ADMIN, REQUESTER), S.APPEALED, False, False),  # the office's own request
    (decider(Role.APPROVER, PROVIDER, "the-requester"), S.PENDING, False, False),
])
def test_who_decides(who: Decider, state: RequestState, escalated: bool, allowed: bool) -> None:
    why = decision_refusal(who, state=state, escalated=escalated, requested_by="the-requester",
                           requester_department=REQUESTER, provider_department=PROVIDER)
    assert (why is None) is allowed, why


values = st.text(alphabet="北山文新街道古荡灵隐", min_size=1, max_size=4)


@given(st.lists(values, min_size=1, max_size=6, unique=True), st.data())
def test_filters_inside_the_scope_pass_and_outside_are_refused(scope_values: list[str], data: st.DataObject) -> None:
    scope = [RowCondition(item="街道", values=tuple(scope_values))]
    inside = data.draw(st.lists(st.sampled_from(scope_values), min_size=1, unique=True))
    assert filters_refusal([RowCondition(item="街道", values=tuple(inside))], scope, {"街道", "姓名"}) is None
    outside = data.draw(values.filter(lambda v: v not in scope_values))
    refusal = filters_refusal([RowCondition(item="街道", values=(*inside, outside))], scope, {"街道"})
    assert refusal is not None and refusal[0] == "rows"
    # A filter on an item the scope does not bound is ANDed with the scope, so it is allowed.
    assert filters_refusal([RowCondition(item="姓名", values=(outside,))], scope, {"街道", "姓名"}) is None


def test_prefix_scopes() -> None:
    scope = [RowCondition(item="地址", op="prefix", values=("浙江省杭州市西湖区北山街道",))]
    narrower = RowCondition(item="地址", op="prefix", values=("浙江省杭州市西湖区北山街道保俶路",))
    wider = RowCondition(item="地址", op="prefix", values=("浙江省杭州市西湖区",))
    exact = RowCondition(item="地址", values=("浙江省杭州市西湖区北山街道保俶路12号",))
    assert filters_refusal([narrower, exact], scope, {"地址"}) is None
    refusal = filters_refusal([wider], scope, {"地址"})
    assert refusal is not None and refusal[0] == "rows"
    closed = [RowCondition(item="地址", values=("a", "b"))]
    assert filters_refusal([RowCondition(item="地址", op="prefix", values=("a",))], closed, {"地址"}) is not None
    assert filters_refusal([exact], [], {"姓名"}) is not None  # an item outside the grant is not filtered on


def test_purposes_compare_as_people_write_them() -> None:
    assert same_purpose(" 最低生活保障  资格审核", "最低生活保障 资格审核")
    assert same_purpose("Subsidy CHECK", "subsidy check")
    assert not same_purpose("人口普查", "最低生活保障资格审核")


def test_default_display_by_sensitivity() -> None:
    assert mask_item("person.name", True, ["张小三", None, ""]) == ["张*三", None, ""]
    assert mask_item("person[guardian].phone", True, ["13812345678"]) == ["138****5678"]
    assert mask_item("person.id_number", True, ["110101199003071234"]) == ["110101********1234"]
    address = "浙江省杭州市西湖区北山街道保俶路12号"
    assert mask_item("person.address", True, [address]) == ["浙江省杭州市西湖区北山街道…"]
    # A municipality is province and city at once: named once.
    assert mask_item("person.address", True, ["北京市朝阳区建外街道建国路1号"]) == ["北京市朝阳区建外街道…"]
    assert mask_item("enterprise.uscc", False, ["91330106MA2B3C4D5E"]) == ["91330106MA2B3C4D5E"]
    assert mask_item(None, True, ["低保"]) == ["****"]
    assert mask_item(None, False, ["低保"]) == ["低保"]
    assert is_masked("person.name", True) and not is_masked("person.gender", True)
    assert not is_masked("enterprise.name", False) and is_masked("person[legal_rep].name", True)


# --- pseudonyms -----------------------------------------------------------------------------------------------

SECRET = bytes(range(32))
ID = make_id_number("330106", dt.date(1980, 5, 17), 12, Gender.MALE)
departments = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=8)
id_numbers = st.builds(lambda d, s, g: make_id_number("330106", d, s, g),
                       st.dates(dt.date(1930, 1, 1), dt.date(2020, 12, 31)), st.integers(0, 99),
                       st.sampled_from(list(Gender)))


@given(departments, departments, id_numbers)
def test_pseudonyms_are_stable_per_department_and_differ_across(a: str, b: str, number: str) -> None:
    first = pseudonyms.pseudonymise(SECRET, a, "person", number)
    assert first == pseudonyms.pseudonymise(SECRET, a, "person", number.lower())  # any written form
    assert first.startswith("p1") and len(first) == 34 and number not in first
    if a != b:
        assert first != pseudonyms.pseudonymise(SECRET, b, "person", number)
    assert first != pseudonyms.pseudonymise(bytes(32), a, "person", number)  # it takes the platform's secret


def test_a_pseudonym_is_not_a_plain_hash() -> None:
    made = pseudonyms.pseudonymise(SECRET, "MZ", "person", ID)
    for digest in (hashlib.sha256(ID.encode()).hexdigest(), hashlib.md5(ID.encode()).hexdigest()):
        assert made[2:] not in digest
    code = make_credit_code("9", "1", "330106", "MA2B3C4D")
    assert pseudonyms.pseudonymise(SECRET, "MZ", "enterprise", code) != pseudonyms.pseudonymise(
        SECRET, "RS", "enterprise", code)
    with pytest.raises(ValueError, match="not a valid ID number"):
        pseudonyms.pseudonymise(SECRET, "MZ", "person", "12345")


def test_the_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "pseudonym.key"
    secret = pseudonyms.load_or_create_secret(path)
    assert len(secret) == 32 and pseudonyms.load_or_create_secret(path) == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="at least"):
        pseudonyms.load_or_create_secret(path)
