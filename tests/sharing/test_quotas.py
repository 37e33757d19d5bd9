"""Quotas of the sharing delivery: the request rate (GCRA, per process) and the daily row quota (in the database),
their 429s and RateLimit-* headers, exact counting under concurrency, and grants bound to one application."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.accounts.schemas import TokenIn
from govlink.accounts.scopes import Scope
from govlink.db.engine import make_sessionmaker
from govlink.sharing import service
from govlink.sharing.models import ShareUsage
from govlink.sharing.quotas import Budget, QuotaLimits, Quotas, RequestRate, add_rows, ratelimit_headers, rows_delivered
from govlink.sharing.schemas import ShareRequestIn
from tests.sharing.conftest import BASIS, PERSONS, PURPOSE, District
from tests.sharing.test_routes import as_user, refusals

# 23:59 in the district (UTC+8) on a Monday: the day's quota renews a minute later.
LATE = dt.datetime(2026, 3, 2, 15, 59, tzinfo=dt.UTC)


class Clock:
    """The quotas' clock, moved by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def limit(app: FastAPI, limits: QuotaLimits, start: dt.datetime = LATE) -> Clock:
    """Hold ``app``'s delivery to ``limits`` on a clock the test moves."""
    clock = Clock(start)
    app.state.sharing_quotas = Quotas(limits, clock=clock)
    return clock


def verify(client: TestClient, headers: dict[str, str]) -> int:
    return client.post("/api/sharing/verify/person", headers=headers,
                       json={"name": PERSONS[0][0], "id_number": PERSONS[0][1], "purpose": PURPOSE}).status_code


# --- the pure parts -----------------------------------------------------------------------------------------


