"""The dashboard's words in English and Chinese; English text is the key, so a missing entry shows English."""
import re

from ivr.vocabulary import CALLBACK_OUTCOME_NAMES, CASE_STATUS_NAMES, STATUS_NAMES, VERDICT_NAMES

LANGUAGES = ("zh", "en")
DASHBOARD_BLUEPRINTS = frozenset({"dashboard", "dash_calls", "dash_manage", "dash_admin", "dash_recordings"})

ZH = {
    "not yet copied from Twilio": "尚未从 Twilio 复制",
    "Twilio's REST API is not set up (TWILIO_ACCOUNT_SID and its credentials), so recordings stay at Twilio and SMS notes wait.":
        "尚未设置 Twilio REST 接口（TWILIO_ACCOUNT_SID 及凭据）：录音仍留在 Twilio，短信通知暂不发送。", "deleted under the retention period": "已按保留期限删除",
    "Play the recording (recorded in the audit log)": "播放录音（记入审计日志）",
    "Abandoned today": "今日未出结论即挂断", "Action": "操作", "Add a user": "添加用户", "Add user": "添加",
    "All calls of this merchant": "该商户的全部通话", "Audit log": "审计日志", "Back to the overview": "返回概览",
    "Call": "通话", "Call-back requests": "回电请求", "Call-backs waiting": "待回电", "Call-backs": "回电",
    "Caller number": "来电号码", "Caller said": "来电者所说", "Caller": "来电者",
    "Calls abandoned before a verdict": "未出结论即挂断的通话", "Calls per day by verdict": "每日通话（按结论）",
    "Calls today": "今日通话", "Calls": "通话", "Cancel": "取消", "Categories": "类别", "Category": "类别",
    "Changed by": "修改人", "Channel": "渠道", "Clear": "清除", "Complete": "完成", "Confirm as scam": "确认为诈骗",
    "Confirm or clear": "确认或清除", "Created": "创建时间", "Dashboard": "工作台", "Detail": "详情",
    "Disable": "停用", "Done": "已处理", "Duration": "时长", "Enable": "启用", "Expires": "到期",
    "Export CSV": "导出 CSV", "Failed sign-ins": "登录失败次数", "Filed": "登记时间", "Filter": "筛选",
    "First seen": "首次举报", "From": "从", "Known scam today": "今日已知诈骗", "Lang.": "语言", "Language": "语言",
    "Last 30 days": "最近 30 天", "Last seen": "最近举报", "Left at": "留言时间", "Lock": "锁定",
    "Median time from answer to verdict": "接听到结论的中位时间", "Merchant number or name": "商户编号或名称",
    "Merchant number": "商户编号", "Merchant verification hotline": "官方商户核实热线", "Merchant": "商户",
    "Merchants": "商户", "Message": "留言", "Most reported numbers this week": "本周被举报最多的号码",
    "Name": "用户名", "New outreach": "新建联系记录", "Newer": "较新", "No calls match.": "没有符合条件的通话。",
    "No events.": "没有事件。", "No merchants match.": "没有符合条件的商户。", "No numbers match.": "没有符合条件的号码。",
    "No outreach matches.": "没有符合条件的联系记录。", "No reports match.": "没有符合条件的举报。",
    "No reports this week.": "本周没有举报。", "Not found.": "未找到。", "Nothing here.": "暂无内容。",
    "Number contains": "号码包含", "Number": "号码", "Numbers": "号码", "Official number used": "使用的官方号码",
    "Older": "较早", "Outreach history": "联系记录", "Outreach registered": "联系记录已登记", "Outreach": "联系记录",
    "Overview": "概览", "Password": "密码", "Phones": "电话", "Reached a verdict today": "今日得出结论",
    "Reason": "原因", "Record": "对象", "Recording": "录音",
    "Reference code for the merchant (shown only this once):": "给商户的参考码（仅显示这一次）：",
    "Register outreach": "登记", "Repeat password": "再次输入密码", "Report filed": "已登记的举报", "Report": "举报编号",
    "Reported number": "被举报号码", "Reported numbers": "被举报号码", "Reporter": "举报人", "Reports per day": "每日举报",
    "Reports today": "今日举报", "Reports": "举报", "Reveal (recorded in the audit log)": "显示完整号码（记入审计日志）",
    "Reveal": "显示", "Role": "角色", "Save role": "保存角色", "Search": "搜索",
    "Share of calls that reached a verdict": "得出结论的通话占比", "Sign in": "登录", "Sign out": "退出",
    "Staff name": "员工姓名", "Staff": "员工", "Started": "开始时间", "State": "状态", "Status history": "状态记录",
    "Status": "状态", "Timeline": "时间线", "To": "到", "Unlock": "解锁", "Users": "用户",
    "Valid for (hours)": "有效期（小时）", "Valid until": "有效期至", "Verdict": "结论", "Verification hotline": "核实热线",
    "What the merchant is asked to do": "请商户做什么", "When": "时间", "Who": "谁",
    "You are not allowed to do that.": "您没有权限执行此操作。", "any": "全部", "calls from this number": "该号码的来电",
    "confidence": "置信度", "disabled": "已停用", "from {n} merchants": "来自 {n} 个商户",
    "last unlocked by {who}": "上次由 {who} 解锁", "not locked": "未锁定", "number hidden": "号码隐藏", "open": "打开",
    "pressed": "按键", "recording": "录音", "said": "说", "search looks at the newest {n} matching answers":
    "搜索范围为最新的 {n} 条匹配回答", "words the caller said": "来电者说过的话", "{n} calls": "{n} 通",
    "{n} wrong codes in 24 h": "24 小时内 {n} 次错误参考码",
    "Call-back marked done.": "回电已标记为处理完毕。", "Merchant unlocked.": "商户已解锁。", "Status saved.": "状态已保存。",
    "The two passwords differ.": "两次输入的密码不一致。", "User created.": "用户已创建。", "User updated.": "用户已更新。",
    "You cannot disable or demote yourself.": "不能停用或降级自己。", "Calls per day": "每日通话",
    "Wrong name or password.": "用户名或密码错误。",
}

