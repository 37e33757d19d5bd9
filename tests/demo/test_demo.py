"""`govlink demo` builds the whole platform: departments, accounts per role, the published catalog, the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govlink.accounts.roles import Role
from govlink.catalog.models import Resource
from govlink.db.engine import make_engine
from govlink.demo.service import build_demo
from govlink.kit.errors import Conflict
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
    engine.dispose()


def test_demo_refuses_to_wipe_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(Conflict):
        build_demo(tmp_path, persons=50)
    assert (tmp_path / "precious.txt").read_text() == "keep me"
