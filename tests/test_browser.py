"""End-to-end: a real headless Chromium (Debian's) drives the dashboard served on localhost."""
import os
import re
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import STAFF_PASSWORD, TOKEN, insert, rows
from ivr import clock
from ivr import database as databases
from ivr.devtools import bigdemo
from ivr.staff import users
from ivr.verification import merchants, outreach
from ivr.voice.simulator import Call, HttpTransport

CHROMIUM = os.environ.get("IVR_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("IVR_SCREENSHOTS", Path(__file__).resolve().parent.parent / "screenshots"))
MERCHANT = "123456789012345"
REPORTED = "+8613912345678"
SAID = "对方让我下载屏幕共享软件"

# On CI (.ci/run installs both) a missing browser fails; on a laptop without them these tests are skipped.
try:
    from playwright import sync_api
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)", allow_module_level=True)
if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip(f"no Chromium at {CHROMIUM} (bash .ci/system-deps installs it)", allow_module_level=True)


@pytest.fixture
def served(app):
    """The app on 127.0.0.1 on a free port, with staff, a merchant, a month of demo calls and one real report call."""
    with databases.opened(app.config) as database:
        users.create_user(database, "ada", "admin", STAFF_PASSWORD)
        merchants.upsert_merchant(database, MERCHANT, "小王便利店", ["+8613800138000"])
        bigdemo.generate(database, 1500, days=30, seed=3, echo=lambda *args: None, code_key=app.config["CODE_SECRET"],
                         action_keys=app.extensions["ivr"]["outreach_actions"].keys())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    # A real call over HTTP through the signed webhooks: report a number, say what they wanted, leave a message.
    call = Call(HttpTransport(base), TOKEN, from_="+8613800138000")
    call.start()
    call.press("3")
    call.press("13912345678#")
    call.say(SAID)
    call.record(12)
    call.hangup()
    yield base, call.sid
    server.shutdown()


@pytest.fixture
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        yield tab
        browser.close()


def test_staff_work_the_dashboard_in_a_real_browser(served, page, app, capsys):
    base, sid = served
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # Sign in.
    sign_in(page, base)
    assert page.locator("svg.chart").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "overview.png"), full_page=True)

    # Open the report call from the calls list (found by what the caller said).
    page.goto(base + "/dashboard/calls")
    page.fill("input[name=q]", "屏幕共享")
    page.click("form.filters button[type=submit]")
    page.click(f"a[href='/dashboard/calls/{sid}']")
    page.wait_for_selector("h2:has-text('时间线')")
    assert SAID in page.inner_text("ol.timeline")
    assert "+86 138****8000" in page.inner_text("#caller")
    page.screenshot(path=str(SCREENSHOTS / "call-detail.png"), full_page=True)

    # Confirm the reported number, with a reason.
    page.click(f"a[href='/dashboard/numbers/{REPORTED.replace('+', '%2B')}'], a[href='/dashboard/numbers/{REPORTED}']")
    page.fill("input[name=reason]", "多个商户举报同一话术")
    page.click("button[value=confirmed]")
    page.wait_for_selector("#number-status:has-text('已确认诈骗')")
    assert rows(app, "SELECT status, status_changed_by FROM numbers WHERE number = ?", [REPORTED]) == [
        {"status": "confirmed", "status_changed_by": "ada"}
    ]

    # Register outreach and see its reference code, once.
    page.goto(base + "/dashboard/outreach")
    page.fill("input[name=merchant_id]", MERCHANT)
    page.select_option("select[name=channel]", "phone")
    page.fill("input[name=from_number]", "4009001234")
    page.select_option("select[name=action]", "accept_terminal_update")
    page.click("form.grid button[type=submit]")
    code = page.inner_text("#reference-code").strip()
    assert re.fullmatch(r"[0-9]{8}", code)
    [row] = rows(app, "SELECT reference_code, code_hash, action FROM outreach WHERE merchant_id = ?", [MERCHANT])
    assert row == {"reference_code": "", "code_hash": outreach.code_hash(app.config["CODE_SECRET"], MERCHANT, code),
                   "action": "accept_terminal_update"}
    page.screenshot(path=str(SCREENSHOTS / "outreach-created.png"), full_page=True)
    page.goto(base + "/dashboard/outreach")
    assert code not in page.content()

    # A phone-sized screen still gets the calls list.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/dashboard/calls")
    page.screenshot(path=str(SCREENSHOTS / "calls-phone.png"), full_page=False)

    with capsys.disabled():
        print(f"\nscreenshots saved in {SCREENSHOTS}: " + ", ".join(sorted(p.name for p in SCREENSHOTS.glob("*.png"))))
    assert (SCREENSHOTS / "overview.png").stat().st_size > 10_000
    assert (SCREENSHOTS / "call-detail.png").stat().st_size > 10_000


