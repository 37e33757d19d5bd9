"""Subscriptions: a department hears when a resource it may read publishes a new version, or when a linkage run
changes the base registries — in a feed it polls and, when it gives one, at its webhook.

Notices are not stored a second time: they are the transparency log's entries of those events
(``data.published`` and ``data.restored``, ``registry.linked`` and ``registry.relinked``), which are written in
the very transaction that publishes the version or finishes the run.  A notice's number is its log index, and
the index is the feed's cursor: entries are appended under the log head's lock, so they become visible in index
order without gaps, and a reader who has seen entry n has seen every entry before it.  A cursor of times or of
version ids could skip a version whose long upload committed after a later one; this one cannot.

A notice names no person and carries no data: the resource, the version, its row count and when; or the run,
how many registry records it changed and when.  A department subscribes only to what it may read (a grant in
force, a 无条件共享 resource, its own data; a registry with a grant for it, or as the information office), and
the attempt to subscribe to anything else is refused and logged like any other reach outside a grant.

Webhooks: the worker's ``sharing.deliver_notices`` job (every minute) POSTs each subscription's notices to its
URL in order, as JSON signed with HMAC-SHA256 under the subscription's secret (shown once, when it is made) in
``X-GovLink-Signature: sha256=<hex>``.  The secret is kept sealed under the platform's webhook key
(:mod:`govlink.kit.sealed`), so a copy of the database cannot forge notices.  The URL's host is resolved once
before each notice, every address is checked, and the notice goes to a checked address (:func:`post_notice`).
Delivery is at least once (``X-GovLink-Delivery`` names the notice, to drop a repeat): a failed attempt is kept
and retried with a growing pause, and after :data:`MAX_ATTEMPTS` the notice is given up and the next one tried;
the feed still lists it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

import govlink
from govlink.accounts.actor import Actor
from govlink.catalog import service as catalog
from govlink.catalog.vocabulary import Status
from govlink.db.base import utcnow
from govlink.jobs.worker import JobContext
from govlink.kit import destinations, sealed
from govlink.kit.canonical import canonical_json
from govlink.kit.errors import Conflict, InvalidInput, NotFound
from govlink.sharing import delivery
from govlink.sharing.models import Subscription, WebhookDelivery
from govlink.sharing.policy import SharingRules
from govlink.sharing.schemas import (
    DeliveryOut,
    FeedOut,
    NoticeOut,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
)
from govlink.sharing.service import department_code, forbid
from govlink.transparency import service as transparency
from govlink.transparency.service import LogEvent, RecordedEvent, record

VERSION_KINDS = ("data.published", "data.restored")
RUN_KINDS = ("registry.linked", "registry.relinked")
LOG_PAGE = 500  # entries of one kind read from the log at a time
MAX_FEED = 500
WEBHOOK_TIMEOUT = 5.0  # seconds for the subscriber's server to answer
MAX_ATTEMPTS = 8
NOTICES_PER_RUN = 100  # per subscription and job run, so one busy subscriber cannot hold up the others
SHOWN_DELIVERIES = 10

# Sends one signed notice: (url, body, headers) → the HTTP status; raises httpx.HTTPError when there is none, or
# Unreachable when the URL leads where the platform may not send.
Send = Callable[[str, bytes, Mapping[str, str]], int]


class Unreachable(Exception):
    """A webhook whose address the platform may not reach (itself, its own or a private network)."""


# --- subscribing --------------------------------------------------------------------------------------------


def subscribe(session: Session, actor: Actor, data: SubscriptionIn, rules: SharingRules, *, key: bytes,
              now: dt.datetime | None = None) -> tuple[Subscription, str | None]:
    """Subscribe the actor's department to a resource or a registry it may read; the subscription and, with a
    webhook, the secret its notices are signed with (not shown again; stored sealed under ``key``)."""
    now = now or utcnow()
    context: dict[str, Any] = {"resource": data.resource_code, "registry": data.registry,
                               "webhook": data.webhook_url is not None}
    if actor.department_id is None:
        forbid(session, actor, "department", "subscriptions are a department's: sign in as one of its officials",
               context)
    if data.webhook_url is not None:  # an address written in the URL; a host name is checked before each notice
        why = destinations.refusal(data.webhook_url, destinations.networks(rules.webhook_networks), resolver=None)
        if why is not None:
            raise InvalidInput(f"the platform does not send to this webhook: {why} (the information office can "
                               "allow a network with GOVLINK_WEBHOOK_NETWORKS)", field="webhook_url")
    resource = None
    if data.resource_code is not None:
        resource = catalog.resource_by_code(session, actor, data.resource_code)
        if resource.status != Status.PUBLISHED:
            raise Conflict(f"resource {resource.code} is not published", field="resource_code")
        if not delivery.may_read(session, actor.department_id, resource, now):
            forbid(session, actor, "no_grant", f"your department may not read {resource.code}: a department "
                   "subscribes only to data it may read (request it first)", context)
    elif (department_code(session, actor.department_id) != rules.information_office
          and not delivery.grants_in_force(session, actor.department_id, now, registry_view=data.registry)):
        forbid(session, actor, "no_grant", f"your department holds no grant for the {data.registry} registry: "
               "request it first", context)
    same = session.scalar(select(Subscription.id).where(
        Subscription.department_id == actor.department_id, Subscription.cancelled_at.is_(None),
        Subscription.resource_id == resource.id if resource else Subscription.registry_view == data.registry,
        Subscription.webhook_url == data.webhook_url if data.webhook_url else Subscription.webhook_url.is_(None)))
    if same is not None:
        raise Conflict(f"your department already has this subscription ({same})", field="resource_code"
                       if resource else "registry")
    secret = secrets.token_hex(32) if data.webhook_url else None
    subscription = Subscription(department_id=actor.department_id, created_by=actor.username,
                                resource_id=resource.id if resource else None,
                                registry_view=None if resource else data.registry, webhook_url=data.webhook_url,
                                since=-1, created_at=now)
    session.add(subscription)
    session.flush()
    if secret is not None:
        subscription.webhook_secret = sealed.seal(key, secret, _sealing_context(subscription))
    # Its notices are the events logged after its own entry.
    subscription.since = record(session, LogEvent(
        kind="sharing.subscribed", actor=actor.username, department=department_code(session, actor.department_id),
        details={**context, "subscription": subscription.id}))
    subscription.delivered_through = subscription.since if secret else None
    session.flush()
    return subscription, secret


def subscriptions_of(session: Session, actor: Actor) -> list[Subscription]:
    """The actor's department's subscriptions, newest first (cancelled ones too)."""
    return list(session.scalars(select(Subscription).where(Subscription.department_id == actor.department_id)
                                .order_by(Subscription.id.desc())))


def cancel(session: Session, actor: Actor, subscription_id: int, *, now: dt.datetime | None = None) -> Subscription:
    """End one of the department's subscriptions: no more notices, in the feed or at the webhook."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.department_id != actor.department_id:
        raise NotFound(f"your department has no subscription {subscription_id}", field="subscription")
    if subscription.cancelled_at is not None:
        raise Conflict(f"subscription {subscription_id} was already cancelled", field="subscription")
    subscription.cancelled_at, subscription.cancelled_by = now or utcnow(), actor.username
    record(session, LogEvent(kind="sharing.unsubscribed", actor=actor.username,
                             department=department_code(session, actor.department_id),
                             details={"subscription": subscription.id, "resource": _code(subscription),
                                      "registry": subscription.registry_view}))
    session.flush()
    return subscription