# Names of stored values (verdicts, statuses, categories, event kinds) as staff read them.
VALUES = {
    **VERDICT_NAMES, "none": ("no verdict", "无结论"), None: ("no verdict", "无结论"),
    **STATUS_NAMES, "unknown": ("unknown", "未知"),
    "zh": ("Chinese", "中文"), "en": ("English", "英文"),
    "reported": ("reported", "已举报"), "suspected": ("suspected", "可疑"), "confirmed": ("confirmed", "已确认诈骗"),
    "cleared": ("cleared", "已清除"), "open": ("open", "有效"), "cancelled": ("cancelled", "已取消"),
    "waiting": ("waiting", "待处理"), "done": ("done", "已处理"),
    "credentials": ("card, PIN or SMS code", "卡号、密码或短信验证码"), "remote_app": ("install app / share screen", "安装应用或共享屏幕"),
    "fee": ("fee, deposit or activation swipe", "费用、押金或刷卡激活"),
    "settlement_change": ("settlement account or fee rate", "结算账户或费率变更"), "other": ("other", "其他"),
    "system_update": ("system update", "系统更新"), "data_verification": ("data verification", "资料核实"),
    "business_change": ("business change", "业务变更"), "phone": ("phone", "电话"), "sms": ("SMS", "短信"),
    "visit": ("visit", "上门"), "agent": ("agent", "客服"), "admin": ("admin", "管理员"),
    "incoming": ("incoming", "来电"), "prompt": ("heard", "播报"), "input": ("input", "输入"),
    "no_input": ("no input", "无输入"), "invalid": ("invalid", "无效"), "action": ("action", "动作"),
    "verdict": ("verdict", "结论"), "transfer": ("transfer", "转接"), "record": ("recording", "录音"),
    "callback": ("call-back", "回电"), "language": ("language", "语言"), "hangup": ("hang-up", "挂断"),
    "status": ("status", "状态"), "error": ("error", "错误"), "number": ("number", "号码"),
    "reports": ("reports", "举报"), "report": ("report", "举报"),
}


def translate(text, lang, **values):
    """Return `text` in `lang` ('zh' or 'en'), with {placeholders} filled in; an error message is read as a sentence."""
    if not isinstance(text, str):
        return text
    words = ZH.get(text) if lang == "zh" else EN.get(text, text if text in ZH else None)
    if words is None:
        words = message_text(text, lang)
    return words.format(**values) if values else words


def value_names(lang):
    """Return {stored value: name staff read} in `lang`."""
    position = 1 if lang == "zh" else 0
    return {key: names[position] for key, names in VALUES.items()}


# -- caller safety: locks by scope, how a call identified its merchant, reports that count ------------------------

