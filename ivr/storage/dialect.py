"""SQL spelled differently on SQLite and PostgreSQL: each difference is one small function of the connection."""
from ivr.storage.postgres import is_postgresql  # noqa: F401 - the test the functions below turn on


def contains_sql(database, haystack, needle="?"):
    """SQL that is true when `needle` occurs in `haystack` (a LIKE '%...%' would scan about 10% slower on SQLite)."""
    if is_postgresql(database):
        return f"strpos({haystack}, {needle}) > 0"
    return f"instr({haystack}, {needle}) > 0"


def last_characters_sql(database, text, count):
    """SQL for the last `count` characters of `text` (PostgreSQL's substr() counts a negative start from the front)."""
    if is_postgresql(database):
        return f"right({text}, {count})"
    return f"substr({text}, -{count})"


def json_array_values_sql(database, parameter):
    """SQL of a table whose `value` column holds each item of the JSON array text `parameter`, as text."""
    if is_postgresql(database):
        return f"jsonb_array_elements_text(CAST({parameter} AS jsonb)) AS value"
    return f"json_each({parameter})"


def json_field_sql(database, document, field):
    """SQL for the text of `field` in the JSON object text `document`, NULL when it is not valid JSON."""
    # Spelled as the indexes over a JSON field spell it (tables.ASKED_NUMBER), so that both databases use them.
    if is_postgresql(database):
        return f"json_field_or_null({document}, '{field}')"
    return f"(CASE WHEN json_valid({document}) THEN json_extract({document}, '$.{field}') END)"


def comma_list_sql(database, expression, distinct=False):
    """SQL of the aggregate joining the values of `expression` with commas, each once when `distinct`."""
    values = f"DISTINCT {expression}" if distinct else expression
    if is_postgresql(database):
        # Sorted, so that a list does not change with the plan; SQLite gives them as it reads them (a merchant's
        # phones in its primary key's order, the same).
        return f"string_agg({values}, ',' ORDER BY {expression})"
    return f"group_concat({values})"


def ignoring_case_like_sql(database, text, pattern="?"):
    """SQL that is true when `text` matches the LIKE `pattern` (escaped by backslashes), ignoring case as SQLite's
    LIKE does."""
    if is_postgresql(database):
        return f"{text} ILIKE {pattern} ESCAPE '\\'"
    return f"{text} LIKE {pattern} ESCAPE '\\'"


def indexed_by_sql(database, index):
    """SQL after a table name that makes SQLite read it by `index` (PostgreSQL's planner takes no such hint)."""
    if is_postgresql(database):
        return ""
    return f" INDEXED BY {index}"


def seconds_between_sql(database, start, end):
    """SQL for the seconds, as a float, from the stamp `start` to the stamp `end` (ISO 8601 text)."""
    if is_postgresql(database):
        interval = f"CAST({end} AS timestamptz) - CAST({start} AS timestamptz)"
        return f"CAST(extract(epoch FROM {interval}) AS double precision)"
    return f"(julianday({end}) - julianday({start})) * 86400"


def short_text_in_sql(database, text, length, needle="?"):
    """SQL that is true when `text` holds `needle`, of `length` characters (one or two), ignoring case as lower()
    does on both (PostgreSQL's ILIKE compares multibyte text so). Trigrams cannot match so few characters, and an
    ILIKE would still lead PostgreSQL's planner to read the whole trigram index and recheck every answer: there
    two characters are found by the GIN index events_speech_bigram over speech_bigrams() (migration 0002), then
    checked; one is checked answer by answer (scanning events_speech newest first, which stops at the search's cap:
    a single character is common, and every answer holds a pair beginning with it)."""
    if is_postgresql(database):
        found = f"strpos(lower({text}), lower({needle})) > 0"
        return f"speech_bigrams({text}) @> ARRAY[lower({needle})] AND {found}" if length == 2 else found
    return f"instr(lower({text}), lower({needle})) > 0"


def page_sample_sql(database, percent, seed):
    """SQL after a table name that reads only `percent` of its pages, picked at random from `seed` (the same pages
    while the table is unchanged), on PostgreSQL (TABLESAMPLE SYSTEM); SQLite has no such clause and reads it all."""
    if is_postgresql(database):
        return f" TABLESAMPLE SYSTEM ({percent}) REPEATABLE ({seed})"
    return ""
