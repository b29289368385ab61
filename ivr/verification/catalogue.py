"""The operator's catalogue of what outreach may ask a merchant to do, and the words no genuine request contains."""
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from ivr.errors import HotlineError

# The hotline's fast path to a verdict has about 30 seconds of speech, and the action is spoken inside the
# verdict's sentence ("Please {action}."): a phrase must stay short enough to hear in a few seconds.
MAX_HAN_CHARACTERS = 20
MAX_WORDS = 10
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
WORD = re.compile(r"\w+")
SENTENCE_END = tuple(".。!！?？;；")
# libyaml's loader when it is installed (several times faster), safe either way.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Traditional characters (Cantonese text is often written with them) read as their simplified forms, so that
# each word below is written once.
TRADITIONAL = str.maketrans(
    "轉賬帳匯繳費續證驗碼號遠裝載遙維網頁鏈務應點銀鑰錄騰訊會議軟納訂級戶記場貳陸參",
    "转账帐汇缴费续证验码号远装载遥维网页链务应点银钥录腾讯会议软纳订级户记场贰陆叁",
)
_HAN_DIGIT = "〇零一二三四五六七八九幺洞壹贰叁肆伍陆柒捌玖"
_DIGIT = rf"[0-9{_HAN_DIGIT}]"
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_TOP_LEVEL_DOMAINS = (
    "com|cn|net|org|info|biz|io|co|cc|me|tv|top|xyz|vip|app|site|online|shop|store|link|club|ltd|group|tech|icu|pro|"
    "asia|mobi|work|hk|tw|mo|ly|gl|gd|to|ws|ru|uk|us|jp|kr|sg|de|in|tk|ml|ga|cf|gq|one|live|fun|ink|cloud"
)
# An install or download is allowed only of the official app; these phrases are taken out before looking for others.
_OFFICIAL_APP = r"官方\s*(?:app|应用|客户端)|\bofficial\s+app\b|应用商店|应用市场|\bapp\s+store\b"
_OFFICIAL_INSTALL = (
    r"(?:(?:安装|下载|更新|升级)[并和或、]?)+(?:最新版?的?|新版的?)?\s*官方\s*(?:app|应用|客户端)"
    r"|\b(?:(?:install|download|update|upgrade)\w*\s+(?:(?:and|or)\s+)?)+(?:the\s+)?(?:latest\s+|new\s+)?"
    r"(?:version\s+of\s+the\s+)?official\s+app\b"
)

# (what was found, how to fix it, patterns): every text the hotline speaks as a genuine request is checked
# against these, case-insensitively, after full-width forms and other digits are folded (ＷＷＷ, ４００, ٤٠٠) and
# traditional characters simplified. Each is something scammers ask for and genuine outreach never does. They are
# matched with ASCII word boundaries, so that "输入PIN" finds "PIN" although Han characters touch it.
RULES = (
    ("a phone number", "genuine outreach never gives a number to call; merchants call the hotline on their terminal",
     (rf"{_DIGIT}(?:[\s\-–—.()/]*{_DIGIT}){{4,}}", rf"\b{_DIGIT_WORD}(?:[\s-]+{_DIGIT_WORD}){{4,}}\b")),
    ("a web address", "genuine outreach never sends merchants to a website or link; name the official app instead",
     (r"\bhttps?\b", r"://", r"\bwww\b", rf"\b[a-z0-9][a-z0-9-]*(?:[.。][a-z0-9-]+)*[.。](?:{_TOP_LEVEL_DOMAINS})\b",
      r"(?:\bdot|点)\s*(?:com|cn|net|org)\b", r"网址|网站|网页|链接")),
    ("a request for money", "genuine outreach never asks for a payment, fee, deposit or transfer",
     (r"付款|支付|付费|转账|转帐|汇款|打款|交费|缴费|缴纳|交纳|费用|收费|手续费|服务费|升级费|激活费|年费|押金|保证金|定金|订金"
      r"|充值|扣款|刷卡|退款",
      r"\b(?:pay|pays|paid|paying|payments?|prepay|prepaid)\b", r"\bfees?\b", r"\bdeposit\w*", r"\btransfer\w*",
      r"\bwire\b", r"\btop[\s-]?ups?\b", r"\brecharg\w*", r"\brefund\w*", r"\bmoney\b", r"\bcash\b", r"\byuan\b",
      r"\brmb\b", r"\bcny\b", r"\bswip\w*")),
    ("a card number, code or password", "genuine outreach never asks for a card number, a code, a PIN or a password",
     (r"验证码|校验码|动态码|短信码|安全码|激活码|授权码|密码|(?<![号维])码|口令|密钥|卡号|银行卡|信用卡|借记卡|卡密",
      r"\bcv[vc]2?\b", r"\bpins?\b", r"\bpass(?:word|code|phrase)s?\b", r"\botp\b", r"(?<!qr\s)\bcodes?\b",
      r"\bcard\s*(?:numbers?|details|no\b)", r"\b(?:bank|credit|debit)\s+cards?\b")),
    ("screen sharing or remote control", "genuine outreach never asks a merchant to share a screen or let anyone in",
     (r"屏幕共享|共享屏幕|屏幕分享|分享屏幕|共享桌面|远程|遥控|投屏|录屏|向日葵|腾讯会议",
      r"\bscreen[\s-]?(?:shar|mirror|record|cast)\w*", r"\bshar\w*\s+(?:your\s+|the\s+|my\s+|a\s+)?screens?\b",
      r"\bremote\w*", r"\bteam\s?viewer\b", r"\bany\s?desk\b", r"\btodesk\b", r"\brust\s?desk\b", r"\bsunlogin\b",
      r"\bquick\s?support\b")),
    ("an app other than the official app",
     "the only app a genuine request names is the official app ('官方App', 'the official app')",
     (r"安装|下载|装上|装个|装一下|装一个|软件|客户端|插件|小程序|\bapps?\b", r"\binstall\w*", r"\bdownload\w*",
      r"\bsideload\w*", r"\bapks?\b", r"\bsoftware\b", r"\bplug-?ins?\b")),
)
_COMPILED = tuple(
    (what, fix, re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE | re.ASCII))
    for what, fix, patterns in RULES
)
_OFFICIAL = re.compile(f"(?:{_OFFICIAL_INSTALL})|(?:{_OFFICIAL_APP})", re.IGNORECASE | re.ASCII)
_ANY_DIGIT = re.compile(r"\d")


