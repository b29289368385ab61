"""A call played from the terminal or from scripted steps, through the real signed webhooks."""
import secrets

import click

KEY_HELP = (
    "keys: digits, * or # (end a number with #) | Enter: stay silent | say WORDS: speak | "
    "rec N: leave an N-second message | dial completed|no-answer|busy | q: hang up"
)


def signing_token(app):
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
