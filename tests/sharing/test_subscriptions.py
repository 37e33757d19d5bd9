"""Subscriptions: only to what the department may read; a feed that shows each newly published version (and
registry change) once, in order, with a cursor that moves on; webhooks that receive signed notices and whose
failures are retried and recorded."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.app import job_handlers
from govlink.db.base import utcnow
from govlink.ingest import service as ingest
from govlink.jobs import service as jobs
from govlink.jobs.worker import Worker
from govlink.kit import sealed
from govlink.kit.errors import InvalidInput
from govlink.registry import service as registry
from govlink.settings import Settings
from govlink.sharing import service, subscriptions
from govlink.sharing.models import Subscription
from govlink.sharing.schemas import ShareRequestIn, SubscriptionIn
from tests.sharing.conftest import BASIS, ENTERPRISES, PERSONS, PURPOSE, District
from tests.sharing.test_routes import as_user, refusals

KEY = bytes(range(32))  # the platform's webhook key in these tests
LOOPBACK = ("127.0.0.0/8",)  # the tests' subscriber listens on the loopback, which the office allows here

HEADER = "姓名,公民身份号码,性别,联系电话,户籍地址,所属街道"


def publish_households(session: Session, district: District, folder: Path, persons: int) -> None:
    """GA's steward publishes a new version of its households, as an upload does."""
    path = folder / f"households-{persons}.csv"
    path.write_text(HEADER + "\n" + "\n".join(",".join(p) for p in PERSONS[:persons]) + "\n", encoding="utf-8")
    ingest.ingest(session, SYSTEM, path, file_name=path.name, resource_code=district.households)
    session.commit()


def grant_households(session: Session, district: District) -> None:
    request = service.submit_request(session, district.analyst, ShareRequestIn(
        resource_code=district.households, purpose=PURPOSE, legal_basis=BASIS, scenario="核对低保申请人的户籍信息",
        items=["姓名", "所属街道"], days=30), district.rules)
    service.approve(session, district.approver, request.id, district.rules)
    session.commit()


def test_a_department_subscribes_only_to_what_it_may_read(client: TestClient, session: Session,
                                                          district: District,
                                                          make_user: Callable[..., str]) -> None:
    headers = as_user(client, make_user(Role.ANALYST, department="RS"))
    refused = client.post("/api/sharing/subscriptions", headers=headers,
                          json={"resource_code": district.households})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "sharing.no_grant"
    assert (refusals(session)[0]["refusal"], refusals(session)[0]["resource"]) == ("no_grant", district.households)
    registry_view = client.post("/api/sharing/subscriptions", headers=headers, json={"registry": "person"})
    assert registry_view.status_code == 403
    assert client.get("/api/sharing/subscriptions").json()["subscriptions"] == []

    # A 无条件共享 resource is for everyone to read, so to subscribe to.
    made = client.post("/api/sharing/subscriptions", headers=headers, json={"resource_code": district.enterprises})
    assert made.status_code == 201, made.text
    assert (made.json()["resource_code"], made.json()["active"], made.json()["secret"]) == (
        district.enterprises, True, None)
    again = client.post("/api/sharing/subscriptions", headers=headers, json={"resource_code": district.enterprises})
    assert again.status_code == 409
    not_http = client.post("/api/sharing/subscriptions", headers=headers,
                           json={"resource_code": district.enterprises, "webhook_url": "file:///etc/passwd"})
    assert not_http.status_code == 422 and not_http.json()["error"]["field"] == "webhook_url"
    both = client.post("/api/sharing/subscriptions", headers=headers,
                       json={"resource_code": district.enterprises, "registry": "person"})
    assert both.status_code == 422

    # Its own data, and the registries for the information office that keeps them.
    headers = as_user(client, make_user(Role.STEWARD, department="GA"))
    own = client.post("/api/sharing/subscriptions", headers=headers, json={"resource_code": district.households})
    assert own.status_code == 201
    headers = as_user(client, make_user(Role.ADMIN, department="SJJ"))
    office = client.post("/api/sharing/subscriptions", headers=headers, json={"registry": "enterprise"})
    assert office.status_code == 201 and office.json()["registry"] == "enterprise"

    # With a grant in force, MZ may subscribe to GA's 有条件共享 households.
    grant_households(session, district)
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    granted = client.post("/api/sharing/subscriptions", headers=headers, json={"resource_code": district.households})
    assert granted.status_code == 201