def _code(subscription: Subscription) -> str | None:
    return subscription.resource.code if subscription.resource else None


# --- notices ------------------------------------------------------------------------------------------------


def _log_head(session: Session) -> int:
    """One past the newest log entry this session sees: every entry below it is committed and visible."""
    newest = transparency.search(session, limit=1)
    return newest[0].index + 1 if newest else 0


def _events_between(session: Session, after: int, head: int) -> list[RecordedEvent]:
    """The publication and linkage entries with ``after`` < index < ``head``, oldest first (read newest first,
    a page of each kind at a time: the cost grows with the district's publications since ``after``)."""
    found: list[RecordedEvent] = []
    for kind in (*VERSION_KINDS, *RUN_KINDS):
        before = head
        while before > after + 1:
            page = transparency.search(session, kind=kind, before=before, limit=LOG_PAGE)
            newer = [e for e in page if e.index > after]
            found += newer
            if len(newer) < LOG_PAGE:
                break
            before = page[-1].index
    return sorted(found, key=lambda e: e.index)


def _notice(event: RecordedEvent) -> NoticeOut | None:
    """The notice of a publication or linkage entry (None when the entry was erased)."""
    if event.document is None:
        return None
    details = event.document["details"]
    at = dt.datetime.fromisoformat(event.document["at"])
    if event.kind in VERSION_KINDS:
        return NoticeOut(id=event.index, kind="version_published", at=at, subscriptions=[],
                         resource_code=details["resource"], version=int(details["version"]),
                         rows=int(details["rows_accepted"]), restored=event.kind == "data.restored")
    changed = sum(int(details.get(k, 0)) for k in ("created", "merged", "split", "retired"))
    return NoticeOut(id=event.index, kind="registry_changed", at=at, subscriptions=[], run=int(details["run"]),
                     run_kind="full" if event.kind == "registry.linked" else "incremental",
                     records_changed=changed, mentions=int(details.get("mentions", 0)))


