"""End-to-end: a real headless Chromium (Debian's) drives the dashboard served on localhost."""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import STAFF_PASSWORD, TOKEN, rows
from ivr.devtools import bigdemo
from ivr.staff import users
from ivr.storage import db
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
    database = db.connect(app.config["DATABASE"])
    try:
        users.create_user(database, "ada", "admin", STAFF_PASSWORD)
        merchants.upsert_merchant(database, MERCHANT, "小王便利店", ["+8613800138000"])
        bigdemo.generate(database, 1500, days=30, seed=3, echo=lambda *args: None, code_key=app.config["CODE_SECRET"],
                         action_keys=app.extensions["ivr"]["outreach_actions"].keys())
    finally:
        database.conn.close()
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
    page.goto(base + "/dashboard/login")
    page.fill("input[name=name]", "ada")
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('概览')")
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


def test_chromium_is_where_the_tests_expect_it():
    assert shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)


def test_staff_play_a_reports_recording_in_chromium(app, page, twilio):
    """A report's recording, copied from Twilio when the call ended, plays in the browser from the hotline itself."""
    database = db.connect(app.config["DATABASE"])
    try:
        users.create_user(database, "ada", "admin", STAFF_PASSWORD)
    finally:
        database.conn.close()
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

        page.goto(base + "/dashboard/login")
        page.fill("input[name=name]", "ada")
        page.fill("input[name=password]", STAFF_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("h1:has-text('概览')")
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
        assert rows(app, "SELECT user, target FROM audit WHERE action = 'recording.play'") == [
            {"user": "ada", "target": recording["sid"]}]
    finally:
        server.shutdown()
