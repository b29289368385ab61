"""`flask purge` that really forgets: recordings deleted at Twilio first, and nothing purged left in the files."""
import glob
import io
import wave

import pytest
from twilio_mock import ACCOUNT_SID

from conftest import rows
from ivr.staff import audit
from ivr.storage import db

STRANGER = "+8613312345678"
WORDS = "翡翠孔雀在窗台上唱歌"


def recording_with_pattern(twilio, sid, seconds=6):
    """Serve a WAV whose samples hold a pattern that can be found in the database's bytes."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x13\x57\x9b\xdf" * (seconds * 4000))
    twilio.audio[sid] = buffer.getvalue()


def file_bytes(app):
    """Every database file as bytes: the database, its write-ahead log and its shared memory."""
    return {path: open(path, "rb").read() for path in glob.glob(app.config["DATABASE"] + "*")}


def call_with_a_message_and_words(app, call, twilio):
    call.start(from_=STRANGER)
    call.say(WORDS)
    call.press("0")
    call.dial_result("no-answer")
    call.record(6)
    call.hangup(duration=40)
    [message] = rows(app, "SELECT recording_sid FROM callbacks")
    return message["recording_sid"]


@pytest.fixture
def purgeable(app, call, twilio, database):
    sid = call_with_a_message_and_words(app, call, twilio)
    recording_with_pattern(twilio, sid)
    from ivr.storage import recordings as store

    with db.transaction(database):
        store.queue(database, sid, call.sid,
                    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}", 6, "2026-01-01T00:00:00.000+00:00")
        audit.record(database, "ada", "number.reveal", call.sid, {"number": STRANGER})
    return sid


def test_purge_deletes_recordings_at_twilio_and_forgets_the_caller(app, runner, call, twilio, purgeable):
    sid = purgeable
    mark = twilio.mock.mark()
    result = runner.invoke(args=["purge", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "1 calls" in result.output and "1 recordings" in result.output
    deletes = [path for method, path in twilio.mock.requests(mark) if method == "DELETE"]
    assert deletes == [f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}.json"]
    [recording] = rows(app, "SELECT status, content, url, deleted_at FROM recordings")
    assert recording["status"] == "purged" and recording["content"] is None and recording["url"] is None
    assert rows(app, "SELECT recording_sid, from_number FROM callbacks") == [{"recording_sid": None, "from_number": None}]
    assert rows(app, "SELECT detail FROM audit WHERE action = 'number.reveal'")[0]["detail"] == '{"number": "[redacted]"}'


@pytest.mark.sqlite_only("reads the bytes of the SQLite file, its write-ahead log and its shared memory")
def test_purge_leaves_no_trace_in_the_files(app, runner, call, twilio, purgeable):
    before = b"".join(file_bytes(app).values())
    assert STRANGER.encode() in before and WORDS.encode() in before  # the check below can find them
    result = runner.invoke(args=["purge", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    for path, content in file_bytes(app).items():
        for secret in (STRANGER.encode(), STRANGER[3:].encode(), WORDS.encode(), WORDS[:3].encode()):
            assert secret not in content, f"{secret!r} is still in {path}"


def test_recordings_copied_before_the_purge_lose_their_audio(app, runner, call, twilio, purgeable):
    assert "1 copied" in runner.invoke(args=["recordings", "sync"]).output
    audio = twilio.audio[purgeable]
    [copied] = rows(app, "SELECT content FROM recordings")
    assert audio[100:164] in bytes(copied["content"])
    assert runner.invoke(args=["purge", "--older-than", "0"]).exit_code == 0
    assert rows(app, "SELECT content FROM recordings") == [{"content": None}]


@pytest.mark.sqlite_only("reads the bytes of the SQLite file, its write-ahead log and its shared memory")
def test_recordings_copied_before_the_purge_lose_their_audio_too(app, runner, call, twilio, purgeable):
    assert "1 copied" in runner.invoke(args=["recordings", "sync"]).output
    audio = twilio.audio[purgeable]
    assert audio[100:164] in b"".join(file_bytes(app).values())
    runner.invoke(args=["purge", "--older-than", "0"])
    for path, content in file_bytes(app).items():
        assert audio[100:164] not in content, f"the recording's audio is still in {path}"


def test_without_credentials_the_sid_is_kept_until_twilio_has_deleted_it(app, runner, call, twilio, purgeable):
    app.config["TWILIO_ACCOUNT_SID"] = None
    result = runner.invoke(args=["purge", "--older-than", "0"])
    assert result.exit_code == 0 and "1 recordings are still at Twilio" in result.output
    [recording] = rows(app, "SELECT sid, status, content, url FROM recordings")
    assert recording == {"sid": purgeable, "status": "purge_pending", "content": None, "url": None}
    app.config["TWILIO_ACCOUNT_SID"] = ACCOUNT_SID
    mark = twilio.mock.mark()
    assert "1 deleted at Twilio" in runner.invoke(args=["recordings", "sync"]).output
    assert [method for method, _ in twilio.mock.requests(mark)] == ["DELETE"]  # deleted, never downloaded
    assert rows(app, "SELECT status FROM recordings") == [{"status": "purged"}]


def test_older_than_zero_leaves_a_live_call_alone(app, runner, call):
    call.start(from_=STRANGER)
    call.say(WORDS)
    result = runner.invoke(args=["purge", "--older-than", "0"])
    assert result.exit_code == 0 and "0 calls" in result.output
    [live] = rows(app, "SELECT from_number, purged_at FROM calls")
    assert live == {"from_number": STRANGER, "purged_at": None}


def erase_a_merchant(app, runner, call, verification):
    """Two calls, one from the merchant's phone and one from the other merchant's; erase the first merchant.
    Returns the calls counted by verdict and merchant before the erasure."""
    created = verification.add_outreach()
    call.start(from_=verification.phone)
    call.press("1")
    call.press(created["reference_code"] + "#")
    call.hangup()
    call.start(from_=verification.other_phone)
    call.hangup()
    counts = rows(app, "SELECT verdict, merchant_id, count(*) AS n FROM calls GROUP BY 1, 2 ORDER BY 1, 2")
    result = runner.invoke(args=["purge", "--merchant", verification.merchant])
    assert result.exit_code == 0, result.output
    assert "name and 1 phones erased" in result.output
    return counts


def test_purge_merchant_erases_one_merchants_personal_data_and_keeps_the_counts(app, runner, call, verification):
    counts = erase_a_merchant(app, runner, call, verification)
    assert rows(app, "SELECT verdict, merchant_id, count(*) AS n FROM calls GROUP BY 1, 2 ORDER BY 1, 2") == counts
    assert rows(app, "SELECT phone FROM merchant_phones") == [{"phone": verification.other_phone}]
    assert rows(app, "SELECT name FROM merchants WHERE id = ?", [verification.merchant]) == [{"name": ""}]


@pytest.mark.sqlite_only("reads the bytes of the SQLite file, its write-ahead log and its shared memory")
def test_purge_merchant_leaves_no_trace_of_it_in_the_files(app, runner, call, verification):
    erase_a_merchant(app, runner, call, verification)
    for path, content in file_bytes(app).items():
        for secret in (verification.phone.encode(), "示例便利店".encode()):
            assert secret not in content, f"{secret!r} is still in {path}"
    assert verification.other_phone.encode() in b"".join(file_bytes(app).values())  # others are kept


@pytest.mark.parametrize(
    "arguments, message",
    [
        ([], "give either --older-than DAYS or --merchant ID"),
        (["--older-than", "3", "--merchant", "898440358120001"], "give either"),
        (["--merchant", "898440358120009"], "no merchant '898440358120009'"),
        (["--merchant", "898440358120001", "--dry-run"], "--dry-run counts what --older-than would purge"),
    ],
)
def test_purge_says_what_it_needs(app, runner, verification, arguments, message):
    result = runner.invoke(args=["purge", *arguments])
    assert result.exit_code != 0 and message in result.output
