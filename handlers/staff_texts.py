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

# To citizens: one reminder before an unopened notice is deemed served.
REMINDER = (
    "⏰ <b>یادآوری ابلاغیه</b>\n"
    "رأی کمیسیون ماده ۱۰۰ درباره پرونده <b>{case_number}</b> برای شما فرستاده شده و هنوز باز نشده است.\n"
    "اگر تا {deadline} آن را باز نکنید، ابلاغ‌شده به شمار می‌آید و مهلت‌های قانونی از همان روز آغاز می‌شود."
)
