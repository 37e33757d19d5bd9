"""Tried as a new user would: the demo is served, every role signs in through the login page in a real
browser (Debian's Chromium driven by Playwright), and every page reachable from the home page renders."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest

from govlink.demo.service import DemoAccount, build_demo
from tests.servers import govlink_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[DemoAccount]]]:
    data_dir = tmp_path_factory.mktemp("demo") / "govlink-data"
    result = build_demo(data_dir, persons=300, seed=7)
    with govlink_server("--data-dir", str(data_dir), worker=True) as base:
        yield base, result.accounts


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


def _crawl(page: object, base: str) -> dict[str, int]:
    """Visit every same-site page linked from the home page (and from those pages), once each."""
    seen: dict[str, int] = {}
    queue = ["/"]
    while queue:
        path = queue.pop(0)
        if path in seen or len(seen) > 60:
            continue
        response = page.goto(urljoin(base, path))  # type: ignore[attr-defined]
        seen[path] = response.status if response else 0
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):  # type: ignore[attr-defined]
            parts = urlsplit(urljoin(base + path, href))
            if f"{parts.scheme}://{parts.netloc}" != base or parts.path.startswith(("/lang/", "/static/")):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                queue.append(target)
    return seen


def test_every_role_signs_in_and_every_linked_page_renders(
    demo: tuple[str, list[DemoAccount]], browser: object
) -> None:
    base, accounts = demo
    roles_seen = set()
    for account in accounts:
        if set(account.roles) <= roles_seen:
            continue
        roles_seen.update(account.roles)
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.goto(base + "/")
        page.click("text=登录")
        page.fill("input[name=username]", account.username)
        page.fill("input[name=password]", account.password)
        page.click("form.form button[type=submit]")
        page.wait_for_load_state()
        assert page.url == base + "/", page.inner_text("main")
        assert account.username in page.inner_text("header"), account.username

        visited = _crawl(page, base)
        broken = {p: s for p, s in visited.items() if s >= 400}
        assert not broken, f"{account.username}: pages that failed: {broken}"
        assert "/account" in visited
        if "admin" in account.roles:
            assert {"/admin/users", "/admin/jobs", "/departments"} <= visited.keys()
        assert not errors, f"{account.username}: JavaScript errors: {errors}"

        page.goto(base + "/")
        page.click("text=English")
        assert "Sign out" in page.inner_text("header")
        page.click("text=Sign out")
        assert "Sign in" in page.inner_text("header")
        context.close()
    assert roles_seen == {"admin", "steward", "approver", "analyst", "auditor", "public"}


def test_wrong_password_shows_a_readable_error(demo: tuple[str, list[DemoAccount]], browser: object) -> None:
    base, accounts = demo
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(base + "/login")
    page.fill("input[name=username]", accounts[0].username)
    page.fill("input[name=password]", "not-the-password")
    page.click("form.form button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("main")
    page.close()


def test_a_steward_uploads_a_file_with_progress_and_finds_its_quarantine(
    demo: tuple[str, list[DemoAccount]], browser: object, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base, accounts = demo
    steward = next(a for a in accounts if a.username == "steward.rs")
    extract = tmp_path_factory.mktemp("upload") / "参保人员补充.csv"
    extract.write_bytes("姓名,公民身份号码,参保日期\n张三,11010519491231002X,2020-01-01\n李四,110105194912310021,"
                        "2020-02-30\n".encode("gbk"))
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/login")
    page.fill("input[name=username]", steward.username)
    page.fill("input[name=password]", steward.password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    page.goto(base + "/workspace")
    page.click("a[href='/workspace/upload']")
    page.set_input_files("#upload-file", str(extract))
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("() => { const s = document.getElementById('upload-status'); "
                           "return s.querySelector('a') || s.textContent.includes(':'); }", timeout=60_000)
    assert page.query_selector("#upload-status a"), page.inner_text("#upload-status")
    status = page.inner_text("#upload-status")
    assert "2 / 1 / 1" in status, status  # rows read / accepted / quarantined
    page.click("#upload-status a")
    page.wait_for_load_state()
    assert page.input_value("input[name='value:公民身份号码']") == "110105194912310021"
    assert "date.invalid" in page.inner_text("main")  # 参保日期 2020-02-30 does not exist
    assert not errors, errors
    context.close()
