"""The app on PostgreSQL: its URL setting, the release step, SQL placeholders, health and pool metrics."""
import pytest
from pg import migrated_postgresql_url, postgresql_url, query  # noqa: F401 - fixtures
from test_ops import samples, scrape

from conftest import AGENT, TOKEN, CallHelper
from ivr import create_app
from ivr.config import from_environment
from ivr.storage import pgschema
from ivr.storage.postgres import placeholders, without_nul


@pytest.mark.parametrize("sql, spelled", [
    ("SELECT * FROM calls WHERE sid = ?", "SELECT * FROM calls WHERE sid = %s"),
    ("UPDATE calls SET status = :status WHERE sid = :sid", "UPDATE calls SET status = %(status)s WHERE sid = %(sid)s"),
    # A cast is not a named placeholder.
    ("SELECT started_at::timestamptz FROM calls WHERE sid = ?", "SELECT started_at::timestamptz FROM calls WHERE sid = %s"),
    # psycopg reads % everywhere, so it is doubled, inside quotes too; a ? inside quotes is text.
    ("SELECT 1 WHERE text LIKE '%?%' AND x = ?", "SELECT 1 WHERE text LIKE '%%?%%' AND x = %s"),
    ("SELECT 'it''s :not a name' AS \"odd?\"", "SELECT 'it''s :not a name' AS \"odd?\""),
    ("SELECT 1 -- why? :because\nFROM calls", "SELECT 1 -- why? :because\nFROM calls"),
    ("SELECT 100 % 7", "SELECT 100 %% 7"),
])
def test_sqlite_placeholders_are_spelled_as_psycopgs(sql, spelled):
    assert placeholders(sql) == spelled


@pytest.mark.parametrize("parameters, stored", [
    (["RE1\x002", 3, None], ["RE1\ufffd2", 3, None]),
    ({"sid": "CA\x00", "n": 1}, {"sid": "CA\ufffd", "n": 1}),
    (["plain", b"\x00bytes"], ["plain", b"\x00bytes"]),
])
def test_a_nul_that_postgresql_cannot_store_is_marked_not_refused(parameters, stored):
    assert without_nul(parameters) == stored


@pytest.mark.parametrize("environment, database, url", [
    ({}, "/srv/instance/hotline.db", None),
    ({"IVR_DATABASE": "/data/a.db"}, "/data/a.db", None),
    ({"IVR_DATABASE_URL": "sqlite:////data/b.db", "IVR_DATABASE": "/data/a.db"}, "/data/b.db", None),
    ({"IVR_DATABASE_URL": "postgresql://u:p@db:5432/hotline"}, "/srv/instance/hotline.db",
     "postgresql://u:p@db:5432/hotline"),
    ({"IVR_DATABASE_URL": "postgresql+psycopg://u@db/hotline"}, "/srv/instance/hotline.db",
     "postgresql+psycopg://u@db/hotline"),
])
def test_the_database_url_names_either_database(environment, database, url):
    settings = from_environment(environment, "/srv/instance")
    assert (settings["DATABASE"], settings["DATABASE_URL"], settings["DATABASE_POOL_SIZE"]) == (database, url, 5)


def make_app(url):
    return create_app({"TESTING": True, "DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "AGENT_NUMBER": AGENT,
                       "BUSINESS_HOURS": "24/7", "SECRET_KEY": "x"})


@pytest.mark.parametrize("driver", ["postgresql", "postgresql+psycopg"])
def test_init_db_migrates_an_empty_database_then_finds_it_up_to_date(postgresql_url, driver):  # noqa: F811
    url = postgresql_url.replace("postgresql://", f"{driver}://")
    runner = make_app(url).test_cli_runner()
    head = pgschema.head_revision()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert f"migrated from empty to {head}" in first.output
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0 and f"up to date at {head}" in second.output
    assert query(postgresql_url, "SELECT version_num FROM alembic_version") == [(head,)]


def test_init_db_names_a_server_it_cannot_reach(postgresql_url):  # noqa: F811
    result = make_app("postgresql://postgres:secret@127.0.0.1:9/nowhere").test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code != 0 and "cannot migrate postgresql" in result.output
    assert "secret" not in result.output  # the password is not printed


def test_a_web_app_never_migrates_postgresql_as_it_starts(postgresql_url):  # noqa: F811
    make_app(postgresql_url)
    assert query(postgresql_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


def test_health_names_postgresql_and_metrics_count_the_pool(migrated_postgresql_url):  # noqa: F811
    app = make_app(migrated_postgresql_url)
    client = app.test_client()
    CallHelper(app).start()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert (health.json["database"], health.json["database_kind"]) == ("ok", "postgresql")
    pool = {dict(labels)["state"]: value for (name, labels), value in samples(scrape(client)).items()
            if name == "ivr_database_pool_connections"}
    # Between requests every connection is back in the pool.
    assert pool["in_use"] == 0 and pool["idle"] >= 1