class CatalogueError(HotlineError):
    """The outreach actions file is invalid; the message names the file, the key and the fix."""


def _folded(text):
    # NFKC folds full-width digits and letters ("４００", "ｗｗｗ") and ligatures to the plain ones scams hide behind.
    text = unicodedata.normalize("NFKC", text).translate(TRADITIONAL)
    return _ANY_DIGIT.sub(lambda match: str(unicodedata.decimal(match.group())), text)


def findings(text):
    """Return [(what, found, fix)] for each rule `text` breaks: numbers, links, money, codes, remote access, apps."""
    folded = _folded(text)
    found = []
    for what, fix, pattern in _COMPILED:
        # Only the last rule cares which app is named: the official app, installed or not, is what merchants use.
        searched = _OFFICIAL.sub(" ", folded) if what == RULES[-1][0] else folded
        match = pattern.search(searched)
        if match:
            found.append((what, match.group(0).strip(), fix))
    return found


def spoken_length(text):
    """Return (length, limit, unit): Han characters (a Latin word counts as one) if there are any, else words."""
    han = len(HAN.findall(text))
    if han:
        return han + len(WORD.findall(HAN.sub(" ", text))), MAX_HAN_CHARACTERS, "Han characters"
    return len(text.split()), MAX_WORDS, "words"


@dataclass(frozen=True)
class Catalogue:
    """What outreach may ask merchants to do: key -> {language: short imperative phrase}, in the file's order."""

    path: str
    languages: tuple
    texts: MappingProxyType

    def keys(self):
        """Return the keys in the file's order."""
        return tuple(self.texts)

    def text(self, key, language):
        """Return the phrase for `key` in `language`, or None for an unknown key (older outreach) or language."""
        entry = self.texts.get(key) if isinstance(key, str) else None
        return None if entry is None else entry.get(language)

    def entries(self):
        """Return [{key, <language>: text, ...}] in the file's order, for lists and menus."""
        return [{"key": key, **entry} for key, entry in self.texts.items()]


def load_catalogue(path, languages):
    """Read and check the catalogue file; every entry needs a short, safe text in each of `languages`."""
    where = str(path)
    languages = tuple(languages)
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CatalogueError(f"{where}: cannot read the outreach actions: {error}") from None
    if not isinstance(data, dict) or not data:
        example = ", ".join(f"{language}: ..." for language in languages)
        raise CatalogueError(f"{where}: the outreach actions must be a mapping of key -> {{{example}}}; add one")
    texts = {}
    for key, entry in data.items():
        if not isinstance(key, str) or not KEY.match(key):
            raise CatalogueError(
                f"{where}: key {key!r}: use 1-40 lower-case letters, digits and '_', starting with a letter"
            )
        texts[key] = MappingProxyType(_entry(where, key, entry, languages))
    return Catalogue(path=where, languages=languages, texts=MappingProxyType(texts))


def _entry(where, key, entry, languages):
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: action {key!r}: give a text for each language, e.g. {{{languages[0]}: ...}}")
    unknown = sorted(map(str, set(entry) - set(languages)))
    if unknown:
        raise CatalogueError(
            f"{where}: action {key!r}: language {unknown[0]!r} is not one of the flow's {list(languages)}; remove it"
        )
    texts = {}
    for language in languages:
        text = entry.get(language)
        if not isinstance(text, str) or not text.strip():
            raise CatalogueError(f"{where}: action {key!r}: missing the {language!r} text; add '{language}: ...'")
        texts[language] = _checked(where, key, language, text.strip())
    return texts


def _checked(where, key, language, text):
    what = f"{where}: action {key!r} ({language}) {text!r}"
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise CatalogueError(f"{what}: remove the invisible or control character U+{ord(char):04X}")
    if text.endswith(SENTENCE_END):
        raise CatalogueError(f"{what}: drop the final punctuation; the hotline speaks it inside its own sentence")
    length, limit, unit = spoken_length(text)
    if length > limit:
        raise CatalogueError(f"{what}: {length} {unit}, more than {limit}; shorten it so the verdict stays quick")
    found = findings(text)
    if found:
        kind, words, fix = found[0]
        raise CatalogueError(f"{what}: contains {kind} ({words!r}); {fix}")
    return text
