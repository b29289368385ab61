"""A call's timeline in words: what each event means, in English and Chinese, instead of its stored codes."""

# What a timeline row is, by event kind.
KIND_NAMES = {
    "incoming": ("call in", "来电"), "prompt": ("heard", "播报"), "input": ("answered", "应答"),
    "no_input": ("no answer", "无应答"), "invalid": ("not accepted", "输入无效"), "action": ("checked", "核查"),
    "identified": ("identified", "识别商户"), "verdict": ("verdict", "结论"), "lock": ("locked", "锁定"),
    "number": ("number given", "对方号码"), "report": ("report", "举报"), "record": ("recording", "录音"),
    "callback": ("call-back", "回电"), "transfer": ("transfer", "转接"), "language": ("language", "语言"),
    "hangup": ("hung up", "挂断"), "status": ("call ended", "通话结束"), "error": ("error", "错误"),
}

# What a step of the flow found, by (action, outcome).
ACTION_WORDS = {
    ("identify_caller", "registered"): ("the caller's number is a registered phone of one merchant",
                                        "来电号码是某一商户的登记电话"),
    ("identify_caller", "other"): ("the caller's number is not the registered phone of one merchant: asked for the merchant number",
                                   "来电号码不是某一商户的登记电话，请来电者输入商户编号"),
    ("find_merchant", "found"): ("found the merchant number typed in", "找到了输入的商户编号"),
    ("find_merchant", "retry"): ("no merchant has that number: asked once more", "没有这个商户编号，请来电者再输入一次"),
    ("find_merchant", "give_up"): ("no merchant has that number again: put through to a person",
                                   "仍然没有这个商户编号，转接人工"),
    ("check_code", "locked"): ("code checking is locked: the code was not checked", "核实已锁定，没有检查参考码"),
    ("check_code", "genuine"): ("the code matched open outreach", "参考码与有效的联系记录相符"),
    ("check_code", "expired"): ("the code matched outreach that is no longer open", "参考码对应的联系记录已失效"),
    ("check_code", "no_record"): ("the code matched no outreach of this merchant", "参考码与该商户的联系记录都不相符"),
    ("number_hidden", "done"): ("the number that called them was hidden", "对方的号码没有显示"),
    ("check_number", "hotline_number"): ("the number given is this hotline's own: the caller ID was faked",
                                         "对方号码是本热线的号码：来电显示是伪造的"),
    ("check_number", "spoofed_official"): ("the number given is one of our official numbers, but no code was given",
                                           "对方号码是我们的官方号码，但没有参考码"),
    ("check_number", "international"): ("the number given is international", "对方号码是境外号码"),
    ("check_number", "virtual"): ("the number given belongs to a virtual operator", "对方号码属于虚拟运营商"),
    ("check_number", "invalid"): ("the number given is not a valid number", "对方号码不是有效号码"),
    ("check_number", "none"): ("nothing unusual about the number given", "对方号码没有异常"),
    ("verdict_without_code", "known_scam"): ("no code, and the number given is a known scam", "没有参考码，且对方号码是已知诈骗号码"),
    ("verdict_without_code", "no_code"): ("no code given", "没有参考码"),
    ("report_prefilled", "have_number"): ("the number to report is the one already given", "要举报的号码就是刚才输入的号码"),
    ("report_prefilled", "ask_number"): ("asked for the number to report", "请来电者输入要举报的号码"),
    ("check_reported_number", "hotline_number"): ("the reported number is this hotline's own", "被举报的号码是本热线的号码"),
    ("check_reported_number", "other"): ("the reported number is not the hotline's", "被举报的号码不是本热线的号码"),
    ("file_report", "filed"): ("report filed", "举报已登记"),
    ("file_callback", "filed"): ("call-back request filed", "已登记回电请求"),
    ("file_callback", "nothing_recorded"): ("no message recorded, so no call-back request", "没有录下留言，未登记回电请求"),
}

