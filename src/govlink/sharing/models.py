"""Tables of sharing: requests with every step kept as an event, the grants they become, and the calendar.

A request or grant names either a catalog resource or a base registry's view (``person`` / ``enterprise``),
never both; items are named as the catalog names them (item ids change when a resource is edited, names do
not), and the row scope is a list of conditions (:class:`govlink.sharing.schemas.RowCondition`) as JSON.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govlink.db.base import Base, UtcDateTime, utcnow

if TYPE_CHECKING:
    from govlink.catalog.models import Resource

ONE_TARGET = "(resource_id IS NULL) <> (registry_view IS NULL)"
# A department's request (共享申请), or a citizen's or an enterprise's application for 有条件开放 open data.
ONE_REQUESTER = "(department_id IS NULL) <> (applicant_id IS NULL)"


class ShareRequest(Base):
    """A department's request for another department's data (共享申请), or a citizen's or an enterprise's
    application for a 有条件开放 resource's open data (开放申请), from submission to its final answer."""

    __tablename__ = "share_requests"
    __table_args__ = (CheckConstraint(ONE_TARGET, name="one_target"),
                      CheckConstraint(ONE_REQUESTER, name="one_requester"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    # A member of the public applying for 有条件开放 open data (no department).
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    application: Mapped[str | None] = mapped_column(String(100))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="RESTRICT"), index=True)
    registry_view: Mapped[str | None] = mapped_column(String(16))
    # The department whose approver answers: the resource's, or the information office for a registry view.
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    share_type: Mapped[str] = mapped_column(String(16))  # the resource's when the request was made
    purpose: Mapped[str] = mapped_column(String(500))
    legal_basis: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(Text)
    items: Mapped[list[str]] = mapped_column(JSON)
    unmasked_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    row_scope: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    days: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    refused_stage: Mapped[str | None] = mapped_column(String(16))  # the state whose decider refused it
    # The close of the current stage's deadline (a district calendar day), None once answered.
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    resource: Mapped[Resource | None] = relationship(lazy="joined")
    events: Mapped[list[ShareRequestEvent]] = relationship(
        cascade="all, delete-orphan", order_by="ShareRequestEvent.id", lazy="selectin")


class ShareRequestEvent(Base):
    """One step of a request: submitted, checked, approved, refused, appealed, reminded, escalated …"""

    __tablename__ = "share_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("share_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # the request's state after the step
    comment: Mapped[str] = mapped_column(Text, default="")
    log_index: Mapped[int | None] = mapped_column(Integer)  # the step's transparency-log entry
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Grant(Base):
    """What a department may read (授权): which data, which items in full, which rows, for what, until when."""

    __tablename__ = "share_grants"
    __table_args__ = (CheckConstraint(ONE_TARGET, name="one_target"),
                      CheckConstraint(ONE_REQUESTER, name="one_requester"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("share_requests.id", ondelete="RESTRICT"),
                                                   unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    # The citizen or enterprise account an approved open-data application gave the grant to.
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    application: Mapped[str | None] = mapped_column(String(100))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="RESTRICT"), index=True)
    registry_view: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    purpose: Mapped[str] = mapped_column(String(500))
    items: Mapped[list[str]] = mapped_column(JSON)
    unmasked_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    row_scope: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    valid_from: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    granted_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")

    resource: Mapped[Resource | None] = relationship(lazy="joined")


class CalendarDay(Base):
    """An exception to the weekly rhythm: a weekday holiday (not working) or a weekend make-up day (调休)."""

    __tablename__ = "share_calendar_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ShareUsage(Base):
    """Rows delivered to one application on one district calendar day, counted for the daily row quota.

    ``application`` is ``token:<id>`` for a department's machine client (an API token) or ``user:<id>`` for an
    official in a browser; see :mod:`govlink.sharing.quotas`."""

    __tablename__ = "share_usage"

    application: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)


# --- subscriptions --------------------------------------------------------------------------------------------


class Subscription(Base):
    """A department's standing request to hear when a resource publishes a new version or a base registry
    changes: in its pollable feed, and at its webhook when it gave one (see :mod:`govlink.sharing.subscriptions`).
    """

    __tablename__ = "share_subscriptions"
    __table_args__ = (CheckConstraint(ONE_TARGET, name="one_target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="RESTRICT"), index=True)
    registry_view: Mapped[str | None] = mapped_column(String(16))
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    # The key its notices are signed with, sealed (govlink.kit.sealed) under the platform's webhook key.
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    since: Mapped[int] = mapped_column(Integer)  # its own log entry: the events logged after it are its notices
    # Webhook: every notice up to this log index was delivered or given up on.
    delivered_through: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))

    resource: Mapped[Resource | None] = relationship(lazy="joined")


class WebhookDelivery(Base):
    """One notice on its way to a subscription's webhook: every attempt counted, the last outcome kept."""

    __tablename__ = "share_webhook_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "notice"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("share_subscriptions.id", ondelete="CASCADE"),
                                                 index=True)
    notice: Mapped[int] = mapped_column(Integer)  # the log index of the event the notice announces
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed (given up)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)  # the webhook's HTTP status, None: no answer
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
