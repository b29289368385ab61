"""The numbers pages' SQL: the watchlist sorted a page at a time, the merchants who asked about a number, the
numbers most reported in a period, and suspected numbers no staff member has opened yet."""
from ivr.storage.dialect import comma_list_sql, contains_sql
from ivr.storage.reportlist import asked_number_sql

# The numbers list's orders (its allow-list): SQL chosen by key, never taken from the URL. Numbers never reported
# come last, as SQLite sorts NULLs by default and PostgreSQL does not.
NUMBER_ORDERS = {
    "last_reported": "n.last_reported_at DESC NULLS LAST, n.number DESC",
    "first_reported": "n.first_reported_at DESC NULLS LAST, n.number DESC",
    "reports": "reports DESC, n.last_reported_at DESC NULLS LAST, n.number DESC",
    "merchants": "merchants DESC, n.last_reported_at DESC NULLS LAST, n.number DESC",
    "number": "n.number",
}
COUNTED_ORDERS = ("reports", "merchants")
COUNTS = ("coalesce(r.reports, 0) AS reports, coalesce(r.merchants, 0) AS merchants,"
          " coalesce(r.counted_merchants, 0) AS counted_merchants, r.categories")


def _numbers_where(database, status, fragment):
    where, params = [], []
    if status:
        where.append("n.status = ?")
        params.append(status)
    if fragment:
        where.append(contains_sql(database, "n.number"))
        params.append(fragment)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def numbers_page(database, status, fragment, order, limit, offset):
    """Return `limit` watchlist numbers from `offset` in the order named `order` (a NUMBER_ORDERS key), with
    `status` ('' for all) and containing `fragment` ('' for all), each with its report and merchant counts."""
    where, params = _numbers_where(database, status, fragment)
    if order in COUNTED_ORDERS:
        # Sorting by a count needs every number's: one pass over the reports by number (reports_number_merchant).
        sql = (
            f"SELECT n.*, {COUNTS} FROM numbers n LEFT JOIN (SELECT number, count(*) AS reports,"
            " count(DISTINCT merchant_id) AS merchants, count(DISTINCT CASE WHEN counted = 1 THEN merchant_id END)"
            f" AS counted_merchants, {comma_list_sql(database, 'category', distinct=True)} AS categories FROM reports"
            " WHERE number IS NOT NULL GROUP BY number) r"
            f" ON r.number = n.number{where} ORDER BY {NUMBER_ORDERS[order]} LIMIT ? OFFSET ?"
        )
    else:
        # Otherwise only the page's numbers are counted, each a short range of the index reports_number_merchant.
        sql = (
            "SELECT p.*, (SELECT count(*) FROM reports r WHERE r.number = p.number) AS reports,"
            " (SELECT count(DISTINCT r.merchant_id) FROM reports r WHERE r.number = p.number) AS merchants,"
            " (SELECT count(DISTINCT r.merchant_id) FROM reports r WHERE r.number = p.number AND r.counted = 1)"
            " AS counted_merchants,"
            f" (SELECT {comma_list_sql(database, 'r.category', distinct=True)} FROM reports r"
            " WHERE r.number = p.number) AS categories"
            f" FROM (SELECT n.* FROM numbers n{where} ORDER BY {NUMBER_ORDERS[order]} LIMIT ? OFFSET ?) p"
            f" ORDER BY {NUMBER_ORDERS[order].replace('n.', 'p.')}"
        )
    return list(database.query(sql, params + [limit, offset]))


def count_numbers(database, status, fragment):
    """Return how many watchlist numbers have `status` and contain `fragment` (either '' for all)."""
    where, params = _numbers_where(database, status, fragment)
    return database.execute(f"SELECT count(*) FROM numbers n{where}", params).fetchone()[0]


