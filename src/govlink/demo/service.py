"""`govlink demo`: a synthetic district generated, loaded into a fresh platform and ready to serve.

As capabilities land (catalog, ingest, registry, sharing, transparency) this is where the demo
runs each of them, so the demo is always the whole platform.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.accounts.schemas import DepartmentIn, UserIn
from govlink.catalog import service as catalog
from govlink.db.engine import make_engine, make_sessionmaker
from govlink.db.migrate import upgrade
from govlink.demo.district import DEPARTMENTS
from govlink.demo.generator import DistrictManifest, generate_district
from govlink.demo.resources import register_district_catalog
from govlink.demo.traffic import HOUSEHOLDS, Traffic, run_sharing_traffic
from govlink.ingest import service as ingest
from govlink.kit.errors import Conflict
from govlink.registry import service as registry
from govlink.settings import Settings
from govlink.transparency import service as transparency

MARKER = "demo.json"
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    roles: tuple[Role, ...]
    department_code: str | None
    display_name: str


@dataclass
class DemoResult:
    settings: Settings
    manifest: DistrictManifest
    accounts: list[DemoAccount] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    registry: dict[str, Any] = field(default_factory=dict)  # the first linking run's summary
    sharing: Traffic | None = None  # the requests the demo made, granted, refused and left waiting
    subjects: dict[str, str] = field(default_factory=dict)  # public demo account → person:P… / enterprise:E…


# (username, display name, roles, department); departments are those of govlink.demo.district.
DEMO_ACCOUNTS: tuple[tuple[str, str, tuple[Role, ...], str | None], ...] = (
    ("admin", "数据资源管理局 管理员", (Role.ADMIN,), "SJJ"),
    ("steward.ga", "公安分局 数据专员", (Role.STEWARD,), "GA"),
    ("steward.rs", "人社局 数据专员", (Role.STEWARD,), "RS"),
    ("steward.mz", "民政局 数据专员", (Role.STEWARD,), "MZ"),
    ("steward.wj", "卫健局 数据专员", (Role.STEWARD,), "WJ"),
    ("steward.jy", "教育局 数据专员", (Role.STEWARD,), "JY"),
    ("steward.sc", "市场监管局 数据专员", (Role.STEWARD,), "SC"),
    ("steward.sw", "税务局 数据专员", (Role.STEWARD,), "SW"),
    ("steward.hb", "生态环境分局 数据专员", (Role.STEWARD,), "HB"),
    ("approver.ga", "公安分局 审批人", (Role.APPROVER,), "GA"),
    ("approver.rs", "人社局 审批人", (Role.APPROVER,), "RS"),
    ("approver.sc", "市场监管局 审批人", (Role.APPROVER,), "SC"),
    ("approver.sw", "税务局 审批人", (Role.APPROVER,), "SW"),
    ("analyst.mz", "民政局 业务人员", (Role.ANALYST,), "MZ"),
    ("analyst.rs", "人社局 业务人员", (Role.ANALYST,), "RS"),
    ("auditor", "审计 监督员", (Role.AUDITOR,), None),
    ("citizen", "市民", (Role.PUBLIC,), None),
    ("enterprise", "企业用户", (Role.PUBLIC,), None),
)
# The public demo accounts speak for the person of the household register's first record and the enterprise
# of the enterprise register's first record (bound once the registries are linked).
DEMO_SUBJECTS = {"citizen": (HOUSEHOLDS, "person"), "enterprise": ("sc_qiye_dengji.csv", "enterprise")}


def _first_subject(session: Session, code: str, kind: str) -> str:
    """The ``kind`` (person / enterprise) that the first record of resource ``code``'s published data is about."""
    version = ingest.published_version(session, catalog.resource_by_code(session, SYSTEM, code))
    assert version is not None, f"{code} is published by the demo"
    found = [s for s in registry.subjects_of_records(session, version.id, [1]) if s.startswith(f"{kind}:")]
    if not found:
        raise Conflict(f"the first record of {code} names no {kind} in the registries")
    return found[0]


def register_departments(session: Session) -> None:
    """The district's departments (govlink.demo.district), as the information office registers them."""
    for spec in DEPARTMENTS:
        accounts.create_department(
            session, SYSTEM, DepartmentIn(code=spec.code, name=spec.name, uscc=spec.uscc, parent_code=spec.parent_code))


def prepare_data_dir(data_dir: Path) -> None:
    """Make ``data_dir`` empty for a new demo; refuse to wipe a folder the demo did not make."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            raise Conflict(
                f"{data_dir} holds data that is not a GovLink demo; choose another folder with --data-dir",
                field="data_dir",
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)


def build_demo(
    data_dir: Path,
    *,
    persons: int = 20_000,
    seed: int = 42,
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> DemoResult:
    """Generate the district into ``data_dir``, load it into a fresh embedded database and
    create one demo account per role; returns the accounts with their passwords (never stored).
    """
    report = progress or (lambda _step, _fraction: None)
    prepare_data_dir(data_dir)
    settings = Settings(data_dir=data_dir, database_url=None)
    (data_dir / MARKER).write_text(json.dumps({"persons": persons, "seed": seed}))

    report("generating the synthetic district", 0.0)
    manifest = generate_district(
        data_dir / "extracts",
        persons=persons,
        seed=seed,
        progress=lambda step, fraction: report(f"generating: {step}", 0.6 * fraction),
    )

    report("creating the database", 0.6)
    engine = engine or make_engine(settings)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    result = DemoResult(settings=settings, manifest=manifest)
    with sessions() as session, session.begin():
        report("registering departments", 0.7)
        register_departments(session)
        report("creating demo accounts", 0.8)
        for username, display_name, roles, department in DEMO_ACCOUNTS:
            created = accounts.create_user(
                session,
                SYSTEM,
                UserIn(username=username, display_name=display_name, roles=list(roles),
                       department_code=department),
            )
            assert created.password is not None  # generated, since none was given
            result.accounts.append(
                DemoAccount(username, created.password, roles, department, display_name)
            )
        report("ingesting every department's extract and publishing the catalog", 0.85)
        result.resources = register_district_catalog(session, manifest, data_dir / "extracts")
        report("linking every person and enterprise into the base registries", 0.88)
        linked = registry.link(session, SYSTEM, progress=lambda step, fraction: report(
            f"registries: {step}", 0.88 + 0.02 * fraction))
        result.registry = linked.as_dict()
        codes = dict(zip((e.file_name for e in manifest.extracts), result.resources, strict=False))
        for username, (extract, kind) in DEMO_SUBJECTS.items():
            result.subjects[username] = _first_subject(session, codes[extract], kind)
            accounts.bind_subject(session, SYSTEM, username, result.subjects[username])
        report("running the first sharing requests, grants and reads", 0.89)
        result.sharing = run_sharing_traffic(session, settings, codes, result.subjects["citizen"])
        report("publishing the transparency log's first checkpoint", 0.9)
        key = transparency.load_or_create_key(settings.log_key_path, settings.log_origin)
        transparency.publish_checkpoint(session, key, transparency.LogTree())
    report("district ready", 1.0)
    return result
