"""Linking a generated district: quality against its ground truth, stable IDs, reviewers' decisions, relinking."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.demo.generator import DistrictManifest, ExtractInfo, generate_district
from govlink.demo.resources import register_district_catalog
from govlink.demo.service import register_departments
from govlink.ingest import service as ingest
from govlink.kit.errors import Forbidden
from govlink.registry import incremental, runs, service
from govlink.registry.linkage import link_mentions
from govlink.registry.mentions import mention_places, read_mentions
from govlink.registry.metrics import score_tables
from govlink.registry.models import RegistryConflict, RegistryEntity, RegistryEvent, RegistryMention, RegistryReview
from govlink.transparency.models import LogEventBody

PERSONS = 400


def make_actor(role: str) -> Actor:
    return Actor(user_id=1, username=f"a-{role}", roles=frozenset({Role(role)}), via="session")


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> DistrictManifest:
    return generate_district(tmp_path_factory.mktemp("district"), persons=PERSONS, seed=11)


def _load(session: Session, manifest: DistrictManifest) -> None:
    register_departments(session)
    register_district_catalog(session, manifest, manifest.out_dir)


def _links(session: Session, path: Path) -> pa.Table:
    service.export_links(session, SYSTEM, path)
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={"role": pa.string()},
                                                                    strings_can_be_null=False))


def _truth(manifest: DistrictManifest) -> pa.Table:
    return pacsv.read_csv(manifest.out_dir / "ground_truth.csv", convert_options=pacsv.ConvertOptions(
        column_types={"role": pa.string()}, strings_can_be_null=False))


def test_links_the_district_as_its_ground_truth_says(session: Session, district: DistrictManifest,
                                                     tmp_path: Path) -> None:
    _load(session, district)
    summary = service.link(session, SYSTEM)
    links = _links(session, tmp_path / "links.csv")
    truth = _truth(district)
    assert links.num_rows == truth.num_rows == summary.mentions  # every mention, none invented
    scores = score_tables(truth, links)
    for entity_type in ("person", "enterprise"):
        assert scores[entity_type].pairwise_precision >= 0.995, (entity_type, scores[entity_type])
        assert scores[entity_type].pairwise_f1 >= 0.98, (entity_type, scores[entity_type])
    # As many persons as the district has (nearly: a few lone records without an ID stay apart).
    persons = session.scalar(select(func.count()).select_from(RegistryEntity).where(
        RegistryEntity.entity_type == "person", RegistryEntity.state == "active"))
    ids, types = truth.column("entity_id").to_pylist(), truth.column("entity_type").to_pylist()
    true_persons = len({e for e, t in zip(ids, types, strict=True) if t == "person"})
    assert abs(persons - true_persons) <= true_persons * 0.02
    # Departments disagree in a generated district (typos, old addresses); each disagreement is a conflict.
    open_conflicts = session.scalar(select(func.count()).select_from(RegistryConflict))
    assert summary.conflicts == open_conflicts > 0
    # Market regulation's 登记状态 reaches the legal-person registry (核验 answers "registered and active" from it).
    statuses = {(e.golden or {}).get("status", {}).get("value")
                for e in session.scalars(select(RegistryEntity).where(RegistryEntity.entity_type == "enterprise"))}
    assert "存续" in statuses


def test_export_contract_names_files_rows_roles_and_registry_ids(session: Session, district: DistrictManifest,
                                                                 tmp_path: Path) -> None:
    _load(session, district)
    service.link(session, SYSTEM)
    out = tmp_path / "links.csv"
    service.export_links(session, SYSTEM, out)
    with out.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["file", "row", "role", "entity_type", "entity_id"]
    body = rows[1:]
    files = {e.file_name for e in district.extracts}
    assert {r[0] for r in body} == files
    assert all(int(r[1]) >= 1 and r[3] in ("person", "enterprise") for r in body)
    assert {r[2] for r in body} >= {"", "guardian", "legal_rep", "employer", "spouse"}
    assert all(r[4][0] == {"person": "P", "enterprise": "E"}[r[3]] for r in body)
    # A guardian named in the student record links to the same registry person as that guardian's own record.
    students = next(e for e in district.extracts if e.file_name.startswith("jy_"))
    assert Counter(r[2] for r in body if r[0] == students.file_name)["guardian"] > 0


def test_registry_ids_survive_a_rerun_and_decisions_are_honoured(session: Session, district: DistrictManifest) -> None:
    _load(session, district)
    service.link(session, SYSTEM)
    before = dict(session.execute(select(RegistryMention.mention_key, RegistryEntity.registry_id).join(
        RegistryEntity, RegistryEntity.id == RegistryMention.entity_id)).all())
    again = service.link(session, SYSTEM)
    after = dict(session.execute(select(RegistryMention.mention_key, RegistryEntity.registry_id).join(
        RegistryEntity, RegistryEntity.id == RegistryMention.entity_id)).all())
    assert after == before and again.created == 0 and again.merged == 0
    # A reviewer says two mentions of different entities are one: the next run merges them and records why.
    subjects = session.execute(select(RegistryMention.mention_key, RegistryMention.entity_id).where(
        RegistryMention.entity_type == "person", RegistryMention.role == "").order_by(RegistryMention.entity_id)).all()
    left, right = subjects[0], subjects[-1]
    assert left[1] != right[1]
    review = RegistryReview(entity_type="person", left_key=min(left[0], right[0]), right_key=max(left[0], right[0]),
                            probability=0.9, evidence={}, state="pending")
    session.add(review)
    session.flush()
    service.decide(session, make_actor("admin"), review.id, match=True)
    merged = service.link(session, SYSTEM)
    assert merged.merged == 1
    joined = dict(session.execute(select(RegistryMention.mention_key, RegistryMention.entity_id).where(
        RegistryMention.mention_key.in_([left[0], right[0]]))).all())
    assert joined[left[0]] == joined[right[0]]
    kinds = set(session.scalars(select(RegistryEvent.kind).where(RegistryEvent.run_id == merged.run_id)))
    assert {"merged", "absorbed"} <= kinds
    # A merged entity's page shows the entity it became part of.
    gone = session.scalar(select(RegistryEntity).where(RegistryEntity.state == "merged"))
    assert gone is not None
    page = service.entity_page(session, SYSTEM, gone.registry_id)
    assert page.entity["registry_id"] != gone.registry_id


def test_a_new_version_relinks_only_what_changed(session: Session, district: DistrictManifest,
                                                 tmp_path: Path) -> None:
    _load(session, district)
    service.link(session, SYSTEM)
    info = next(e for e in district.extracts if e.file_name.startswith("rs_"))
    assert info.encoding is not None
    lines = (district.out_dir / info.file_name).read_text(encoding=info.encoding).splitlines(keepends=True)
    changed = tmp_path / info.file_name
    changed.write_text("".join([lines[0], *lines[11:]]), encoding=info.encoding)  # ten records gone
    version = ingest.published_data(session, ["person"])
    code = next(r.code for r, v in version if v.file_name == info.file_name)
    entities_before = session.scalar(select(func.count()).select_from(RegistryEntity))

    def subjects(resource_id: int) -> dict[int, int | None]:
        return dict(session.execute(select(RegistryMention.record, RegistryMention.entity_id).where(
            RegistryMention.resource_id == resource_id, RegistryMention.role == "")).all())

    before = subjects(next(r.id for r, v in version if r.code == code))
    ingest.ingest(session, SYSTEM, changed, file_name=info.file_name, resource_code=code)
    resource_id = next(r.id for r, v in ingest.published_data(session, ["person"]) if r.code == code)
    summary = service.relink(session, SYSTEM, resource_id)
    assert summary is not None and summary.kind == "incremental"
    assert summary.by_type["person"]["removed"] == 10 and summary.by_type["person"]["fresh"] == 0
    assert session.scalar(select(func.count()).select_from(RegistryEntity)) == entities_before  # no new IDs
    current = {v.id for r, v in ingest.published_data(session, ["person"]) if r.code == code}
    held = set(session.scalars(select(RegistryMention.version_id).where(RegistryMention.resource_id == resource_id)))
    assert held == current  # unchanged records moved to the new version, keeping their entities …
    after = subjects(resource_id)  # … and to their new places: record 11 is now record 1
    assert after == {record - 10: entity for record, entity in before.items() if record > 10}
    assert service.relink(session, SYSTEM, resource_id) is None  # nothing left to do


def _linked_with_social_insurance(session: Session, district: DistrictManifest) -> tuple[ExtractInfo, str]:
    """The district loaded and linked; the social-insurance extract's description and text, to change."""
    _load(session, district)
    service.link(session, SYSTEM)
    info = next(e for e in district.extracts if e.file_name.startswith("rs_"))
    assert info.encoding is not None
    return info, (district.out_dir / info.file_name).read_text(encoding=info.encoding)


