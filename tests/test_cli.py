"""The `govlink` command: the forms scripts rely on, their errors, and their help (golden files)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govlink.cli.main import app
from tests.golden import assert_golden

runner = CliRunner()
COMMANDS = [
    [], ["init"], ["serve"], ["worker"], ["db"], ["db", "upgrade"], ["db", "status"],
    ["user"], ["user", "create"], ["user", "list"], ["user", "disable"],
    ["department"], ["department", "create"], ["department", "list"],
    ["token"], ["token", "create"], ["token", "list"], ["token", "revoke"],
    ["demo"], ["demo", "generate"],
    ["audit"], ["audit", "verify"], ["audit", "checkpoint"], ["audit", "public-key"], ["witness"], ["ingest"],
    ["pull"], ["pull", "set"], ["pull", "run"], ["pull", "show"], ["pull", "remove"],
    ["registry"], ["registry", "link"], ["registry", "export-links"],
]
VALID_USCC = "11330106MB0000000D"


def govlink(*args: str, url: str, data_dir: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), "--database-url", url, *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "govlink")
def test_help_matches_golden_file(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"}, terminal_width=100)
    assert result.exit_code == 0, result.output
    name = "_".join(command) or "govlink"
    assert_golden(f"cli/{name}.txt", result.output)


def test_documented_commands_are_in_docs() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        if command:
            assert f"govlink {' '.join(command)}" in doc, f"docs/cli.md does not describe govlink {' '.join(command)}"


def test_init_then_administer(fresh_url: str, tmp_path: Path) -> None:
    code, out = govlink("init", url=fresh_url, data_dir=tmp_path)
    assert code == 0, out
    password = re.search(r"Password \(shown once, write it down\): (\S+)", out)
    assert password, out
    code, out = govlink("init", url=fresh_url, data_dir=tmp_path)
    assert code == 1 and "already has accounts" in out

    assert govlink("department", "create", "ZFB", "区政府办", url=fresh_url, data_dir=tmp_path)[0] == 0
    code, out = govlink("department", "create", "GA", "公安分局", "--uscc", VALID_USCC, "--parent", "ZFB",
                        url=fresh_url, data_dir=tmp_path)
    assert code == 0, out
    code, out = govlink("department", "create", "BAD", "x", "--uscc", "11330106MB0000001X",
                        url=fresh_url, data_dir=tmp_path)
    assert code == 1 and "uscc" in out
    code, out = govlink("department", "list", url=fresh_url, data_dir=tmp_path)
    assert "GA" in out and VALID_USCC in out and "ZFB" in out

    code, out = govlink("user", "create", "steward.ga", "--role", "steward", "--department", "GA",
                        url=fresh_url, data_dir=tmp_path)
    assert code == 0 and "password (shown once)" in out
    code, out = govlink("user", "create", "lonely", "--role", "steward", url=fresh_url, data_dir=tmp_path)
    assert code == 1 and "department" in out

    code, out = govlink("token", "create", "--user", "steward.ga", "--scope", "accounts:read",
                        url=fresh_url, data_dir=tmp_path)
    assert code == 0 and "glk_" in out
    token_id = re.search(r"token (\d+) for", out)
    assert token_id
    assert govlink("token", "revoke", token_id.group(1), url=fresh_url, data_dir=tmp_path)[0] == 0
    code, out = govlink("token", "list", url=fresh_url, data_dir=tmp_path)
    assert "revoked" in out

    assert govlink("user", "disable", "steward.ga", url=fresh_url, data_dir=tmp_path)[0] == 0
    code, out = govlink("user", "list", url=fresh_url, data_dir=tmp_path)
    assert re.search(r"steward\.ga.*no", out)


def test_commands_on_an_empty_database_give_advice(fresh_url: str, tmp_path: Path) -> None:
    code, out = govlink("user", "list", url=fresh_url, data_dir=tmp_path)
    assert code == 1 and "govlink init" in out


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    code, out = govlink("db", "upgrade", url=url, data_dir=tmp_path)
    assert code == 1 and "cannot reach the database" in out and "Traceback" not in out


def test_python_dash_m_works() -> None:
    done = subprocess.run([sys.executable, "-m", "govlink", "--version"], capture_output=True, text=True,
                          check=True)
    assert done.stdout.startswith("govlink ")


def test_ingest_prints_the_contract_and_refuses_an_unreadable_file(fresh_url: str, tmp_path: Path) -> None:
    assert govlink("init", url=fresh_url, data_dir=tmp_path)[0] == 0
    assert govlink("department", "create", "RS", "人社局", url=fresh_url, data_dir=tmp_path)[0] == 0
    extract = tmp_path / "参保人员.csv"
    extract.write_bytes("姓名,公民身份号码,参保日期\n张三,11010519491231002X,2020-01-01\n李四,110105194912310021,"
                        "2020-02-30\n".encode("gbk"))
    code, out = govlink("ingest", str(extract), "--department", "RS", "--json", url=fresh_url, data_dir=tmp_path)
    assert code == 0, out
    outcome = json.loads(out)
    assert {"resource", "version", "encoding", "format", "mapping", "rows_read", "rows_accepted",
            "rows_quarantined", "quarantine_reasons"} <= set(outcome)
    assert (outcome["encoding"], outcome["format"], outcome["version"]) == ("gbk", "csv", 1)
    assert (outcome["rows_read"], outcome["rows_accepted"], outcome["rows_quarantined"]) == (2, 1, 1)
    assert outcome["mapping"]["公民身份号码"] == "公民身份号码"
    code, out = govlink("ingest", str(extract), "--department", "RS", "--resource", outcome["resource"],
                        url=fresh_url, data_dir=tmp_path)
    assert code == 0 and "unchanged" in out
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\xff\xfe\xfd\x00\x81 not text at all \xc3")
    code, out = govlink("ingest", str(broken), "--department", "RS", url=fresh_url, data_dir=tmp_path)
    assert code == 1 and "broken.csv" in out and len(out.strip().splitlines()) == 1


def test_ingest_shows_column_names_as_text(fresh_url: str, tmp_path: Path) -> None:
    assert govlink("init", url=fresh_url, data_dir=tmp_path)[0] == 0
    assert govlink("department", "create", "RS", "人社局", url=fresh_url, data_dir=tmp_path)[0] == 0
    extract = tmp_path / "x.csv"
    extract.write_text("[bold]姓名[/bold],备注\n张三,1\n", encoding="utf-8")
    code, out = govlink("ingest", str(extract), "--department", "RS", url=fresh_url, data_dir=tmp_path)
    assert code == 0 and "[bold]姓名[/bold]" in out
