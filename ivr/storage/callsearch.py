"""The calls list's SQL: filtered keyset pages, counts and estimates, and search over what callers said."""
import json
from dataclasses import dataclass

from ivr.storage.dialect import (
    ignoring_case_like_sql,
    indexed_by_sql,
    is_postgresql,
    json_array_values_sql,
    last_characters_sql,
    page_sample_sql,
    short_text_in_sql,
)
from ivr.storage.reportlist import asked_number_sql

# Calls are paged by (started_at, sid), a key both databases have.
LIST_COLUMNS = (
    "c.sid, c.from_number, c.caller_withheld, c.language, c.started_at, c.status,"
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
    merchant_ids: list | None = None  # when a list, calls of these merchants (a partial number or name matched)
    caller_number: str = ""
    caller_tail: str = ""  # the caller's last four digits
    caller_withheld: bool = False
    called_number: str = ""  # E.164: the number a verify call was told had called the merchant
    language: str = ""
    status: str = ""
    sids: list | None = None  # when a list, only these calls (the search's hits)


def _fts_phrase(text):
    return '"' + text.replace('"', '""') + '"'


def speech_hits(database, text, cap):
    """Return the sids of calls whose callers said `text`, newest answers first, from at most `cap` answers."""
    if len(text) >= 3 and not is_postgresql(database):
        sql = (
            "SELECT e.call_sid FROM speech_fts JOIN events e ON e.id = speech_fts.rowid"
            " WHERE speech_fts MATCH ? ORDER BY speech_fts.rowid DESC LIMIT ?"
        )
        params = [_fts_phrase(text), cap]
    elif is_postgresql(database) and len(text) <= 2:
        # One or two characters, which trigrams cannot match: see short_text_in_sql.
        sql = (
            "SELECT call_sid FROM events WHERE kind = 'input' AND speech IS NOT NULL"
            f" AND {short_text_in_sql(database, 'speech', len(text), ':needle')} ORDER BY id DESC LIMIT :cap"
        )
        params = {"needle": text, "cap": cap}
    else:
        # Trigrams cannot match one or two characters (common in Chinese): SQLite scans the speech-only index.
        # PostgreSQL has no speech_fts: there the trigram index events_speech_trigram serves the longer searches' ILIKE.
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = (
            f"SELECT call_sid FROM events{indexed_by_sql(database, 'events_speech')}"
            " WHERE kind = 'input' AND speech IS NOT NULL"
            f" AND {ignoring_case_like_sql(database, 'speech')} ORDER BY id DESC LIMIT ?"
        )
        params = [f"%{escaped}%", cap]
    return list(dict.fromkeys(row[0] for row in database.execute(sql, params)))


def _where(database, criteria):
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
    elif criteria.merchant_ids is not None:
        where.append(f"c.merchant_id IN (SELECT value FROM {json_array_values_sql(database, ':merchants')})")
        params["merchants"] = json.dumps(criteria.merchant_ids)
    if criteria.caller_withheld:
        # Not "from_number IS NULL": purged calls lose their number but were not withheld.
        where.append("c.caller_withheld = 1")
    elif criteria.caller_number:
        where.append("c.from_number = :caller")
        params["caller"] = criteria.caller_number
    elif criteria.caller_tail:
        # Spelled as the index calls_from_tail (tables.CALLER_TAIL), so that both databases use it.
        where.append(f"{last_characters_sql(database, 'c.from_number', 4)} = :tail")
        params["tail"] = criteria.caller_tail
    if criteria.called_number:
        # The `number` event of the verify branch (indexed by events_asked_number, migration 33).
        where.append("c.sid IN (SELECT call_sid FROM events WHERE kind = 'number'"
                     f" AND {asked_number_sql(database)} = :called)")
        params["called"] = criteria.called_number
    if criteria.language:
        where.append("c.language = :language")
        params["language"] = criteria.language
    if criteria.status:
        where.append("c.status = :status")
        params["status"] = criteria.status
    if criteria.sids is not None:
        where.append(f"c.sid IN (SELECT value FROM {json_array_values_sql(database, ':hits')})")
        params["hits"] = json.dumps(criteria.sids)
    return where, params


def calls_page(database, criteria, limit, before=None, after=None, oldest_first=False):
    """Return up to `limit` matching calls: before the (started_at, sid) `before`, newest first; after `after`, oldest
    first; or with neither, from the newest (or the oldest when `oldest_first`)."""
    where, params = _where(database, criteria)
    order = "ASC" if after or (oldest_first and not before) else "DESC"
    position = before or after
    if position and before:
        where.append("c.started_at <= :cur_s AND NOT (c.started_at = :cur_s AND c.sid >= :cur_k)")
    elif position:
        where.append("c.started_at >= :cur_s AND NOT (c.started_at = :cur_s AND c.sid <= :cur_k)")
    if position:
        params.update(cur_s=position[0], cur_k=position[1])
    sql = (
        f"SELECT {LIST_COLUMNS} FROM calls c" + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY c.started_at {order}, c.sid {order} LIMIT :limit"
    )
    return list(database.query(sql, dict(params, limit=limit)))


def count_calls(database, criteria, limit=None):
    """Return how many calls match, counting no further than `limit` (None: all of them)."""
    where, params = _where(database, criteria)
    inner = "SELECT 1 FROM calls c" + (" WHERE " + " AND ".join(where) if where else "")
    if limit is None:
        return database.execute(f"SELECT count(*) FROM ({inner}) AS matched", params).fetchone()[0]
    return database.execute(f"SELECT count(*) FROM ({inner} LIMIT :cap) AS matched",
                            dict(params, cap=limit)).fetchone()[0]


def sample_matches(database, criteria, size, calls):
    """Return (calls sampled from the criteria's time window, which holds `calls` calls, how many of them match): at
    most `size` calls picked evenly through the window in started_at order (every k-th call from the window's
    first), a key both databases index (calls_started).

    Counting every match of a filter no single index answers reads each candidate call; this reads the sampled
    calls, and steps through the window's range of calls_started to find them. PostgreSQL samples pages instead
    (sampled_pages).
    """
    window_where, _ = _where(
        database, CallCriteria(started_from=criteria.started_from, started_before=criteria.started_before))
    in_window = " WHERE " + " AND ".join(window_where) if window_where else ""
    if not calls:
        return 0, 0
    where, params = _where(database, criteria)
    if is_postgresql(database):
        return sampled_pages(database, window_where, where, params, size, calls)
    # One call in every `step` (the smallest step that picks no more than `size`), so the picks span the window.
    step = -(-calls // size)
    # Each pick is the call `step` places after the last one on calls_started (calls starting in the very same
    # millisecond count once in the stepping and all in the sample).
    sql = (
        "WITH RECURSIVE picked(at) AS (SELECT min(c.started_at) FROM calls c" + in_window
        + " UNION ALL SELECT (SELECT c.started_at FROM calls c WHERE c.started_at > picked.at"
        + "".join(" AND " + condition for condition in window_where)
        + " ORDER BY c.started_at LIMIT 1 OFFSET :skip) FROM picked WHERE picked.at IS NOT NULL)"
        " SELECT count(*), count(*)" + (" FILTER (WHERE " + " AND ".join(where) + ")" if where else "")
        # CROSS JOIN: SQLite reads the picks in order and looks each up (PostgreSQL plans it as a plain join).
        + " FROM picked CROSS JOIN calls c WHERE c.started_at = picked.at"
    )
    return tuple(database.execute(sql, dict(params, skip=step - 1)).fetchone())


def speech_by_call(database, sids):
    """Return {sid: [what the caller said, ...]} for the calls `sids` (speech answers only, in order)."""
    if not sids:
        return {}
    marks = ",".join("?" * len(sids))
    result = {}
    # Answers without speech (keyed digits) are skipped here, not by "speech IS NOT NULL": that condition is the
    # predicate of the partial index events_speech, which PostgreSQL's planner then ANDs in whole (every answer's
    # entry, some 70 ms on a million calls) with the few of events_call. Both databases read events_call.
    for sid, speech in database.execute(
        f"SELECT call_sid, speech FROM events WHERE call_sid IN ({marks}) AND kind = 'input' ORDER BY id",
        list(sids),
    ):
        if speech is not None:
            result.setdefault(sid, []).append(speech)
    return result


def sampled_pages(database, window_where, where, params, size, calls):
    """sample_matches on PostgreSQL: (calls read from the window of `calls` calls, how many of them meet `where`),
    about `size` calls from pages of the table sampled at random (the same pages while the table is unchanged), or
    every call of the window when reading it whole costs no more.

    Stepping through calls_started costs PostgreSQL's executor a subquery and a lookup per pick (some 400 ms for
    20,000 picks on a million calls); TABLESAMPLE SYSTEM reads `size` / `calls` of the table's pages instead. Calls
    are inserted as they start, so a page holds a short run of neighbours in time, and the sampled runs are spread
    at random through the window.
    """
    total = database.execute("SELECT reltuples FROM pg_class WHERE oid = 'calls'::regclass").fetchone()[0]
    # Reading the whole window costs about `calls` rows; sampling about size / calls of every row of the table. The
    # whole window, then, while calls * calls <= size * total, and when the table was never analyzed (reltuples -1).
    sample = calls * calls > size * total > 0
    sql = (
        "SELECT count(*), count(*)" + (" FILTER (WHERE " + " AND ".join(where) + ")" if where else "")
        + " FROM calls c" + (page_sample_sql(database, ":percent", ":seed") if sample else "")
        + (" WHERE " + " AND ".join(window_where) if window_where else "")
    )
    return tuple(database.execute(sql, dict(params, percent=100.0 * size / calls, seed=0)).fetchone())
