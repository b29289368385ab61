"""The SQL behind revealing phone numbers: the stored numbers of a call, merchant, report, call-back or wrong code."""

# Each kind of record whose numbers staff may reveal, and the query for its numbers by its id.
_NUMBERS_OF = {
    "call": "SELECT from_number FROM calls WHERE sid = ?",
    "merchant": "SELECT phone FROM merchant_phones WHERE merchant_id = ?",
    "report": "SELECT reporter_number FROM reports WHERE id = ?",
    "callback": "SELECT from_number FROM callbacks WHERE id = ?",
    "attempt": "SELECT caller_number FROM code_attempts WHERE id = ?",  # the calling number of a wrong code
}
KINDS = tuple(_NUMBERS_OF)
# The kinds whose ids are numbers: PostgreSQL refuses to compare such an id with other text, SQLite finds nothing.
_NUMBERED = {"report", "callback", "attempt"}


def numbers_of(database, kind, ref):
    """Return the phone numbers stored on the `kind` record with id `ref` (one of KINDS), empty ones left out."""
    if kind in _NUMBERED:
        if not (ref.isascii() and ref.isdigit() and int(ref) < 2 ** 63):
            return []
        ref = int(ref)
    return [row[0] for row in database.execute(_NUMBERS_OF[kind], [ref]).fetchall() if row[0]]
