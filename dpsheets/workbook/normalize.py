"""Turning what people type into Excel cells into typed values.

Full-width digits and spaces are folded with NFKC; dates are accepted as Excel dates,
Excel serial numbers, ``20200923`` and text such as 2020-9-23, 2020/09/23, 2020.9.23 or
2020年9月23日; numbers may be stored as text. Each parser returns ``None`` for a value it
cannot understand, and the reader turns that into a problem at the cell.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache

_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:0\d{2,3}-?)?[2-9]\d{6,7}(?:-\d{1,6})?$")
_SERVICE = re.compile(r"^[48]00-?\d{3}-?\d{4}$")
_LIST_SPLIT = re.compile(r"[、，,;；/\s]+")
_HEADER_NOISE = re.compile(r"[\s*＊※:：]")
# Characters no workbook may store (XML 1.0 forbids them; Excel writes them as ``_x000B_``).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def visible(text: str, chars: re.Pattern[str] = CONTROL_CHARS) -> str:
    """*text* with each of *chars* (by default the control characters a workbook cannot store) shown as ``\\x0B``."""
    return chars.sub(lambda m: f"\\x{ord(m.group(0)):02X}", text)


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


@lru_cache(maxsize=16384)
def header_key(text: object) -> str:
    """A comparable form of a column header, label or name: NFKC, no spaces, no '*' marks.

    Cached: headers repeat in every workbook and names (a risk point, a post) within one.
    """
    return _HEADER_NOISE.sub("", nfkc(str(text))).lower()


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: object) -> str:
    """Cell value as text: whole numbers lose their '.0', surrounding space is trimmed."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _date_from_number(float(value))
    text = nfkc(str(value)).strip()
    m = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if m:
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    try:
        return _date_from_number(float(text))
    except ValueError:
        return None


def _date_from_number(number: float) -> date | None:
    if 19000101 <= number <= 21001231 and number.is_integer():
        n = int(number)
        return _safe_date(n // 10000, n // 100 % 100, n % 100)
    if 1 <= number < 73051 and number.is_integer():  # Excel serial, up to 2099-12-31
        return _EXCEL_EPOCH + timedelta(days=int(number))
    return None


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def parse_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = nfkc(str(value)).strip().replace(",", "")
    if text.endswith("元"):
        text = text[:-1].strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_int(value: object) -> int | None:
    number = parse_number(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def normalize_phone(value: object) -> str:
    return nfkc(as_text(value)).replace(" ", "").replace("－", "-").replace("—", "-")


def phone_is_valid(text: str) -> bool:
    """One or more phone numbers (mobile, landline with or without area code, 400/800)."""
    parts = split_list(text)
    return bool(parts) and all(MOBILE.match(p) or _LANDLINE.match(p) or _SERVICE.match(p) for p in parts)


def normalize_uscc(value: object) -> str:
    return nfkc(as_text(value)).replace(" ", "").upper()


USCC_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_character(body17: str) -> str:
    """The 18th character of a credit code whose first 17 are *body17* (GB 32100-2015, modulo 31)."""
    total = sum(USCC_CHARACTERS.index(c) * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return USCC_CHARACTERS[-total % 31]


def uscc_problem(code: str) -> str | None:
    """``None`` when the credit code is valid, else a Chinese reason."""
    compact = code.replace(" ", "").replace("-", "").upper().strip()
    if len(compact) != 18:
        return f"长度为 {len(code)} 位，应为 18 位"
    if not compact[:8].isdigit() or not compact[:8].isascii() or any(c not in USCC_CHARACTERS for c in compact[8:]):
        return "含有不允许的字符（只能是数字和除 I、O、S、V、Z 以外的大写字母）"
    expected = uscc_check_character(compact[:17])
    if compact[17] != expected:
        return f"校验位不正确（最后一位应为 {expected}，多半是某一位抄错了）"
    return None


def uscc_in_henan(code: str) -> bool:
    return code[2:4] == "41"


def split_list(text: str) -> list[str]:
    """Items of a list typed into one cell: 机械伤害、触电 / 0371-1234567，13800000000."""
    return [p for p in _LIST_SPLIT.split(nfkc(text)) if p]


def fold_choice(value: str) -> str:
    return header_key(value)


_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_RELATIVE = re.compile(r"^(?:限|须|要求|整改期限)?(\d+|[零一二两三四五六七八九十]+|半)?\s*(个)?\s*(工作日|日|天|周|星期|个?月)(?:内|之内|以内)?(?:完成|整改|整改完毕)?$")
_IMMEDIATE = ("立即", "立即整改", "立行立改", "立改", "当日", "当天", "即时", "马上", "现场整改", "当场整改", "立即完成", "当日内",
              "当天完成", "当日完成", "当场")


def _cn_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS.get(tens, 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    return None


def parse_relative_days(value: object) -> int | None:
    """Calendar days of a deadline written relative to the day of discovery: 立即 → 0, 3日内 → 3,
    一周内 → 7, 1个月内 → 30, 5个工作日内 → 7 (working days counted generously, never shorter)."""
    if not isinstance(value, str):
        return None
    text = nfkc(value).strip().replace(" ", "")
    if text in _IMMEDIATE:
        return 0
    m = _RELATIVE.match(text)
    if not m:
        return None
    count_text, unit = m[1] or "一", m[3]
    count = 0.5 if count_text == "半" else _cn_number(count_text)
    if count is None:
        return None
    if unit == "工作日":
        return -(-int(count) * 7 // 5)
    per = {"日": 1, "天": 1, "周": 7, "星期": 7}.get(unit, 30)
    return int(count * per)