def test_a_new_version_links_new_records_by_key_and_scores_those_without_against_their_neighbours(
        session: Session, district: DistrictManifest, tmp_path: Path) -> None:
    info, original = _linked_with_social_insurance(session, district)
    lines = original.splitlines()
    known = lines[1].split(",")
    moved = [*known[:8], "暂停参保", known[9]]  # the same person with their ID number, another status
    keyless = [*known[:2], "", *known[3:8], "暂停参保", known[9]]  # … and again without it
    stranger = ["欧阳新人", "男", "", "1990年1月", "13900000017", *known[5:]]
    changed = tmp_path / info.file_name
    changed.write_text("\n".join([*lines, *(",".join(r) for r in (moved, keyless, stranger))]) + "\n",
                       encoding=info.encoding)
    code = next(r.code for r, v in ingest.published_data(session, ["person"]) if v.file_name == info.file_name)
    persons_before = session.scalar(select(func.count()).select_from(RegistryEntity)
                                    .where(RegistryEntity.entity_type == "person"))
    ingest.ingest(session, SYSTEM, changed, file_name=info.file_name, resource_code=code)
    resource_id, version_id = next((r.id, v.id) for r, v in ingest.published_data(session, ["person"])
                                   if r.code == code)
    summary = service.relink(session, SYSTEM, resource_id)
    assert summary is not None
    persons = summary.by_type["person"]
    assert persons["fresh"] == 3 and persons["removed"] == 0

    def entity(record: int) -> int | None:
        return session.scalar(select(RegistryMention.entity_id).where(
            RegistryMention.version_id == version_id, RegistryMention.record == record, RegistryMention.role == ""))

    records = len(lines) - 1
    assert entity(records + 1) == entity(1)  # its key's entity
    # Without a key, the record was scored against the stored mentions sharing its name, phone …: they were read
    # (beyond the three fresh mentions) and its pairs with them scored.
    assert persons["mentions"] > 3 and persons["scored_pairs"] >= 1
    assert entity(records + 3) not in {None, entity(1)}  # nobody's: a new person
    assert session.scalar(select(func.count()).select_from(RegistryEntity)
                          .where(RegistryEntity.entity_type == "person")) == persons_before + summary.created


