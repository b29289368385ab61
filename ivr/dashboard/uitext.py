"""The dashboard's words in English and Chinese; English text is the key, so a missing entry shows English."""
from ivr.vocabulary import STATUS_NAMES, VERDICT_NAMES

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
    """Return `text` in `lang` ('zh' or 'en'), with {placeholders} filled in."""
    if lang == "zh":
        text = ZH.get(text, text)
    return text.format(**values) if values else text


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
