"""Bulk demo data for the dashboard: a year of a busy hotline (calls, events, merchants, reports) in minutes."""
import json
import random
import threading
import time
from datetime import datetime
from datetime import time as dtime
from datetime import timedelta, timezone

from flask import current_app

from ivr import clock
from ivr.storage import demo as store
from ivr.storage.db import transaction
from ivr.verification.outreach import CODE_DIGITS, code_hash

BATCH = 20_000
# What callers did, with how often (share of calls) and the verdict it ends in.
PATHS = [
    ("verify", 0.55), ("guide", 0.12), ("report", 0.08), ("person", 0.15), ("abandon", 0.10),
]
# How often a verify call ends in each verdict: every one of vocabulary.VERDICTS, so the demo shows them all.
VERDICT_SHARES = [("genuine", 0.36), ("no_record", 0.24), ("known_scam", 0.14), ("unconfirmed", 0.12),
                  ("expired", 0.09), ("locked", 0.05)]
CATEGORIES = ["credentials", "remote_app", "fee", "settlement_change", "other"]
# Hours of the day (local, UTC+8) callers ring, as weights: busy in the working day, quiet at night.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 16, 12, 14, 17, 17, 15, 13, 11, 9, 7, 5, 3, 2]
PROMPTS = {
    "welcome": ("您好，这里是官方商户核实热线。本热线从不索要密码或验证码。核实请求按1，安全指引按2，举报按3，人工按0。",
                "Welcome to the official merchant verification hotline. To check a request press 1, steps 2, report 3, a person 0."),
    "merchant": ("请输入您的15位商户编号，以井号键结束。", "Please enter your 15-digit merchant number, then press hash."),
    "code": ("如果对方给了您8位参考码，请输入；没有请直接按井号键。", "If you were given an eight-digit reference code, enter it; if not, press hash."),
    "result": ("核实结果已播报，请按提示操作。感谢来电。", "That is the result of the check. Thank you for calling."),
    "guide": ("第一段，真正的更新怎样到达：只会出现在终端自己的更新提示里。", "Part one: a real update appears only as the terminal's own prompt."),
    "report": ("对方要求您做什么？卡号密码按1，安装软件按2，缴费按3，改结算账户按4，其他按5。",
               "What did they ask for? Card or PIN 1, an app 2, a fee 3, settlement account 4, other 5."),
    "number": ("请输入对方的来电号码，以井号键结束；号码隐藏请按星号键。", "Enter the number that called you, then hash; if hidden, press star."),
    "person": ("现在为您转接人工客服，请稍候。", "Connecting you to a person, please hold."),
}
MENU_SPEECH = {"verify": ["核实", "我要核实一下", "验证", "verify", "check a request"],
               "guide": ["指引", "更新步骤", "steps"], "report": ["举报", "我要举报诈骗电话", "report a scam"],
               "person": ["人工", "转人工客服", "agent please"]}
REPORT_SPEECH = ["他们让我提供短信验证码", "对方让我下载屏幕共享软件", "要我交押金激活", "说要改结算账户",
                 "they asked for my PIN", "he wanted me to install an app", "asked me to pay a deposit fee"]
NAMES = ["便利店", "超市", "餐厅", "水果店", "药房", "五金店", "书店", "面馆", "奶茶店", "花店", "Café", "Bakery"]


def _pick(rng, weighted):
    point, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if point < total:
            return value
    return weighted[-1][0]


def _phone(rng):
    return f"+86{rng.choice(['138', '139', '137', '186', '158', '177'])}{rng.randrange(10**8):08d}"


def _stamp(moment):
    # Moments here are naive UTC: formatting them is several times faster than aware ones, same text as clock.stamp.
    return moment.isoformat(timespec="milliseconds") + "+00:00"