def _concerns(subscription: Subscription, notice: NoticeOut) -> bool:
    if notice.id <= subscription.since:
        return False
    if notice.kind == "version_published":
        return subscription.resource is not None and subscription.resource.code == notice.resource_code
    return subscription.registry_view is not None  # a linkage run relinks both registries


def _notices(session: Session, after: int, head: int) -> list[NoticeOut]:
    return [n for e in _events_between(session, after, head) if (n := _notice(e)) is not None]


def _cursor(after: str | None) -> int | None:
    if after is None or not after.strip():
        return None
    try:
        value = int(after)
    except ValueError:
        raise InvalidInput("after is the next_cursor of an earlier page of the feed", field="after") from None
    if value < -1:
        raise InvalidInput("after is the next_cursor of an earlier page of the feed", field="after")
    return value


def feed(session: Session, actor: Actor, *, after: str | None = None, limit: int = 100) -> FeedOut:
    """The notices of the department's subscriptions, oldest first, after the cursor ``after`` (by default
    from its earliest subscription on); ``next_cursor`` continues from the last one."""
    if not 1 <= limit <= MAX_FEED:
        raise InvalidInput(f"limit is between 1 and {MAX_FEED}", field="limit")
    start = _cursor(after)
    subscribed = [s for s in subscriptions_of(session, actor) if s.cancelled_at is None]
    head = _log_head(session)
    if start is None:
        start = min((s.since for s in subscribed), default=head - 1)
    shown: list[NoticeOut] = []
    if subscribed:
        subscribed.sort(key=lambda s: s.id)
        for notice in _notices(session, start, head):
            answering = [s.id for s in subscribed if _concerns(s, notice)]
            if answering:
                shown.append(notice.model_copy(update={"subscriptions": answering}))
                if len(shown) == limit:
                    return FeedOut(notices=shown, next_cursor=str(notice.id))
    return FeedOut(notices=shown, next_cursor=str(max(start, head - 1)))


# --- webhooks -----------------------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    """The ``X-GovLink-Signature`` of a notice's body: HMAC-SHA256 under the subscription's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _sealing_context(subscription: Subscription) -> str:
    return f"govlink/webhook-secret/{subscription.id}"


def signing_secret(session: Session, subscription: Subscription, key: bytes) -> str:
    """The subscription's webhook secret, unsealed with ``key``.  One stored in clear (before revision 0014)
    is sealed now."""
    stored = subscription.webhook_secret
    assert stored is not None
    if sealed.is_sealed(stored):
        return sealed.unseal(key, stored, _sealing_context(subscription))
    subscription.webhook_secret = sealed.seal(key, stored, _sealing_context(subscription))
    session.flush()
    return stored


def post_notice(url: str, body: bytes, headers: Mapping[str, str], *, allowed: Sequence[str] = (),
                resolver: destinations.Resolver = destinations.resolve) -> int:
    """POST one notice, waiting at most :data:`WEBHOOK_TIMEOUT` seconds; redirects are not followed.  Every
    address the host resolves to must be public or in the ``allowed`` networks (:class:`Unreachable`), and the
    connection is made to one of those addresses, with the URL's host in ``Host`` and, over HTTPS, as the name
    the server's certificate is checked against."""
    try:
        address = destinations.checked_address(url, destinations.networks(allowed), resolver=resolver)
    except destinations.Refused as exc:
        raise Unreachable(f"the platform does not send to this webhook: {exc}") from None
    named = httpx.URL(url)
    extensions = {"sni_hostname": named.host} if named.scheme == "https" else {}
    with httpx.Client(timeout=WEBHOOK_TIMEOUT, follow_redirects=False) as client:
        return client.post(named.copy_with(host=str(address)), content=body, extensions=extensions,
                           headers={**headers, "Host": named.netloc.decode("ascii")}).status_code


