"""Checks shared by every free-text field staff or API clients can set (names, instructions, reasons)."""
import unicodedata

from ivr.errors import InvalidInput

# Tabs and line breaks are fine in longer text typed into a form; other control characters never are.
MULTILINE_OK = frozenset("\t\n\r")


def check_characters(text, field, multiline=False):
    """Raise InvalidInput naming `field` if `text` holds control characters or lone surrogates (unstorable)."""
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and not (multiline and char in MULTILINE_OK)):
            kind = "line breaks or control characters" if not multiline else "control characters"
            raise InvalidInput(f"{field} must not contain {kind} (found U+{ord(char):04X})", field=field)
    return text
