"""The registries over HTTP: what each role finds and sees, review and conflict decisions, the integration map,
thresholds and runs — through the API and through the pages, as officials use them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.demo.generator import DistrictManifest, generate_district
from govlink.demo.resources import register_district_catalog
from govlink.demo.service import register_departments
from govlink.registry import service
from govlink.registry.models import RegistryConflict, RegistryEntity, RegistryMention, RegistryReview
from govlink.transparency.models import LogEntry, LogEventBody
from tests.conftest import csrf_headers, form_csrf, sign_in

MakeUser = Callable[..., str]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> DistrictManifest:
    return generate_district(tmp_path_factory.mktemp("district"), persons=120, seed=5)


@pytest.fixture
def linked(session: Session, district: DistrictManifest) -> Session:
    register_departments(session)
    register_district_catalog(session, district, district.out_dir)
    service.link(session, SYSTEM)
    session.commit()
    return session


def _person(session: Session, *, born_in_1900s: bool = False) -> RegistryEntity:
    query = select(RegistryEntity).where(RegistryEntity.entity_type == "person", RegistryEntity.state == "active",
                                         RegistryEntity.key.is_not(None), RegistryEntity.name.is_not(None))
    if born_in_1900s:
        query = query.where(func.substr(RegistryEntity.key, 7, 2) == "19")
    found = session.scalar(query.order_by(RegistryEntity.mentions.desc(), RegistryEntity.id).limit(1))
    assert found is not None and found.key and found.name
    return found


def _last_read(session: Session) -> tuple[str, str]:
    """The latest log entry: its event kind and the subjects it names."""
    row = session.execute(select(LogEntry.kind, LogEventBody.subjects).join(
        LogEventBody, LogEventBody.index == LogEntry.index).order_by(LogEntry.index.desc()).limit(1)).one()
    return row[0], row[1]


def _pending_review(session: Session) -> RegistryReview:
    """A pair for review between two subjects of different entities (a small district rarely leaves one)."""
    rows = session.execute(select(RegistryMention.mention_key, RegistryMention.entity_id).where(
        RegistryMention.entity_type == "person", RegistryMention.role == "").order_by(RegistryMention.entity_id)).all()
    left, right = rows[0][0], rows[-1][0]
    review = RegistryReview(entity_type="person", left_key=min(left, right), right_key=max(left, right),
                            probability=0.93, evidence={"name": -4.2, "birth_date": 3.1}, state="pending")
    session.add(review)
    session.commit()
    return review


# --- search, lookup and entity pages --------------------------------------------------------------------------


def test_an_analyst_finds_a_person_masked_and_the_read_is_logged_first(
    linked: Session, client: TestClient, make_user: MakeUser
) -> None:
    person = _person(linked)
    assert person.name and person.key
    sign_in(client, make_user(Role.ANALYST, department="RS"))
    found = client.get("/api/registry/search", params={"q": person.name, "type": "person"}).json()
    hit = next(e for e in found["entities"] if e["registry_id"] == person.registry_id)
    assert hit["masked"] and hit["name"] != person.name and "*" in hit["name"]
    assert hit["key"][:6] == person.key[:6] and "*" in hit["key"]
    kind, subjects = _last_read(linked)
    assert kind == "registry.read" and f"person:{person.registry_id}" in subjects.split()

    page = client.get(f"/api/registry/entities/{person.registry_id}").json()
    assert page["entity"]["masked"] and person.name not in json.dumps(page, ensure_ascii=False)
    assert _last_read(linked) == ("registry.read", f"person:{person.registry_id}")


def test_the_information_office_sees_values_in_full_with_the_source_of_each(
    linked: Session, client: TestClient, make_user: MakeUser
) -> None:
    person = _person(linked)
    sign_in(client, make_user(Role.ADMIN))
    page = client.get(f"/api/registry/entities/{person.registry_id}").json()
    entity = page["entity"]
    assert not entity["masked"] and entity["name"] == person.name and entity["key"] == person.key
    assert entity["golden"]["name"]["value"] == person.name
    named = {s["resource_id"] for s in page["sources"]}
    for value in entity["golden"].values():
        assert set(value["sources"]) <= named  # every chosen value says which resource it came from
    assert len(page["mentions"]) == person.mentions
    assert all(m["record"] >= 1 and m["file_name"] for m in page["mentions"])
    assert page["history"] and page["history"][0]["kind"] == "created"


def test_lookup_takes_an_id_number_in_any_written_form(
    linked: Session, client: TestClient, make_user: MakeUser
) -> None:
    person = _person(linked, born_in_1900s=True)
    assert person.key
    sign_in(client, make_user(Role.ANALYST, department="RS"))
    old_form = person.key[:6] + person.key[8:17]  # the 15-digit number of before 1999
    for written in (person.key, person.key.lower(), old_form):
        response = client.get(f"/api/registry/lookup/person/{written}")
        assert response.status_code == 200, (written, response.text)
        assert response.json()["registry_id"] == person.registry_id
    missing = client.get("/api/registry/lookup/person/110101190001010000")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "key"


def test_the_public_and_anonymous_callers_never_reach_the_registries(
    linked: Session, client: TestClient, make_user: MakeUser
) -> None:
    person = _person(linked)
    assert client.get("/api/registry/search", params={"q": "张"}).status_code == 401
    sign_in(client, make_user(Role.PUBLIC))
    assert client.get(f"/api/registry/entities/{person.registry_id}").status_code == 403
    assert client.get("/registry").status_code == 403


def test_search_and_entity_pages_render_for_an_official(
    linked: Session, client: TestClient, make_user: MakeUser
) -> None:
    person = _person(linked)
    sign_in(client, make_user(Role.AUDITOR))
    html = client.get("/registry", params={"q": person.name, "type": ""}).text  # the form's "all registries"
    assert f'href="/registry/{person.registry_id}"' in html
    entity = client.get(f"/registry/{person.registry_id}")
    assert entity.status_code == 200 and person.registry_id in entity.text and person.name in entity.text
    assert client.get("/registry/P99999999").status_code == 404
    client.cookies.set("govlink_lang", "en")
    english = client.get("/registry", params={"q": "nobody-is-called-this"}).text
    assert "No person or enterprise matches" in english


# --- review ---------------------------------------------------------------------------------------------------


def test_a_steward_decides_a_pair_and_the_next_run_keeps_it(
    linked: Session, client: TestClient, make_user: MakeUser
) -> None:
    review = _pending_review(linked)
    sign_in(client, make_user(Role.STEWARD, department="RS"))
    queue = client.get("/api/registry/reviews").json()
    assert review.id in [i["id"] for i in queue["items"]]
    pair = client.get(f"/api/registry/reviews/{review.id}").json()
    assert pair["left"]["name"] and pair["right"]["name"] and pair["left"]["registry_id"]
    assert [e["comparison"] for e in pair["evidence_against"]] == ["name"]
    assert [e["comparison"] for e in pair["evidence_for"]] == ["birth_date"]

    page = client.get(f"/registry/reviews/{review.id}")
    assert page.status_code == 200 and pair["left"]["name"] in page.text
    decided = client.post(f"/registry/reviews/{review.id}", data={"decision": "match",
                                                                  "csrf_token": form_csrf(page.text)},
                          follow_redirects=False)
    assert decided.status_code == 303 and decided.headers["location"].startswith("/registry/reviews")
    again = client.post(f"/api/registry/reviews/{review.id}", json={"match": False}, headers=csrf_headers(client))
    assert again.status_code == 422 and "already decided" in again.json()["error"]["message"]

    linked.expire_all()
    keys = (review.left_key, review.right_key)
    assert service.link(linked, SYSTEM).merged == 1
    owners = set(linked.scalars(select(RegistryMention.entity_id).where(RegistryMention.mention_key.in_(keys))))
    assert len(owners) == 1


def test_an_analyst_does_not_review(linked: Session, client: TestClient, make_user: MakeUser) -> None:
    review = _pending_review(linked)
    sign_in(client, make_user(Role.ANALYST, department="RS"))
    response = client.post(f"/api/registry/reviews/{review.id}", json={"match": True}, headers=csrf_headers(client))
    assert response.status_code == 403
    linked.refresh(review)
    assert review.state == "pending"


# --- conflicts (校核纠错) ------------------------------------------------------------------------------------------


def test_a_steward_checks_only_their_departments_conflicts(
    linked: Session, client: TestClient, make_user: MakeUser
) -> None:
    conflict = linked.scalar(select(RegistryConflict).where(RegistryConflict.state == "open")
                             .order_by(RegistryConflict.id).limit(1))
    assert conflict is not None, "a generated district has departments that disagree"
    departments = accounts.departments_by_id(linked)
    own = departments[conflict.department_id].code
    other = next(d.code for d in departments.values() if d.code != own and "-" not in d.code)

    sign_in(client, make_user(Role.STEWARD, department=other))
    listed = client.get("/api/registry/conflicts").json()
    assert conflict.id not in [c["id"] for c in listed["conflicts"]]
    refused = client.post(f"/api/registry/conflicts/{conflict.id}", json={"confirm": True},
                          headers=csrf_headers(client))
    assert refused.status_code == 403

    client.cookies.clear()
    sign_in(client, make_user(Role.STEWARD, department=own))
    page = client.get("/registry/conflicts")
    assert page.status_code == 200 and conflict.value in page.text
    listed = client.get("/api/registry/conflicts").json()
    assert conflict.id in [c["id"] for c in listed["conflicts"]]
    assert {c["department"] for c in listed["conflicts"]} == {departments[conflict.department_id].name}
    done = client.post(f"/registry/conflicts/{conflict.id}", data={
        "decision": "confirm", "note": "户籍底册核实无误", "csrf_token": form_csrf(page.text)}, follow_redirects=False)
    assert done.status_code == 303
    linked.refresh(conflict)
    assert conflict.state == "confirmed" and conflict.note == "户籍底册核实无误"
    confirmed = client.get("/api/registry/conflicts", params={"state": "confirmed"}).json()
    assert conflict.id in [c["id"] for c in confirmed["conflicts"]]


# --- the integration map, thresholds and runs ---------------------------------------------------------------------


def test_the_map_adds_up(linked: Session, client: TestClient, make_user: MakeUser) -> None:
    sign_in(client, make_user(Role.ANALYST, department="RS"))
    registries = {m["entity_type"]: m for m in client.get("/api/registry/map").json()["registries"]}
    persons = registries["person"]
    active = linked.scalar(select(func.count()).select_from(RegistryEntity).where(
        RegistryEntity.entity_type == "person", RegistryEntity.state == "active"))
    assert persons["total"] == active
    assert persons["shared"] + persons["islands"] == persons["total"]
    assert sum(d["islands"] for d in persons["departments"]) == persons["islands"]
    for department in persons["departments"]:
        assert department["entities"] <= persons["total"]
        assert department["attributes"]["name"] <= department["entities"]
        diagonal = next(c for c in persons["overlap"] if c["attribute"] == "name"
                        and c["left"] == c["right"] == department["code"])
        assert diagonal["entities"] == department["attributes"]["name"]
    gongan = next(d for d in persons["departments"] if d["code"] == "GA")
    assert gongan["share"] > 0.9  # the household register knows nearly everyone

    html = client.get("/registry/map", params={"type": "person", "attribute": "phone"}).text
    option = json.loads(re.search(r'<script type="application/json" id="overlap-chart">(.*?)</script>', html,
                                  re.S).group(1))  # type: ignore[union-attr]
    assert option["series"][0]["type"] == "heatmap" and len(option["xAxis"]["data"]) == len(persons["departments"])
    assert 'id="run-linkage"' not in html  # the run button is the information office's


def test_the_information_office_sets_thresholds_and_runs_linkage(
    linked: Session, client: TestClient, make_user: MakeUser
) -> None:
    sign_in(client, make_user(Role.ADMIN))
    headers = csrf_headers(client)
    wrong = client.put("/api/registry/thresholds", json={"upper": 0.8, "lower": 0.9}, headers=headers)
    assert wrong.status_code == 422 and "review threshold" in wrong.json()["error"]["message"]
    assert client.put("/api/registry/thresholds", json={"upper": 0.995, "lower": 0.85},
                      headers=headers).status_code == 200
    assert client.get("/api/registry/thresholds").json() == {"upper": 0.995, "lower": 0.85}

    page = client.get("/registry/map")
    assert 'id="run-linkage"' in page.text and 'value="0.995"' in page.text
    typo = client.post("/registry/thresholds", data={"upper": "0,99", "lower": "0.8",
                                                     "csrf_token": form_csrf(page.text)})
    assert typo.status_code == 422 and "0.95" in typo.text  # the form comes back with what was wrong
    assert client.get("/api/registry/thresholds").json()["upper"] == 0.995

    run = client.post("/api/registry/runs", headers=headers).json()
    assert run["created"] == 0 and run["entities"] > 0
    latest = client.get("/api/registry/runs/latest").json()
    assert latest["run_id"] == run["run_id"] and latest["state"] == "done"
    again = client.post("/registry/runs", data={"csrf_token": form_csrf(page.text)}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/registry/map"