ZH.update({
    "Locks in force": "生效中的锁定", "No locks in force.": "目前没有生效的锁定。", "Scope": "范围",
    "Merchant or number": "商户或号码", "Wrong codes": "错误参考码", "Until": "锁定至", "Lift": "解除",
    "Lift (recorded in the audit log)": "解除锁定（记入审计日志）",
    "Wrong codes from callers not on file": "非登记电话的错误参考码", "Wrong codes from its registered phones": "登记电话的错误参考码",
    "Lock lifted: {n} wrong codes no longer count.": "锁定已解除：{n} 次错误参考码不再计入。",
    "Calling number locked": "来电号码已锁定", "Identified": "识别方式", "Counts": "计入",
    "identified by a registered phone": "通过登记电话识别", "identified by the merchant number typed in": "通过输入的商户编号识别",
    "not identified": "未识别", "registered phone": "登记电话", "merchant number typed in": "输入商户编号",
    "merchant identified": "已识别商户", "code checking locked after too many wrong codes": "错误参考码过多，核实已锁定",
    "caller on file": "来电为登记电话", "caller not on file": "来电不是登记电话",
    "reporter on file": "举报人为登记电话", "not verified": "未经核实",
    "counted towards the watchlist": "计入观察名单", "Counted towards the watchlist": "计入观察名单", "not counted towards the watchlist": "不计入观察名单",
    "{n} merchants with the reporter on file (counted)": "{n} 个商户由登记电话举报（计入）",
    "{n} in the last {days} days": "最近 {days} 天内 {n} 个", "{n} other reports, not verified": "其他 {n} 条举报，未经核实",
    "Counted merchants": "计入的商户", "{n} wrong codes in {hours} h": "{hours} 小时内 {n} 次错误参考码",
    "One of the operator's own numbers: it cannot be confirmed as a scam.": "这是本机构自己的号码，不能确认为诈骗号码。",
    "This is one of the operator's own numbers; it cannot be marked as a scam.": "这是本机构自己的号码，不能标记为诈骗号码。",
})

# How staff read a call's identified_by (the values are ivr.vocabulary.IDENTIFIED_BY); long words, then short ones.
IDENTIFIED_BY_WORDS = {
    "registered_phone": "identified by a registered phone",
    "merchant_number": "identified by the merchant number typed in",
    "none": "not identified",
}
IDENTIFIED_BY_SHORT = {"registered_phone": "registered phone", "merchant_number": "merchant number typed in",
                       "none": "not identified"}

VALUES.update({
    "merchant_strangers": ("merchant, callers not on file", "商户（非登记电话来电）"),
    "merchant_registered": ("merchant, its registered phones", "商户（登记电话来电）"),
    # `number` already names the events that record the number that called; a lock's scope has its own key.
    "lock_number": ("calling number, all merchants", "来电号码（所有商户）"),
    "identified": ("identified", "识别商户"), "lock": ("lock", "锁定"),
})


def lock_scope_name(scope, lang):
    """Return a lock scope (ivr.merchants.LOCK_SCOPES) as staff read it."""
    key = "lock_number" if scope == "number" else scope
    return value_names(lang).get(key, scope)


# -- caller safety: outreach asks for an action from the operator's catalogue --------------------------------------

ZH.update({
    "Asked to do": "请商户做",
    "not in the catalogue, not read out": "不在目录中，不会播报",
    "The hotline reads this out to the merchant; only what the catalogue offers can be asked.":
        "热线会向商户读出这一项；只能选择目录中列出的事项。",
})


# -- staff security: sign-in throttling, passwords, sessions -------------------------------------------------------

ZH.update({
    "Too many attempts. Try again in {n} seconds.": "尝试次数过多，请 {n} 秒后再试。",
    "Change password": "修改密码", "Current password": "当前密码", "New password": "新密码",
    "Repeat new password": "再次输入新密码",
    "At least 10 characters. Every other session of yours will be signed out.": "至少 10 个字符。您在其他设备上的登录将全部退出。",
    "An administrator reset your password. Choose a new one to continue.": "管理员已重置您的密码，请先设置新密码再继续。",
    "a password needs at least 10 characters": "密码至少需要 10 个字符。",
    "The new password must differ from the current one.": "新密码不能与当前密码相同。",
    "The current password is wrong.": "当前密码不正确。",
    "Your password was changed. Any other session of yours has been signed out.": "密码已修改，您在其他设备上的登录已全部退出。",
    "That user name is taken.": "该用户名已被使用。",
    "Change your own password on the password page.": "请在“密码”页面修改自己的密码。",
    "Temporary password for {name}, shown only this once:": "{name} 的临时密码（仅显示这一次）：",
    "Give it to them in person or by phone. It works for 24 hours, only to choose a new password; their sessions have been signed out.":
        "请当面或通过电话告知对方。该密码 24 小时内有效，只能用来设置新密码；对方的所有登录已被退出。",
    "Last sign-in": "最近登录", "never": "从未", "Reset password": "重置密码", "temporary password": "临时密码",
    "a user name is 1-64 letters, digits, '.', '_', '-' or '@'": "用户名为 1-64 个字母、数字或 . _ - @ 字符。",
    "role must be one of agent, admin": "角色必须是客服或管理员。",
    "CSRF token missing or wrong; reload the page and try again.": "表单令牌缺失或错误，请刷新页面后重试。",
})


# -- cases: reports with a status, an assignee and notes; call-back attempts; confirming a cancellation -------------