def test_the_feed_shows_a_new_version_once_and_the_cursor_moves_on(
        client: TestClient, session: Session, district: District, tmp_path: Path,
        make_user: Callable[..., str]) -> None:
    grant_households(session, district)
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    subscription = client.post("/api/sharing/subscriptions", headers=headers,
                               json={"resource_code": district.households}).json()
    empty = client.get("/api/sharing/feed").json()
    assert empty["notices"] == []

    publish_households(session, district, tmp_path, persons=4)
    page = client.get("/api/sharing/feed", params={"after": empty["next_cursor"]}).json()
    [notice] = page["notices"]
    assert {k: notice[k] for k in ("kind", "resource_code", "version", "rows", "restored", "subscriptions")} == {
        "kind": "version_published", "resource_code": district.households, "version": 2, "rows": 4,
        "restored": False, "subscriptions": [subscription["id"]]}
    assert dt.datetime.fromisoformat(notice["at"]) <= utcnow()
    assert int(page["next_cursor"]) >= notice["id"] > int(empty["next_cursor"])
    assert client.get("/api/sharing/feed", params={"after": page["next_cursor"]}).json()["notices"] == []
    assert client.get("/api/sharing/feed").json()["notices"] == [notice]  # from the subscription's start

    # Another resource's version is not this department's news; the next one of its own is.
    path = tmp_path / "enterprises.csv"
    header = "统一社会信用代码,企业名称,法定代表人,法定代表人证件号码,登记状态"
    path.write_text(header + "\n" + ",".join(ENTERPRISES[0]) + "\n", encoding="utf-8")
    ingest.ingest(session, SYSTEM, path, file_name=path.name, resource_code=district.enterprises)
    publish_households(session, district, tmp_path, persons=3)
    later = client.get("/api/sharing/feed", params={"after": page["next_cursor"], "limit": 1}).json()
    assert [(n["version"], n["rows"]) for n in later["notices"]] == [(3, 3)]
    assert later["next_cursor"] == str(later["notices"][0]["id"])

    cancelled = client.post(f"/api/sharing/subscriptions/{subscription['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["active"] is False
    publish_households(session, district, tmp_path, persons=2)
    assert client.get("/api/sharing/feed", params={"after": later["next_cursor"]}).json()["notices"] == []
    assert client.post(f"/api/sharing/subscriptions/{subscription['id']}/cancel", headers=headers).status_code == 409
    bad = client.get("/api/sharing/feed", params={"after": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "after"


def test_another_departments_subscription_is_not_yours(client: TestClient, district: District,
                                                       make_user: Callable[..., str]) -> None:
    headers = as_user(client, make_user(Role.ANALYST, department="MZ"))
    made = client.post("/api/sharing/subscriptions", headers=headers,
                       json={"resource_code": district.enterprises}).json()
    headers = as_user(client, make_user(Role.ANALYST, department="RS"))
    assert client.post(f"/api/sharing/subscriptions/{made['id']}/cancel", headers=headers).status_code == 404
    assert client.get("/api/sharing/feed").json()["notices"] == []


def test_a_linkage_run_is_a_registry_notice(session: Session, district: District) -> None:
    made, _ = subscriptions.subscribe(session, district.admin, SubscriptionIn(registry="person"),
                                      district.rules, key=KEY)
    registry.link(session, SYSTEM)
    [notice] = subscriptions.feed(session, district.admin).notices
    assert (notice.kind, notice.run_kind, notice.subscriptions) == ("registry_changed", "full", [made.id])
    assert notice.records_changed is not None and notice.records_changed >= len(PERSONS)
    assert notice.resource_code is None


# --- webhooks -----------------------------------------------------------------------------------------------


@dataclass
class Hook:
    """A subscriber's server on the loopback: what it received, and the statuses it answers with."""

    url: str
    received: list[tuple[Mapping[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # then 204


@pytest.fixture
def hook() -> Iterator[Hook]:
    found = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the name http.server calls
            found.received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(found.answers.pop(0) if found.answers else 204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/govlink"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def test_the_webhook_receives_a_signed_notice(client: TestClient, session: Session, district: District,
                                              tmp_path: Path, hook: Hook, settings: Settings,
                                              sessions: sessionmaker[Session],
                                              make_user: Callable[..., str]) -> None:
    headers = as_user(client, make_user(Role.STEWARD, department="GA"))
    refused = client.post("/api/sharing/subscriptions", headers=headers,
                          json={"resource_code": district.households, "webhook_url": hook.url})
    assert refused.status_code == 422 and "the server itself" in refused.json()["error"]["message"]
    settings = settings.model_copy(update={"webhook_networks": list(LOOPBACK)})  # the office allows it
    client.app.state.settings = settings  # type: ignore[attr-defined]
    made = client.post("/api/sharing/subscriptions", headers=headers,
                       json={"resource_code": district.households, "webhook_url": hook.url}).json()
    secret = made["secret"]
    assert len(secret) == 64 and "secret" not in client.get("/api/sharing/subscriptions").json()["subscriptions"][0]
    publish_households(session, district, tmp_path, persons=4)

    jobs.enqueue(session, "sharing.deliver_notices")
    session.commit()
    deliver = {"sharing.deliver_notices": job_handlers()["sharing.deliver_notices"]}  # the app's handler
    assert Worker(settings, sessions, deliver).run_once()  # as the worker runs it every minute

    [(received, body)] = hook.received
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received["X-GovLink-Signature"], expected)
    notice = json.loads(body)
    assert {k: notice[k] for k in ("subscription", "kind", "resource_code", "version", "rows")} == {
        "subscription": made["id"], "kind": "version_published", "resource_code": district.households,
        "version": 2, "rows": 4}
    assert PERSONS[0][0] not in body.decode() and PERSONS[0][1] not in body.decode()  # no personal data
    assert received["X-GovLink-Delivery"] == f"{made['id']}:{notice['id']}"
    [delivery] = client.get("/api/sharing/subscriptions").json()["subscriptions"][0]["deliveries"]
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == ("delivered", 1, 204)

    key = sealed.load_or_create_key(settings.webhook_key_path)
    assert subscriptions.deliver_notices(session, key=key, allowed=LOOPBACK) == {"subscriptions": 1,
                                                                                 "delivered": 0, "waiting": 0}
    assert len(hook.received) == 1  # delivered once
    stored = session.get(Subscription, made["id"])
    assert stored is not None and stored.webhook_secret is not None
    assert secret not in stored.webhook_secret  # sealed: a copy of the database cannot sign notices
    assert sealed.unseal(key, stored.webhook_secret,
                         f"govlink/webhook-secret/{made['id']}") == secret


def test_a_failed_delivery_is_retried_later_and_recorded(session: Session, district: District, tmp_path: Path,
                                                        hook: Hook) -> None:
    rules = replace(district.rules, webhook_networks=LOOPBACK)
    made, secret = subscriptions.subscribe(session, district.steward, SubscriptionIn(
        resource_code=district.households, webhook_url=hook.url), rules, key=KEY)
    assert secret is not None
    publish_households(session, district, tmp_path, persons=4)
    publish_households(session, district, tmp_path, persons=3)
    hook.answers = [500]
    start = utcnow()

    first = subscriptions.deliver_notices(session, key=KEY, allowed=LOOPBACK, now=start)
    assert first == {"subscriptions": 1, "delivered": 0, "waiting": 1}  # the second waits behind the first
    [out] = subscriptions.subscription_out(session, made).deliveries
    assert (out.state, out.attempts, out.last_status, out.last_error) == (
        "pending", 1, 500, "the webhook answered HTTP 500")
    assert out.next_attempt_at == start + dt.timedelta(minutes=1)
    assert subscriptions.deliver_notices(session, key=KEY, allowed=LOOPBACK, now=start + dt.timedelta(seconds=30))[
        "delivered"] == 0
    assert len(hook.received) == 1  # not before its time

    again = subscriptions.deliver_notices(session, key=KEY, allowed=LOOPBACK, now=start + dt.timedelta(minutes=2))
    assert again["delivered"] == 2
    versions = [json.loads(body)["version"] for _, body in hook.received]
    assert versions == [2, 2, 3]  # in order, the failed one first
    states = [(d.state, d.attempts) for d in subscriptions.subscription_out(session, made).deliveries]
    assert states == [("delivered", 1), ("delivered", 2)]


def test_a_secret_stored_in_clear_signs_as_before_and_is_sealed_on_first_use(
        session: Session, district: District, tmp_path: Path, hook: Hook) -> None:
    made, _ = subscriptions.subscribe(session, district.steward, SubscriptionIn(
        resource_code=district.households, webhook_url=hook.url), replace(district.rules, webhook_networks=LOOPBACK),
        key=KEY)
    clear = "ab" * 32
    made.webhook_secret = clear  # as a subscription made before secrets were sealed holds it
    session.commit()
    publish_households(session, district, tmp_path, persons=4)

    assert subscriptions.deliver_notices(session, key=KEY, allowed=LOOPBACK)["delivered"] == 1
    [(received, body)] = hook.received
    assert received["X-GovLink-Signature"] == subscriptions.signature(clear, body)
    session.refresh(made)
    assert made.webhook_secret is not None and clear not in made.webhook_secret
    assert subscriptions.signing_secret(session, made, KEY) == clear
    with pytest.raises(ValueError, match="does not open"):
        subscriptions.signing_secret(session, made, bytes(32))  # another platform's key


def test_a_notice_goes_to_the_address_that_was_checked(hook: Hook) -> None:
    port = hook.url.split(":")[2].split("/")[0]
    url = f"http://hooks.invalid:{port}/govlink"  # a name the system's resolver cannot answer
    checked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        checked.append(host)
        return ["127.0.0.1"]

    assert subscriptions.post_notice(url, b"{}", {"X-Test": "1"}, allowed=LOOPBACK, resolver=resolver) == 204
    [(received, _)] = hook.received
    assert checked == ["hooks.invalid"]  # resolved once; the connection used that answer, not a second lookup
    assert received["Host"] == f"hooks.invalid:{port}" and received["X-Test"] == "1"
    with pytest.raises(subscriptions.Unreachable, match="the server itself"):
        subscriptions.post_notice(url, b"{}", {}, resolver=resolver)  # the loopback is not allowed by default


def test_an_unreachable_webhook_is_given_up_after_its_last_attempt(session: Session, district: District,
                                                                   tmp_path: Path) -> None:
    made, _ = subscriptions.subscribe(session, district.steward, SubscriptionIn(
        resource_code=district.households, webhook_url="http://127.0.0.1:9/"),
        replace(district.rules, webhook_networks=LOOPBACK), key=KEY)
    publish_households(session, district, tmp_path, persons=4)

    def unreachable(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        raise httpx.ConnectError("connection refused")

    moment = utcnow()
    for _ in range(subscriptions.MAX_ATTEMPTS):
        subscriptions.deliver_notices(session, key=KEY, send=unreachable, now=moment)
        moment += dt.timedelta(hours=7)
    [out] = subscriptions.subscription_out(session, made).deliveries
    assert (out.state, out.attempts, out.last_status) == ("failed", subscriptions.MAX_ATTEMPTS, None)
    assert out.last_error == "ConnectError: connection refused"
    assert subscriptions.deliver_notices(session, key=KEY, send=unreachable, now=moment)["waiting"] == 0  # moved on


def test_a_webhook_may_not_lead_to_the_platform_or_its_network(session: Session, district: District,
                                                               tmp_path: Path) -> None:
    for url in ("http://127.0.0.1:8000/", "http://localhost/", "http://169.254.169.254/latest/meta-data/",
                "http://10.1.2.3/hook", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/"):
        with pytest.raises(InvalidInput) as refused:
            subscriptions.subscribe(session, district.steward, SubscriptionIn(
                resource_code=district.households, webhook_url=url), district.rules, key=KEY)
        assert refused.value.field == "webhook_url" and "GOVLINK_WEBHOOK_NETWORKS" in refused.value.message
    # The extranet the office allowed is reached; a name is judged by what it resolves to, before each notice.
    intranet = replace(district.rules, webhook_networks=("10.0.0.0/8",))
    subscriptions.subscribe(session, district.steward, SubscriptionIn(
        resource_code=district.households, webhook_url="http://10.1.2.3/hook"), intranet, key=KEY)
    made, _ = subscriptions.subscribe(session, district.steward, SubscriptionIn(
        resource_code=district.households, webhook_url="http://hooks.invalid/govlink"), district.rules, key=KEY)
    publish_households(session, district, tmp_path, persons=4)
    with pytest.raises(subscriptions.Unreachable, match="does not resolve"):
        subscriptions.post_notice("http://hooks.invalid/govlink", b"{}", {})
    subscriptions.deliver_notices(session, key=KEY, now=utcnow())
    out = next(s for s in subscriptions.subscriptions_of(session, district.steward) if s.id == made.id)
    [delivery] = subscriptions.subscription_out(session, out).deliveries
    assert delivery.last_status is None and "Unreachable" in delivery.last_error
