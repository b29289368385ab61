"""Read-side queries for the calls list and call detail: filters, keyset pages and free-text search."""
import json
from dataclasses import dataclass, field
from datetime import timedelta

from ivr.dashboard import localtime
from ivr.errors import InvalidInput
from ivr.phone import to_e164
from ivr.vocabulary import CALL_STATUSES as STATUSES
from ivr.vocabulary import VERDICTS

PAGE = 50
COUNT_CAP = 10_000
# Free-text search looks at the newest matching answers only, so a common word stays fast on a million calls.
SEARCH_CAP = 5_000
LIST_COLUMNS = (
    "c.rowid AS rid, c.sid, c.from_number, c.caller_withheld, c.language, c.started_at, c.status,"
    " c.duration, c.verdict, c.merchant_id, c.identified_by"
)


@dataclass
class CallFilter:
    """The calls list's filters, as validated values."""

    date_from: object = None
    date_to: object = None
    verdict: str = ""
    merchant: str = ""
    caller: str = ""
    language: str = ""
    status: str = ""
    q: str = ""
    errors: list = field(default_factory=list)
    hits: list | None = field(default=None, repr=False)  # search results, kept for the page's count query

    @classmethod
    def from_args(cls, args, languages):
        """Build a filter from query-string arguments, collecting (not raising) what is invalid.

        `languages` are the language codes the flow declares, which a call's language is one of.
        """
        result = cls()
        localtime.parse_range(result, args)
        verdict = (args.get("verdict") or "").strip()
        if verdict and verdict not in VERDICTS + ("none",):
            result.errors.append(f"verdict: unknown value {verdict!r}")
        else:
            result.verdict = verdict
        for name, allowed in (("language", tuple(languages)), ("status", STATUSES)):
            value = (args.get(name) or "").strip()
            if value and value not in allowed:
                result.errors.append(f"{name}: unknown value {value!r}")
            else:
                setattr(result, name, value)
        result.merchant = (args.get("merchant") or "").strip()[:64]
        caller = (args.get("caller") or "").strip()[:40]
        if caller and caller.lower() != "withheld" and to_e164(caller) is None:
            result.errors.append(f"caller: {caller!r} is not a phone number")
        else:
            result.caller = caller
        result.q = " ".join((args.get("q") or "").split())[:100]
        return result

    def args(self):
        """Return the filter as query-string arguments (empty ones left out)."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "verdict": self.verdict, "merchant": self.merchant, "caller": self.caller,
            "language": self.language, "status": self.status, "q": self.q,
        }
        return {key: value for key, value in values.items() if value}


def _fts_phrase(text):
    return '"' + text.replace('"', '""') + '"'


def speech_hits(database, text):
    """Return the sids of calls whose callers said `text`, newest answers first, at most SEARCH_CAP."""
    if len(text) >= 3:
        sql = (
            "SELECT e.call_sid FROM speech_fts JOIN events e ON e.id = speech_fts.rowid"
            " WHERE speech_fts MATCH ? ORDER BY speech_fts.rowid DESC LIMIT ?"
        )
        params = [_fts_phrase(text), SEARCH_CAP]
    else:
        # Trigrams cannot match one or two characters (common in Chinese): scan the speech-only index.
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = (
            "SELECT call_sid FROM events INDEXED BY events_speech WHERE kind = 'input' AND speech IS NOT NULL"
            " AND speech LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT ?"
        )
        params = [f"%{escaped}%", SEARCH_CAP]
    return list(dict.fromkeys(row[0] for row in database.execute(sql, params)))


def _where(database, filters):
    where, params = [], {}
    if filters.date_from:
        where.append("c.started_at >= :date_from")
        params["date_from"] = localtime.day_start(filters.date_from)
    if filters.date_to:
        where.append("c.started_at < :date_to")
        params["date_to"] = localtime.day_start(filters.date_to + timedelta(days=1))
    if filters.verdict == "none":
        where.append("c.verdict IS NULL")
    elif filters.verdict:
        where.append("c.verdict = :verdict")
        params["verdict"] = filters.verdict
    if filters.merchant:
        where.append("c.merchant_id = :merchant")
        params["merchant"] = filters.merchant
    if filters.caller:
        if filters.caller.lower() == "withheld":
            # Not "from_number IS NULL": purged calls lose their number but were not withheld.
            where.append("c.caller_withheld = 1")
        else:
            where.append("c.from_number = :caller")
            params["caller"] = to_e164(filters.caller)
    if filters.language:
        where.append("c.language = :language")
        params["language"] = filters.language
    if filters.status:
        where.append("c.status = :status")
        params["status"] = filters.status
    if filters.q:
        where.append("c.sid IN (SELECT value FROM json_each(:hits))")
        if filters.hits is None:
            filters.hits = speech_hits(database, filters.q)
        params["hits"] = json.dumps(filters.hits)
    return where, params


def _cursor(text):
    try:
        started, rid = text.rsplit("|", 1)
        return started, int(rid)
    except (AttributeError, ValueError):
        raise InvalidInput("bad page cursor", field="cursor") from None


def cursor_of(row):
    """Return the keyset cursor that points at a listed call."""
    return f"{row['started_at']}|{row['rid']}"


def list_calls(database, filters, before=None, after=None, limit=PAGE):
    """Return (calls newest first, has_older, has_newer) for one page before or after a cursor."""
    where, params = _where(database, filters)
    order = "DESC"
    if before:
        started, rid = _cursor(before)
        where.append("c.started_at <= :cur_s AND NOT (c.started_at = :cur_s AND c.rowid >= :cur_r)")
    elif after:
        started, rid = _cursor(after)
        where.append("c.started_at >= :cur_s AND NOT (c.started_at = :cur_s AND c.rowid <= :cur_r)")
        order = "ASC"
    if before or after:
        params.update(cur_s=started, cur_r=rid)
    sql = (
        f"SELECT {LIST_COLUMNS} FROM calls c" + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY c.started_at {order}, c.rowid {order} LIMIT :limit"
    )
    rows = list(database.query(sql, dict(params, limit=limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if after:
        rows.reverse()
        return rows, True, more
    return rows, more, bool(before)


def count_calls(database, filters, cap=COUNT_CAP):
    """Return how many calls match, counting no further than `cap` (the page shows 'cap+')."""
    where, params = _where(database, filters)
    sql = "SELECT count(*) FROM (SELECT 1 FROM calls c" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " LIMIT :cap)"
    return database.execute(sql, dict(params, cap=cap + 1)).fetchone()[0]


def iter_calls(database, filters, batch=2000):
    """Yield every matching call, newest first, a keyset page at a time (for CSV export)."""
    before = None
    while True:
        rows, more, _ = list_calls(database, filters, before=before, limit=batch)
        yield from rows
        if not more or not rows:
            return
        before = cursor_of(rows[-1])


def said_by_call(database, sids):
    """Return {sid: [what the caller said, ...]} for listed calls (speech answers only)."""
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
