"""Persian texts for staff (broadcasts), and the citizens' reminder before deemed service.

HTML: every `{placeholder}` is filled with an escaped value by its caller.
"""

from __future__ import annotations

from services.broadcasts import BroadcastProblem

BROADCAST_ASK_TEXT = (
    "📢 <b>اطلاعیه جدید</b>\n"
    "گیرندگان: {segment}\n\n"
    "متن اطلاعیه را در یک پیام بفرستید (حداکثر ۴۰۹۶ نویسه). متن همان‌گونه که نوشته‌اید فرستاده می‌شود.\n"
    "برای انصراف: /cancel"
)
BROADCAST_PREVIEW = (
    "👆 <b>پیش‌نمایش اطلاعیه</b>\n"
    "گیرندگان: {segment}\n"
    "تعداد گفتگوها: <b>{count}</b>\n\n"
    "ارسال شود؟"
)
BROADCAST_NO_RECIPIENTS = "هیچ گفتگویی در این گروه نیست؛ اطلاعیه‌ای فرستاده نشد. گروه دیگری را با /broadcast امتحان کنید."
BUTTON_CONFIRM_BROADCAST = "✅ تأیید و ارسال"
BUTTON_CANCEL_BROADCAST = "✖️ انصراف"
BROADCAST_QUEUED = (
    "✅ اطلاعیه شماره <b>{id}</b> برای <b>{count}</b> گفتگو در صف ارسال قرار گرفت.\n"
    "پیگیری: /broadcast_status {id_latin}"
)
TAP_BROADCAST_QUEUED = "در صف ارسال قرار گرفت"
BROADCAST_DRAFT_CANCELLED = "ارسال اطلاعیه لغو شد."
BROADCAST_NOTHING_PENDING = "پیش‌نویسی برای ارسال نیست؛ با /broadcast از نو شروع کنید."
BROADCAST_STATUS_USAGE = "شماره اطلاعیه را بنویسید، مثلاً: /broadcast_status 12"
BROADCAST_NOT_FOUND = "اطلاعیه‌ای با این شماره نیست."
BROADCAST_STATUS = (
    "📢 اطلاعیه شماره <b>{id}</b> — {state}\n"
    "گیرندگان: {recipients}\n"
    "ارسال‌شده: {sent}\n"
    "مسدودکرده (ربات را بسته‌اند): {blocked}\n"
    "ناموفق: {failed}\n"
    "در انتظار: {pending}"
)
BROADCAST_STATES = {
    "scheduled": "زمان‌بندی‌شده",
    "queued": "در حال ارسال",
    "done": "پایان‌یافته",
    "cancelled": "لغوشده",
}
SEGMENT_ALL = "همه مشترکان"
SEGMENT_DISTRICT = "منطقه {district}"
SEGMENT_STATUS = "شهروندانی که پرونده‌ای با وضعیت «{status}» دارند"

BROADCAST_PROBLEMS = {
    BroadcastProblem.EMPTY_TEXT: "متن اطلاعیه خالی است.",
    BroadcastProblem.TEXT_TOO_LONG: "متن اطلاعیه {length} نویسه است؛ حداکثر ۴۰۹۶ نویسه مجاز است.",
    BroadcastProblem.UNKNOWN_SEGMENT: "گروه گیرندگان نامعتبر است؛ یکی از all، district:شماره یا status:وضعیت.",
    BroadcastProblem.BAD_DISTRICT: "شماره منطقه نامعتبر است (عددی از ۱ تا ۹۹).",
    BroadcastProblem.UNKNOWN_STATUS: "وضعیت پرونده نامعتبر است؛ یکی از: {statuses}",
    BroadcastProblem.BAD_TIME: "زمان ارسال نامعتبر است؛ نمونه: 2025-02-10T09:30 یا 1403/11/21 09:30 (به وقت تهران).",
}

# The web dashboard (/staff): messages from code; the pages' own words live in web/templates/staff/.
DASHBOARD_ROLES = {"admin": "مدیر", "operator": "کارشناس", "viewer": "ناظر"}
DASHBOARD_NOTICE_STATES = {
    "pending": "در انتظار ارسال", "delivered": "رسیده، باز نشده", "viewed": "دیده‌شده (ابلاغ واقعی)",
    "deemed": "ابلاغ قانونی (باز نشده)", "failed": "ارسال ناموفق",
}
DASHBOARD_SERVICE_KINDS = {"viewed": "ابلاغ واقعی (مشاهده)", "deemed": "ابلاغ قانونی (پایان مهلت)",
                           "delivery": "ابلاغ با رسیدن پیام", "pending": "هنوز ابلاغ نشده"}
