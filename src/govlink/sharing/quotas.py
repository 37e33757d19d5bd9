"""Quotas of the sharing delivery: a request rate and a daily row quota for every application.

An application is a department's machine client, an API token (its name is the application's name), or,
for an official in a browser, the official's own use.  Every delivery call (the query and the verifications)
passes two limits:

- the request rate: ``rate_per_second`` calls a second with bursts of up to ``burst``, by GCRA (a token
  bucket kept as one "theoretical arrival time" per application).  It lives in each server process's memory:
  behind a load balancer with *n* processes an application may make up to *n* times as many calls.
- the daily row quota: rows delivered to an application on one district calendar day (a verdict counts
  one), counted in the database by one atomic upsert per call, so every process sees one count.  A call is
  admitted while the day's count is below the quota and charged afterwards with the rows it delivered; a
  page is cut to the rows the quota still leaves (:attr:`Meter.rows_left`, its cursor goes on tomorrow), and a
  file bigger than what is left is refused before it is written (:meth:`Meter.take_file`).  Calls of one
  application admitted at the same moment each see the same count, so together they may go over by what they
  deliver beyond it.

An admitted call's answer carries its remaining budget (``RateLimit-*`` of draft-ietf-httpapi-ratelimit-headers);
a refused one is 429 with ``Retry-After``.  Refusals by the row quota are on the transparency log
(``sharing.refused``, code ``quota``); refusals by the rate are not, or a client could write to the log as fast
as it can call.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import Actor
from govlink.db.base import utcnow
from govlink.db.engine import after_transaction
from govlink.kit.errors import TooManyRequests
from govlink.settings import Settings
from govlink.sharing.models import ShareUsage
from govlink.sharing.service import forbid
from govlink.sharing.workdays import DISTRICT_TZ, local_date

Clock = Callable[[], dt.datetime]
DAY_SECONDS = 86_400
SECOND = 1_000_000_000  # nanoseconds
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FORGET_AFTER = 10_000  # applications remembered by the rate limiter before those with a full bucket are dropped


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """The limits every application is held to; 0 turns a limit off."""

    rate_per_second: float = 0.0
    burst: int = 1
    daily_rows: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> QuotaLimits:
        return cls(rate_per_second=settings.sharing_rate_per_second, burst=settings.sharing_burst,
                   daily_rows=settings.sharing_daily_rows)


@dataclass(frozen=True, slots=True)
class Budget:
    """What one limit leaves an application, as the ``RateLimit-*`` fields describe it."""

    limit: int
    remaining: int
    reset: float  # seconds until the budget is whole again
    policy: str  # its item of RateLimit-Policy

    def spent(self, amount: int) -> Budget:
        return Budget(self.limit, max(0, self.remaining - amount), self.reset, self.policy)


def ratelimit_headers(budgets: Sequence[Budget], *, retry_after: float | None = None) -> dict[str, str]:
    """``RateLimit-Limit/Remaining/Reset`` of the budget nearest to exhaustion, every policy in
    ``RateLimit-Policy``, and ``Retry-After`` (whole seconds, at least one) for a refusal."""
    if not budgets:
        return {}
    nearest = min(budgets, key=lambda b: b.remaining / b.limit)
    headers = {"RateLimit-Limit": str(nearest.limit), "RateLimit-Remaining": str(nearest.remaining),
               "RateLimit-Reset": str(math.ceil(nearest.reset)),
               "RateLimit-Policy": ", ".join(b.policy for b in budgets)}
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return headers


def application_key(actor: Actor) -> str:
    """Whose budget a call spends: its API token's, or for a browser session its user's."""
    return f"token:{actor.token_id}" if actor.token_id is not None else f"user:{actor.user_id}"


def application_name(session: Session, actor: Actor) -> str | None:
    """The name of the API token the actor calls with (the application a grant may name); None in a browser."""
    if actor.token_id is None:
        return None
    return accounts.token_name(session, actor.token_id)


# --- the request rate (per process) ----------------------------------------------------------------------


class RequestRate:
    """GCRA: each application may call ``per_second`` times a second, up to ``burst`` calls at once.

    Times are whole nanoseconds, so the arithmetic is exact however long the process runs."""

    def __init__(self, per_second: float, burst: int) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a request rate is above 0 with a burst of at least 1")
        self.per_second = per_second
        self.burst = burst
        self.interval = max(1, round(SECOND / per_second))  # between two calls at the rate
        self.capacity = burst * self.interval
        self.policy = f"{burst};w={math.ceil(self.capacity / SECOND)}"
        self._arrival: dict[str, int] = {}  # the theoretical arrival time: the bucket is full again then
        self._lock = threading.Lock()

    def take(self, key: str, now: int) -> tuple[Budget, float | None]:
        """Spend one call of ``key``'s bucket at ``now`` (nanoseconds): the budget left and, when the bucket is
        empty, the seconds until the next call is admitted (the bucket is left as it was)."""
        with self._lock:
            after = max(self._arrival.get(key, now), now) + self.interval
            if after - now > self.capacity:
                return (Budget(self.burst, 0, (after - self.interval - now) / SECOND, self.policy),
                        (after - now - self.capacity) / SECOND)
            if len(self._arrival) >= FORGET_AFTER:
                self._arrival = {k: t for k, t in self._arrival.items() if t > now}
            self._arrival[key] = after
        return Budget(self.burst, (self.capacity - (after - now)) // self.interval, (after - now) / SECOND,
                      self.policy), None


# --- the daily row quota (in the database) ---------------------------------------------------------------


def rows_delivered(session: Session, application: str, day: dt.date) -> int:
    """Rows delivered to ``application`` on the district calendar day ``day``."""
    found = session.scalar(select(ShareUsage.rows).where(ShareUsage.application == application,
                                                         ShareUsage.day == day))
    return found or 0


def add_rows(session: Session, application: str, day: dt.date, rows: int) -> None:
    """Add ``rows`` to ``application``'s count of ``day`` in one statement, so concurrent calls in any number
    of processes lose no count (INSERT … ON CONFLICT DO UPDATE SET rows = rows + n)."""
    values = {"application": application, "day": day, "rows": rows}
    statement: Insert
    if session.get_bind().dialect.name == "postgresql":
        on_postgresql = postgresql.insert(ShareUsage).values(values)
        statement = on_postgresql.on_conflict_do_update(
            index_elements=["application", "day"], set_={"rows": ShareUsage.rows + on_postgresql.excluded.rows})
    else:
        on_sqlite = sqlite.insert(ShareUsage).values(values)
        statement = on_sqlite.on_conflict_do_update(
            index_elements=["application", "day"], set_={"rows": ShareUsage.rows + on_sqlite.excluded.rows})
    session.execute(statement)


def seconds_to_midnight(moment: dt.datetime) -> float:
    """Seconds from ``moment`` until the district's next calendar day begins (when daily quotas renew)."""
    local = moment.astimezone(DISTRICT_TZ)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), DISTRICT_TZ)
    return (midnight - local).total_seconds()