ZH.update({
    "Case": "案件", "Case status": "案件状态", "Assignee": "负责人", "nobody": "无人", "Assigned to me": "分配给我的",
    "Order": "排序", "newest first": "最新在前", "oldest first": "最早在前", "Asked about it": "询问过该号码的来电",
    "Work the case": "处理案件", "Assign": "分配", "Take it": "由我负责", "Save status": "保存状态",
    "Internal notes": "内部备注", "No notes yet.": "暂无备注。", "Add note": "添加备注",
    "New note (kept as written, with your name and the time)": "新备注（按原文保存，并记录您的姓名和时间）",
    "Calls that asked about this number": "询问过该号码的来电",
    "The reported number is not known, so no call can be matched.": "被举报号码未知，无法匹配来电。",
    "{n} calls: merchants who gave {number} as the number that called them.": "共 {n} 通：商户说给他们打电话的号码是 {number}。",
    "No call asked about this number.": "没有来电询问过这个号码。", "Open them in the calls list": "在通话列表中查看",
    "Assignee saved.": "负责人已保存。", "Note added.": "备注已添加。",
    "Choose a status: new, in progress or closed.": "请选择状态：新、处理中或已结案。",
    "Assign the report to a staff member who can sign in.": "请把举报分配给可以登录的员工。",
    "Write the note first.": "请先填写备注内容。", "A note has at most 2000 characters.": "备注最多 2000 个字符。",
    "Oldest message first. Reached or wrong number closes a call-back; no answer keeps it waiting.":
        "最早的留言在前。“已联系上”或“号码错误”会结束回电；“无人接听”则继续等待。",
    "Most recently closed first.": "最近结束的在前。", "Waiting": "已等待", "Waited": "等待时长",
    "number withheld": "号码隐藏", "no recording": "没有录音", "Attempts": "回拨记录", "none yet": "尚未回拨",
    "{n} attempts": "已回拨 {n} 次",
    "Withheld number, no recording: nothing to call back.": "号码隐藏且没有录音：无法回电。",
    "No number and no recording: nothing to call back.": "没有号码也没有录音：无法回电。",
    "The 200 newest reports.": "这里列出最新的 200 条举报。",
    "Every report of this number, page by page, in Reports": "在“举报”列表中分页查看这个号码的全部举报",
    "and {n} with nothing to call back (no number, no recording)": "另有 {n} 条无法回电（没有号码也没有录音）",
    "This call-back has a number or a recording: log an attempt instead.": "该回电有号码或录音，请记录回拨结果。",
    "Choose how the call went: reached, no answer or wrong number.": "请选择回拨结果：已联系上、无人接听或号码错误。",
    "This call-back is already closed.": "该回电已结束。",
    "Close": "关闭", "Next page": "下一页", "Previous page": "上一页", "Call-back closed.": "回电已结束。",
    "No answer logged; the call-back keeps waiting.": "已记录无人接听，回电继续等待。",
    "{d} d {h} h": "{d} 天 {h} 小时", "{h} h {m} min": "{h} 小时 {m} 分钟", "{m} min": "{m} 分钟",
    "Cancel…": "取消…", "Cancel outreach": "取消联系记录", "Cancel this outreach": "确认取消这条联系记录", "Keep it": "保留",
    "Outreach {n} completed.": "联系记录 {n} 已完成。",
    "Outreach {n} cancelled: its code is now answered as no longer valid.": "联系记录 {n} 已取消：其参考码现在会被告知已失效。",
    "Nothing was cancelled: confirm on this page first.": "尚未取消：请先在本页确认。",
    "What the merchant will hear afterwards": "取消后商户会听到什么",
    "Once cancelled, a merchant who calls the hotline with this reference code hears that the request is no longer valid (verdict: {verdict}), in the language of their call:":
        "取消后，商户如用这个参考码致电热线，会按其通话语言听到这个请求已经失效（结论：{verdict}）：",
    "So anyone still asking the merchant to act on it, our own staff member included, is then \"not us\" to the hotline. Cancel only outreach the merchant must not act on.":
        "也就是说，仍在要求商户按此请求操作的任何人（包括我们自己的员工），热线都会说“不是我们”。只取消商户不应再照做的联系记录。",
    "This outreach is no longer open: there is nothing to cancel.": "这条联系记录已不再有效，无需取消。",
})
VALUES.update({**CASE_STATUS_NAMES, **CALLBACK_OUTCOME_NAMES})


# -- complete Chinese and English: wording, form errors, audit actions, error pages, CSV columns -------------------