def test_a_relink_queues_the_pairs_it_cannot_decide_and_drops_those_of_removed_records(
        session: Session, district: DistrictManifest, tmp_path: Path) -> None:
    info, original = _linked_with_social_insurance(session, district)
    lines = original.splitlines()
    known = lines[1].split(",")
    keyless = [*known[:2], "", *known[3:8], "暂停参保", known[9]]  # a known person without the ID number
    code, resource_id = next((r.code, r.id) for r, v in ingest.published_data(session, ["person"])
                             if v.file_name == info.file_name)
    # Every scored pair is for a reviewer: nothing is certain enough to link by score alone.
    service.set_thresholds(session, SYSTEM, upper=1.0, lower=0.5)
    pending_before = {(left, right) for left, right in session.execute(
        select(RegistryReview.left_key, RegistryReview.right_key).where(RegistryReview.state == "pending"))}

    changed = tmp_path / info.file_name
    changed.write_text(original.rstrip("\n") + "\n" + ",".join(keyless) + "\n", encoding=info.encoding)
    ingest.ingest(session, SYSTEM, changed, file_name=info.file_name, resource_code=code)
    summary = service.relink(session, SYSTEM, resource_id)
    assert summary is not None and summary.review_pending >= 1
    fresh_key = session.scalar(select(RegistryMention.mention_key).where(
        RegistryMention.resource_id == resource_id, RegistryMention.record == len(lines), RegistryMention.role == ""))
    assert fresh_key is not None
    queued = session.execute(select(RegistryReview.left_key, RegistryReview.right_key).where(
        RegistryReview.state == "pending", or_(RegistryReview.left_key == fresh_key,
                                                 RegistryReview.right_key == fresh_key))).all()
    partners = {left if right == fresh_key else right for left, right in queued}
    first = session.scalar(select(RegistryMention.entity_id).where(
        RegistryMention.resource_id == resource_id, RegistryMention.record == 1, RegistryMention.role == ""))
    assert first in set(session.scalars(select(RegistryMention.entity_id)
                                        .where(RegistryMention.mention_key.in_(partners))))  # the person it is
    pending = {(left, right) for left, right in session.execute(
        select(RegistryReview.left_key, RegistryReview.right_key).where(RegistryReview.state == "pending"))}
    assert pending_before <= pending  # the full run's queue stays

    changed.write_text(original, encoding=info.encoding)  # the record is withdrawn again
    ingest.ingest(session, SYSTEM, changed, file_name=info.file_name, resource_code=code)
    assert service.relink(session, SYSTEM, resource_id) is not None
    assert not session.scalar(select(func.count()).select_from(RegistryReview).where(
        RegistryReview.state == "pending", or_(RegistryReview.left_key == fresh_key,
                                                 RegistryReview.right_key == fresh_key)))


