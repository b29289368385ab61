"""The SMS notes' texts (flows/catalogue/sms.yaml): no link, no number but the hotline's, no code, ever."""
import re
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from ivr.errors import HotlineError

NOTES = {"genuine": ("date", "reason", "instructions", "hotline"), "report": ("report_number", "hotline")}
# Values the check renders each note with at start-up: as long as real ones, digits where real ones have them.
SAMPLES = {"date": "12月31日", "reason": "系统更新", "instructions": "在官方App里查看结算信息", "hotline": "+861012345678",
           "report_number": "12345678"}
# What a note may carry as digits only in these placeholders: the number called, and the report's own number.
DIGITS_ALLOWED_IN = ("hotline", "report_number", "date")
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DIGIT_RUN = re.compile(r"\d(?:[\s\-–—.()/]*\d){3,}")
_WEB = re.compile(
    r"https?|://|\bwww\b|\b[a-z0-9-]+(?:[.。][a-z0-9-]+)*[.。][a-z]{2,}\b|(?:\bdot|点)\s*(?:com|cn|net|org)\b"
    r"|网址|网站|网页|链接|點擊|点击|\blink\b|\bclick\b",
    re.IGNORECASE,
)


class NoteError(HotlineError):
    """An SMS note's text is invalid or, once filled in, breaks the no-link, no-number, no-code rule."""


def _folded(text):
    # Full-width and other digits and letters fold to plain ones ("１３８", "ｗｗｗ"), as scams hide behind them.
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def problems(text, allowed=()):
    """Return what `text` holds that no SMS may: a link or web address, or four or more digits (a number, a code)."""
    folded = _folded(text)
    for value in allowed:
        if value:
            folded = folded.replace(_folded(str(value)), " ")
    found = []
    link = _WEB.search(folded)
    if link:
        found.append(f"a link or web address ({link.group(0)!r})")
    digits = _DIGIT_RUN.search(folded)
    if digits:
        found.append(f"a phone number or code ({digits.group(0)!r})")
    return found


@dataclass(frozen=True)
class NoteTexts:
    """Each note's text per language."""

    path: str
    texts: MappingProxyType

    def render(self, note, language, values):
        """Fill in `note` for `language` and check the result; raise NoteError if it breaks the rule."""
        entry = self.texts[note]
        text = entry.get(language) or next(iter(entry.values()))
        rendered = text.format_map({name: values[name] for name in NOTES[note]})
        found = problems(rendered, [values.get(name) for name in DIGITS_ALLOWED_IN])
        if found:
            # What was found is not repeated: it is stored, and may be a scammer's number.
            raise NoteError(f"the {note} note would carry {found[0].split(' (')[0]}; it is not sent")
        return rendered


def load_notes(path, languages, every_language=True):
    """Read and check the notes file: known placeholders and safe text, in each of `languages` if `every_language`."""
    where = str(path)
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise NoteError(f"{where}: cannot read the SMS notes: {error}") from None
    if not isinstance(data, dict) or set(data) != set(NOTES):
        raise NoteError(f"{where}: give exactly the notes {sorted(NOTES)}, each a mapping of language -> text")
    texts = {}
    for note, entry in data.items():
        if not isinstance(entry, dict):
            raise NoteError(f"{where}: note {note!r}: give a text per language, e.g. {{{languages[0]}: ...}}")
        present = [language for language in languages if every_language or entry.get(language)]
        if not present:
            raise NoteError(f"{where}: note {note!r}: give a text in at least one of {list(languages)}")
        texts[note] = MappingProxyType({language: _checked(where, note, language, entry.get(language))
                                        for language in present})
    return NoteTexts(where, MappingProxyType(texts))


def _checked(where, note, language, text):
    what = f"{where}: note {note!r} ({language})"
    if not isinstance(text, str) or not text.strip():
        raise NoteError(f"{what}: missing; add '{language}: ...'")
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    unknown = sorted(names - set(NOTES[note]))
    if unknown:
        raise NoteError(f"{what}: unknown placeholder {{{unknown[0]}}}; use only {', '.join(NOTES[note])}")
    rendered = text.format_map(SAMPLES)
    found = problems(rendered, [SAMPLES[name] for name in DIGITS_ALLOWED_IN if name in names])
    if found:
        raise NoteError(f"{what}: holds {found[0]}; an SMS never carries links, other numbers or codes")
    return text.strip()
