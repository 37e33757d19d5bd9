"""How department records differ from the truth: pure text transforms, one per kind of noise.

Every transform takes the clean value and a random integer ``r`` (drawn in bulk by the caller, so
a transform never touches the generator) and returns the noisy value. Each kind name below is the
``kind`` written to ``noise.csv``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import cache

from govlink.standards.credit_code import ALPHABET

Transform = Callable[[str, int], str]

_FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-"}
_FULLWIDTH[" "] = "\u3000"
_TO_FULLWIDTH = str.maketrans(_FULLWIDTH)
_CN_DIGITS = "〇一二三四五六七八九"
# Writing one numbering style of a building for another is harmless; 路 and 街 are never swapped.
BUILDING_WORDS = ("幢", "栋", "号楼")


def fullwidth(value: str, r: int = 0) -> str:
    """Digits, Latin letters and spaces in their full-width forms (as typed with a Chinese IME)."""
    return value.translate(_TO_FULLWIDTH)


def chinese_numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 105 → 一百零五, 320 → 三百二十 (for numbers below 10,000)."""
    if n == 0:
        return _CN_DIGITS[0]
    out = ""
    digits = str(n)
    units = ("", "十", "百", "千")
    zero = False
    for i, ch in enumerate(digits):
        d = int(ch)
        place = len(digits) - i - 1
        if d == 0:
            zero = True
            continue
        if zero and out:
            out += _CN_DIGITS[0]
        zero = False
        if not (d == 1 and place == 1 and not out):
            out += _CN_DIGITS[d]
        out += units[place]
    return out


# --- ID numbers -----------------------------------------------------------------------------


def id_legacy15(value: str, r: int = 0) -> str:
    """The 15-digit form issued before 1999: no century, no check character."""
    return value[:6] + value[8:17]


