"""The calls list's SQL: filtered keyset pages, capped counts, and search over what callers said."""
import json
from dataclasses import dataclass

LIST_COLUMNS = (
    "c.rowid AS rid, c.sid, c.from_number, c.caller_withheld, c.language, c.started_at, c.status,"
    " c.duration, c.verdict, c.merchant_id, c.identified_by"
)


@dataclass
class CallCriteria:
    """What listed calls must match, as stored values; empty ones match every call."""

    started_from: str = ""  # a UTC stamp: calls started at or after it
    started_before: str = ""  # a UTC stamp: calls started before it
    verdict: str = ""
    without_verdict: bool = False
    merchant_id: str = ""
    caller_number: str = ""
    caller_withheld: bool = False
    language: str = ""
    status: str = ""
    sids: list | None = None  # when a list, only these calls (the search's hits)


def _fts_phrase(text):
    return '"' + text.replace('"', '""') + '"'


def speech_hits(database, text, cap):
    """Return the sids of calls whose callers said `text`, newest answers first, from at most `cap` answers."""
    if len(text) >= 3:
        sql = (
            "SELECT e.call_sid FROM speech_fts JOIN events e ON e.id = speech_fts.rowid"
            " WHERE speech_fts MATCH ? ORDER BY speech_fts.rowid DESC LIMIT ?"
        )
        params = [_fts_phrase(text), cap]
    else:
        # Trigrams cannot match one or two characters (common in Chinese): scan the speech-only index.
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = (
            "SELECT call_sid FROM events INDEXED BY events_speech WHERE kind = 'input' AND speech IS NOT NULL"
            " AND speech LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT ?"
        )
        params = [f"%{escaped}%", cap]
    return list(dict.fromkeys(row[0] for row in database.execute(sql, params)))


def _where(criteria):
    where, params = [], {}
    if criteria.started_from:
        where.append("c.started_at >= :date_from")
        params["date_from"] = criteria.started_from
    if criteria.started_before:
        where.append("c.started_at < :date_to")
        params["date_to"] = criteria.started_before
    if criteria.without_verdict:
        where.append("c.verdict IS NULL")
    elif criteria.verdict:
        where.append("c.verdict = :verdict")
        params["verdict"] = criteria.verdict
    if criteria.merchant_id:
        where.append("c.merchant_id = :merchant")
        params["merchant"] = criteria.merchant_id
    if criteria.caller_withheld:
        # Not "from_number IS NULL": purged calls lose their number but were not withheld.
        where.append("c.caller_withheld = 1")
    elif criteria.caller_number:
        where.append("c.from_number = :caller")
        params["caller"] = criteria.caller_number
    if criteria.language:
        where.append("c.language = :language")
        params["language"] = criteria.language
    if criteria.status:
        where.append("c.status = :status")
        params["status"] = criteria.status
    if criteria.sids is not None:
        where.append("c.sid IN (SELECT value FROM json_each(:hits))")
        params["hits"] = json.dumps(criteria.sids)
    return where, params


def calls_page(database, criteria, limit, before=None, after=None):
    """Return up to `limit` matching calls before the (started_at, rowid) `before`, newest first, or after `after`,
    oldest first."""
    where, params = _where(criteria)
    order = "DESC"
    if before:
        where.append("c.started_at <= :cur_s AND NOT (c.started_at = :cur_s AND c.rowid >= :cur_r)")
    elif after:
        where.append("c.started_at >= :cur_s AND NOT (c.started_at = :cur_s AND c.rowid <= :cur_r)")
        order = "ASC"
    if before or after:
        started, rid = before or after
        params.update(cur_s=started, cur_r=rid)
    sql = (
        f"SELECT {LIST_COLUMNS} FROM calls c" + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY c.started_at {order}, c.rowid {order} LIMIT :limit"
    )
    return list(database.query(sql, dict(params, limit=limit)))


def count_calls(database, criteria, limit):
    """Return how many calls match, counting no further than `limit`."""
    where, params = _where(criteria)
    sql = "SELECT count(*) FROM (SELECT 1 FROM calls c" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " LIMIT :cap)"
    return database.execute(sql, dict(params, cap=limit)).fetchone()[0]


def speech_by_call(database, sids):
    """Return {sid: [what the caller said, ...]} for the calls `sids` (speech answers only, in order)."""
    if not sids:
        return {}
    marks = ",".join("?" * len(sids))
    result = {}
    for sid, speech in database.execute(
        f"SELECT call_sid, speech FROM events WHERE call_sid IN ({marks}) AND kind = 'input'"
        " AND speech IS NOT NULL ORDER BY id",
        list(sids),
    ):
        result.setdefault(sid, []).append(speech)
    return result
