"""Ingestion through its service: versions, quarantine, kept mappings, identical uploads, fixes, diffs, restore,
open data with personal items left out, and every read of personal rows logged first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.accounts.schemas import DepartmentIn
from govlink.catalog import service as catalog
from govlink.ingest import service
from govlink.ingest.models import DataVersion
from govlink.ingest.readers import ReadProblem
from govlink.ingest.service import NewResource, ReadOptions
from govlink.kit.errors import Forbidden
from govlink.standards.credit_code import make_credit_code
from govlink.standards.id_number import Gender, make_id_number
from govlink.transparency.models import LogEntry

ID1 = make_id_number("330106", dt.date(1980, 5, 17), 12, Gender.MALE)
ID2 = make_id_number("330106", dt.date(1992, 11, 3), 45, Gender.FEMALE)
ID3 = make_id_number("330102", dt.date(2001, 2, 28), 7, Gender.MALE)
ID4 = make_id_number("330105", dt.date(1975, 7, 9), 88, Gender.FEMALE)
BAD_ID = ID3[:-1] + ("0" if ID3[-1] != "0" else "1")  # the check character no longer fits
USCC = make_credit_code("9", "1", "330106", "MA2B3C4D")


def csv_file(folder: Path, text: str, name: str = "参保人员.csv", encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


ROWS = (
    "姓名,身份证号,性别,出生日期,手机号码,单位统一社会信用代码\n"
    f"张三,{ID1},男,1980-05-17,13812345678,{USCC}\n"
    f"李四,{ID2.lower()},女,1992年11月3日,138 1234 5679,{USCC}\n"
    f"王五,{BAD_ID},男,2001/2/28,13812345670,{USCC}\n"
    f"赵六,{ID3},男,2001-02-30,,{USCC}\n"
)


@pytest.fixture
def steward(session: Session) -> Actor:
    accounts.create_department(session, SYSTEM, DepartmentIn(code="RS", name="人力资源和社会保障局"))
    session.flush()
    department = accounts.department_by_code(session, "RS")
    return Actor(user_id=1, username="steward.rs", roles=frozenset({Role.STEWARD}), department_id=department.id,
                 via="session")


def ingest(session: Session, actor: Actor, path: Path, **kwargs: object) -> service.IngestOutcome:
    return service.ingest(session, actor, path, file_name=path.name, **kwargs)  # type: ignore[arg-type]


def test_a_file_becomes_a_resource_and_a_published_version(session: Session, steward: Actor,
                                                            tmp_path: Path) -> None:
    outcome = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS")
    assert outcome.created_resource and outcome.version == 1 and not outcome.unchanged
    assert (outcome.rows_read, outcome.rows_accepted, outcome.rows_quarantined) == (4, 2, 2)
    assert outcome.quarantine_reasons == {"date.invalid": 1, "id.check_digit": 1} or \
        sum(outcome.quarantine_reasons.values()) == 2
    resource = catalog.resource_by_code(session, steward, outcome.resource)
    assert resource.subject_type == "person" and resource.name == "参保人员"
    semantic = {i.name: i.semantic_type for i in resource.items}
    assert semantic["身份证号"] == "person.id_number"
    assert semantic["单位统一社会信用代码"] == "enterprise[employer].uscc"
    assert resource.data_updated_at is not None
    total, records = service.quarantine(session, steward, outcome.resource, 1)
    assert total == 2 and [r.record for r in records] == [3, 4]
    assert records[0].values["身份证号"] == BAD_ID
    assert {x["column"] for x in records[0].reasons} == {"身份证号"}
    assert {x["column"] for x in records[1].reasons} == {"出生日期"}


def test_standardised_values_sit_beside_the_originals(session: Session, steward: Actor, tmp_path: Path) -> None:
    from govlink.ingest import storage

    outcome = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS")
    _, version = service.version(session, steward, outcome.resource, 1)
    columns = {c["name"]: c for c in version.columns}
    rows = storage.page(session, version.table_name, ["_record", columns["身份证号"]["field"],
                                                      columns["身份证号"]["standard"], columns["出生日期"]["standard"],
                                                      columns["手机号码"]["standard"]], offset=0, limit=10)
    second = rows[1]
    assert second[columns["身份证号"]["field"]] == ID2.lower()  # the original, untouched
    assert second[columns["身份证号"]["standard"]] == ID2
    assert second[columns["出生日期"]["standard"]] == "1992-11-03"
    assert second[columns["手机号码"]["standard"]] == "13812345679"


def test_identical_content_makes_no_new_version_whatever_its_encoding(session: Session, steward: Actor,
                                                                      tmp_path: Path) -> None:
    first = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS")
    again = ingest(session, steward, csv_file(tmp_path, ROWS, "again.csv", "gbk"), resource_code=first.resource)
    assert again.unchanged and again.version == 1
    versions = session.scalars(select(DataVersion).where(DataVersion.file_name.in_(["参保人员.csv",
                                                                                   "again.csv"]))).all()
    assert len(versions) == 1


def test_the_confirmed_mapping_is_kept_for_the_next_upload(session: Session, steward: Actor,
                                                           tmp_path: Path) -> None:
    first = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS",
                   overrides={"手机号码": None})
    assert first.mapping["手机号码"] is None
    more = ROWS + f"孙七,{ID3},男,2001-02-28,13800000000,{USCC}\n"
    second = ingest(session, steward, csv_file(tmp_path, more, "v2.csv"), resource_code=first.resource)
    assert second.mapping["手机号码"] is None and second.mapping["身份证号"] == "身份证号" and second.version == 2
    # A column under a new name is matched to the item its name and values say it holds.
    renamed = more.replace("手机号码", "联系电话").replace("孙七", "孙八")
    third = ingest(session, steward, csv_file(tmp_path, renamed, "v3.csv"), resource_code=first.resource)
    assert third.mapping["联系电话"] == "手机号码"


def test_an_unknown_override_is_refused_with_the_columns(session: Session, steward: Actor, tmp_path: Path) -> None:
    from govlink.kit.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no column '电话'"):
        ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS", overrides={"电话": None})


def test_lines_that_do_not_fit_are_kept_whole(session: Session, steward: Actor, tmp_path: Path) -> None:
    text = ROWS + "钱八,1,2\n"
    outcome = ingest(session, steward, csv_file(tmp_path, text), department_code="RS")
    assert outcome.rows_read == 5 and outcome.rows_quarantined == 3
    _, records = service.quarantine(session, steward, outcome.resource, 1)
    assert records[-1].record == 5 and records[-1].raw == "钱八,1,2"
    assert records[-1].reasons[0]["reason"].startswith("read.")


def test_a_correction_makes_a_new_version_and_the_diff_shows_it(session: Session, steward: Actor,
                                                                tmp_path: Path) -> None:
    first = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS")
    fixed = service.fix_records(session, steward, first.resource, 1, {3: {"身份证号": ID4},
                                                                           4: {"出生日期": "2001-02-28"}})
    assert fixed.version == 2 and fixed.rows_quarantined == 0 and fixed.rows_accepted == 4
    _, version = service.version(session, steward, first.resource, 2)
    assert version.source == "fix" and version.based_on == 1
    difference = service.diff(session, steward, first.resource, 1, 2)
    # Quarantined records are not part of a version's data: both corrected records are new in version 2.
    assert (difference.added, difference.removed, difference.changed) == (2, 0, 0)
    assert difference.unchanged == 2 and difference.keyed_by == "身份证号"


def test_a_changed_record_is_paired_by_its_id_number(session: Session, steward: Actor, tmp_path: Path) -> None:
    first = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS")
    moved = ROWS.replace("13812345678", "13900000000").replace(f"李四,{ID2.lower()}", f"周九,{ID3}")
    ingest(session, steward, csv_file(tmp_path, moved, "v2.csv"), resource_code=first.resource)
    difference = service.diff(session, steward, first.resource, 1, 2)
    assert (difference.added, difference.removed, difference.changed) == (1, 1, 1)
    assert difference.samples["changed"] == [1]


def test_an_earlier_version_can_be_restored(session: Session, steward: Actor, tmp_path: Path) -> None:
    first = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS")
    ingest(session, steward, csv_file(tmp_path, ROWS + f"孙七,{ID3},男,2001-02-28,,{USCC}\n", "v2.csv"),
           resource_code=first.resource)
    service.restore(session, steward, first.resource, 1)
    _, found = service.versions(session, steward, first.resource)
    assert [(v.number, v.state) for v in found] == [(2, "superseded"), (1, "published")]
    kinds = session.scalars(select(LogEntry.kind).order_by(LogEntry.index.desc()).limit(1)).all()
    assert kinds == ["data.restored"]


def test_only_the_department_loads_its_data(session: Session, steward: Actor, tmp_path: Path) -> None:
    first = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS")
    accounts.create_department(session, SYSTEM, DepartmentIn(code="MZ", name="民政局"))
    session.flush()
    other = Actor(user_id=2, username="steward.mz", roles=frozenset({Role.STEWARD}),
                  department_id=accounts.department_by_code(session, "MZ").id, via="session")
    with pytest.raises(Forbidden):
        ingest(session, other, csv_file(tmp_path, ROWS, "x.csv"), department_code="RS")
    catalog.submit(session, steward, first.resource)
    catalog.review(session, SYSTEM, first.resource, approve=True, comment="")
    with pytest.raises(Forbidden):
        service.quarantine(session, other, first.resource, 1)


def test_reading_the_quarantine_is_logged_before_it_is_returned(session: Session, steward: Actor,
                                                                tmp_path: Path) -> None:
    outcome = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS")
    before = session.scalar(select(LogEntry.index).order_by(LogEntry.index.desc()).limit(1))
    service.quarantine(session, steward, outcome.resource, 1)
    latest = session.scalars(select(LogEntry).where(LogEntry.index > (before or -1))).all()
    assert [e.kind for e in latest] == ["data.read"]


def test_open_data_never_shows_personal_items(session: Session, steward: Actor, tmp_path: Path) -> None:
    text = "企业名称,统一社会信用代码,法定代表人,行业\n" f"杭州某某科技有限公司,{USCC},张三,软件\n"
    new = NewResource(open_type="open", licence="CC-BY-4.0", share_type="unconditional")
    outcome = ingest(session, steward, csv_file(tmp_path, text, "企业.csv"), department_code="RS", new=new)
    catalog.submit(session, steward, outcome.resource)
    catalog.review(session, SYSTEM, outcome.resource, approve=True, comment="")
    _, _, fields, total, rows = service.open_rows(session, SYSTEM, outcome.resource)
    assert total == 1 and "法定代表人" not in fields and "企业名称" in fields
    assert rows[0]["统一社会信用代码"] == USCC and "张三" not in str(rows)


def test_an_unreadable_file_changes_nothing(session: Session, steward: Actor, tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    before = session.scalar(select(DataVersion.id).limit(1))
    with pytest.raises(ReadProblem):
        ingest(session, steward, path, department_code="RS")
    assert session.scalar(select(DataVersion.id).limit(1)) == before


def test_a_draft_takes_a_sheet_and_a_header_row(session: Session, steward: Actor, tmp_path: Path,
                                                make_user: Callable[..., str]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "说明"
    sheet.append(["本表为示例"])
    data = book.create_sheet("名单")
    data.append(["西湖区救助对象名单"])
    data.append(["姓名", "身份证号"])
    data.append(["张三", ID1])
    path = tmp_path / "救助.xlsx"
    book.save(path)
    outcome = ingest(session, steward, path, department_code="RS", options=ReadOptions(sheet="名单", header_row=2))
    assert outcome.format == "xlsx" and outcome.rows_accepted == 1 and outcome.mapping["身份证号"] == "身份证号"


def test_a_corrected_mapping_makes_a_new_version_and_is_kept(session: Session, steward: Actor, tmp_path: Path) -> None:
    first = ingest(session, steward, csv_file(tmp_path, ROWS), department_code="RS")
    assert first.mapping["出生日期"] == "出生日期" and first.rows_quarantined == 2
    # Leaving 出生日期 out: its impossible date no longer quarantines record 4.
    remapped = service.remap(session, steward, first.resource, 1, {"出生日期": None})
    assert remapped.version == 2 and remapped.mapping["出生日期"] is None and remapped.rows_quarantined == 1
    _, version = service.version(session, steward, first.resource, 2)
    assert version.source == "remap" and version.based_on == 1
    again = ingest(session, steward, csv_file(tmp_path, ROWS, "again.csv"), resource_code=first.resource)
    assert again.unchanged and again.version == 2  # the kept mapping: the same content as version 2