# Risks noted about "the number that called" (ivr.phone.parse_reported and the verify actions).
SIGNAL_WORDS = {
    "hotline_number": ("it is this hotline's own number: the caller ID was faked", "这是本热线的号码：来电显示是伪造的"),
    "spoofed_official": ("it is one of our official numbers, shown without a code", "这是我们的官方号码，但没有参考码"),
    "international": ("it is international", "这是境外号码"),
    "virtual": ("it belongs to a virtual operator", "这是虚拟运营商号码"),
    "invalid": ("it is not a valid number", "这不是有效号码"),
}

WORDS = {
    "pressed": ("pressed {digits}", "按了 {digits}"),
    "typed a code": ("typed a code ({n} digits, not kept)", "输入了参考码（{n} 位，不保留）"),
    "said": ("said", "说"), "confidence": ("confidence {n}%", "置信度 {n}%"),
    "no input": ("pressed and said nothing", "没有按键也没有说话"),
    "not accepted": ("answer not accepted", "输入未被接受"),
    "call in": ("call came in from", "来电号码"), "withheld": ("call came in, number withheld", "来电，号码隐藏"),
    "chose": ("chose {language}", "选择了{language}"),
    "transfer dialling": ("put through to a person", "正在转接人工"),
    "transfer closed": ("outside business hours: not put through", "非工作时间，未转接人工"),
    "transfer no number": ("no agent number is set up: not put through", "没有设置人工号码，未转接"),
    "transfer answered": ("a person answered", "人工已接听"),
    "transfer no answer": ("no person answered", "人工未接听"),
    "transfer not answered": ("no person answered ({status})", "人工未接听（{status}）"),
    "hotline hung up": ("the hotline ended the call", "热线结束了通话"),
    "caller hung up": ("the caller hung up", "来电者挂断"),
    "call ended": ("the call ended", "通话结束"), "call ended as": ("the call ended: {status}", "通话结束：{status}"),
    "recorded": ("left a recording", "留下了录音"), "recorded nothing": ("recorded nothing", "没有录音"),
    "callback filed": ("asked for a call-back (#{id})", "请求回电（#{id}）"),
    "callback not filed": ("no call-back request: nothing was recorded", "未登记回电请求：没有录音"),
    "error": ("something went wrong on our side: the caller heard an apology", "系统出错，来电者听到了致歉"),
    "number given": ("the number that called them:", "对方的号码："),
    "number hidden": ("the number that called them was hidden", "对方的号码没有显示"),
    "step": ("step {action}: {outcome}", "步骤 {action}：{outcome}"),
    "seconds": ("{n} s", "{n} 秒"),
    # Why a call got its verdict.
    "genuine": ("the code matched outreach #{outreach}", "参考码与联系记录 #{outreach} 相符"),
    "expired": ("the code matched outreach #{outreach}, which is {state}", "参考码对应联系记录 #{outreach}，该记录{state}"),
    "locked": ("too many wrong codes: code checking is locked", "错误参考码过多，核实已锁定"),
    "wrong code": ("the code matched no outreach of this merchant", "参考码与该商户的联系记录都不相符"),
    "no code": ("no code was given", "没有提供参考码"),
    "open outreach": ("outreach #{outreach} is open for this merchant", "该商户有有效的联系记录 #{outreach}"),
    "no open outreach": ("this merchant has no open outreach", "该商户没有有效的联系记录"),
    "known scam": ("the number that called them is a known scam:", "对方号码是已知诈骗号码："),
    "hidden": ("the number that called them was hidden", "对方的号码没有显示"),
}
# Outreach states in a verdict's detail.
STATE_WORDS = {"completed": ("completed", "已完成"), "cancelled": ("cancelled", "已取消"), "open": ("past its time", "已过期"),
               "expired": ("past its time", "已过期")}
ANSWERED = ("completed", "answered")


def _pick(pair, lang):
    return pair[1] if lang == "zh" else pair[0]


def word(key, lang, **values):
    """Return one of WORDS in `lang`, with its {placeholders} filled in."""
    return _pick(WORDS[key], lang).format(**values)


def kind_name(kind, lang):
    """Return what a timeline row is ('heard', 'verdict', ...) in `lang`; an unknown kind as stored."""
    return _pick(KIND_NAMES[kind], lang) if kind in KIND_NAMES else kind