# English wording that differs from its key (the key stays as the templates write it).
EN = {
    "Confirm or clear": "Confirm or rule out",
}
ZH.update({
    "Clear": "清除条件", "Confirm or clear": "确认或排除嫌疑", "Rule out": "排除嫌疑",
    "withheld": "号码隐藏", "Menu": "菜单", "Raw record": "原始记录",
    "Each step as stored, in the order above, for checking the flow (numbers masked).":
        "按上面的顺序列出存储的每一步，供核查流程（号码已隐去部分数字）。", "{n} s": "{n} 秒", "+{n} s": "+{n} 秒",
    "What happened": "经过", "Yes": "是", "No": "否",
    "Bad request": "请求有误", "Not allowed": "没有权限", "Page not found": "找不到页面",
    "Method not allowed": "不支持此操作", "Conflict": "与现有记录冲突", "Request too large": "请求过大",
    "Too many requests": "请求过于频繁", "Something went wrong": "系统出错", "Service unavailable": "服务暂不可用",
    "The request could not be understood. Check what was typed and try again.": "无法处理这个请求，请检查输入的内容后重试。",
    "You are not allowed to do that.": "您没有权限执行此操作。",
    "There is no such page or record here.": "这里没有这个页面或记录。",
    "This address does not take that kind of request; use the page's own buttons.": "这个地址不接受这种请求，请使用页面上的按钮。",
    "That clashes with what is already recorded.": "这与已有的记录冲突。",
    "What was sent is too large.": "提交的内容过大。",
    "Too many requests: wait a moment and try again.": "请求过于频繁，请稍候再试。",
    "Something went wrong on our side. Try again; if it goes on, tell an administrator.": "系统出错了，请重试；如仍出错，请告知管理员。",
    "The service is not available just now. Try again shortly.": "服务暂时不可用，请稍后再试。",
})
# A cleared number is ruled out as a scam, not deleted: the words say so.
VALUES.update({
    "cleared": ("ruled out", "已排除嫌疑"), "yue": ("Cantonese", "粤语"),
})

# Titles and explanations of error pages, by HTTP status.
ERROR_PAGES = {
    400: ("Bad request", "The request could not be understood. Check what was typed and try again."),
    403: ("Not allowed", "You are not allowed to do that."),
    404: ("Page not found", "There is no such page or record here."),
    405: ("Method not allowed", "This address does not take that kind of request; use the page's own buttons."),
    409: ("Conflict", "That clashes with what is already recorded."),
    413: ("Request too large", "What was sent is too large."),
    429: ("Too many requests", "Too many requests: wait a moment and try again."),
    500: ("Something went wrong", "Something went wrong on our side. Try again; if it goes on, tell an administrator."),
    503: ("Service unavailable", "The service is not available just now. Try again shortly."),
}

# Form fields as staff read them, for error messages that name a field (InvalidInput.field and its message).
FIELD_LABELS = {
    "from_number": ("official number used", "使用的官方号码"), "valid_hours": ("valid for (hours)", "有效期（小时）"),
    "staff_name": ("staff name", "员工姓名"), "reason": ("reason", "原因"), "channel": ("channel", "渠道"),
    "action": ("what the merchant is asked to do", "请商户做的事项"), "merchant_id": ("merchant number", "商户编号"),
    "merchant": ("merchant number", "商户编号"), "name": ("name", "名称"), "phones": ("phones", "电话"),
    "number": ("number", "号码"), "caller": ("caller number", "来电号码"), "date_from": ("from date", "开始日期"),
    "date_to": ("to date", "结束日期"), "verdict": ("verdict", "结论"), "status": ("status", "状态"),
    "language": ("language", "语言"), "state": ("state", "状态"), "scope": ("lock scope", "锁定范围"),
    "sort": ("order", "排序"), "category": ("category", "类别"), "role": ("role", "角色"),
    "password": ("password", "密码"), "key": ("lock", "锁定对象"), "note": ("note", "备注"),
    "assignee": ("assignee", "负责人"), "outcome": ("outcome", "结果"), "q": ("search", "搜索内容"),
}

