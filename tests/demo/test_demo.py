"""`govlink demo` builds the whole platform: departments, accounts per role, the published catalog, the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from govlink.accounts.roles import Role
from govlink.catalog.models import Resource
from govlink.cli.main import app
from govlink.db.engine import make_engine
from govlink.demo.service import build_demo
from govlink.kit.errors import Conflict
from govlink.sharing.models import ShareRequest
from govlink.transparency import service as transparency
from govlink.transparency.verify import verify_log


def test_demo_builds_every_part(tmp_path: Path) -> None:
    result = build_demo(tmp_path / "data", persons=300, seed=3)
    assert {r for a in result.accounts for r in a.roles} == set(Role)
    assert len(result.resources) == len(result.manifest.extracts) + 2
    engine = make_engine(result.settings)
    with Session(engine) as session:
        resources = {r.name: r for r in session.scalars(select(Resource))}
        assert all(r.status == "published" for r in resources.values())
        students = {i.name: i.semantic_type for i in resources["在校学生信息"].items}
        assert students["监护人身份证件号"] == "person[guardian].id_number"
        assert students["学生身份证件号"] == "person.id_number"
        insured = {i.name: i.semantic_type for i in resources["社会保险参保人员信息"].items}
        assert insured["单位统一社会信用代码"] == "enterprise[employer].uscc"
        assert resources["居民健康档案信息"].share_type == "none" and resources["居民健康档案信息"].share_basis
        key = transparency.load_or_create_key(result.settings.log_key_path, result.settings.log_origin)
        report = verify_log(session, key.verifier())
        assert report.ok and report.entries > len(result.resources) * 3
        # The demo's sharing traffic: a grant read, a refusal with its reason, a request still waiting, and the
        # demo citizen named in the reads and the verification that concerned them.
        assert result.sharing is not None and result.sharing.rows_read > 1
        citizen = result.subjects["citizen"]
        seen = [e.document for e in transparency.search(session, subject=citizen) if e.document]
        assert {e["kind"] for e in seen} >= {"sharing.read", "sharing.verified"}
        assert all(e["department"] == "MZ" for e in seen if e["kind"] == "sharing.read")
        requests = {r.id: r for r in session.scalars(select(ShareRequest))}
        assert requests[result.sharing.refused].state == "refused"
        assert requests[result.sharing.pending].state == "pending"
        applied = requests[result.sharing.open_application]  # the demo enterprise's 有条件开放 application
        assert applied.state == "approved" and applied.applicant_id is not None and applied.department_id is None
    engine.dispose()
    # `govlink audit verify` is green on the demo, sharing traffic included.
    verified = CliRunner().invoke(app, ["--data-dir", str(result.settings.data_dir), "audit", "verify"])
    assert verified.exit_code == 0 and "the log verifies" in verified.output, verified.output


def test_demo_refuses_to_wipe_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(Conflict):
        build_demo(tmp_path, persons=50)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_every_extract_ingests_with_the_right_mapping_and_exactly_the_bad_rows_quarantined(tmp_path: Path) -> None:
    import csv
    from collections import defaultdict

    from govlink.demo.resources import semantic_type
    from govlink.ingest.models import DataVersion, QuarantinedCell

    result = build_demo(tmp_path / "data", persons=1500, seed=11)
    extracts = tmp_path / "data" / "extracts"
    bad: dict[str, set[int]] = defaultdict(set)  # rows whose ID number or credit code a clerk mistyped
    with (extracts / "noise.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] in {"id_mistyped", "uscc_mistyped"}:
                bad[row["file"]].add(int(row["row"]))
    engine = make_engine(result.settings)
    wrong = []
    with Session(engine) as session:
        for extract in result.manifest.extracts:
            version = session.scalar(select(DataVersion).where(DataVersion.file_name == extract.file_name))
            assert version is not None and version.state == "published", extract.file_name
            assert version.rows_read == extract.rows == version.rows_accepted + version.rows_quarantined
            resource = session.get(Resource, version.resource_id)
            assert resource is not None and resource.subject_type == extract.subject
            fields = dict(extract.fields)
            for item in resource.items:
                if item.name in fields and item.semantic_type != semantic_type(extract.subject, fields[item.name]):
                    wrong.append(f"{extract.file_name} {item.name}: {item.semantic_type}")
            quarantined = set(session.scalars(select(QuarantinedCell.record)
                                              .where(QuarantinedCell.version_id == version.id)))
            assert quarantined == bad[extract.file_name], extract.file_name
            assert version.rows_quarantined == len(quarantined)
    engine.dispose()
    assert not wrong, wrong
