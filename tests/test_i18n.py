"""The Babel catalogues cover every message in the templates, and the language switch works."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

ROOT = Path(__file__).parent.parent
LOCALES = ROOT / "src" / "govlink" / "portal" / "locales"


def extracted_messages() -> set[str]:
    method_map = [("**/portal/vocabulary.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "src" / "govlink", method_map, options, keywords={"_": None, "N_": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_chinese_translation() -> None:
    with (LOCALES / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(extracted_messages() - translated.keys())
    assert not missing, f"add these to zh_CN messages.po (see docs/development.md): {missing}"


def test_pages_are_chinese_by_default_and_english_by_switch(client: TestClient) -> None:
    assert "<title>首页" in client.get("/").text
    switched = client.get("/lang/en?next=/departments", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/departments"
    page = client.get("/")
    assert "<title>Home" in page.text
    assert 'lang="en"' in page.text


def test_language_switch_ignores_unknown_locale_and_foreign_targets(client: TestClient) -> None:
    response = client.get("/lang/xx?next=https://evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"
    assert "govlink_lang" not in response.cookies