def test_gcra_admits_a_burst_then_the_rate() -> None:
    second = 1_000_000_000
    rate = RequestRate(per_second=2, burst=3)
    at = 100 * second
    taken = [rate.take("a", at) for _ in range(3)]
    assert [(b.remaining, wait) for b, wait in taken] == [(2, None), (1, None), (0, None)]
    refused, wait = rate.take("a", at)
    assert refused.remaining == 0 and wait == 0.5
    assert rate.take("b", at)[1] is None  # another application has its own bucket
    assert rate.take("a", at + second // 2) == (Budget(3, 0, 1.5, "3;w=2"), None)
    budget, wait = rate.take("a", at + 10 * second)  # long idle: the bucket is full again
    assert wait is None and budget.remaining == 2


def test_headers_describe_the_budget_nearest_exhaustion() -> None:
    rate = Budget(10, 9, 1, "10;w=1")
    rows = Budget(1000, 50, 3600, "1000;w=86400")
    assert ratelimit_headers([rate, rows]) == {
        "RateLimit-Limit": "1000", "RateLimit-Remaining": "50", "RateLimit-Reset": "3600",
        "RateLimit-Policy": "10;w=1, 1000;w=86400"}
    assert ratelimit_headers([rate.spent(9)], retry_after=0.2)["Retry-After"] == "1"
    assert ratelimit_headers([]) == {}


# --- through the API ----------------------------------------------------------------------------------------


def test_default_limits_are_generous_and_advertised(app: FastAPI, client: TestClient, district: District,
                                                    make_user: Callable[..., str]) -> None:
    assert app.state.sharing_quotas.limits == QuotaLimits(rate_per_second=5000, burst=10_000, daily_rows=0)
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    answer = client.post("/api/sharing/query", headers=headers,
                         json={"resource_code": district.enterprises, "purpose": PURPOSE})
    assert answer.status_code == 200, answer.text
    assert (answer.headers["RateLimit-Limit"], answer.headers["RateLimit-Remaining"]) == ("10000", "9999")


def test_rate_limit_refuses_after_the_burst(app: FastAPI, client: TestClient, session: Session, district: District,
                                           make_user: Callable[..., str]) -> None:
    clock = limit(app, QuotaLimits(rate_per_second=1, burst=2))
    analyst = make_user(Role.ANALYST, department="MZ")
    token = accounts.create_token(session, SYSTEM, analyst, TokenIn(name="低保审核系统", scopes=[Scope.SHARING_READ]),
                                  max_days=365).token
    session.commit()
    headers = as_user(client, analyst)

    first = client.post("/api/sharing/verify/person", headers=headers,
                        json={"name": PERSONS[0][0], "id_number": PERSONS[0][1], "purpose": PURPOSE})
    assert first.status_code == 200, first.text
    assert {k: first.headers[k] for k in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")} == \
        {"RateLimit-Limit": "2", "RateLimit-Remaining": "1", "RateLimit-Reset": "1"}
    assert verify(client, headers) == 200
    refused = client.post("/api/sharing/verify/person", headers=headers,
                          json={"name": PERSONS[0][0], "id_number": PERSONS[0][1], "purpose": PURPOSE})
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "sharing.rate" and "1 calls a second" in error["message"]
    assert (refused.headers["Retry-After"], refused.headers["RateLimit-Remaining"]) == ("1", "0")
    assert refusals(session) == []  # throttling is not a decision about data: it stays off the log

    # The analyst's application (an API token) has a budget of its own.
    machine = TestClient(client.app)
    assert verify(machine, {"Authorization": f"Bearer {token}"}) == 200
    clock.advance(1)
    assert verify(client, headers) == 200
    assert verify(client, headers) == 429


def test_daily_row_quota_refuses_once_used_and_renews_the_next_day(
        app: FastAPI, client: TestClient, session: Session, district: District,
        make_user: Callable[..., str]) -> None:
    clock = limit(app, QuotaLimits(daily_rows=4))
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    query = {"resource_code": district.enterprises, "purpose": PURPOSE}  # 无条件共享, two rows

    first = client.post("/api/sharing/query", json=query, headers=headers)
    assert first.status_code == 200 and len(first.json()["rows"]) == 2
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("4", "2")
    assert first.headers["RateLimit-Reset"] == "60" and first.headers["RateLimit-Policy"] == "4;w=86400"
    second = client.post("/api/sharing/query", json=query, headers=headers)
    assert second.status_code == 200 and second.headers["RateLimit-Remaining"] == "0"

    refused = client.post("/api/sharing/query", json=query, headers=headers)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "sharing.quota" and "4 rows a day" in error["message"]
    assert (refused.headers["Retry-After"], refused.headers["RateLimit-Remaining"]) == ("60", "0")
    logged = refusals(session)[0]
    assert (logged["refusal"], logged["route"], logged["quota"], logged["delivered"], logged["day"]) == \
        ("quota", "sharing.api.query", 4, 4, "2026-03-02")
    assert verify(client, headers) == 429  # a verification spends the same budget

    clock.advance(60)  # midnight in the district
    renewed = client.post("/api/sharing/query", json=query, headers=headers)
    assert renewed.status_code == 200 and renewed.headers["RateLimit-Remaining"] == "2"
    assert verify(client, headers) == 200


def test_the_quota_cuts_a_page_and_refuses_a_file_it_cannot_hold(
        app: FastAPI, client: TestClient, session: Session, district: District,
        make_user: Callable[..., str]) -> None:
    clock = limit(app, QuotaLimits(daily_rows=3))
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    query = {"resource_code": district.enterprises, "purpose": PURPOSE}  # 无条件共享, two rows

    assert len(client.post("/api/sharing/query", json=query, headers=headers).json()["rows"]) == 2
    cut = client.post("/api/sharing/query", json=query, headers=headers)
    assert cut.status_code == 200 and len(cut.json()["rows"]) == 1  # what the quota leaves, not a page more
    assert cut.headers["RateLimit-Remaining"] == "0" and cut.json()["next_cursor"]

    clock.advance(60)  # a new day: one row left after a page of two
    client.post("/api/sharing/query", json=query, headers=headers)
    export = {**query, "format": "csv"}
    refused = client.post("/api/sharing/export", json=export, headers=headers)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "sharing.quota"
    assert "holds 2 rows" in refused.json()["error"]["message"] and refused.headers["Retry-After"]
    logged = refusals(session)[0]
    assert (logged["route"], logged["rows"], logged["left"]) == ("sharing.api.export", 2, 1)
    assert len(client.post("/api/sharing/query", json=query, headers=headers).json()["rows"]) == 1  # paged

    clock.advance(86_400)
    whole = client.post("/api/sharing/export", json=export, headers=headers)
    assert whole.status_code == 200 and len(whole.content.decode("utf-8-sig").splitlines()) == 3
    assert whole.headers["RateLimit-Remaining"] == "1"


def test_counting_loses_nothing_under_concurrency(engine: Engine) -> None:
    """Threads with their own connections charge one application at once; every row is counted."""
    sessions = make_sessionmaker(engine)
    application, day = f"token:{uuid.uuid4().hex[:12]}", dt.date(2026, 3, 2)
    threads, charges = 6, 20
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def charge(rows: int) -> None:
        try:
            start.wait()
            for _ in range(charges):
                with sessions() as session, session.begin():
                    add_rows(session, application, day, rows)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    workers = [threading.Thread(target=charge, args=(n,)) for n in range(1, threads + 1)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert failures == []
        with sessions() as session:
            assert rows_delivered(session, application, day) == charges * sum(range(1, threads + 1))
    finally:
        with sessions() as session, session.begin():
            session.execute(delete(ShareUsage).where(ShareUsage.application == application))


# --- grants bound to one application ----------------------------------------------------------------------


def test_a_grant_naming_an_application_serves_only_that_application(
        client: TestClient, session: Session, district: District, make_user: Callable[..., str]) -> None:
    request = service.submit_request(session, district.analyst, ShareRequestIn(
        resource_code=district.households, application="低保审核系统", purpose=PURPOSE, legal_basis=BASIS,
        scenario="核对低保申请人的户籍信息", items=["姓名", "所属街道"], days=30), district.rules)
    grant = service.approve(session, district.approver, request.id, district.rules)
    analyst = make_user(Role.ANALYST, department="MZ")
    tokens = {name: accounts.create_token(session, SYSTEM, analyst, TokenIn(name=name, scopes=[Scope.SHARING_READ]),
                                          max_days=365).token for name in ("低保审核系统", "统计报表系统")}
    session.commit()
    machine = TestClient(client.app)
    query = {"resource_code": district.households, "purpose": PURPOSE, "grant_id": grant.id}

    named = machine.post("/api/sharing/query", json=query,
                         headers={"Authorization": f"Bearer {tokens['低保审核系统']}"})
    assert named.status_code == 200, named.text
    assert named.json()["total"] == len(PERSONS)

    other = {"Authorization": f"Bearer {tokens['统计报表系统']}"}
    refused = machine.post("/api/sharing/query", json=query, headers=other)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "sharing.application"
    assert "低保审核系统" in refused.json()["error"]["message"]
    logged = refusals(session)[0]
    assert (logged["refusal"], logged["grant"], logged["resource"]) == ("application", grant.id, district.households)
    # Found without naming the grant, it is refused just the same; so is the official in a browser.
    unnamed = machine.post("/api/sharing/query", json={**query, "grant_id": None}, headers=other)
    assert unnamed.status_code == 403 and unnamed.json()["error"]["code"] == "sharing.application"
    browser = client.post("/api/sharing/query", json=query, headers=as_user(client, analyst))
    assert browser.status_code == 403 and browser.json()["error"]["code"] == "sharing.application"
    assert len(refusals(session)) == 3