class Generator:
    """Builds the rows of one demo data set; `run` writes them in big executemany batches."""

    def __init__(self, database, calls, days, seed, echo, code_key, action_keys):
        self.database, self.total, self.days, self.echo = database, calls, days, echo
        self.code_key, self.action_keys = code_key, tuple(action_keys)
        self.rng = random.Random(seed)
        self.now = clock.now().replace(tzinfo=None)
        self.merchants = [f"{100000000000000 + self.rng.randrange(9 * 10**14)}" for _ in range(max(50, calls // 40))]
        self.merchant_phone = {m: _phone(self.rng) for m in self.merchants}
        self.scam_numbers = [_phone(self.rng) for _ in range(max(20, calls // 800))]
        self.rows = {"calls": [], "events": [], "reports": [], "callbacks": []}
        self.report_serial = 10_000_000
        self.writer, self.failure = None, []

    def run(self):
        """Generate everything and return a one-line summary."""
        started = time.monotonic()
        store.tune_for_bulk(self.database, True)
        try:
            self._merchants()
            made = 0
            for day in range(self.days - 1, -1, -1):
                count = self._calls_on(day)
                for moment in self._times(day, count):
                    self._call(moment)
                    made += 1
                    if len(self.rows["calls"]) >= BATCH:
                        self._flush()
                        self.echo(f"  {made:,} calls ({time.monotonic() - started:.0f} s)")
            self._flush()
            self._wait_writer()
            self._numbers()
            with transaction(self.database):
                store.analyze(self.database)
        finally:
            self._wait_writer()
            store.tune_for_bulk(self.database, False)
        return f"Demo data: {made:,} calls over {self.days} days in {time.monotonic() - started:.0f} s."

    def _calls_on(self, day):
        # Weekends are quieter; 5 weekdays x 1.08 + 2 weekend days x 0.8 keeps the weekly total.
        weekday = (self.now - timedelta(days=day)).weekday()
        base = self.total / self.days * (0.8 if weekday >= 5 else 1.08)
        whole = int(base)
        return whole + (1 if self.rng.random() < base - whole else 0)

    def _times(self, day, count):
        local = timezone(timedelta(hours=8))
        date = (self.now.replace(tzinfo=timezone.utc).astimezone(local) - timedelta(days=day)).date()
        midnight = datetime.combine(date, dtime.min, tzinfo=local)
        hours = self.rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
        moments = sorted(midnight + timedelta(hours=h, seconds=self.rng.random() * 3600) for h in hours)
        return [utc for utc in (m.astimezone(timezone.utc).replace(tzinfo=None) for m in moments) if utc <= self.now]

    def _merchants(self):
        stamp = _stamp(self.now - timedelta(days=self.days))
        with transaction(self.database):
            store.add_merchants(
                self.database,
                [(m, f"{self.rng.choice('张王李赵刘陈杨黄周吴')}记{self.rng.choice(NAMES)}", stamp, stamp) for m in self.merchants],
            )
            store.add_merchant_phones(self.database, list(self.merchant_phone.items()))
            outreach = []
            for merchant in self.rng.sample(self.merchants, len(self.merchants) // 3):
                created = self.now - timedelta(days=self.rng.random() * self.days)
                expires = created + timedelta(hours=168)
                status = "open" if expires > self.now else self.rng.choice(["completed", "completed", "cancelled", "open"])
                code = f"{self.rng.randrange(10**CODE_DIGITS):0{CODE_DIGITS}d}"
                outreach.append((merchant, self.rng.choice(["system_update", "data_verification", "business_change"]),
                                 self.rng.choice(["phone", "sms", "visit"]), "+864009001234",
                                 self.rng.choice(["李娜", "王强", "陈静", "Zhang Wei"]), self.rng.choice(self.action_keys),
                                 code_hash(self.code_key, merchant, code), _stamp(created), _stamp(expires), status))
            store.add_outreach(self.database, outreach)

    def _call(self, start):
        rng = self.rng
        sid = f"CA{rng.getrandbits(128):032x}"
        lang = "zh" if rng.random() < 0.86 else "en"
        li = 0 if lang == "zh" else 1
        withheld = rng.random() < 0.04
        merchant = rng.choice(self.merchants)
        caller = None if withheld else (self.merchant_phone[merchant] if rng.random() < 0.6 else _phone(rng))
        path = _pick(rng, PATHS)
        events, t = [], 0.0

        def event(kind, node=None, text=None, digits=None, speech=None, confidence=None, detail=None, gap=2.0):
            nonlocal t
            t += gap * (0.5 + rng.random())
            events.append((sid, _stamp(start + timedelta(seconds=t)), node, kind, text, digits, speech, confidence,
                           json.dumps(detail, ensure_ascii=False) if detail is not None else None))

        def menu(node, choice):
            if rng.random() < 0.3:
                event("input", node, speech=rng.choice(MENU_SPEECH[choice]), confidence=round(0.55 + rng.random() * 0.44, 2), gap=6)
            else:
                event("input", node, digits={"verify": "1", "guide": "2", "report": "3", "person": "0"}[choice], gap=6)

        event("incoming", detail={"from": caller, "withheld": withheld}, gap=0.1)
        event("prompt", "welcome", text=PROMPTS["welcome"][li], gap=0.1)
        verdict, merchant_id, status = None, None, "completed"
        if path == "abandon":
            status = rng.choice(["completed", "completed", "canceled", "failed"])
            if rng.random() < 0.5:
                event("no_input", "welcome", gap=8)
        else:
            menu("welcome", "verify" if path == "verify" else path)
        if path == "verify":
            event("prompt", "ask_merchant", text=PROMPTS["merchant"][li])
            event("input", "ask_merchant", digits=merchant, gap=12)
            event("action", "find_merchant", text="find_merchant", detail={"outcome": "found"})
            merchant_id = merchant
            event("prompt", "ask_code", text=PROMPTS["code"][li])
            verdict = _pick(rng, VERDICT_SHARES)
            code_given = verdict in ("genuine", "expired", "locked") or rng.random() < 0.3
            event("input", "ask_code", digits="••••••" if code_given else None, gap=10)
            detail = {"code_given": code_given, "merchant_id": merchant}
            if verdict == "known_scam":
                detail["number"] = rng.choice(self.scam_numbers)
            event("verdict", "check_code", text=verdict, detail=detail)
            event("prompt", "result", text=PROMPTS["result"][li])
        elif path == "guide":
            for _ in range(rng.randint(1, 3)):
                event("prompt", "guide_how", text=PROMPTS["guide"][li])
                event("input", "guide_how", digits="1", gap=15)
        elif path == "report":
            event("prompt", "report_what", text=PROMPTS["report"][li])
            category = rng.choice(CATEGORIES)
            if rng.random() < 0.5:
                event("input", "report_what", speech=rng.choice(REPORT_SPEECH), confidence=round(0.6 + rng.random() * 0.39, 2), gap=9)
            else:
                event("input", "report_what", digits=str(CATEGORIES.index(category) + 1), gap=5)
            event("prompt", "report_number", text=PROMPTS["number"][li])
            number = rng.choice(self.scam_numbers) if rng.random() < 0.85 else None
            event("input", "report_number", digits=number[3:] if number else "*", gap=12)
            recording = f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE{rng.getrandbits(64):016x}"
            event("record", "report_record", detail={"url": recording, "duration": rng.randint(5, 60), "recorded": True}, gap=30)
            self.report_serial += 1
            self.rows["reports"].append((str(self.report_serial), sid, merchant if caller == self.merchant_phone[merchant] else None,
                                         caller, number, number[3:] if number else None, category, recording,
                                         _stamp(start + timedelta(seconds=t))))
        elif path == "person":
            event("prompt", "person", text=PROMPTS["person"][li])
            answered = rng.random() < 0.7
            event("transfer", "person", detail={"result": "completed" if answered else "no-answer"}, gap=25)
            if not answered:
                recording = f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE{rng.getrandbits(64):016x}"
                event("record", "leave_message", detail={"url": recording, "duration": rng.randint(5, 60), "recorded": True}, gap=20)
                event("callback", "leave_message", detail={"filed": True})
                age = self.now - start
                self.rows["callbacks"].append((sid, caller, lang, recording, _stamp(start + timedelta(seconds=t)),
                                               "waiting" if age < timedelta(days=2) else "done",
                                               None if age < timedelta(days=2) else "王强"))
        event("hangup", gap=1)
        duration = int(t) + 1
        event("status", text=status, detail={"duration": duration}, gap=1)
        answered_at = _stamp(start + timedelta(seconds=0.5))
        verdict_at = events[-4][1] if verdict else None
        ended = _stamp(start + timedelta(seconds=t))
        self.rows["calls"].append((sid, caller, "Anonymous" if withheld else caller, int(withheld), "+864009001234", lang,
                                   _stamp(start), answered_at, ended, status, duration, verdict, verdict_at,
                                   merchant_id, None, "{}", ended))
        self.rows["events"].extend(events)

    def _flush(self):
        # The previous batch is written in a thread (sqlite releases the GIL) while this one was being built.
        if self.writer is not None:
            self.writer.join()
            if self.failure:
                raise self.failure[0]
        batch = {name: list(rows) for name, rows in self.rows.items()}
        for rows in self.rows.values():
            rows.clear()
        self.writer = threading.Thread(target=self._write_guarded, args=(batch,))
        self.writer.start()

    def _wait_writer(self):
        if self.writer is not None:
            self.writer.join()
            self.writer = None
            if self.failure:
                raise self.failure[0]

    def _write_guarded(self, batch):
        try:
            self._write(batch)
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            self.failure.append(error)

    def _write(self, rows):
        with transaction(self.database):
            store.add_batch(self.database, rows)

    def _numbers(self):
        """Fill the watchlist from the reports, with a few staff decisions."""
        with transaction(self.database):
            numbers = store.watch_reported_numbers(self.database)
            changes = []
            for number in self.rng.sample(numbers, len(numbers) // 5):
                status = "confirmed" if self.rng.random() < 0.85 else "cleared"
                stamp = _stamp(self.now - timedelta(days=self.rng.random() * 30))
                reason = "多个商户举报同一话术" if status == "confirmed" else "our own outbound number"
                changes.append((number, status, "ada", reason, stamp))
            store.set_number_statuses(self.database, changes)


def generate(database, calls, days=365, seed=7, echo=print, code_key=None, action_keys=None):
    """Generate `calls` calls (about 10 events each) spread over `days` days up to now; return a summary.

    Outreach codes are hashed with `code_key` and ask for one of `action_keys`; both default to the current app's
    (`flask demo-data` runs in its context).
    """
    if calls < 0 or days < 1:
        raise ValueError("calls must be >= 0 and days >= 1")
    if code_key is None:
        code_key = current_app.config["CODE_SECRET"]
    if action_keys is None:
        action_keys = current_app.extensions["ivr"]["outreach_actions"].keys()
    return Generator(database, calls, days, seed, echo, code_key, action_keys).run()
