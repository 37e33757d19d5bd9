"""Tried as a new user would: the demo is served, every role signs in through the login page in a real
browser (Debian's Chromium driven by Playwright), and every page reachable from the home page renders."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select

from govlink.db.engine import make_engine, make_sessionmaker
from govlink.demo.service import DemoAccount, DemoResult, build_demo
from govlink.jobs.models import Job, JobStatus
from govlink.registry.models import RegistryMention, RegistryReview
from tests.servers import govlink_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return build_demo(tmp_path_factory.mktemp("demo") / "govlink-data", persons=300, seed=7)


@pytest.fixture(scope="module")
def demo(built: DemoResult) -> Iterator[tuple[str, list[DemoAccount]]]:
    with govlink_server("--data-dir", str(built.settings.data_dir), worker=True) as base:
        yield base, built.accounts


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


def _signed_in(browser: object, base: str, account: DemoAccount) -> tuple[object, object, list[str]]:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/login")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert page.url == base + "/", page.inner_text("main")  # signed in, back on the home page
    return context, page, errors


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
    context, page, errors = _signed_in(browser, base, steward)
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


def _wait_for_relinking(built: DemoResult) -> None:
    """Until the worker has relinked what the tests published (SQLite has one writer; a page that logs waits)."""
    engine = make_engine(built.settings)
    try:
        for _ in range(240):
            with make_sessionmaker(engine)() as session:
                waiting = session.scalar(select(func.count()).select_from(Job).where(
                    Job.kind == "registry.relink", Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])))
            if not waiting:
                return
            time.sleep(0.5)
        raise AssertionError("the worker did not relink the uploaded version within two minutes")
    finally:
        engine.dispose()


def _queue_a_pair(built: DemoResult) -> None:
    """A pair the linker was unsure about: the first and the last person recorded (a small district leaves few)."""
    engine = make_engine(built.settings)
    with make_sessionmaker(engine)() as session, session.begin():
        keys = session.scalars(select(RegistryMention.mention_key).where(
            RegistryMention.entity_type == "person", RegistryMention.role == "").order_by(RegistryMention.entity_id))
        ordered = list(keys)
        left, right = sorted((ordered[0], ordered[-1]))
        session.add(RegistryReview(entity_type="person", left_key=left, right_key=right, probability=0.91,
                                   evidence={"name": -5.1, "birth_date": 2.4}, state="pending"))
    engine.dispose()


def test_the_registries_map_search_and_review_work_in_a_browser(
    demo: tuple[str, list[DemoAccount]], built: DemoResult, browser: object
) -> None:
    base, accounts = demo
    _wait_for_relinking(built)  # the upload above queued one
    admin = next(a for a in accounts if "admin" in a.roles)
    context, page, errors = _signed_in(browser, base, admin)
    page.goto(base + "/registry/map")  # type: ignore[attr-defined]
    assert page.query_selector("#coverage"), page.inner_text("main")  # type: ignore[attr-defined]
    for chart in ("coverage-chart", "overlap-chart", "islands-chart"):  # drawn by ECharts once the page has loaded
        page.wait_for_selector(f"[data-chart='{chart}'] svg", state="attached", timeout=30_000)  # type: ignore[attr-defined]
    assert "GA" in page.inner_text("#overlap table")  # type: ignore[attr-defined]
    page.click("#run-linkage button")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert page.url == base + "/registry/map" and "#" in page.inner_text("#linkage")  # type: ignore[attr-defined]

    page.goto(base + "/registry")  # type: ignore[attr-defined]
    page.fill("input[name=q]", "王")  # type: ignore[attr-defined]
    page.click("form[role=search] button")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    page.click("#registry-results a >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    golden = page.inner_text("#golden")  # type: ignore[attr-defined]
    assert "王" in golden and "*" not in golden  # the information office reads values in full
    assert page.query_selector_all("#mentions tbody tr")  # type: ignore[attr-defined]
    assert not errors, errors
    context.close()  # type: ignore[attr-defined]

    _queue_a_pair(built)  # after the run above, which leaves no pair of this small district undecided
    steward = next(a for a in accounts if a.username == "steward.ga")
    context, page, errors = _signed_in(browser, base, steward)
    page.goto(base + "/registry/reviews")  # type: ignore[attr-defined]
    assert page.query_selector("#review-queue"), "the demo district leaves pairs to review"  # type: ignore[attr-defined]
    waiting = page.query_selector_all("#review-queue tbody tr")  # type: ignore[attr-defined]
    page.click("#review-queue a >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert page.query_selector_all("#pair tbody tr")  # type: ignore[attr-defined]
    page.click("#decide button[value=non_match]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert "/registry/reviews" in page.url  # type: ignore[attr-defined]
    page.goto(base + "/registry/reviews")  # type: ignore[attr-defined]
    assert len(page.query_selector_all("#review-queue tbody tr")) == len(waiting) - 1  # type: ignore[attr-defined]
    assert not errors, errors
    context.close()  # type: ignore[attr-defined]


def test_a_request_is_answered_used_and_revoked_through_the_pages(
    demo: tuple[str, list[DemoAccount]], built: DemoResult, browser: object
) -> None:
    base, accounts = demo
    by_name = {a.username: a for a in accounts}
    codes = dict(zip((e.file_name for e in built.manifest.extracts), built.resources, strict=False))
    floating = codes["ga_liudong_renkou.txt"]  # the police's 有条件共享 register of residents from elsewhere

    context, page, errors = _signed_in(browser, base, by_name["analyst.rs"])
    page.goto(f"{base}/sharing?resource={floating}")  # type: ignore[attr-defined]
    form = "#request-form"
    page.fill(f"{form} input[name=purpose]", "就业服务登记核对")  # type: ignore[attr-defined]
    page.fill(f"{form} textarea[name=legal_basis]", "《就业服务与就业管理规定》第六十二条")  # type: ignore[attr-defined]
    page.fill(f"{form} textarea[name=scenario]", "核对来区求职人员的居住登记")  # type: ignore[attr-defined]
    boxes = page.query_selector_all(f"{form} input[name=items]")  # type: ignore[attr-defined]
    for box in boxes[:3]:
        box.check()
    page.click(f"{form} button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert "/sharing/requests/" in page.url, page.inner_text("main")  # type: ignore[attr-defined]
    request_path = page.url.removeprefix(base)  # type: ignore[attr-defined]
    context.close()  # type: ignore[attr-defined]

    context, page, errors_approver = _signed_in(browser, base, by_name["approver.ga"])
    page.goto(base + "/sharing/inbox")  # type: ignore[attr-defined]
    page.click(f"a[href='{request_path}']")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    page.fill("#decide textarea[name=reason]", "同意，限就业服务使用")  # type: ignore[attr-defined]
    page.click("#decide button[value=approve]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert page.inner_text("#request-state") == "已批准", page.inner_text("main")  # type: ignore[attr-defined]
    context.close()  # type: ignore[attr-defined]

    context, page, errors_reader = _signed_in(browser, base, by_name["analyst.rs"])
    page.goto(base + "/sharing/grants")  # type: ignore[attr-defined]
    page.click("text=查看数据 >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    data_path = page.url.removeprefix(base)  # type: ignore[attr-defined]
    assert page.query_selector_all("#grant-data tbody tr"), page.inner_text("main")  # type: ignore[attr-defined]
    assert "*" in page.inner_text("#grant-data")  # masked by default  # type: ignore[attr-defined]
    context.close()  # type: ignore[attr-defined]

    context, page, errors_revoker = _signed_in(browser, base, by_name["approver.ga"])
    page.goto(base + "/sharing/grants")  # type: ignore[attr-defined]
    grant_row = f"#grant-{data_path.split('/')[3]}"  # /sharing/grants/<id>/data
    page.fill(f"{grant_row} input[name=reason]", "就业服务登记已核对完毕")  # type: ignore[attr-defined]
    page.click(f"{grant_row} button.danger")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    context.close()  # type: ignore[attr-defined]

    context, page, errors_refused = _signed_in(browser, base, by_name["analyst.rs"])
    response = page.goto(base + data_path)  # type: ignore[attr-defined]
    assert response.status == 403 and "就业服务登记已核对完毕" in page.inner_text("main")  # type: ignore[attr-defined]
    assert not page.query_selector("#grant-data")  # type: ignore[attr-defined]
    context.close()  # type: ignore[attr-defined]
    assert not (errors or errors_approver or errors_reader or errors_revoker or errors_refused)


def test_the_demo_citizen_sees_who_read_their_record(
    demo: tuple[str, list[DemoAccount]], browser: object
) -> None:
    base, accounts = demo
    citizen = next(a for a in accounts if a.username == "citizen")
    context, page, errors = _signed_in(browser, base, citizen)
    page.goto(base + "/me/record")  # type: ignore[attr-defined]
    shown = page.inner_text("main")  # type: ignore[attr-defined]
    assert "MZ" in shown and "最低生活保障资格审核" in shown, shown  # the demo's reads under the 民政局's grant
    assert not errors, errors
    context.close()  # type: ignore[attr-defined]


def test_a_citizen_applies_for_open_data_and_reads_it_once_approved(
    demo: tuple[str, list[DemoAccount]], built: DemoResult, browser: object
) -> None:
    base, accounts = demo
    by_name = {a.username: a for a in accounts}
    codes = dict(zip((e.file_name for e in built.manifest.extracts), built.resources, strict=False))
    tax = codes["sw_shuiwu_dengji.csv"]  # the tax bureau's 有条件开放 registration data

    context, page, errors = _signed_in(browser, base, by_name["citizen"])
    page.goto(f"{base}/catalog/{tax}")  # type: ignore[attr-defined]
    page.click("#open-application a.button")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    page.fill("#apply-form input[name=purpose]", "社区商业业态调研")  # type: ignore[attr-defined]
    page.fill("#apply-form textarea[name=scenario]", "统计本街道企业的登记状态")  # type: ignore[attr-defined]
    page.click("#apply-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert "/sharing/requests/" in page.url, page.inner_text("main")  # type: ignore[attr-defined]
    request_path = page.url.removeprefix(base)  # type: ignore[attr-defined]
    page.goto(base + "/sharing")  # type: ignore[attr-defined]
    assert page.query_selector(f"#my-requests a[href='{request_path}']")  # type: ignore[attr-defined]
    context.close()  # type: ignore[attr-defined]

    context, page, errors_approver = _signed_in(browser, base, by_name["approver.sw"])
    page.goto(base + "/sharing/inbox")  # type: ignore[attr-defined]
    page.click(f"a[href='{request_path}']")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    page.click("#decide button[value=approve]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert page.inner_text("#request-state") == "已批准", page.inner_text("main")  # type: ignore[attr-defined]
    context.close()  # type: ignore[attr-defined]

    context, page, errors_reader = _signed_in(browser, base, by_name["citizen"])
    page.goto(base + request_path)  # type: ignore[attr-defined]
    page.click("text=查看数据")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert page.query_selector_all("#open-data tbody tr"), page.inner_text("main")  # type: ignore[attr-defined]
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.click("#data-summary a >> nth=0")  # type: ignore[attr-defined]
    name = download.value.suggested_filename
    assert name.startswith(f"{tax}-v") and name.endswith(".csv"), name
    context.close()  # type: ignore[attr-defined]
    assert not (errors or errors_approver or errors_reader)