def asking_merchants(database, number, limit):
    """Return the merchants whose verify calls were told `number` called them, the latest asking first: each with
    its name, how many calls asked, the latest such call and when (merchant_id None for callers not identified).
    Merchants whose latest asking started in the same millisecond come in merchant_id order, highest (and callers
    not identified) last; of a merchant's calls started in that millisecond, the latest is the highest sid."""
    asked = f"SELECT call_sid FROM events WHERE kind = 'number' AND {asked_number_sql(database)} = :number"
    # Group the asking calls first (merchants joined to the page's rows only), then look up each listed merchant's
    # latest asking call by its started_at (calls_started): no bare columns beside an aggregate.
    sql = (
        "SELECT g.merchant_id, m.name, g.calls, g.latest_at,"
        " (SELECT max(l.sid) FROM calls l WHERE l.started_at = g.latest_at"
        " AND (l.merchant_id = g.merchant_id OR (l.merchant_id IS NULL AND g.merchant_id IS NULL))"
        f" AND l.sid IN ({asked})) AS latest_sid"
        " FROM (SELECT c.merchant_id, count(*) AS calls, max(c.started_at) AS latest_at FROM calls c"
        f" WHERE c.sid IN ({asked}) GROUP BY c.merchant_id"
        " ORDER BY latest_at DESC, coalesce(c.merchant_id, '') DESC LIMIT :limit) g"
        " LEFT JOIN merchants m ON m.id = g.merchant_id"
        " ORDER BY g.latest_at DESC, coalesce(g.merchant_id, '') DESC"
    )
    return list(database.query(sql, {"number": number, "limit": limit}))


def top_reported(database, since, until, limit):
    """Return the numbers most reported in [since, until), with reports, distinct merchants and watchlist status."""
    return list(database.query(
        "SELECT r.number, count(*) AS reports, count(DISTINCT r.merchant_id) AS merchants,"
        " coalesce(max(n.status), 'reported') AS status"  # one watchlist row per number: max() only names it
        " FROM reports r LEFT JOIN numbers n ON n.number = r.number"
        " WHERE r.created_at >= ? AND r.created_at < ? AND r.number IS NOT NULL"
        " GROUP BY r.number ORDER BY reports DESC, r.number LIMIT ?",
        [since, until, limit],
    ))


def reports_of_numbers(database, numbers, since, until):
    """Return {number: reports in [since, until)} for `numbers` (each a range of the index reports_number)."""
    if not numbers:
        return {}
    marks = ",".join("?" * len(numbers))
    return dict(database.execute(
        f"SELECT number, count(*) FROM reports WHERE number IN ({marks}) AND created_at >= ? AND created_at < ?"
        " GROUP BY number", list(numbers) + [since, until],
    ).fetchall())


UNSEEN_SUSPECTED = (
    " FROM numbers n LEFT JOIN suspected_seen s ON s.number = n.number"
    " WHERE n.status = 'suspected' AND (s.seen_at IS NULL OR s.seen_at < coalesce(n.status_changed_at, ''))"
)


def unseen_suspected(database, limit):
    """Return (how many suspected numbers no one has opened since they became suspected, the `limit` newest)."""
    count = database.execute("SELECT count(*)" + UNSEEN_SUSPECTED).fetchone()[0]
    newest = list(database.query(
        "SELECT n.number, n.status_changed_at" + UNSEEN_SUSPECTED
        + " ORDER BY n.status_changed_at DESC NULLS LAST, n.number LIMIT ?", [limit],
    )) if count else []
    return count, newest


def suspected_sighting(database, number):
    """Return who first opened a number's page since it became suspected, and when ({seen_by, seen_at}), or None."""
    return next(iter(database.query("SELECT seen_by, seen_at FROM suspected_seen WHERE number = ?", [number])), None)


def note_suspected_seen(database, number, who, at):
    """Record that `who` opened a suspected number's page at `at`, unless someone did since it became suspected."""
    database.execute(
        "INSERT INTO suspected_seen (number, seen_by, seen_at)"
        " SELECT n.number, ?, ?" + UNSEEN_SUSPECTED + " AND n.number = ?"
        " ON CONFLICT (number) DO UPDATE SET seen_by = excluded.seen_by, seen_at = excluded.seen_at",
        [who, at, number],
    )