# --- both, for one call -----------------------------------------------------------------------------------


class Meter:
    """One admitted call's allowance: charge it with the rows it delivers; its headers follow its budget."""

    def __init__(self, session: Session, actor: Actor, route: str | None, application: str, day: dt.date,
                 budgets: Mapping[str, Budget], publish: Callable[[Mapping[str, str]], None]) -> None:
        self._session = session
        self._actor = actor
        self._route = route
        self._application = application
        self._day = day
        self._budgets = dict(budgets)
        self._publish = publish
        publish(ratelimit_headers(list(self._budgets.values())))

    @property
    def headers(self) -> dict[str, str]:
        """The call's ``RateLimit-*`` headers as they stand, for an answer made as a response of its own (a file)."""
        return ratelimit_headers(list(self._budgets.values()))

    @property
    def rows_left(self) -> int | None:
        """Rows the daily quota still lets this call deliver (None: no quota)."""
        rows_budget = self._budgets.get("rows")
        return None if rows_budget is None else rows_budget.remaining

    def page_size(self, asked: int) -> int:
        """The rows a page may hold: as many as asked, at most what the daily quota leaves."""
        left = self.rows_left
        return asked if left is None else max(1, min(asked, left))

    def take_file(self, rows: int) -> None:
        """Charge a file of ``rows`` rows, which is delivered whole or not at all; refused (429, logged like any
        quota refusal) when the daily quota leaves fewer."""
        rows_budget = self._budgets.get("rows")
        if rows_budget is None or rows <= rows_budget.remaining:
            self.charge(rows)
            return
        forbid(self._session, self._actor, "quota",
               f"this file holds {rows} rows and this application's daily quota leaves {rows_budget.remaining} "
               f"for {self._day.isoformat()}: filter the rows, or wait until the quota renews at midnight "
               f"(district time), in {math.ceil(rows_budget.reset)} s",
               {"route": self._route, "application": self._application, "day": self._day.isoformat(),
                "quota": rows_budget.limit, "rows": rows, "left": rows_budget.remaining},
               error=TooManyRequests, headers=ratelimit_headers(list(self._budgets.values()),
                                                                retry_after=rows_budget.reset))

    def charge(self, rows: int) -> None:
        """Count ``rows`` delivered by this call against the daily quota (when there is one)."""
        rows_budget = self._budgets.get("rows")
        if rows_budget is None or rows <= 0:
            return
        application, day = self._application, self._day  # counted once the call's transaction ends, failed or not
        after_transaction(self._session, lambda own: add_rows(own, application, day, rows))
        self._budgets["rows"] = rows_budget.spent(rows)
        self._publish(ratelimit_headers(list(self._budgets.values())))