# Error messages the domain raises in English (ivr/verification, ivr/staff, the dashboard's filters), as patterns:
# {field} is read as a form field, {choices} as a list of stored values, {value} as what was typed.
MESSAGES = {
    "{field} is required": ("{field} is required.", "请填写{field}。"),
    "a reason is required": ("A reason is required.", "请填写原因。"),
    "key is required": ("Choose the lock to lift.", "请选择要解除的锁定。"),
    "staff_name must be 1-{n} characters": ("The staff name must be 1 to {n} characters long.", "员工姓名须为 1 到 {n} 个字符。"),
    "staff_name must be a name only: letters, spaces, '·', apostrophes, hyphens and periods (found {value})":
        ("The staff name must be a name only: letters, spaces, '·', apostrophes, hyphens and periods (found {value}).",
         "员工姓名只能是姓名：字母、空格、“·”、撇号、连字符和句点（发现了 {value}）。"),
    "staff_name must contain letters": ("The staff name must contain letters.", "员工姓名必须包含文字。"),
    "staff_name must be a name only, not {what} ({value})":
        ("The staff name must be a name only, not {what} ({value}).", "员工姓名只能是姓名，不能包含其他内容（{value}）。"),
    "valid_hours must be a whole number from 1 to {n}":
        ("Valid for (hours) must be a whole number from 1 to {n}.", "有效期（小时）必须是 1 到 {n} 之间的整数。"),
    "from_number is not a valid phone number": ("The official number used is not a valid phone number.", "使用的官方号码不是有效的电话号码。"),
    "from_number (the official number used) is required for phone and SMS":
        ("The official number used is required for phone and SMS.", "电话和短信联系必须填写使用的官方号码。"),
    "action must be one of the outreach actions: {choices}":
        ("Choose what the merchant is asked to do from the list.", "请从列表中选择请商户做的事项。"),
    "{field} must be one of {choices}": ("{field} must be one of: {choices}.", "{field}必须是以下之一：{choices}。"),
    "{field}: unknown value {value}": ("{field}: {value} is not one of the choices.", "{field}：{value} 不是可选的值。"),
    "{field}: {value} is not a phone number": ("{field}: {value} is not a phone number.", "{field}：{value} 不是电话号码。"),
    "{field}: {value} is not a valid phone number": ("{field}: {value} is not a valid phone number.", "{field}：{value} 不是有效的电话号码。"),
    "{field} is not a valid phone number": ("{field} is not a valid phone number.", "{field}不是有效的电话号码。"),
    "{field}: expected a date like 2026-11-25": ("{field}: type a date like 2026-11-25.", "{field}：请输入类似 2026-11-25 的日期。"),
    "{field} must not contain {what} (found U+{code})":
        ("{field} must not contain line breaks or control characters.", "{field}不能包含换行符或控制字符。"),
    "a merchant number is 6-20 digits (usually 15)":
        ("A merchant number is 6 to 20 digits (usually 15).", "商户编号为 6 到 20 位数字（通常为 15 位）。"),
    "name must be 1-200 characters": ("The name must be 1 to 200 characters long.", "名称须为 1 到 200 个字符。"),
    "phones must be a list of up to {n} phone numbers": ("Give at most {n} phone numbers.", "最多填写 {n} 个电话号码。"),
    "a phone number has 3-20 digits": ("A phone number has 3 to 20 digits.", "电话号码为 3 到 20 位数字。"),
    "reason must be text of up to 500 characters": ("The reason has at most 500 characters.", "原因最多 500 个字符。"),
    "no merchant {value}": ("There is no merchant {value}.", "没有商户 {value}。"),
    "no outreach {value}": ("There is no outreach {value}.", "没有联系记录 {value}。"),
    "no call {value}": ("There is no call {value}.", "没有通话 {value}。"),
    "no user {value}": ("There is no user {value}.", "没有用户 {value}。"),
    "no report {value}": ("There is no report {value}.", "没有举报 {value}。"),
    "no call-back {value}": ("There is no call-back {value}.", "没有回电请求 {value}。"),
    "no such lock": ("There is no such lock.", "没有这个锁定。"),
    "user {value} already exists": ("That user name is taken.", "该用户名已被使用。"),
    "outreach {n} is already {state}": ("Outreach #{n} is already {state}.", "联系记录 #{n} 已经{state}。"),
    "{value} is one of the operator's own numbers and cannot be marked as a scam":
        ("{value} is one of the operator's own numbers: it cannot be marked as a scam.", "{value} 是本机构自己的号码，不能标记为诈骗号码。"),
    "could not find a free reference code for this merchant":
        ("No free reference code was left for this merchant; try again.", "该商户暂时没有可用的参考码，请重试。"),
    "bad page cursor": ("That page link is not valid; start from the first page.", "翻页链接无效，请从第一页开始。"),
}
MESSAGE_PATTERNS = []
# Messages about a named field last: "a reason is required" is its own sentence, not "{field} is required".
for _template, _sentences in sorted(MESSAGES.items(), key=lambda item: item[0].startswith("{")):
    _pattern = re.sub(r"\\\{(\w+)\\\}", lambda match: f"(?P<{match.group(1)}>.+?)", re.escape(_template))
    MESSAGE_PATTERNS.append((re.compile(_pattern + r"\Z", re.S), _sentences))
# Words filling a message's {state}.
MESSAGE_WORDS = {"cancelled": ("cancelled", "取消"), "completed": ("completed", "完成"), "open": ("open", "生效")}


def message_text(text, lang):
    """Return an English error message of the domain as a sentence in `lang`, or `text` itself if none matches."""
    position = 1 if lang == "zh" else 0
    if "; " in text:  # several filter errors, joined
        parts = [message_text(part, lang) for part in text.split("; ")]
        return " ".join(part if part.endswith((".", "。")) else part + "." for part in parts)
    for pattern, sentences in MESSAGE_PATTERNS:
        found = pattern.match(text)
        if found:
            return sentences[position].format(**{name: _message_value(name, value, position)
                                                 for name, value in found.groupdict().items()})
    return text


