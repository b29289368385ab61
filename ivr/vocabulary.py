"""The values stored on calls that several modules check, list or name: verdicts, statuses, identification."""

# Each verdict and how staff read it (English, Chinese), in the precedence the hotline decides them (README).
VERDICT_NAMES = {
    "locked": ("locked", "已锁定"),
    "genuine": ("genuine", "真实"),
    "expired": ("expired", "已过期"),
    "known_scam": ("known scam", "已知诈骗"),
    "unconfirmed": ("unconfirmed", "未能确认"),
    "no_record": ("no record", "无记录"),
}
VERDICTS = tuple(VERDICT_NAMES)

# Twilio's CallStatus values and how staff read them; a call whose status is one of FINAL_STATUSES has ended.
STATUS_NAMES = {
    "in-progress": ("in progress", "进行中"),
    "completed": ("completed", "已结束"),
    "busy": ("busy", "忙线"),
    "failed": ("failed", "失败"),
    "no-answer": ("no answer", "未接听"),
    "canceled": ("canceled", "已取消"),
    "ringing": ("ringing", "振铃"),
    "queued": ("queued", "排队"),
}
CALL_STATUSES = tuple(STATUS_NAMES)
FINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")

# How a call identified the merchant it is about (calls.identified_by; 'none' until it does).
IDENTIFIED_BY_PHONE = "registered_phone"
IDENTIFIED_BY_NUMBER = "merchant_number"
IDENTIFIED_BY = (IDENTIFIED_BY_PHONE, IDENTIFIED_BY_NUMBER, "none")

# SMS notes after a call: queued when the call decides one, then what sending and Twilio's statusCallback say;
# limited (over the per-phone daily cap) and refused (its text broke the no-link, no-number, no-code rule) are
# kept for staff but never sent.
SMS_STATUSES = ("queued", "sending", "sent", "delivered", "undelivered", "failed", "limited", "refused")
# Staff alerts posted to the chat robot; duplicate: one of the same kind and subject went out within the window;
# stale: it waited longer than a day (no robot was set up), so it is no longer news.
ALERT_KINDS = ("number_suspected", "merchant_locked", "report_surge")
ALERT_STATUSES = ("queued", "sent", "failed", "duplicate", "stale")

# A report worked as a case: new until someone takes it, in progress, closed (reports.case_status).
CASE_STATUS_NAMES = {
    "new": ("new", "新"),
    "in_progress": ("in progress", "处理中"),
    "closed": ("closed", "已结案"),
}
CASE_STATUSES = tuple(CASE_STATUS_NAMES)
# How one attempt to ring a caller back went (callback_attempts.outcome); the closing ones end the call-back.
CALLBACK_OUTCOME_NAMES = {
    "reached": ("reached", "已联系上"),
    "no_answer": ("no answer", "无人接听"),
    "wrong_number": ("wrong number", "号码错误"),
}
CALLBACK_OUTCOMES = tuple(CALLBACK_OUTCOME_NAMES)
CALLBACK_CLOSING_OUTCOMES = ("reached", "wrong_number")
