"""Flask CLI commands: init-db, check-flows, call (a terminal caller) and demo."""
import logging
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import make_server

from ivr.cli import backup, copydb, notify, recordings, twilio
from ivr.database import connect as connect_database
from ivr.devtools import demo
from ivr.devtools.terminal import play, signing_token
from ivr.errors import FlowError
from ivr.flow import loader as flows
from ivr.storage import pgschema
from ivr.upgrade import upgrade, upgrade_postgresql
from ivr.voice.simulator import Call, FlaskTransport, HttpTransport, SignatureRefused, Unreachable


def init_app(app):
    """Register the hotline's CLI commands."""
    for command in (init_db_command, check_flows_command, call_command, demo_command, twilio.twilio_group):
        app.cli.add_command(command)
    backup.init_app(app)
    copydb.init_app(app)
    notify.init_app(app)
    recordings.init_app(app)


def _database():
    return connect_database(current_app.config)


@click.command("init-db")
@with_appcontext
@click.option("--demo", "with_demo", is_flag=True, help="Also load the demo data (safe to repeat).")
def init_db_command(with_demo):
    """Create or migrate the database; safe to run on every boot."""
    config = current_app.config
    if config["DATABASE_URL"]:
        _init_postgresql(config)
    else:
        try:
            database = _database()
            applied, hashed = upgrade(database, config["CODE_SECRET"])
        except Exception as error:  # noqa: BLE001 - turned into a clear message for the operator
            raise click.ClickException(f"cannot migrate {config['DATABASE']}: {error}") from None
        click.echo(f"Database {config['DATABASE']}: " + (f"applied migrations {applied}" if applied else "up to date"))
        if hashed:
            click.echo(f"Stored {hashed} older plaintext reference codes as keyed hashes.")
    if with_demo:
        click.echo(demo.load(current_app._get_current_object()))


def _init_postgresql(config):
    url = config["DATABASE_URL"]
    try:
        before, after, hashed = upgrade_postgresql(url, config["CODE_SECRET"], config["DATABASE_TIMEOUT"])
    except Exception as error:  # noqa: BLE001 - turned into a clear message for the operator
        raise click.ClickException(f"cannot migrate {pgschema.display(url)}: {error}") from None
    change = f"migrated from {before or 'empty'} to {after}" if before != after else f"up to date at {after}"
    click.echo(f"Database {pgschema.display(url)}: {change}")
    if hashed:
        click.echo(f"Stored {hashed} older plaintext reference codes as keyed hashes.")


@click.command("check-flows")
@with_appcontext
@click.argument("directory", required=False)
def check_flows_command(directory):
    """Validate every flow file (default: the app's flows folder) and list what was checked."""
    directory = directory or current_app.config["FLOWS_DIR"]
    app_flow = current_app.extensions["ivr"]["flow"]
    try:
        # Against the actions and validators the app registered, with the voices it speaks with.
        loaded = flows.load_flows(directory, app_flow.registry, voices=current_app.config["VOICE_OVERRIDES"])
    except FlowError as error:
        raise click.ClickException(str(error)) from None
    for flow in loaded.values():
        click.echo(f"ok  {flow.path}: flow {flow.name!r}, {len(flow.nodes)} nodes, languages in the order 9 moves:")
        for language in flow.language_settings.values():
            click.echo(f"      {language.code:4} {language.name}: <Say language={language.say!r}"
                       f" voice={language.voice!r}>, speech recognition {language.speech!r}")


def _place(url, from_, keys, app):
    token = signing_token(app)
    transport = HttpTransport(url) if url else FlaskTransport(app)
    call = Call(transport, token, from_=from_)
    steps = None if keys is None else keys.split(",")
    return play(call, steps)


@click.command("call")
@with_appcontext
@click.option("--from", "from_", default="+8613800138000", show_default=True, help="Caller ID to present (any string, e.g. Anonymous).")
@click.option("--keys", default=None, help='Scripted steps, comma-separated, e.g. "9,2,1" or "1,say 核实,,rec 10".')
@click.option("--url", default=None, help="Call a running hotline over HTTP (e.g. http://127.0.0.1:5000) instead of in-process.")
def call_command(from_, keys, url):
    """Call the hotline from the terminal through its real, signed webhooks."""
    try:
        _place(url, from_, keys, current_app._get_current_object())
    except SignatureRefused as error:
        raise click.ClickException(f"{error}; set TWILIO_AUTH_TOKEN to the server's token") from None
    except Unreachable as error:
        raise click.ClickException(f"{error}; start it with `flask --app app run`") from None


@click.command("demo")
@with_appcontext
@click.option("--port", default=5000, show_default=True, help="Port for the hotline on 127.0.0.1 (0: any free port).")
@click.option("--from", "from_", default="+8613800138000", show_default=True, help="Caller ID for the demo call.")
@click.option("--keys", default=None, help="Scripted steps instead of typing (see `flask call --help`).")
@click.option("--serve/--no-serve", default=True, help="Keep serving after the call (Ctrl-C to stop).")
def demo_command(port, from_, keys, serve):
    """Set up the database and demo data, start the hotline on localhost, and call it."""
    app = current_app._get_current_object()
    token = signing_token(app)
    database = _database()
    upgrade(database, app.config["CODE_SECRET"])
    click.echo(demo.load(app))
    # The request log would interleave with what the caller hears.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if not app.config.get("AGENT_NUMBER"):
        click.echo("IVR_AGENT_NUMBER is not set: callers who ask for a person will be offered a message instead.")
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    where = pgschema.display(app.config["DATABASE_URL"]) if app.config.get("DATABASE_URL") else app.config["DATABASE"]
    click.echo(f"The hotline is answering at {base}/voice/incoming (database {where}).")
    click.echo(f"Calling it from {from_} ...\n")
    try:
        play(Call(HttpTransport(base), token, from_=from_), None if keys is None else keys.split(","))
        if serve and sys.stdin.isatty():
            click.echo(
                f"\nStill serving at {base}. In another terminal: TWILIO_AUTH_TOKEN={token} "
                f"flask --app app call --url {base}    (Ctrl-C here to stop)"
            )
            thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