def id_mistyped(value: str, r: int) -> str:
    """One digit changed or two adjacent digits swapped among the first 17, so the check fails."""
    digits = list(value)
    if r % 2 == 0:
        pos = (r // 2) % 17
        digits[pos] = str((int(digits[pos]) + 1 + (r // 34) % 9) % 10)
        return "".join(digits)
    start = (r // 2) % 16
    for step in range(16):
        pos = (start + step) % 16
        if digits[pos] != digits[pos + 1]:
            digits[pos], digits[pos + 1] = digits[pos + 1], digits[pos]
            return "".join(digits)
    return id_mistyped(value, r + 1)


def spaced_code(value: str, r: int) -> str:
    """Spaces where a clerk put them: grouped, around, or doubled."""
    variant = r % 4
    if variant == 0 and len(value) == 18:
        return f"{value[:6]} {value[6:14]} {value[14:]}"
    if variant == 1:
        return f" {value}"
    if variant == 2:
        return f"{value} "
    return f"{value[:6]}  {value[6:]}"


def lower_x(value: str, r: int = 0) -> str:
    return value[:-1] + value[-1].lower()


# --- phones ---------------------------------------------------------------------------------


def phone_spaced(value: str, r: int) -> str:
    sep = " " if r % 2 == 0 else "-"
    return f"{value[:3]}{sep}{value[3:7]}{sep}{value[7:]}"


def phone_prefixed(value: str, r: int) -> str:
    return ("+86 ", "+86", "86-", "0086")[r % 4] + value


# --- names ----------------------------------------------------------------------------------


def homophone_positions(given: str, homophones: dict[str, tuple[str, ...]]) -> list[int]:
    return [i for i, c in enumerate(given) if c in homophones]


def name_homophone(surname: str, given: str, homophones: dict[str, tuple[str, ...]], r: int) -> str:
    """Swap one given-name character for one read alike (伟 → 炜); the caller checks eligibility."""
    positions = homophone_positions(given, homophones)
    pos = positions[r % len(positions)]
    choices = homophones[given[pos]]
    return surname + given[:pos] + choices[(r // 7) % len(choices)] + given[pos + 1 :]


def name_spaced(value: str, r: int) -> str:
    """Spaces padded into a name the way fixed-width screens and careless typing do."""
    variant = r % 4
    if variant == 0 and len(value) >= 2:
        return f"{value[0]} {value[1:]}"
    if variant == 1 and len(value) >= 2:
        return f"{value[0]}\u3000{value[1:]}"
    if variant == 2:
        return f"{value} "
    return f" {value}"


@cache
def _s2t() -> Callable[[str], str]:
    import opencc

    converter = opencc.OpenCC("s2t")
    convert: Callable[[str], str] = converter.convert
    return convert


def traditional(value: str, r: int = 0) -> str:
    """The traditional-character form (opencc s2t), as typed in Hong Kong, Taiwan or old systems."""
    return _s2t()(value)


def unencodable(value: str, encoding: str) -> str:
    """Characters the encoding cannot hold become ``?``, as legacy systems store them."""
    return value.encode(encoding, errors="replace").decode(encoding)


# --- dates ----------------------------------------------------------------------------------

DATE_FORMATS: dict[str, str] = {
    "iso": "{y}-{m:02d}-{d:02d}",  # 2001-03-05
    "slash": "{y}/{m}/{d}",  # 2001/3/5
    "cn": "{y}年{m}月{d}日",  # 2001年3月5日
    "compact": "{y}{m:02d}{d:02d}",  # 20010305
    "dot": "{y}.{m:02d}.{d:02d}",  # 2001.03.05
    "cn_month": "{y}年{m}月",  # 2001年3月 (出生年月)
}


def format_dates(years: Sequence[int], months: Sequence[int], days: Sequence[int], style: str) -> list[str]:
    """Render dates in one of DATE_FORMATS, column at a time."""
    if style == "iso":
        return [f"{y}-{m:02d}-{d:02d}" for y, m, d in zip(years, months, days, strict=True)]
    if style == "slash":
        return [f"{y}/{m}/{d}" for y, m, d in zip(years, months, days, strict=True)]
    if style == "cn":
        return [f"{y}年{m}月{d}日" for y, m, d in zip(years, months, days, strict=True)]
    if style == "compact":
        return [f"{y}{m:02d}{d:02d}" for y, m, d in zip(years, months, days, strict=True)]
    if style == "dot":
        return [f"{y}.{m:02d}.{d:02d}" for y, m, d in zip(years, months, days, strict=True)]
    if style == "cn_month":
        return [f"{y}年{m}月" for y, m in zip(years, months, strict=True)]
    raise ValueError(f"unknown date style {style!r}; expected one of {', '.join(DATE_FORMATS)}")


def format_date(value: dt.date, style: str) -> str:
    return DATE_FORMATS[style].format(y=value.year, m=value.month, d=value.day)


# --- enterprises ----------------------------------------------------------------------------


def bracket_halfwidth(value: str, r: int = 0) -> str:
    return value.replace("（", "(").replace("）", ")")


def has_swappable_form(name: str) -> bool:
    return (name.endswith("有限公司") and not name.endswith("股份有限公司")) or name.endswith("有限责任公司")


def swap_form(value: str, r: int = 0) -> str:
    """有限公司 ↔ 有限责任公司: the same legal form, written the other way."""
    if value.endswith("有限责任公司"):
        return value[: -len("有限责任公司")] + "有限公司"
    return value[: -len("有限公司")] + "有限责任公司"


def uscc_mistyped(value: str, r: int) -> str:
    """One character changed within the code alphabet or two adjacent ones swapped; the check fails."""
    chars = list(value)
    if r % 2 == 0:
        pos = (r // 2) % 17
        chars[pos] = ALPHABET[(ALPHABET.index(chars[pos]) + 1 + (r // 34) % 30) % 31]
        return "".join(chars)
    start = (r // 2) % 16
    for step in range(16):
        pos = (start + step) % 16
        if chars[pos] != chars[pos + 1]:
            chars[pos], chars[pos + 1] = chars[pos + 1], chars[pos]
            return "".join(chars)
    return uscc_mistyped(value, r + 1)


# --- addresses ------------------------------------------------------------------------------


def vary_building(value: str, r: int) -> str:
    """Write the building number with another of 幢 / 栋 / 号楼."""
    for word in BUILDING_WORDS:
        if word in value:
            others = [w for w in BUILDING_WORDS if w != word]
            return value.replace(word, others[r % 2], 1)
    return value + " "
