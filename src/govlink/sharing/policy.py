"""The sharing rules as pure decisions: the request's states, who decides, what a grant allows, what is masked.

The national rules (以共享为原则、不共享为例外): a 无条件共享 resource is read without a request, though every
call names its purpose; a 有条件共享 resource needs a request that its provider's approver answers within a
deadline, giving reasons for a refusal; a 不予共享 resource is requested only with a legal basis and goes to
the information office for coordination.  The request's states::

    submit ──► compliance ─┬─(office passes)──► pending ──(provider's approver)──► approved │ refused
      │  (when the district  └─(office refuses)─► refused          refused ──(requester appeals)──► appealed
      │   turns the check on)                                      appealed ──(office)──► approved │ dismissed
      ├──► pending            (有条件共享)
      └──► coordination ──(office)──► approved │ refused   (不予共享)
    any waiting state ──(requester withdraws)──► withdrawn

A waiting state past its deadline is escalated to the information office, which may then answer in the
provider's place.  Nobody decides a request of their own department.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from govlink.accounts.roles import Role
from govlink.catalog.vocabulary import ShareType, parse_semantic_type
from govlink.settings import Settings
from govlink.sharing.schemas import RowCondition
from govlink.standards.masking import HIDDEN, PUBLIC_ENTERPRISE_ATTRIBUTES, PUBLIC_PERSON_ATTRIBUTES, mask_value


class RequestState(StrEnum):
    COMPLIANCE = "compliance"  # awaiting the information office's compliance check
    PENDING = "pending"  # awaiting the provider department's approver
    COORDINATION = "coordination"  # 不予共享: awaiting the information office's coordination
    APPEALED = "appealed"  # a refusal appealed to the information office
    APPROVED = "approved"
    REFUSED = "refused"
    DISMISSED = "dismissed"  # the appeal was dismissed: the refusal stands
    WITHDRAWN = "withdrawn"


WAITING = frozenset({RequestState.COMPLIANCE, RequestState.PENDING, RequestState.COORDINATION,
                     RequestState.APPEALED})
OFFICE_STAGES = frozenset({RequestState.COMPLIANCE, RequestState.COORDINATION, RequestState.APPEALED})


class Action(StrEnum):
    CLEAR = "clear"  # the compliance check found nothing wrong
    APPROVE = "approve"
    REFUSE = "refuse"
    APPEAL = "appeal"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class SharingRules:
    """What the district decided about sharing (from :class:`govlink.settings.Settings`)."""

    information_office: str
    answer_days: int = 10
    compliance_check: bool = False
    max_grant_days: int = 365
    webhook_networks: tuple[str, ...] = ()  # non-public networks webhooks may reach (see kit.destinations)

    @classmethod
    def from_settings(cls, settings: Settings) -> SharingRules:
        return cls(information_office=settings.information_office, answer_days=settings.sharing_answer_days,
                   compliance_check=settings.sharing_compliance_check,
                   max_grant_days=settings.sharing_max_grant_days,
                   webhook_networks=tuple(settings.webhook_networks))


def first_state(share_type: str, rules: SharingRules) -> RequestState:
    """Where a submitted request waits first."""
    return RequestState.COMPLIANCE if rules.compliance_check else state_after_compliance(share_type)


def state_after_compliance(share_type: str) -> RequestState:
    return RequestState.COORDINATION if share_type == ShareType.NONE else RequestState.PENDING


def next_state(state: RequestState, action: Action, *, share_type: str,
               refused_stage: str | None = None) -> RequestState:
    """The state a request moves to; raises ValueError (saying why) for a step its state does not allow."""
    if action is Action.WITHDRAW and state in WAITING:
        return RequestState.WITHDRAWN
    if state is RequestState.COMPLIANCE and action is Action.CLEAR:
        return state_after_compliance(share_type)
    if state in WAITING and action is Action.REFUSE:
        return RequestState.DISMISSED if state is RequestState.APPEALED else RequestState.REFUSED
    if state in WAITING - {RequestState.COMPLIANCE} and action is Action.APPROVE:
        return RequestState.APPROVED
    if state is RequestState.REFUSED and action is Action.APPEAL:
        if refused_stage != RequestState.PENDING:
            raise ValueError("only a provider's refusal is appealed; the information office itself refused this")
        return RequestState.APPEALED
    raise ValueError(f"a request that is {state} cannot be given the step {action!r}")


# --- who decides --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decider:
    """Who is trying to decide a request, and about which request."""

    username: str
    roles: frozenset[Role]
    department_id: int | None


def decision_refusal(decider: Decider, *, state: RequestState, escalated: bool, requested_by: str,
                     requester_department: int | None, provider_department: int) -> str | None:
    """Why ``decider`` may not take the decision of ``state`` (None: they may)."""
    if decider.username == requested_by or (decider.department_id is not None
                                            and decider.department_id == requester_department):
        return "nobody decides a request of their own department"
    if state in OFFICE_STAGES:
        return None if Role.ADMIN in decider.roles else "the information office (admin) decides this stage"
    if Role.APPROVER in decider.roles and decider.department_id == provider_department:
        return None
    if escalated and Role.ADMIN in decider.roles:
        return None  # the deadline passed: the information office may answer in the provider's place
    return "only an approver of the providing department answers this request"


# --- what a grant allows ------------------------------------------------------------------------------------


def same_purpose(stated: str, granted: str) -> bool:
    """Purposes compared as people write them: case and runs of white space do not matter."""
    return " ".join(stated.split()).casefold() == " ".join(granted.split()).casefold()


def _within(condition: RowCondition, scope: RowCondition) -> bool:
    """Every row ``condition`` admits is one ``scope`` admits (both on the same item)."""
    if scope.op == "in":
        return condition.op == "in" and set(condition.values) <= set(scope.values)
    return all(any(v.startswith(p) for p in scope.values) for v in condition.values)


def filters_refusal(filters: Sequence[RowCondition], scope: Sequence[RowCondition],
                    allowed_items: Collection[str]) -> tuple[str, str] | None:
    """(code, why) when a query's filters reach outside the grant: an item it does not cover (``items``), or
    rows its row scope leaves out (``rows``); None when they stay within it."""
    for condition in filters:
        if condition.item not in allowed_items:
            return "items", f"the grant does not cover the item {condition.item!r}, so it cannot be filtered on"
        for bound in scope:
            if bound.item == condition.item and not _within(condition, bound):
                return "rows", (f"the filter on {condition.item!r} asks for rows outside the grant's row scope "
                                f"({bound.op} {', '.join(bound.values[:5])})")
    return None


def items_refusal(requested: Iterable[str], allowed_items: Collection[str]) -> tuple[str, str] | None:
    outside = [i for i in requested if i not in allowed_items]
    if outside:
        return "items", f"the grant does not cover the item(s) {', '.join(outside)}"
    return None


# --- masking --------------------------------------------------------------------------------------------------


def mask_item(semantic_type: str | None, personal: bool, values: Sequence[str | None]) -> list[str | None]:
    """Values of one item as shown without a grant that lifts its masking (names 张*三, mobiles 138****5678,
    ID numbers 110101********1234, addresses cut at the street): the default display by sensitivity."""
    if semantic_type:
        semantic = parse_semantic_type(semantic_type)
        return [mask_value(semantic.attribute, semantic.entity, v) for v in values]
    if personal:
        return [HIDDEN * 4 if v else v for v in values]
    return list(values)


def is_masked(semantic_type: str | None, personal: bool) -> bool:
    """Whether an item's default display hides anything (an enterprise's name and code are public)."""
    if semantic_type:
        semantic = parse_semantic_type(semantic_type)
        public = PUBLIC_PERSON_ATTRIBUTES if semantic.entity == "person" else PUBLIC_ENTERPRISE_ATTRIBUTES
        return semantic.attribute not in public
    return personal
