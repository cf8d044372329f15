"""Every text the importers show an operator, in one place (staff read Persian).

A reason names the field as it is written in the file (Latin, so it can be found there) and never
holds a whole national ID or mobile number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from nlp.digits import to_persian_digits
from nlp.identifiers import NationalIdProblem


def fa(number: int | str) -> str:
    return to_persian_digits(str(number))


def fa_count(number: int) -> str:
    return to_persian_digits(f"{number:,}").replace(",", "٬")


def problem_line(line: int, reason: str) -> str:
    """«خط ۷: ...»: how a bad row is printed."""
    return f"خط {fa(line)}: {reason}"


def mask_raw(text: str) -> str:
    """What a reason may show of an unusable identifier: its ends, never the whole."""
    text = text.strip()
    return text[:3] + "****" + text[-3:] if len(text) >= 7 else "****"


_ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_DIGIT_RUN = re.compile(r"\+?[0-9۰-۹٠-٩][0-9۰-۹٠-٩ \-]{5,}[0-9۰-۹٠-٩]")


def scrub(reason: str) -> str:
    """Mask anything in a reason that could be a national ID or a phone number.

    A value echoed back (an unknown status, an unreadable date) may be one when a column slipped.
    """

    def mask(match: re.Match[str]) -> str:
        text = match.group()
        if _ISO_DATE.fullmatch(text) or sum(c.isdigit() for c in text) < 7:
            return text
        return mask_raw(text)

    return _DIGIT_RUN.sub(mask, reason)


NATIONAL_ID_PROBLEMS = {
    NationalIdProblem.EMPTY: "خالی است",
    NationalIdProblem.NOT_DIGITS: "فقط باید رقم باشد",
    NationalIdProblem.WRONG_LENGTH: "باید ۱۰ رقم باشد",
    NationalIdProblem.ALL_SAME: "همهٔ رقم‌ها یکسان است",
    NationalIdProblem.CHECKSUM: "رقم کنترل درست نیست",
}


def bad_national_id(field: str, problem: NationalIdProblem, raw: str) -> str:
    shown = "" if problem is NationalIdProblem.EMPTY else f" ({mask_raw(raw)})"
    return f"کد ملی ({field}) نامعتبر است: {NATIONAL_ID_PROBLEMS[problem]}{shown}"


def missing(field: str) -> str:
    return f"فیلد {field} خالی است یا نیامده است"


def bad_mobile(field: str) -> str:
    return f"شمارهٔ همراه ({field}) شمارهٔ همراه ایرانی نیست (به شکل 09xxxxxxxxx یا +989xxxxxxxxx)"


def bad_choice(field: str, value: object, allowed: Iterable[str]) -> str:
    return f"مقدار «{value}» برای {field} مجاز نیست؛ یکی از این‌ها باشد: {'، '.join(allowed)}"


def bad_district(field: str) -> str:
    return f"منطقه ({field}) باید عددی از ۱ تا ۲۲ باشد"


def bad_integer(field: str) -> str:
    return f"{field} باید عدد صحیح باشد"


def bad_amount(field: str) -> str:
    return f"مبلغ ({field}) باید عدد صحیح نامنفی به ریال باشد"


def bad_date(field: str, detail: str) -> str:
    return f"تاریخ ({field}) خوانا نیست (ISO مثل 2025-01-20 یا شمسی مثل 1403/11/01): {detail}"


def bad_text(field: str) -> str:
    return f"{field} باید متن باشد"


def too_long(field: str, limit: int, length: int | None = None) -> str:
    actual = f" ({fa_count(length)} نویسه)" if length is not None else ""
    return f"{field} بلندتر از حد مجاز است{actual}؛ بیشینه {fa_count(limit)} نویسه"


def nul_character(field: str) -> str:
    return f"{field} نویسهٔ نامعتبر (NUL) دارد"


def issued_in_future(field: str, issued: date, today: date) -> str:
    return f"تاریخ صدور ({field}) {issued.isoformat()} پس از امروز ({today.isoformat()}) است؛ رأی آینده پذیرفته نمی‌شود"


def fine_needs_amount(field: str) -> str:
    return f"رأی جریمه بدون مبلغ است ({field})"


def duplicate_in_file(key_field: str, first_line: int) -> str:
    return f"{key_field} تکراری است؛ همین مقدار در خط {fa(first_line)} آمده است (این خط نادیده گرفته شد)"


def not_json(detail: str) -> str:
    return f"JSON معتبر نیست: {detail}"


JSON_NOT_OBJECT = "هر خط باید یک شیء JSON باشد ({...})"
JSON_TOO_DEEP = "JSON معتبر نیست: تودرتویی بیش از حد"


def duplicate_key(key: str) -> str:
    return f"کلید «{key}» در این شیء JSON دو بار آمده است؛ معلوم نیست کدام مقدار درست است"


def csv_field_too_large(limit: int) -> str:
    return f"یک خانهٔ این سطر بلندتر از {fa_count(limit)} نویسه است (شاید یک گیومهٔ \" بسته نشده)؛ سطر خوانده نشد"


def bad_csv(detail: str) -> str:
    return f"سطر CSV خوانا نیست: {detail}"


def wrong_column_count(expected: int, found: int) -> str:
    return f"تعداد ستون‌ها {fa(found)} است، باید {fa(expected)} باشد"


def header_missing(columns: Iterable[str]) -> str:
    return f"سرستون‌های لازم در خط اول نیست: {', '.join(columns)}"


HEADER_EMPTY = "فایل خالی است (سطر سرستون ندارد)"


def not_utf8(line: int) -> str:
    return f"فایل UTF-8 نیست (خط {fa(line)})؛ آن را با کدگذاری UTF-8 ذخیره کنید"


def unreadable(path: str, detail: str) -> str:
    return f"فایل {path} خوانده نشد: {detail}"


UNKNOWN_CITIZEN = "شهروندی با این کد ملی (national_id) ثبت نشده است؛ نخست فایل شهروندان را وارد کنید"
UNKNOWN_CASE = "پرونده‌ای با این شماره (case_number) ثبت نشده است؛ نخست فایل پرونده‌ها را وارد کنید"
CASE_OF_OTHER_CITIZEN = "این پرونده (case_number) به کد ملی دیگری تعلق دارد"
CASE_OWNER_CHANGE = (
    "این پرونده (case_number) پیش‌تر برای کد ملی دیگری ثبت شده است؛ جابه‌جایی مالک پرونده با ورود فایل مجاز نیست"
)
RULING_CHANGED = (
    "رأیی با همین شناسه (ruling_id) با محتوای دیگری پیش‌تر ثبت و ابلاغ شده است؛ "
    "رأی ثبت‌شده بی‌صدا تغییر نمی‌کند (برای اصلاح، رأی تازه با شناسهٔ تازه صادر کنید)"
)
CHAT_OF_OTHER_CITIZEN = "این گفتگو (chat_id) اکنون به کد ملی دیگری متصل است؛ تغییر داده نشد"
CHAT_UNBOUND_BY_CITIZEN = "شهروند اتصال این گفتگو (chat_id) را خودش لغو کرده است؛ دوباره متصل نشد"
# Notices go only to a citizen's own private chat, whose id is the user's id (a group's is negative).
CHAT_NOT_PRIVATE = "این گفتگو (chat_id) گفتگوی خصوصی خود شهروند نیست (گروه، یا شناسه‌ای جز user_id)؛ متصل نشد"


def database_failed(error: str, applied_through: int, failed_from: int | None) -> str:
    """The import stopped on a database error: what was applied, what not, what to do."""
    applied = (f"ردیف‌های درستِ خط ۱ تا {fa(applied_through)} ثبت شد" if applied_through
               else "هیچ ردیفی ثبت نشد")
    not_applied = f"از خط {fa(failed_from)} تا پایان فایل هیچ ردیفی ثبت نشد" if failed_from else ""
    parts = "؛ ".join(part for part in (applied, not_applied) if part)
    return (f"ورود ناتمام ماند: خطای پایگاه داده ({error}). {parts}. "
            "پس از رفع مشکل همین فایل را دوباره وارد کنید؛ آنچه ثبت شده دوباره ثبت نمی‌شود "
            f"(applied through line {applied_through}, not applied from line {failed_from or '-'})")


AUDIT_NOT_RECORDED = "هشدار: این ورود در دفتر رویدادها (audit) ثبت نشد"


KIND_LABELS = {
    "citizens": "شهروندان",
    "cases": "پرونده‌ها",
    "rulings": "رأی‌ها",
    "subscribers": "مشترکان",
}


def summary(kind: str, inserted: int, updated: int, unchanged: int, bad: int, seconds: float) -> str:
    return (
        f"{KIND_LABELS.get(kind, kind)}: {fa_count(inserted)} افزوده، {fa_count(updated)} به‌روز، "
        f"{fa_count(unchanged)} بی‌تغییر، {fa_count(bad)} خطادار "
        f"(inserted={inserted} updated={updated} unchanged={unchanged} bad={bad}, {seconds:.1f}s)"
    )


def progress_line(kind: str, done: int, total: int, rate: float) -> str:
    of_total = f"/{total:,}" if total else ""
    return f"{kind}: {done:,}{of_total} rows, {rate:,.0f} rows/s"