def _message_value(name, value, position):
    if name == "field":
        label = FIELD_LABELS.get(value)
        if label is None:
            return value
        # An English sentence starts with a capital; the label is written for the middle of one.
        return label[position][:1].upper() + label[position][1:] if position == 0 else label[position]
    if name == "choices":
        names = {key: pair[position] for key, pair in VALUES.items()}
        return ("、" if position else ", ").join(names.get(choice, choice) for choice in value.split(", "))
    if name in ("change", "state"):
        return MESSAGE_WORDS.get(value, (value, value))[position]
    if name == "value" and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return f"“{value[1:-1]}”"  # typed text, in quotes that read as quotes in both languages
    return value


# Audit actions as staff read them: (short name for the filter, sentence with {target} and the detail's fields).
AUDIT_ACTIONS = {
    "auth.sign_in": (("sign-in", "登录"), ("signed in", "登录")),
    "auth.sign_in_failed": (("failed sign-in", "登录失败"), ("failed to sign in as {target}", "以 {target} 登录失败")),
    "auth.sign_out": (("sign-out", "退出"), ("signed out", "退出登录")),
    "user.create": (("user added", "添加用户"), ("added user {target} ({role})", "添加了用户 {target}（{role}）")),
    "user.update": (("user changed", "修改用户"), ("changed user {target}", "修改了用户 {target}")),
    "user.password_change": (("password changed", "修改密码"), ("changed their password", "修改了自己的密码")),
    "user.password_check_failed": (("wrong current password", "当前密码错误"),
                                   ("typed a wrong current password", "输入的当前密码错误")),
    "user.password_reset": (("password reset", "重置密码"), ("reset the password of {target}", "重置了 {target} 的密码")),
    "number.reveal": (("number revealed", "显示完整号码"), ("revealed the number of {record}", "显示了{record}的完整号码")),
    "number.view": (("revealed number seen", "查看完整号码"), ("saw the number of {record} in full", "查看了{record}的完整号码")),
    "number.confirm": (("number confirmed", "确认诈骗号码"), ("confirmed {target} as a scam", "确认 {target} 为诈骗号码")),
    "number.clear": (("number ruled out", "排除号码嫌疑"), ("ruled out {target} as a scam", "排除了 {target} 的诈骗嫌疑")),
    "lock.lift": (("lock lifted", "解除锁定"), ("lifted the lock on {target} ({attempts} wrong codes)",
                                              "解除了 {target} 的锁定（{attempts} 次错误参考码）")),
    "merchant.create": (("merchant added", "添加商户"), ("added merchant {target}", "添加了商户 {target}")),
    "merchant.update": (("merchant changed", "修改商户"), ("changed merchant {target}", "修改了商户 {target}")),
    "outreach.create": (("outreach registered", "登记联系记录"), ("registered outreach #{target}", "登记了联系记录 #{target}")),
    "outreach.cancel": (("outreach cancelled", "取消联系记录"), ("cancelled outreach #{target}", "取消了联系记录 #{target}")),
    "outreach.complete": (("outreach completed", "完成联系记录"), ("completed outreach #{target}", "完成了联系记录 #{target}")),
    "recording.play": (("recording played", "播放录音"), ("played recording {target}", "播放了录音 {target}")),
    "export.calls": (("calls exported", "导出通话"), ("exported calls as CSV", "导出了通话 CSV")),
    "export.reports": (("reports exported", "导出举报"), ("exported reports as CSV", "导出了举报 CSV")),
    "report.assign": (("report assigned", "分配举报"), ("assigned report {target} to {to}", "把举报 {target} 分配给 {to}")),
    "report.status": (("report status", "举报状态"), ("set report {target} to {to}", "把举报 {target} 设为{to}")),
    "report.note": (("report note", "举报备注"), ("added a note to report {target}", "为举报 {target} 添加了备注")),
    "callback.attempt": (("call-back attempt", "回拨"), ("rang call-back #{target} back: {outcome}", "回拨了回电请求 #{target}：{outcome}")),
    "callback.close": (("call-back closed", "结束回电"), ("closed call-back #{target}: nothing to call back",
                                                        "结束了回电请求 #{target}：无法回电")),
}
# Records a reveal names ("kind:ref"), as staff read them.
RECORD_KINDS = {"call": ("call {ref}", "通话 {ref} "), "merchant": ("merchant {ref}", "商户 {ref} "),
                "report": ("report #{ref}", "举报 #{ref} "), "callback": ("call-back #{ref}", "回电请求 #{ref} "),
                "attempt": ("wrong code #{ref}", "错误参考码 #{ref} ")}


def audit_action_name(action, lang):
    """Return an audit action (e.g. 'auth.sign_in') as a short name staff read; an unknown one as stored."""
    found = AUDIT_ACTIONS.get(action)
    return found[0][1 if lang == "zh" else 0] if found else action