DASHBOARD_MESSAGE_STATES = {"queued": "در صف", "sending": "در حال ارسال", "sent": "رسید",
                            "failed": "ناموفق", "blocked": "ربات مسدود شده", "cancelled": "لغوشده"}
DASHBOARD_LOGIN_REFUSED = "نام کاربری، گذرواژه یا کد یک‌بارمصرف درست نیست."
DASHBOARD_LOGIN_LOCKED = "این حساب پس از چند تلاش نادرست تا {until} قفل است."
DASHBOARD_PASSWORD_PROBLEMS = {
    "short": "گذرواژه تازه دست‌کم ۱۲ نویسه است.", "same": "گذرواژه تازه باید با گذرواژه کنونی فرق کند.",
    "wrong": "گذرواژه کنونی درست نیست.", "mismatch": "تکرار گذرواژه تازه با خودش نمی‌خواند.",
}
DASHBOARD_REPLY_PROBLEMS = {"empty": "متن پاسخ خالی است.", "too_long": "متن پاسخ بیش از اندازه بلند است.",
                            "unknown": "این پرسش پیدا نشد."}
DASHBOARD_REPLY_QUEUED = "پاسخ در صف ارسال به شهروند قرار گرفت؛ وضعیت رسیدنش در فهرست پاسخ‌ها پیداست."
DASHBOARD_UPLOAD_PROBLEMS = {"too_large": "پرونده بیش از ۲۰ مگابایت است.", "not_utf8": "پرونده UTF-8 نیست.",
                             "unknown_kind": "نوع داده نامعتبر است.",
                             "not_applicable": "این پرونده دیگر قابل اعمال نیست؛ دوباره بارگذاری کنید.",
                             "no_file": "پرونده‌ای انتخاب نشده است."}
DASHBOARD_IMPORT_KINDS = {"citizens": "شهروندان (CSV)", "cases": "پرونده‌ها (JSONL)", "rulings": "آرا (JSONL)",
                          "subscribers": "مشترکان منتقل‌شده (CSV)"}
DASHBOARD_TEAM_PROBLEMS = {"exists": "این نام کاربری پیش‌تر ساخته شده است.",
                           "bad_name": "نام کاربری ۲ تا ۶۴ نویسه از a-z، 0-9، نقطه، خط تیره یا زیرخط است.",
                           "unknown": "چنین حسابی نیست.", "self": "نمی‌توانید حساب خودتان را غیرفعال کنید."}
DASHBOARD_API_ROLES = {"read": "فقط خواندن", "ingest": "ثبت داده و خواندن", "broadcast": "اطلاعیه، ثبت و خواندن"}
DASHBOARD_KEY_PROBLEMS = {"exists": "کلیدی با این نام پیش‌تر ساخته شده است.",
                          "bad_name": "نام کلید ۱ تا ۶۴ نویسه است.", "bad_role": "نقش کلید نامعتبر است."}
DASHBOARD_KEY_REVOKED = "کلید باطل شد؛ درخواست‌هایی که با آن بیایند از این پس پذیرفته نمی‌شوند."
DASHBOARD_REPLAY_QUEUED = "ارسال دوباره در صف قرار گرفت؛ نتیجه‌اش در همین فهرست پیدا می‌شود."
DASHBOARD_REPLAY_UNKNOWN = "چنین ارسالی پیدا نشد."

# To citizens: one reminder before an unopened notice is deemed served.
REMINDER = (
    "⏰ <b>یادآوری ابلاغیه</b>\n"
    "رأی کمیسیون ماده ۱۰۰ درباره پرونده <b>{case_number}</b> برای شما فرستاده شده و هنوز باز نشده است.\n"
    "اگر تا {deadline} آن را باز نکنید، ابلاغ‌شده به شمار می‌آید و مهلت‌های قانونی از همان روز آغاز می‌شود."
)
