"""Flask's request, parsing the url-encoded forms every Twilio webhook posts in one step."""
import urllib.parse

import flask
import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" codec error handler used below
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property

URLENCODED = "application/x-www-form-urlencoded"


class Parameters(ImmutableMultiDict):
    """Werkzeug's ImmutableMultiDict, whose get() of a missing name returns the default without raising first."""

    # MultiDict.get() catches the BadRequestKeyError (an HTTPException) that [] raises for a missing name: two or
    # three of a webhook's lookups miss (SpeechResult, Confidence, a step's flags), each building that exception.
    def get(self, key, default=None, type=None):
        """Return the first value for `key`, or `default` when there is none (converted by `type` if given)."""
        if type is not None:
            return super().get(key, default, type)
        values = dict.get(self, key)
        return values[0] if values else default


class Request(flask.Request):
    """A Flask request whose url-encoded form and query are parsed as Werkzeug parses them, only quicker."""

    parameter_storage_class = Parameters

    @cached_property
    def args(self):
        """The URL's query parameters (a step's node and flags), as Werkzeug's parse_qsl gives them."""
        return self.parameter_storage_class(parse_pairs(self.query_string.decode()))

    def _load_form_data(self):
        # Werkzeug builds a form parser, options and a dispatch for every form; for the small url-encoded bodies
        # of Twilio's webhooks that took several times longer than parsing them. Same limits, same result.
        if "form" in self.__dict__:
            return
        if self.mimetype != URLENCODED or self.shallow:
            super()._load_form_data()
            return
        stream = self._get_stream_for_parsing()  # limited to MAX_CONTENT_LENGTH: 413 beyond it
        try:
            pairs = parse_pairs(stream.read().decode())
        except ValueError:  # undecodable bytes: an empty form, as Werkzeug's silent parser gives
            pairs = []
        values = self.__dict__
        values["stream"] = stream
        values["form"] = self.parameter_storage_class(pairs)
        values["files"] = self.parameter_storage_class()


def parse_pairs(text):
    """Split a url-encoded form into (name, value) pairs, as parse_qsl(keep_blank_values=True) does."""
    # parse_qsl unquotes every name and value; most of a Twilio webhook's fields hold neither '%' nor '+'.
    pairs = []
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "%" in name or "+" in name:
            name = _unquote(name)
        if "%" in value or "+" in value:
            value = _unquote(value)
        pairs.append((name, value))
    return pairs


# Escapes of ASCII characters, such as the %2B of every E.164 number, decode to that one character.
_ASCII_ESCAPES = {f"{code:02{case}}": chr(code) for code in range(128) for case in "xX"}


def _unquote(text):
    text = text.replace("+", " ")
    head, *escaped = text.split("%")
    try:
        return head + "".join([_ASCII_ESCAPES[piece[:2]] + piece[2:] for piece in escaped])
    except KeyError:  # UTF-8 sequences (spoken words) and stray '%': as Werkzeug decodes them
        return urllib.parse.unquote(text, errors="werkzeug.url_quote")