def audit_sentence(action, target, detail, lang):
    """Return what an audit row records as a sentence in `lang` ('signed in', 'revealed the number of call CA…')."""
    found = AUDIT_ACTIONS.get(action)
    position = 1 if lang == "zh" else 0
    if found is None:
        return f"{action} {target or ''}".strip()
    names = value_names(lang)
    fields = {key: names.get(value, value) if isinstance(value, str) else value
              for key, value in (detail if isinstance(detail, dict) else {}).items()}
    kind, _, ref = (target or "").partition(":")
    record = RECORD_KINDS.get(kind)
    fields.update(target=target or "", record=record[position].format(ref=ref) if record and ref else target or "")
    try:
        return found[1][position].format(**fields)
    except (KeyError, IndexError, ValueError):  # a row written before its detail had that field: name and record
        return f"{found[0][position]} {target or ''}".strip()


# CSV columns: the export's key, and its label in each language; times also name the zone.
CSV_COLUMNS = {
    "sid": ("Call SID", "通话编号"), "started_at": ("Started", "开始时间"), "caller": ("Caller", "来电号码"),
    "language": ("Language", "语言"), "status": ("Status", "状态"), "duration": ("Duration (s)", "时长（秒）"),
    "verdict": ("Verdict", "结论"), "merchant_id": ("Merchant number", "商户编号"),
    "identified_by": ("Identified", "识别方式"), "report_number": ("Report", "举报编号"),
    "created_at": ("Filed", "登记时间"), "category": ("Category", "类别"), "number": ("Reported number", "被举报号码"),
    "reporter": ("Reporter", "举报人"), "call_sid": ("Call SID", "通话编号"), "recording_url": ("Recording", "录音"),
    "counted": ("Counted towards the watchlist", "计入观察名单"), "case_status": ("Case status", "案件状态"),
    "assignee": ("Assignee", "负责人"), "done_at": ("Done", "处理时间"), "left_at": ("Left at", "留言时间"),
}
CSV_TIME_COLUMNS = frozenset({"started_at", "created_at", "done_at", "left_at", "at", "ended_at", "verdict_at"})


def csv_column(key, lang, zone_name=None):
    """Return an export column's label in `lang`; a time column also names its zone, e.g. 'Started (Asia/Shanghai)'."""
    label = CSV_COLUMNS.get(key, (key, key))[1 if lang == "zh" else 0]
    if not zone_name or key not in CSV_TIME_COLUMNS:
        return label
    return f"{label}（{zone_name}）" if lang == "zh" else f"{label} ({zone_name})"


# -- finding things and campaigns: paging, sorting, searching, the overview's period, suspected numbers ------------

ZH.update({
    "number, name or phone": "编号、名称或电话", "or its last four digits": "或号码后四位",
    "The number that called them": "向商户来电的号码", "estimated from a sample of the calls": "根据抽样估算",
    "about {n} calls": "约 {n} 通",
    "the merchant filter matches many merchants: the calls of the first {n} are listed":
        "符合商户条件的商户很多：只列出前 {n} 个商户的通话",
    "Oldest first": "最早的在前", "Newest first": "最新的在前", "oldest first": "最早的在前",
    "Merchant number, name or phone": "商户编号、名称或电话",
    "part of a number or name, or a phone": "编号或名称的一部分，或电话号码",
    "{n} merchants": "{n} 个商户", "page {page} of {pages}": "第 {page} 页，共 {pages} 页",
    "Merchant name": "商户名称", "Previous": "上一页", "Next": "下一页", "Newest": "最新",
    "{n} numbers": "{n} 个号码", "Location and carrier": "归属地和运营商",
    "first opened by {who}": "{who} 首次查看", "calls asking about this number": "询问该号码的通话",
    "Merchants who asked about this number": "询问过该号码的商户",
    "Callers who were checking a call told the hotline this number had called them.":
        "来电核实的商户告诉热线：这个号码给他们打过电话。",
    "Latest call": "最近通话", "No merchant has asked about this number.": "还没有商户询问过该号码。",
    "Period": "时间范围", "Today": "今天", "7 days": "7 天", "30 days": "30 天", "Show these days": "查看这段时间",
    "That period cannot be shown: choose a first day, not after the last, at most {n} days long. Here are the last 30 days.":
        "无法显示这段时间：请选择开始日期，不晚于结束日期，最长 {n} 天。下面显示的是最近 30 天。",
    "{n} days": "{n} 天", "(latest calls)": "（最近的通话）", "Click a bar to list those calls.": "点击柱形可列出对应的通话。",
    "Reports by category over time": "各类别举报走势", "All reports": "全部举报", "By category": "按类别",
    "No reports in this period.": "这段时间没有举报。", "Most reported numbers in this period": "这段时间被举报最多的号码",
    "Trend": "趋势", "{n} reports in the period before": "上一段时间 {n} 条举报", "new this period": "新出现",
    "New suspected number": "新的可疑号码", "{n} new suspected numbers": "{n} 个新的可疑号码",
    "{n} more": "另有 {n} 个", "shown until someone opens the number": "有人查看该号码后不再提示",
})
