"""Flask CLI commands: init-db, check-flows, call (a terminal caller) and demo."""
import logging
import os
import secrets
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import make_server

from . import db, demo, flows
from .upgrade import upgrade
from .errors import FlowError
from .simulator import Call, FlaskTransport, HttpTransport, SignatureRefused, Unreachable

KEY_HELP = (
    "keys: digits, * or # (end a number with #) | Enter: stay silent | say WORDS: speak | "
    "rec N: leave an N-second message | dial completed|no-answer|busy | q: hang up"
)


def init_app(app):
    """Register the hotline's CLI commands."""
    for command in (init_db_command, check_flows_command, call_command, demo_command):
        app.cli.add_command(command)


def _database():
    return db.connect(current_app.config["DATABASE"], current_app.config["DATABASE_TIMEOUT"])


@click.command("init-db")
@with_appcontext
@click.option("--demo", "with_demo", is_flag=True, help="Also load the demo data (safe to repeat).")
def init_db_command(with_demo):
    """Create or migrate the database; safe to run on every boot."""
    try:
        database = _database()
        applied, hashed = upgrade(database, current_app.config["CODE_SECRET"])
    except Exception as error:  # noqa: BLE001 - turned into a clear message for the operator
        raise click.ClickException(f"cannot migrate {current_app.config['DATABASE']}: {error}") from None
    click.echo(f"Database {current_app.config['DATABASE']}: " + (f"applied migrations {applied}" if applied else "up to date"))
    if hashed:
        click.echo(f"Stored {hashed} older plaintext reference codes as keyed hashes.")
    if with_demo:
        click.echo(demo.load(current_app._get_current_object()))


@click.command("check-flows")
@with_appcontext
@click.argument("directory", required=False)
def check_flows_command(directory):
    """Validate every flow file (default: the app's flows folder) and list what was checked."""
    directory = directory or current_app.config["FLOWS_DIR"]
    app_flow = current_app.extensions["ivr"]["flow"]
    try:
        # Against the actions and validators the app registered, with the voices it speaks with.
        loaded = flows.load_flows(directory, app_flow.registry, voices=flows.voice_overrides(os.environ))
    except FlowError as error:
        raise click.ClickException(str(error)) from None
    for flow in loaded.values():
        click.echo(f"ok  {flow.path}: flow {flow.name!r}, {len(flow.nodes)} nodes, languages in the order 9 moves:")
        for language in flow.language_settings.values():
            click.echo(f"      {language.code:4} {language.name}: <Say language={language.say!r}"
                       f" voice={language.voice!r}>, speech recognition {language.speech!r}")


def _signing_token(app):
    """The token to sign simulated webhooks with; a throwaway one when none is configured."""
    if not app.config.get("TWILIO_AUTH_TOKEN"):
        app.config["TWILIO_AUTH_TOKEN"] = "local-" + secrets.token_hex(12)
    return app.config["TWILIO_AUTH_TOKEN"]


def _show(turn, echo=click.echo):
    for line in turn.heard:
        echo(f"  🔊 {line}")
    if turn.waiting_for == "Dial":
        number = "".join(turn.waiting.itertext()).strip()
        echo(f"  📞 (dialling {number})")
    if turn.ended:
        echo("  📴 (the hotline hung up)")


def play(call, steps=None, echo=click.echo, ask=None):
    """Drive a call from scripted steps or from the terminal until it ends; return the Call."""
    _show(call.start(), echo)
    steps = list(steps) if steps is not None else None
    while not call.turn.ended:
        if steps is not None:
            if not steps:
                break
            step = steps.pop(0)
            echo(f"  ☎️  {step or '(silence)'}")
        else:
            echo(click.style(f"  [{call.turn.waiting_for}] {KEY_HELP}", dim=True))
            try:
                step = (ask or (lambda: input("  ☎️  > ")))()
            except (EOFError, KeyboardInterrupt):
                step = "q"
        step = step.strip()
        if step in ("q", "quit", "hangup"):
            break
        try:
            turn = _step(call, step)
        except AssertionError as error:
            echo(f"  (not possible here: {error})")
            continue
        _show(turn, echo)
    call.hangup()
    echo("  📴 call ended; status callback sent.")
    return call


def _step(call, step):
    waiting = call.turn.waiting_for
    if step.startswith("say ") or step.startswith("say:"):
        return call.say(step[4:].strip())
    if step.startswith("rec"):
        seconds = step[3:].strip(" :") or "0"
        return call.record(int(seconds) if seconds.isdigit() else 0)
    if step.startswith("dial"):
        return call.dial_result(step[4:].strip(" :") or "completed")
    if waiting == "Record":
        return call.record(int(step) if step.isdigit() else 0)
    if waiting == "Dial":
        return call.dial_result(step or "no-answer")
    if not step:
        return call.silence()
    return call.press(step)


def _place(url, from_, keys, app):
    token = _signing_token(app)
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
    token = _signing_token(app)
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
    click.echo(f"The hotline is answering at {base}/voice/incoming (database {app.config['DATABASE']}).")
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