def seconds(value, lang):
    """Return a duration in seconds as '42 s' / '42 秒', or '' when it is missing."""
    if value in (None, "") or not str(value).replace(".", "", 1).isdigit():
        return ""
    return word("seconds", lang, n=value)


def sentence(event, lang, names, ended_by_hotline=False):
    """Return what a timeline event means as a sentence in `lang`, or None for kinds the page words itself.

    `names` are the stored values' names (uitext.value_names); `ended_by_hotline` tells a status row whether the
    hotline hung up before it (otherwise the caller did).
    """
    kind, detail = event["kind"], event.get("detail_data") or {}
    if kind == "action":
        outcome = detail.get("outcome")
        found = ACTION_WORDS.get((event.get("text"), outcome))
        return _pick(found, lang) if found else word("step", lang, action=event.get("text"), outcome=outcome)
    if kind == "no_input":
        return word("no input", lang)
    if kind == "language":
        language = detail.get("language")
        return word("chose", lang, language=names.get(language, language))
    if kind == "transfer":
        return _transfer(detail, lang, names)
    if kind == "hangup":
        return word("hotline hung up", lang)
    if kind == "status":
        return _status(event, detail, lang, names, ended_by_hotline)
    if kind == "record":
        if not detail.get("recorded"):
            return word("recorded nothing", lang)
        length = seconds(detail.get("duration") or None, lang)
        return _with_length(word("recorded", lang), length, lang)
    if kind == "callback":
        return word("callback filed", lang, id=detail.get("callback_id")) if detail.get("filed") else word("callback not filed", lang)
    if kind == "error":
        return word("error", lang)
    return None


def _transfer(detail, lang, names):
    result = detail.get("result")
    if result == "dialling":
        return word("transfer dialling", lang)
    if result == "closed":
        return word("transfer closed", lang)
    if result == "no number configured":
        return word("transfer no number", lang)
    if result in ANSWERED:
        length = seconds(detail.get("duration"), lang)
        return _with_length(word("transfer answered", lang), length, lang)
    if result in ("no-answer", "unknown", None):
        return word("transfer no answer", lang)
    return word("transfer not answered", lang, status=names.get(result, result))


def _status(event, detail, lang, names, ended_by_hotline):
    status = event.get("text")
    length = seconds(detail.get("duration"), lang)
    if status == "completed":
        words = word("call ended" if ended_by_hotline else "caller hung up", lang)
    else:
        words = word("call ended as", lang, status=names.get(status, status))
    return _with_length(words, length, lang)


def input_digits(digits, lang):
    """Return what a caller pressed in words: a secret kept only as its length reads as such."""
    if digits and set(digits) == {"•"}:
        return word("typed a code", lang, n=len(digits))
    return None


def verdict_reasons(verdict, detail, lang):
    """Return why a call got its verdict as sentences, from the verdict event's detail (the number link apart)."""
    detail = detail if isinstance(detail, dict) else {}
    outreach = detail.get("outreach_id")
    code_given = detail.get("code_given")
    reasons = []
    if verdict == "genuine" and outreach:
        reasons.append(word("genuine", lang, outreach=outreach))
    elif verdict == "expired" and outreach:
        state = detail.get("state")
        reasons.append(word("expired", lang, outreach=outreach, state=_pick(STATE_WORDS.get(state, (state, state)), lang)))
    elif verdict == "locked":
        reasons.append(word("locked", lang))
    elif verdict == "no_record" and code_given:
        reasons.append(word("wrong code", lang))
    elif verdict in ("no_record", "unconfirmed", "known_scam") and code_given is False:
        reasons.append(word("no code", lang))
        if verdict == "unconfirmed" and outreach:
            reasons.append(word("open outreach", lang, outreach=outreach))
        elif verdict == "no_record":
            reasons.append(word("no open outreach", lang))
    if detail.get("hidden"):
        reasons.append(word("hidden", lang))
    reasons.extend(_pick(SIGNAL_WORDS[signal], lang) for signal in detail.get("signals") or () if signal in SIGNAL_WORDS)
    return reasons


def _with_length(words, length, lang):
    """Return `words` followed by a length in brackets of the language, when there is one."""
    if not length:
        return words
    return f"{words} ({length})" if lang == "en" else f"{words}（{length}）"