class Quotas:
    """The limits of one server process: the rate limiter's memory, and the clock both limits read."""

    def __init__(self, limits: QuotaLimits, *, clock: Clock = utcnow) -> None:
        self.limits = limits
        self.clock = clock
        self.rate = RequestRate(limits.rate_per_second, limits.burst) if limits.rate_per_second > 0 else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Quotas:
        return cls(QuotaLimits.from_settings(settings))

    def admit(self, session: Session, actor: Actor, *, route: str | None,
              publish: Callable[[Mapping[str, str]], None]) -> Meter:
        """Admit a delivery call of ``actor`` or refuse it with 429 (which limit, and when to retry); the
        admitted call's ``RateLimit-*`` headers are handed to ``publish``, now and after each charge."""
        now = self.clock()
        application = application_key(actor)
        budgets: dict[str, Budget] = {}
        if self.rate is not None:
            budgets["rate"], wait = self.rate.take(application, (now - EPOCH) // dt.timedelta(microseconds=1) * 1000)
            if wait is not None:
                raise TooManyRequests(
                    f"this application is held to {self.rate.per_second:g} calls a second (in bursts of up to "
                    f"{self.rate.burst}); try again in {max(1, math.ceil(wait))} s", code="sharing.rate",
                    headers=ratelimit_headers(list(budgets.values()), retry_after=wait))
        day = local_date(now)
        if self.limits.daily_rows > 0:
            used = rows_delivered(session, application, day)
            renews = seconds_to_midnight(now)
            budgets["rows"] = Budget(self.limits.daily_rows, max(0, self.limits.daily_rows - used), renews,
                                     f"{self.limits.daily_rows};w={DAY_SECONDS}")
            if used >= self.limits.daily_rows:
                forbid(session, actor, "quota",
                       f"this application's quota of {self.limits.daily_rows} rows a day is used up for "
                       f"{day.isoformat()}; it renews at midnight (district time), in {math.ceil(renews)} s",
                       {"route": route, "application": application, "day": day.isoformat(),
                        "quota": self.limits.daily_rows, "delivered": used},
                       error=TooManyRequests, headers=ratelimit_headers(list(budgets.values()), retry_after=renews))
        return Meter(session, actor, route, application, day, budgets, publish)