def test_a_relink_weighs_a_name_by_how_often_the_whole_registry_holds_it(
        session: Session, district: DistrictManifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info, original = _linked_with_social_insurance(session, district)
    lines = original.splitlines()
    known = lines[1].split(",")
    keyless = [*known[:2], "", *known[3:8], "暂停参保", known[9]]
    code, resource_id = next((r.code, r.id) for r, v in ingest.published_data(session, ["person"])
                             if v.file_name == info.file_name)
    changed = tmp_path / info.file_name
    changed.write_text(original.rstrip("\n") + "\n" + ",".join(keyless) + "\n", encoding=info.encoding)
    ingest.ingest(session, SYSTEM, changed, file_name=info.file_name, resource_code=code)
    given: dict[str, pa.Table] = {}

    def spy(features: pa.Table, entity_type: str, *args: Any, **kwargs: Any) -> Any:
        given[entity_type] = kwargs["name_frequencies"]
        return link_mentions(features, entity_type, *args, **kwargs)

    monkeypatch.setattr(incremental, "link_mentions", spy)
    assert service.relink(session, SYSTEM, resource_id) is not None

    # The frequencies are those of every person mention as stored after the relink, not of the few read for it.
    name = session.scalar(select(RegistryMention.name).where(
        RegistryMention.resource_id == resource_id, RegistryMention.record == len(lines), RegistryMention.role == ""))
    total = session.scalar(select(func.count()).select_from(RegistryMention)
                           .where(RegistryMention.entity_type == "person"))
    holding = session.scalar(select(func.count()).select_from(RegistryMention)
                             .where(RegistryMention.entity_type == "person", RegistryMention.name == name))
    frequencies = dict(zip(given["person"].column("name").to_pylist(), given["person"].column("tf_name").to_pylist(),
                           strict=True))
    assert name is not None and total and holding
    assert frequencies[name] == pytest.approx(holding / total)


def test_only_the_information_office_links_and_reads_are_logged(session: Session, district: DistrictManifest) -> None:
    _load(session, district)
    with pytest.raises(Forbidden):
        service.link(session, make_actor("steward"))
    service.link(session, SYSTEM)
    analyst = make_actor("analyst")
    person = session.scalar(select(RegistryEntity).where(
        RegistryEntity.entity_type == "person", RegistryEntity.state == "active", RegistryEntity.key.is_not(None)))
    assert person is not None and person.key is not None
    found = service.lookup(session, analyst, "person", person.key)
    view = service.entity_view(found, analyst)
    assert view["masked"] and "*" in view["key"] and view["key"][:6] == person.key[:6]
    subjects = session.scalar(select(LogEventBody.subjects).order_by(LogEventBody.index.desc()).limit(1))
    assert subjects == f"person:{person.registry_id}"


def test_a_versions_places_name_exactly_its_mentions_and_a_partial_read_agrees_with_the_whole(
        session: Session, district: DistrictManifest) -> None:
    _load(session, district)
    for resource, chosen in ingest.published_data(session, ["person", "enterprise"]):
        whole = read_mentions(session, resource, chosen)
        places = mention_places(session, resource, chosen)
        assert sorted(zip(places["mention_key"].to_pylist(), places["record"].to_pylist(), strict=True)) == \
            sorted(zip(whole["mention_key"].to_pylist(), whole["record"].to_pylist(), strict=True)), resource.code
        # Every fourth record read alone gives the same mentions, keys included, as the whole version.
        some = places.filter(pc.equal(pc.bit_wise_and(places["record"], 3), 0))
        part = read_mentions(session, resource, chosen, records=some)
        chosen_records = set(some["record"].to_pylist())
        expected = whole.filter(pa.array([r in chosen_records for r in whole["record"].to_pylist()]))
        assert part.sort_by("mention_key").to_pylist() == expected.sort_by("mention_key").to_pylist()


def test_conflicts_are_replaced_for_more_entities_than_a_statement_takes_parameters(
        session: Session, district: DistrictManifest) -> None:
    _load(session, district)
    service.link(session, SYSTEM)
    persons = select(RegistryEntity.id).where(RegistryEntity.entity_type == "person")
    assert session.scalar(select(func.count()).select_from(RegistryConflict).where(
        RegistryConflict.state == "open", RegistryConflict.entity_id.in_(persons)))
    none = pa.table({c: pa.array([], pa.int64() if c in {"label", "chosen_resource_id", "resource_id"}
                                  else pa.string())
                     for c in ("label", "attribute", "chosen", "chosen_resource_id", "value", "resource_id")})
    # A relink touching 70,000 entities (PostgreSQL takes at most 65,535 parameters a statement): every open
    # conflict among them goes.
    touched = sorted(set(session.scalars(select(RegistryEntity.id))) | set(range(10**6, 10**6 + 70_000)))
    assert runs._write_conflicts(session, none, "person", touched) == 0
    assert not session.scalar(select(func.count()).select_from(RegistryConflict).where(
        RegistryConflict.state == "open", RegistryConflict.entity_id.in_(persons)))