def _pause(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failure: one minute, doubling, at most six hours."""
    return dt.timedelta(minutes=min(2 ** (attempts - 1), 360))


def _attempt(session: Session, subscription: Subscription, notice: NoticeOut, send: Send, key: bytes,
             now: dt.datetime) -> bool:
    """Try to deliver one notice; whether the subscription may go on to its next one (delivered or given up)."""
    assert subscription.webhook_url is not None and subscription.webhook_secret is not None
    found = session.scalar(select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id,
                                                         WebhookDelivery.notice == notice.id))
    if found is not None and found.next_attempt_at is not None and found.next_attempt_at > now:
        return False
    payload = {"subscription": subscription.id, **notice.model_dump(mode="json", exclude={"subscriptions"})}
    body = canonical_json(payload)
    headers = {"Content-Type": "application/json", "User-Agent": f"GovLink/{govlink.__version__}",
               "X-GovLink-Event": notice.kind, "X-GovLink-Delivery": f"{subscription.id}:{notice.id}",
               "X-GovLink-Signature": signature(signing_secret(session, subscription, key), body)}
    status: int | None = None
    try:  # no write is pending while the subscriber answers, so no database lock waits on it
        status = send(subscription.webhook_url, body, headers)
        error = "" if 200 <= status < 300 else f"the webhook answered HTTP {status}"
    except (httpx.HTTPError, Unreachable) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    if found is None:
        found = WebhookDelivery(subscription_id=subscription.id, notice=notice.id, state="pending", attempts=0,
                                last_error="", created_at=now)
        session.add(found)
    found.attempts += 1
    found.last_status, found.last_error = status, error
    if not error:
        found.state, found.delivered_at, found.next_attempt_at = "delivered", now, None
    elif found.attempts >= MAX_ATTEMPTS:
        found.state, found.next_attempt_at = "failed", None
    else:
        found.next_attempt_at = now + _pause(found.attempts)
    if found.state != "pending":
        subscription.delivered_through = notice.id
    session.commit()
    return found.state != "pending"


def deliver_notices(session: Session, *, key: bytes, send: Send | None = None, allowed: Sequence[str] = (),
                    now: dt.datetime | None = None) -> dict[str, int]:
    """POST every webhook subscription's undelivered notices in order (up to :data:`NOTICES_PER_RUN` each),
    committing each attempt; a subscription whose notice failed waits for its retry before its next one.
    ``key``: the platform's webhook key the secrets are sealed under; ``allowed``: the non-public networks
    webhooks may reach (:func:`post_notice`)."""
    now = now or utcnow()
    send = send or functools.partial(post_notice, allowed=allowed)
    hooked: Sequence[Subscription] = session.scalars(
        select(Subscription).where(Subscription.webhook_url.is_not(None), Subscription.cancelled_at.is_(None))
        .order_by(Subscription.id)).all()
    counts = {"subscriptions": len(hooked), "delivered": 0, "waiting": 0}
    if not hooked:
        return counts
    head = _log_head(session)
    notices = _notices(session, min(_delivered_through(s) for s in hooked), head)
    for subscription in hooked:
        through = _delivered_through(subscription)
        waiting = [n for n in notices if n.id > through and _concerns(subscription, n)]
        for notice in waiting[:NOTICES_PER_RUN]:
            if not _attempt(session, subscription, notice, send, key, now):
                counts["waiting"] += 1
                break
            counts["delivered"] += 1
        else:
            # All caught up: the next run reads the log from here on.
            if len(waiting) <= NOTICES_PER_RUN and _delivered_through(subscription) < head - 1:
                subscription.delivered_through = head - 1
                session.commit()
    return counts


def _delivered_through(subscription: Subscription) -> int:
    found = subscription.delivered_through
    return found if found is not None else subscription.since


def deliver_notices_job(context: JobContext) -> dict[str, Any]:
    """Job: deliver the webhooks' notices (scheduled every minute)."""
    with context.sessions() as session:
        return deliver_notices(session, key=sealed.load_or_create_key(context.settings.webhook_key_path),
                               allowed=context.settings.webhook_networks)


# --- out ----------------------------------------------------------------------------------------------------


def subscription_out(session: Session, subscription: Subscription) -> SubscriptionOut:
    deliveries = session.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
                                 .order_by(WebhookDelivery.id.desc()).limit(SHOWN_DELIVERIES)).all()
    return SubscriptionOut(
        id=subscription.id, department_code=department_code(session, subscription.department_id) or "",
        created_by=subscription.created_by, resource_code=_code(subscription), registry=subscription.registry_view,
        webhook_url=subscription.webhook_url, created_at=subscription.created_at,
        cancelled_at=subscription.cancelled_at, active=subscription.cancelled_at is None,
        deliveries=[DeliveryOut(notice=d.notice, state=d.state, attempts=d.attempts, last_status=d.last_status,
                                last_error=d.last_error, next_attempt_at=d.next_attempt_at,
                                delivered_at=d.delivered_at) for d in deliveries])


def created_out(session: Session, subscription: Subscription, secret: str | None) -> SubscriptionCreatedOut:
    return SubscriptionCreatedOut(**subscription_out(session, subscription).model_dump(), secret=secret)