def test_staff_triage_a_report_and_log_a_call_back_in_chromium(served, page, app):
    base, sid = served
    [report] = rows(app, "SELECT id FROM reports WHERE call_sid = ?", [sid])
    with databases.opened(app.config) as database:
        # Older than every demo message, so it heads the queue of call-backs waiting.
        callback_id = insert(database, "callbacks", {
            "call_sid": "CAbrowsercallback", "from_number": "+8613700137000", "language": "zh",
            "recording_url": "https://api.twilio.com/rec/RE1", "status": "waiting",
            "created_at": clock.stamp(clock.now() - timedelta(days=60))})["id"]
    sign_in(page, base)

    # Triage the report the real call filed: assign it, add a note, close it.
    page.goto(base + "/dashboard/reports?number=%2B8613912345678&status=new")
    page.click(f"td.case a[href='/dashboard/reports/{report['id']}']")
    page.wait_for_selector("#case-status:has-text('新')")
    page.select_option("#assign-form select[name=assignee]", "ada")
    page.click("#assign-form button[type=submit]")
    page.wait_for_selector("#assignee:has-text('ada')")
    page.fill("#note-form textarea[name=note]", "已回电商户，对方没有转账")
    page.click("#note-form button[type=submit]")
    page.wait_for_selector("li.note:has-text('已回电商户，对方没有转账')")
    page.select_option("#status-form select[name=status]", "closed")
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("#case-status:has-text('已结案')")
    assert rows(app, "SELECT case_status, assignee FROM reports WHERE id = ?", [report["id"]]) == [
        {"case_status": "closed", "assignee": "ada"}]
    assert rows(app, "SELECT author, body FROM report_notes") == [{"author": "ada", "body": "已回电商户，对方没有转账"}]
    page.screenshot(path=str(SCREENSHOTS / "report-case.png"), full_page=True)

    # Log a call-back attempt: no answer keeps it first in the queue, counted; reached closes it.
    page.goto(base + "/dashboard/callbacks")
    assert page.locator("tr.callback").first.get_attribute("id") == f"callback-{callback_id}"
    page.click(f"#callback-{callback_id} button[value=no_answer]")
    page.wait_for_selector(f"#callback-{callback_id} ol.attempts li:has-text('无人接听')")
    assert page.locator("tr.callback").first.get_attribute("id") == f"callback-{callback_id}"
    page.screenshot(path=str(SCREENSHOTS / "callbacks.png"), full_page=False)
    page.click(f"#callback-{callback_id} button[value=reached]")
    page.wait_for_selector("p.flash.ok:has-text('回电已结束')")
    assert page.locator(f"#callback-{callback_id}").count() == 0
    assert rows(app, "SELECT outcome, made_by FROM callback_attempts WHERE callback_id = ? ORDER BY id", [callback_id]) == [
        {"outcome": "no_answer", "made_by": "ada"}, {"outcome": "reached", "made_by": "ada"}]
    assert rows(app, "SELECT status, done_by FROM callbacks WHERE id = ?", [callback_id]) == [
        {"status": "done", "done_by": "ada"}]


