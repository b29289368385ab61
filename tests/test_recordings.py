"""Recordings under the operator's control: copied from Twilio, verified, deleted there, and never lost."""
from datetime import timedelta

import pytest
from twilio_mock import ACCOUNT_SID

from conftest import rows
from ivr import clock
from ivr.errors import TwilioUnavailable
from ivr.storage import db
from ivr.storage import recordings as store
from ivr.telephony import recordings


def recording_rows(app):
    return rows(app, "SELECT sid, call_sid, status, size, copied_duration, attempts, error, deleted_at,"
                     " length(content) AS stored FROM recordings ORDER BY created_at")


def twilio_calls(twilio):
    return [(method, path) for method, path in twilio.mock.requests(twilio.since)]


def queued(database, sid, seconds=12, call_sid="CA" + "0" * 32):
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}"
    with db.transaction(database):
        store.queue(database, sid, call_sid, url, seconds, clock.stamp())
    return sid


RECORDING = "RE" + "1" * 32


def test_sync_copies_verifies_then_deletes_at_twilio(app, runner, twilio, database):
    audio = twilio.add_recording(queued(database, RECORDING), 12)
    result = runner.invoke(args=["recordings", "sync"])
    assert result.exit_code == 0, result.output
    assert "1 copied" in result.output and "1 deleted at Twilio" in result.output
    [row] = recording_rows(app)
    assert row["status"] == "deleted" and row["stored"] == row["size"] == len(audio) and row["copied_duration"] == 12
    assert store.audio(database, RECORDING) == (audio, "audio/wav")
    assert twilio_calls(twilio) == [("DELETE", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}.json")]
    assert twilio.downloads[-1] == RECORDING
    assert "nothing to do" in runner.invoke(args=["recordings", "sync"]).output


@pytest.mark.parametrize(
    "served, error",
    [
        (None, "HTTP 404"),  # not ready at Twilio yet
        (3, "3.0 s of audio where Twilio reported 12 s"),  # cut short
        (b"<html>not audio</html>", "not a WAV recording"),
    ],
)
def test_a_recording_that_cannot_be_copied_is_never_deleted_at_twilio_and_is_retried(app, runner, twilio, database,
                                                                                     served, error):
    sid = queued(database, "RE" + "2" * 32)
    twilio.audio.pop(sid, None)
    if isinstance(served, int):
        twilio.add_recording(sid, served)
    elif served is not None:
        twilio.audio[sid] = served
    result = runner.invoke(args=["recordings", "sync"])
    assert result.exit_code == 1 and "1 failed" in result.output
    [row] = recording_rows(app)
    assert row["status"] == "failed" and error in row["error"] and row["stored"] is None and row["attempts"] == 1
    assert [method for method, _ in twilio_calls(twilio)] == []  # nothing deleted at Twilio
    audio = twilio.add_recording(sid, 12)
    assert "1 copied" in runner.invoke(args=["recordings", "sync"]).output
    [row] = recording_rows(app)
    assert row["status"] == "deleted" and row["stored"] == len(audio) and row["attempts"] == 2


def test_a_copy_kept_when_twilio_cannot_delete_yet_is_deleted_on_the_next_run(app, runner, twilio, database,
                                                                              monkeypatch):
    sid = queued(database, "RE" + "3" * 32)
    twilio.add_recording(sid, 12)

    def refused(client, sid):
        raise TwilioUnavailable("Twilio refused to delete a recording: HTTP 500", status=500)

    with monkeypatch.context() as patched:
        patched.setattr(recordings, "delete_at_twilio", refused)
        result = runner.invoke(args=["recordings", "sync"])
    assert result.exit_code == 1 and "1 copied" in result.output and "1 not deleted" in result.output
    [row] = recording_rows(app)
    assert row["status"] == "copied" and row["stored"] and "HTTP 500" in row["error"]
    assert "1 deleted at Twilio" in runner.invoke(args=["recordings", "sync"]).output
    assert recording_rows(app)[0]["status"] == "deleted"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls/CA1",
        "",
    ],
)
def test_only_twilios_own_recordings_are_ever_fetched(url):
    assert recordings.media_url(url, "https://api.twilio.com") is None


def test_sync_needs_credentials(app, runner):
    result = runner.invoke(args=["recordings", "sync"])
    assert result.exit_code == 1 and "TWILIO_ACCOUNT_SID is not set" in result.output


# -- from the call itself --------------------------------------------------------------------------------


def leave_message(call, seconds=7):
    call.press("0")
    call.dial_result("no-answer")
    return call.record(seconds)


