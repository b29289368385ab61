"""One vocabulary: every verdict and call status is accepted, listed and named alike by the API, the dashboard and the call log."""
import re

from conftest import CallHelper, add_call, csrf_of, rows
from ivr import clock
from ivr.vocabulary import CALL_STATUSES, FINAL_STATUSES, STATUS_NAMES, VERDICT_NAMES, VERDICTS


def _in_language(client, lang):
    client.post("/dashboard/language", data={"lang": lang, "csrf_token": csrf_of(client)})


def test_every_verdict_is_filtered_by_the_api_and_the_dashboard_and_named_in_both_languages(api, client, login, database):
    for verdict in VERDICTS:
        add_call(database, f"CA-{verdict}", clock.stamp(), verdict=verdict)
    login("agent")
    for verdict in VERDICTS:
        assert [found["sid"] for found in api("GET", f"/api/calls?verdict={verdict}").json["calls"]] == [f"CA-{verdict}"]
        listing = client.get(f"/dashboard/calls?verdict={verdict}").get_data(as_text=True)
        assert f'<span class="badge v-{verdict}">{VERDICT_NAMES[verdict][1]}</span>' in listing
        assert f'<option value="{verdict}" selected>' in listing
    assert api("GET", "/api/calls?verdict=scam").status_code == 400
    assert client.get("/dashboard/calls?verdict=scam").status_code == 400
    for lang, position in (("en", 0), ("zh", 1)):
        _in_language(client, lang)
        legend = client.get("/dashboard/").get_data(as_text=True)
        listing = client.get("/dashboard/calls").get_data(as_text=True)
        for verdict, names in VERDICT_NAMES.items():
            assert names[position] in legend, (lang, verdict)
            assert f'<option value="{verdict}" >{names[position]}</option>' in listing, (lang, verdict)


def test_every_call_status_is_filtered_and_named_and_only_final_ones_end_a_call(app, client, login):
    sids = {status: f"CA{index:032x}" for index, status in enumerate(CALL_STATUSES)}
    for status, sid in sids.items():
        caller = CallHelper(app)
        caller.start(sid=sid)
        caller.hangup(status=status)
    ended = {row["sid"]: row["ended_at"] is not None for row in rows(app, "SELECT sid, ended_at FROM calls")}
    assert ended == {sid: status in FINAL_STATUSES for status, sid in sids.items()}
    login("agent")
    _in_language(client, "en")
    for status, sid in sids.items():
        listing = client.get(f"/dashboard/calls?status={status}").get_data(as_text=True)
        assert sid in listing and f'<span class="badge s-{status}">{STATUS_NAMES[status][0]}</span>' in listing
    assert client.get("/dashboard/calls?status=hung-up").status_code == 400
    # A call that ended without a verdict was abandoned; one still ringing or in progress was not.
    overview = client.get("/dashboard/").get_data(as_text=True)
    assert re.search(rf"<b>{len(FINAL_STATUSES)}</b>(?:</a>)?<span>Calls abandoned before a verdict</span>", overview)