def test_chromium_is_where_the_tests_expect_it():
    assert shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)


def test_staff_play_a_reports_recording_in_chromium(app, page, twilio):
    """A report's recording, copied from Twilio when the call ended, plays in the browser from the hotline itself."""
    with databases.opened(app.config) as database:
        users.create_user(database, "ada", "admin", STAFF_PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        call = Call(HttpTransport(base), TOKEN, from_="+8613312345678")
        call.start()
        call.press("3")
        call.press("13912345678#")
        call.say(SAID)
        call.record(7)
        [recording] = rows(app, "SELECT sid FROM recordings")
        twilio.add_recording(recording["sid"], 7)
        call.hangup()
        assert rows(app, "SELECT status FROM recordings") == [{"status": "deleted"}]

        sign_in(page, base)
        page.goto(base + "/dashboard/reports")
        player = page.locator("td.recording audio")
        assert player.count() == 1
        duration = player.evaluate(
            """audio => new Promise((resolve, reject) => {
                   audio.addEventListener('loadedmetadata', () => resolve(audio.duration));
                   audio.addEventListener('error', () => reject(new Error('audio error ' + audio.error.code)));
                   audio.preload = 'metadata';
                   audio.load();
               })"""
        )
        assert abs(duration - 7) < 0.1
        # Chromium may ask for the start twice at once; each request is from ada, for this recording.
        played = rows(app, "SELECT \"user\", target FROM audit WHERE action = 'recording.play'")
        assert played and all(row == {"user": "ada", "target": recording["sid"]} for row in played)
    finally:
        server.shutdown()


def test_staff_pick_a_period_click_a_bar_page_merchants_and_find_a_call_by_its_last_four_digits(served, page, app):
    base, sid = served
    sign_in(page, base)

    # The last 7 days, then a bar of the calls chart opens the calls of that day and verdict.
    page.click("#range-7d")
    page.wait_for_selector("#range-7d[aria-current=true]")
    assert "7 天" in page.inner_text("#period-heading")
    bar = page.locator("#calls-chart a.bar").last
    title = bar.locator("title").text_content()  # e.g. "2026-11-20 真实: 3"
    day, count = title.split(" ", 1)[0], int(title.rsplit(": ", 1)[1])
    bar.click()
    page.wait_for_selector("h1:has-text('通话')")
    assert f"date_from={day}" in page.url and f"date_to={day}" in page.url and "verdict=" in page.url
    assert page.input_value("input[name=date_from]") == day
    assert page.locator("a.call-link").count() == min(count, 50)
    assert page.inner_text("#count").startswith(f"{count} 通")
    page.screenshot(path=str(SCREENSHOTS / "calls-from-a-bar.png"), full_page=True)

    # Page through the merchants: every one is reachable.
    page.goto(base + "/dashboard/merchants")
    total = int(re.match(r"([\d,]+) 个商户", page.inner_text("#count")).group(1).replace(",", ""))
    assert total > 50
    seen = page.locator("a.merchant-link").all_inner_texts()
    while page.locator("nav.pager a[rel=next]").count():
        page.click("nav.pager a[rel=next]")
        page.wait_for_load_state()
        seen += page.locator("a.merchant-link").all_inner_texts()
    assert len(seen) == total == len(set(seen)) and MERCHANT in seen

    # Find the report call by the last four digits its masked number shows.
    page.goto(base + "/dashboard/calls")
    page.fill("input[name=caller]", "8000")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector(f"a[href='/dashboard/calls/{sid}']")
    callers = page.locator("table.list td.nowrap").all_inner_texts()
    assert callers and all(caller.endswith("8000") for caller in callers)


# -- every page in both languages, and at phone width -------------------------------------------------------------

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The pages whose phone-width screenshots are kept, by the name of the file.
PHONE_SHOTS = {"overview": "/dashboard/", "calls": "/dashboard/calls"}


def _every_page(app, sid):
    """Every dashboard page a browser opens (tests/test_languages.py walks the same list), CSV downloads left out."""
    from test_languages import dashboard_pages

    [report] = rows(app, "SELECT id FROM reports WHERE call_sid = ?", [sid])
    [outreach_row] = rows(app, "SELECT id FROM outreach WHERE status = 'open' ORDER BY id LIMIT 1")
    ids = {"sid": sid, "number": REPORTED, "merchant_id": MERCHANT, "outreach_id": outreach_row["id"],
           "report_id": report["id"], "calls": {"report": sid}}
    return [path for path in dashboard_pages(app, ids) if not path.split("?")[0].endswith(".csv")]


def _shot_name(path):
    name = re.sub(r"[^A-Za-z0-9]+", "-", path.removeprefix("/dashboard")).strip("-")
    return name or "overview"


def _overflow(page):
    """How far the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_every_page_fits_a_phone_and_is_photographed_in_both_languages(served, page, app, capsys):
    base, sid = served
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = _every_page(app, sid)
    sign_in(page, base)
    wide = {}
    for lang, switch in (("zh", None), ("en", "English")):
        page.set_viewport_size(DESKTOP)
        if switch:
            page.click(f"header button[name=lang]:has-text('{switch}')")
            page.wait_for_selector("html[lang=en]")
        for path in pages:
            page.goto(base + path)
            # Named by what the page is, not by this run's call SID, so each run replaces the last one's files.
            page.screenshot(path=str(SCREENSHOTS / f"{lang}-{_shot_name(path.replace(sid, 'call'))}.png"), full_page=True)

        page.set_viewport_size(PHONE)
        for path in pages:
            page.goto(base + path)
            if _overflow(page) > 0:
                wide[f"{lang} {path}"] = page.evaluate("document.documentElement.scrollWidth")
        for name, path in dict(PHONE_SHOTS, **{"call-detail": f"/dashboard/calls/{sid}"}).items():
            page.goto(base + path)
            page.screenshot(path=str(SCREENSHOTS / f"phone-{lang}-{name}.png"), full_page=True)
    assert wide == {}, f"wider than the 390 px window: {wide}"

    # At phone width the navigation folds behind one button, and opens without any script.
    page.goto(base + "/dashboard/calls")
    assert page.locator("header.top").bounding_box()["height"] < 80
    assert not page.locator("header.top nav").is_visible()
    page.click("label.menu-button")
    assert page.locator("header.top nav a[href='/dashboard/reports']").is_visible()
    page.click("header.top nav a[href='/dashboard/reports']")
    page.wait_for_url("**/dashboard/reports")

    # A call's raw record is one fold under its timeline; opened on the phone, it wraps instead of widening the page.
    page.goto(base + f"/dashboard/calls/{sid}")
    assert page.locator("details").count() == 1
    assert page.locator("#raw-record li").count() == page.locator("ol.timeline li.ev").count() > 0
    assert not page.locator("#raw-record ol.raw").is_visible()
    page.click("#raw-record > summary")
    assert page.locator("#raw-record ol.raw").is_visible() and _overflow(page) <= 0

    # The charts' axis text, as rendered on the phone's screen, is at least 11 px.
    page.goto(base + "/dashboard/")
    sizes = page.eval_on_selector_all(
        "svg.chart text.axis",
        "texts => texts.map(text => text.getScreenCTM().a * parseFloat(getComputedStyle(text).fontSize))")
    assert sizes and min(sizes) >= 11, sizes

    with capsys.disabled():
        shots = sorted(SCREENSHOTS.glob("*.png"))
        print(f"\n{len(shots)} screenshots saved in {SCREENSHOTS} (zh-*, en-*: desktop; phone-*: 390 px)")
    assert (SCREENSHOTS / "phone-zh-call-detail.png").stat().st_size > 10_000
    assert (SCREENSHOTS / "en-overview.png").stat().st_size > 10_000


def sign_in(page, base, name="ada"):
    """Sign `name` in through the login form and wait for the overview."""
    page.goto(base + "/dashboard/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('概览')")