def test_a_recording_made_in_a_call_is_copied_and_deleted_at_twilio_when_the_call_ends(app, call, twilio):
    call.start(from_="+8613312345678")
    leave_message(call)
    [row] = recording_rows(app)
    assert row["status"] == "pending" and row["call_sid"] == call.sid
    audio = twilio.add_recording(row["sid"], 7)
    mark = twilio.mock.mark()
    call.hangup(duration=30)
    [row] = recording_rows(app)
    assert row["status"] == "deleted" and row["stored"] == len(audio)
    assert [method for method, _ in twilio.mock.requests(mark)] == ["DELETE"]


def test_when_twilio_is_down_at_the_end_of_the_call_the_recording_waits_for_sync(app, call, twilio, runner):
    call.start(from_="+8613312345678")
    leave_message(call)
    [row] = recording_rows(app)
    twilio.add_recording(row["sid"], 7)
    app.config["TWILIO_API_URL"] = "http://127.0.0.1:9"
    call.hangup(duration=30)  # the status callback still answers: the simulator fails on anything but 200
    assert recording_rows(app)[0]["status"] == "failed"
    app.config["TWILIO_API_URL"] = twilio.url
    assert "1 copied" in runner.invoke(args=["recordings", "sync"]).output


def test_without_credentials_recordings_stay_pending_and_calls_go_on(app, call):
    call.start(from_="+8613312345678")
    leave_message(call)
    call.hangup(duration=30)
    assert recording_rows(app)[0]["status"] == "pending"
    assert rows(app, "SELECT status FROM calls") == [{"status": "completed"}]


# -- staff play recordings from the hotline's own copy -----------------------------------------------------


@pytest.fixture
def copied(app, call, twilio):
    """A report call whose recording was copied here (and deleted at Twilio) when the call ended."""
    from test_report import report

    report(call, "+8613312345678", seconds=7)
    [row] = recording_rows(app)
    audio = twilio.add_recording(row["sid"], 7)
    call.hangup(duration=30)
    assert recording_rows(app)[0]["status"] == "deleted"
    return row["sid"], audio


def plays(app, sid):
    return len(rows(app, "SELECT * FROM audit WHERE action = 'recording.play' AND target = ?", [sid]))


def test_staff_play_a_recording_with_seeking_and_each_play_is_audited(app, client, login, copied, monkeypatch):
    sid, audio = copied
    assert client.get(f"/dashboard/recordings/{sid}").status_code in (302, 401)  # not signed in
    login("agent")
    whole = client.get(f"/dashboard/recordings/{sid}")
    assert whole.status_code == 200 and whole.data == audio and whole.mimetype == "audio/wav"
    assert whole.headers["Accept-Ranges"] == "bytes" and "no-store" in whole.headers["Cache-Control"]
    assert plays(app, sid) == 1
    seek = client.get(f"/dashboard/recordings/{sid}", headers={"Range": "bytes=1000-1999"})
    assert seek.status_code == 206 and seek.data == audio[1000:2000]
    assert seek.headers["Content-Range"] == f"bytes 1000-1999/{len(audio)}"
    assert plays(app, sid) == 1  # seeking is not a new play
    client.get(f"/dashboard/recordings/{sid}", headers={"Range": "bytes=0-"})
    assert plays(app, sid) == 1  # the same play: a browser asks for the start twice
    later = clock.now() + timedelta(minutes=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    client.get(f"/dashboard/recordings/{sid}", headers={"Range": "bytes=0-"})
    assert plays(app, sid) == 2
    assert client.get("/dashboard/recordings/RE" + "f" * 32).status_code == 404
    assert client.get("/dashboard/recordings/x").status_code == 404


def test_the_pages_show_a_player_or_where_the_recording_stands(app, client, login, copied, database):
    sid, _ = copied
    login("agent")
    player = f'src="/dashboard/recordings/{sid}"'
    for path in ("/dashboard/reports", f"/dashboard/calls/{rows(app, 'SELECT call_sid FROM recordings')[0]['call_sid']}"):
        response = client.get(path)
        assert player in response.get_data(as_text=True) and "<audio" in response.get_data(as_text=True)
        assert "media-src 'self'" in response.headers["Content-Security-Policy"]
    with db.transaction(database):
        store.forget(database, sid, clock.stamp())
    assert "已按保留期限删除" in client.get("/dashboard/reports").get_data(as_text=True)
    assert client.get(f"/dashboard/recordings/{sid}").status_code == 404


def test_a_message_not_yet_copied_says_so_on_the_call_backs_page(app, client, login, call):
    call.start(from_="+8613312345678")
    leave_message(call)
    login("agent")
    page = client.get("/dashboard/callbacks").get_data(as_text=True)
    assert "尚未从 Twilio 复制" in page and "<audio" not in page
