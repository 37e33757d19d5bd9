"""DuckDB expressions that reproduce the Python standardisers for the common, well-formed values.

Each attribute has one builder that turns a column of raw text into stages of SQL expressions (a stage may
use the names the stages before it define). The last stage defines ``state``, ``message`` and one column
per output of the attribute (``value`` first, then the derived parts):

- ``state`` NULL: decided — a valid value, or a missing one (raw NULL) with every output NULL;
- ``state`` ``'?'``: undecided — the Python standardiser must look at the value;
- any other ``state``: decided invalid, the Python standardiser's error code, with its exact ``message``.

A builder decides only what it can prove the Python function decides the same way: it accepts a value
only when every character is one it knows how Python treats (ASCII digits, ideographs that NFC and
OpenCC leave alone ...) and answers ``'?'`` for everything else. The Python functions stay the single
source of truth; this module is an accelerator, and the tests compare the two on random input.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from govlink.standards.credit_code import ALPHABET, REGISTRATION_AUTHORITIES
from govlink.standards.dates import CHINESE_NUMERAL, EARLIEST_YEAR
from govlink.standards.gender import _UNKNOWN as GENDER_UNKNOWN
from govlink.standards.gender import _UNSTATED as GENDER_UNSTATED
from govlink.standards.gender import _VALUES as GENDER_VALUES
from govlink.standards.gender import Gender
from govlink.standards.names import BARE_REGION_NAMES

Stage = dict[str, str]
Name = Callable[[str], str]
UNDECIDED = "?"
log = logging.getLogger(__name__)

# Python's str.isspace() characters (all below U+3001): what strip() and the standards' \s remove.
PY_SPACES = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
_FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_HALF_WIDTH = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F))
# Unified ideographs: NFC leaves them alone (unlike the compatibility block from U+F900).
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))
_MIDDLE_DOTS = "·・•‧･∙"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class FastPath:
    """The stages of SQL for one attribute and the names of its outputs, ``value`` first."""

    outputs: tuple[str, ...]
    stages: tuple[Stage, ...]


Builder = Callable[[str, Name, dt.date], FastPath]


# --- SQL text helpers -------------------------------------------------------------------------------------------


def text(value: str) -> str:
    """A SQL string literal (DuckDB keeps backslashes as they are, so a regex needs no second escaping)."""
    return "'" + value.replace("'", "''") + "'"


def char_class(chars: Iterable[str] = (), ranges: Iterable[tuple[int, int]] = (), exclude: Iterable[str] = ()) -> str:
    """An RE2 character class of ``chars`` and ``ranges`` minus ``exclude``, written as code point ranges."""
    points = {ord(c) for c in chars}
    for low, high in ranges:
        points.update(range(low, high + 1))
    ordered = sorted(points - {ord(c) for c in exclude})
    parts = []
    start = previous = ordered[0]
    for point in [*ordered[1:], -1]:
        if point != previous + 1:
            parts.append(f"\\x{{{start:X}}}" + (f"-\\x{{{previous:X}}}" if previous != start else ""))
            start = point
        previous = point
    return "[" + "".join(parts) + "]"


def matches(column: str, pattern: str) -> str:
    return f"regexp_full_match({column}, {text(pattern)})"


_SPACE_CLASS = char_class(PY_SPACES)


def missing(column: str) -> str:
    """True for NULL or white space only: what the ingest treats as an absent value."""
    # Only text that opens with white space needs the regex; ascii() is the first code point.
    spaces = ", ".join(str(ord(c)) for c in PY_SPACES)
    return f"CASE WHEN {column} IS NULL OR {column} = '' THEN TRUE WHEN ascii({column}) IN ({spaces}) " \
           f"THEN {matches(column, _SPACE_CLASS + '*')} ELSE FALSE END"


def _compact(column: str, full_width: str = _FULL_WIDTH, half_width: str = _HALF_WIDTH) -> str:
    """What ``compact()`` does to the characters a code may hold: no white space, full-width made ASCII."""
    no_spaces = f"regexp_replace({column}, {text(_SPACE_CLASS)}, '', 'g')"
    return f"translate({no_spaces}, {text(full_width)}, {text(half_width)})"


def _exists(year: str, month: str, day: str) -> str:
    """True when the date exists in Python's calendar (years 1–9999)."""
    leap = f"({year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0))"
    days = f"CASE WHEN {month} IN (4, 6, 9, 11) THEN 30 WHEN {month} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END " \
           "ELSE 31 END"
    return f"({year} BETWEEN 1 AND 9999 AND {month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND {days})"


# --- identity numbers (GB 11643) ------------------------------------------------------------------------------


def id_number(raw: str, n: Name, today: dt.date) -> FastPath:
    """18 digits (or 15, upgraded) checked with integer arithmetic on one BIGINT instead of 17 substrings.

    Plain 18-character numbers skip the clean-up; only the others pay for removing spaces and full-width.
    """
    clean, shape, number, ymd, digits = n("clean"), n("shape"), n("n"), n("ymd"), n("digits")
    digit_sum = " + ".join(f"(({number} // {10 ** (16 - i)}) % 10) * {w}" for i, w in enumerate(_ID_WEIGHTS))
    year, month, day = f"({ymd} // 10000)", f"(({ymd} // 100) % 100)", f"({ymd} % 100)"
    why = f"""CASE WHEN {number} IS NULL THEN CASE WHEN {raw} IS NOT NULL THEN '?' END
        WHEN {number} // 1000000000000000 IN (0, 10, 20, 30, 40, 80, 90) THEN 'id.area'
        WHEN NOT {_exists(year, month, day)} THEN 'id.birth_date:exists'
        WHEN {ymd} < {EARLIEST_YEAR}0101 OR {ymd} > {today:%Y%m%d} THEN 'id.birth_date:range'
        WHEN {n('given')} <> {n('check')} THEN 'id.check_digit' END"""
    birth = f"substr({digits}, 7, 4) || '-' || substr({digits}, 11, 2) || '-' || substr({digits}, 13, 2)"
    message = f"""CASE {n('why')}
        WHEN 'id.area' THEN 'area code ' || substr({digits}, 1, 6) || ' is not a province of GB/T 2260'
        WHEN 'id.birth_date:exists' THEN 'birth date ' || substr({digits}, 7, 8) || ' does not exist'
        WHEN 'id.birth_date:range' THEN 'birth date ' || {birth} || ' is out of range'
        WHEN 'id.check_digit' THEN 'check character is ' || {n('given')} || ', expected ' || {n('check')} END"""
    ok = f"{n('why')} IS NULL AND {number} IS NOT NULL"
    return FastPath(
        ("value", "birth_date", "gender", "area"),
        (
            {"plain": matches(raw, "[0-9]{17}[0-9X]")},
            {"clean": f"CASE WHEN {n('plain')} THEN {raw} "
                      f"ELSE upper({_compact(raw, '０１２３４５６７８９ｘＸ', '0123456789xX')}) END"},
            {"shape": f"CASE WHEN {n('plain')} OR {matches(clean, '[0-9]{17}[0-9X]')} THEN 18 "
                      f"WHEN {matches(clean, '[0-9]{15}')} THEN 15 END"},
            {
                # The 15-digit form is upgraded by inserting the century 19 after the area code.
                "n": f"CASE {shape} WHEN 18 THEN CAST(substr({clean}, 1, 17) AS BIGINT) WHEN 15 THEN "
                     f"CAST(substr({clean}, 1, 6) AS BIGINT) * 100000000000 + 19000000000 "
                     f"+ CAST(substr({clean}, 7, 9) AS BIGINT) END",
                "given": f"CASE WHEN {shape} = 18 THEN substr({clean}, 18, 1) END",
            },
            {"ymd": f"({number} // 1000) % 100000000", "check": f"substr('10X98765432', 1 + ({digit_sum}) % 11, 1)",
             "digits": f"CASE WHEN {shape} = 18 THEN {clean} ELSE lpad(CAST({number} AS VARCHAR), 17, '0') END"},
            {"why": why},
            {
                "state": f"split_part({n('why')}, ':', 1)",
                "message": message,
                "value": f"CASE WHEN {ok} THEN CASE WHEN {shape} = 18 THEN {clean} "
                         f"ELSE {digits} || {n('check')} END END",
                "birth_date": f"CASE WHEN {ok} THEN {birth} END",
                "gender": f"CASE WHEN {ok} THEN CASE WHEN {number} % 2 = 1 THEN '1' ELSE '2' END END",
                "area": f"CASE WHEN {ok} THEN substr({digits}, 1, 6) END",
            },
        ),
    )


# --- unified social credit codes (GB 32100, with the GB 11714 organisation code) -------------------------------

_USCC = "[" + ALPHABET.replace("0123456789", "0-9") + "]{18}"


def _alphabet_value(char: str) -> str:
    """The GB 32100 value of an ASCII character known to be in the alphabet: A is 10, and I O S V Z are skipped."""
    code = f"ascii({char})"
    skipped = " + ".join(f"CASE WHEN {code} > {ord(letter)} THEN 1 ELSE 0 END" for letter in "IOSV")
    return f"CASE WHEN {code} < 65 THEN {code} - 48 ELSE {code} - 55 - ({skipped}) END"


def credit_code(raw: str, n: Name, today: dt.date) -> FastPath:
    """Both check characters in SQL over the 31-character alphabet; anything unusual is left to Python."""
    v = n("clean")

    def char(i: int) -> str:
        return f"substr({v}, {i + 1}, 1)"

    total = " + ".join(f"({_alphabet_value(char(i))}) * {pow(3, i, 31)}" for i in range(17))
    org = " + ".join(
        f"(CASE WHEN ascii({char(8 + i)}) < 65 THEN ascii({char(8 + i)}) - 48 ELSE ascii({char(8 + i)}) - 55 END) * {w}"
        for i, w in enumerate(_ORG_WEIGHTS)
    )
    authorities = ", ".join(text(a) for a in REGISTRATION_AUTHORITIES)
    pairs = ", ".join(text(a + t) for a, (_, types) in REGISTRATION_AUTHORITIES.items() for t in types)
    names = " ".join(f"WHEN {text(a)} THEN {text(name)}" for a, (name, _) in REGISTRATION_AUTHORITIES.items())
    state = f"""CASE WHEN {raw} IS NULL THEN NULL WHEN NOT {matches(v, _USCC)} THEN '?'
        WHEN substr({v}, 1, 1) NOT IN ({authorities}) THEN 'uscc.authority'
        WHEN substr({v}, 1, 2) NOT IN ({pairs}) THEN 'uscc.org_type'
        WHEN NOT {matches(f"substr({v}, 3, 6)", "[0-9]{6}")} THEN 'uscc.area'
        WHEN {n('check')} <> substr({v}, 18, 1) THEN 'uscc.check_digit'
        WHEN {n('org')} <> substr({v}, 17, 1) THEN 'uscc.org_code' END"""
    message = f"""CASE {n('state')}
        WHEN 'uscc.authority' THEN '''' || substr({v}, 1, 1) || ''' is not a registration authority code'
        WHEN 'uscc.org_type' THEN 'organisation type ''' || substr({v}, 2, 1) || ''' is not valid for '
            || CASE substr({v}, 1, 1) {names} END
        WHEN 'uscc.area' THEN 'characters 3–8 are an area code of six digits'
        WHEN 'uscc.check_digit' THEN 'check character is ' || substr({v}, 18, 1) || ', expected ' || {n('check')}
        WHEN 'uscc.org_code' THEN 'the organisation code ' || substr({v}, 9, 9) || ' fails its own check' END"""
    check = f"substr({text(ALPHABET)}, 1 + (31 - ({total}) % 31) % 31, 1)"
    org_check = f"CASE 11 - ({org}) % 11 WHEN 10 THEN 'X' WHEN 11 THEN '0' ELSE CAST(11 - ({org}) % 11 AS VARCHAR) END"
    return FastPath(
        ("value",),
        (
            {"clean": f"CASE WHEN {matches(raw, '[0-9A-Za-z]{18}')} THEN upper({raw}) ELSE upper({_compact(raw)}) END"},
            {"check": f"CASE WHEN {matches(v, _USCC)} THEN {check} END",
             "org": f"CASE WHEN {matches(v, _USCC)} THEN {org_check} END"},
            {"state": state},
            {"message": message, "value": f"CASE WHEN {n('state')} IS NULL THEN {v} END"},
        ),
    )


# --- telephone numbers ------------------------------------------------------------------------------------------

_MOBILE = "1[3-9][0-9]{9}"
_PHONE_TEXT = r"\+?[0-9()\-.]+"
_PHONE_SEPARATORS = r"[()\-.]"


def phone(raw: str, n: Name, today: dt.date) -> FastPath:
    """parse_phone()'s branches as CASE; the refusals whose message quotes the raw text are left to Python.

    A plain mobile number is valid as it stands; only other values go through the branches (the
    stages see NULL for plain mobiles, which costs next to nothing).
    """
    other, clean, plain, digits, area, local = n("other"), n("clean"), n("plain"), n("digits"), n("area"), n("local")
    full_width = _compact(other, "０１２３４５６７８９＋（）－．", "0123456789+()-.")
    country = f"""CASE WHEN starts_with({plain}, '0086') THEN 4
        WHEN starts_with({plain}, '86') AND (starts_with({clean}, '+')
            OR (length({plain}) = 13 AND substr({plain}, 3, 1) = '1')) THEN 2 ELSE 0 END"""
    rest = n("rest")
    # +86 571 … drops the trunk prefix that the national form keeps.
    trunk = f"CASE WHEN {n('country')} > 0 AND {rest} <> '' AND NOT starts_with({rest}, '0') AND NOT " \
            f"(starts_with({rest}, '1') AND length({rest}) = 11) THEN '0' || {rest} ELSE {rest} END"
    why = f"""CASE WHEN {other} IS NULL THEN NULL WHEN {digits} IS NULL OR {digits} = '' THEN '?'
        WHEN starts_with({digits}, '1') THEN CASE WHEN length({digits}) <> 11 THEN 'phone.length:mobile'
            WHEN substr({digits}, 2, 1) NOT IN ('3', '4', '5', '6', '7', '8', '9') THEN 'phone.format:mobile' END
        WHEN starts_with({digits}, '0') THEN CASE WHEN length({digits}) < 3 THEN '?'
            WHEN starts_with({digits}, '01') AND substr({digits}, 3, 1) <> '0' THEN 'phone.format:area'
            WHEN length({local}) NOT IN (7, 8) THEN 'phone.length:landline' END
        WHEN length({digits}) NOT IN (7, 8) THEN 'phone.length:local' END"""
    message = f"""CASE {n('why')}
        WHEN 'phone.length:mobile' THEN 'a mobile number has 11 digits, got ' || length({digits})
        WHEN 'phone.format:mobile' THEN 'a mobile number starts with 13–19, not ' || substr({digits}, 1, 2)
        WHEN 'phone.format:area' THEN substr({digits}, 1, 3) || ' is not an area code (Beijing is 010)'
        WHEN 'phone.length:landline' THEN 'after area code ' || {area} || ' a landline has 7 or 8 digits, got '
            || length({local})
        WHEN 'phone.length:local' THEN 'a number without area code has 7 or 8 digits, got ' || length({digits})
            || '; add the area code' END"""
    area_length = f"CASE WHEN substr({digits}, 2, 1) IN ('1', '2') THEN 3 ELSE 4 END"
    return FastPath(
        ("value",),
        (
            {"mobile": matches(raw, _MOBILE)},
            {"other": f"CASE WHEN NOT {n('mobile')} THEN {raw} END"},
            {"clean": f"CASE WHEN {matches(other, '[0-9]+')} THEN {other} "
                      f"ELSE replace(replace({full_width}, '—', '-'), '–', '-') END"},
            {"plain": f"CASE WHEN {matches(clean, '[0-9]+')} THEN {clean} WHEN {matches(clean, _PHONE_TEXT)} "
                      f"THEN regexp_replace(ltrim({clean}, '+'), {text(_PHONE_SEPARATORS)}, '', 'g') END"},
            {"country": country},
            {"rest": f"substr({plain}, 1 + {n('country')})"},
            {"digits": trunk},
            {"area": f"substr({digits}, 1, {area_length})", "local": f"substr({digits}, 1 + {area_length})"},
            {"why": why},
            {
                "state": f"split_part({n('why')}, ':', 1)",
                "message": message,
                "value": f"CASE WHEN {n('mobile')} THEN {raw} WHEN {n('why')} IS NOT NULL OR {other} IS NULL THEN NULL "
                         f"WHEN starts_with({digits}, '0') THEN {area} || '-' || {local} ELSE {digits} END",
            },
        ),
    )


# --- gender (GB/T 2261.1) ---------------------------------------------------------------------------------------

# parse_gender()'s own tables, so that a spelling added there cannot be refused here.
_GENDER_CODES = {spelling: "1" if g is Gender.MALE else "2" for spelling, g in GENDER_VALUES.items()}
_GENDER_REFUSALS = {**dict.fromkeys(GENDER_UNKNOWN, "gender.unknown"),
                    **dict.fromkeys(GENDER_UNSTATED, "gender.unstated")}
_GENDER_MESSAGES = {
    "gender.unknown": " means the gender is unknown (GB/T 2261.1 code 0)",
    "gender.unstated": " means the gender was not stated (GB/T 2261.1 code 9)",
    "gender.format": " is not a gender; use 男 or 女 (codes 1 or 2)",
}
# ASCII letters and digits or ideographs: compact() leaves such text alone, casefold() is lower(), repr() quotes it.
_GENDER_TEXT = char_class("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", ((0x4E00, 0x9FA5),)) + "+"


def gender(raw: str, n: Name, today: dt.date) -> FastPath:
    """A CASE over parse_gender()'s spellings for plain text; spaces or full-width letters go to Python."""
    key = n("key")
    codes = " ".join(f"WHEN {text(s)} THEN {text(c)}" for s, c in _GENDER_CODES.items())
    refusals = " ".join(f"WHEN {text(s)} THEN {text(c)}" for s, c in _GENDER_REFUSALS.items())
    messages = " ".join(f"WHEN {text(c)} THEN '''' || {raw} || '''' || {text(m)}" for c, m in _GENDER_MESSAGES.items())
    return FastPath(
        ("value",),
        (
            {"key": f"CASE WHEN {matches(raw, _GENDER_TEXT)} THEN lower({raw}) END"},
            {"code": f"CASE {key} {codes} END"},
            {"state": f"CASE WHEN {raw} IS NULL OR {n('code')} IS NOT NULL THEN NULL WHEN {key} IS NULL THEN '?' "
                      f"ELSE coalesce(CASE {key} {refusals} END, 'gender.format') END"},
            {"message": f"CASE {n('state')} {messages} END", "value": n("code")},
        ),
    )


# --- person and enterprise names --------------------------------------------------------------------------------


@cache
def t2s_unsafe_characters() -> frozenset[str] | None:
    """Every character OpenCC t2s may rewrite, alone or inside one of its phrases; None when that is unknown.

    Single characters are asked of the converter. Phrases need the dictionaries (``乾燥`` becomes ``干燥``
    though ``乾`` alone stays), so those named in t2s.json are dumped to text once with the
    ``opencc_dict`` tool shipped inside the opencc package. Without it names have no fast path.
    """
    import opencc

    probes = [chr(c) for low, high in _CJK_RANGES for c in range(low, high + 1)] + [*_MIDDLE_DOTS, "(", ")"]
    # One call for every probe: a newline is in no dictionary key, so no phrase spans two probes.
    converted = str(opencc.OpenCC("t2s").convert("\n".join(probes))).split("\n")
    phrases = _t2s_dictionary_entries(Path(opencc.__file__).parent / "clib")
    if len(converted) != len(probes) or phrases is None:
        log.warning("OpenCC's t2s dictionaries could not be read; every name goes through Python (slower)")
        return None
    unsafe = {c for c, out in zip(probes, converted, strict=True) if c != out}
    for key, value in phrases:
        if len(key) == len(value):
            unsafe.update(k for k, v in zip(key, value, strict=True) if k != v)
        elif key != value:
            unsafe.update(key)
    return frozenset(unsafe)


def _t2s_dictionary_entries(clib: Path) -> list[tuple[str, str]] | None:
    """(key, first value) of every dictionary t2s.json uses, or None when the tool or a file is missing."""
    share, tool = clib / "share" / "opencc", clib / "bin" / "opencc_dict"
    entries: list[tuple[str, str]] = []
    try:
        files = sorted(set(_ocd2_files(json.loads((share / "t2s.json").read_text(encoding="utf-8")))))
        with tempfile.TemporaryDirectory(prefix="govlink-opencc-") as tmp:
            for name in files:
                out = Path(tmp) / f"{name}.txt"
                # A fixed argument list: a tool and files inside the installed opencc package.
                subprocess.run(  # noqa: S603
                    [str(tool), "-i", str(share / name), "-o", str(out), "-f", "ocd2", "-t", "text"],
                    check=True, capture_output=True, timeout=60,
                )
                for line in out.read_text(encoding="utf-8").splitlines():
                    key, _, values = line.partition("\t")
                    entries.append((key, values.split(" ")[0]))
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return entries if files else None


def _ocd2_files(node: object) -> Iterable[str]:
    if isinstance(node, dict):
        if node.get("type") == "ocd2" and isinstance(node.get("file"), str):
            yield node["file"]
        for child in node.values():
            yield from _ocd2_files(child)
    elif isinstance(node, list):
        for child in node:
            yield from _ocd2_files(child)


@cache
def _safe_ideographs() -> str | None:
    """The class of ideographs that NFC, to_halfwidth and OpenCC t2s all leave alone (None: not known)."""
    unsafe = t2s_unsafe_characters()
    return None if unsafe is None else char_class(ranges=_CJK_RANGES, exclude=unsafe)


_NAME_SPACES = "[ \\t\\x{3000}]"


def person_name(raw: str, n: Name, today: dt.date) -> FastPath:
    """Ideographs OpenCC leaves alone, middle dots and spaces: only the dots and the spaces change."""
    safe, unsafe = _safe_ideographs(), t2s_unsafe_characters() or frozenset()
    dots = char_class(set(_MIDDLE_DOTS) - unsafe or "·")
    pure = "FALSE" if safe is None else matches(raw, f"{safe}+")
    mixed = "FALSE" if safe is None else matches(raw, f"(?:{safe}|{dots}|{_NAME_SPACES})+")
    # A space next to an ideograph or a dot goes, and in such a name that is every space.
    spaced = f"regexp_replace({raw}, {text(_NAME_SPACES + '*' + dots + _NAME_SPACES + '*')}, '·', 'g')"
    return FastPath(
        ("value",),
        (
            {"form": f"CASE WHEN {pure} THEN 1 WHEN {mixed} THEN 2 END"},
            {
                "state": f"CASE WHEN {raw} IS NULL OR {n('form')} IS NOT NULL THEN NULL ELSE '?' END",
                "message": "CAST(NULL AS VARCHAR)",
                "value": f"CASE {n('form')} WHEN 1 THEN {raw} "
                         f"WHEN 2 THEN regexp_replace({spaced}, {text(_NAME_SPACES)}, '', 'g') END",
            },
        ),
    )


def enterprise_name(raw: str, n: Name, today: dt.date) -> FastPath:
    """Names that cannot open with a region (no 省市区县州 early, no bare region name) only lose 责任."""
    safe, unsafe = _safe_ideographs(), t2s_unsafe_characters() or frozenset("()")
    decided = "FALSE"
    if safe is not None and not {"(", ")"} & unsafe:
        bare = "^(?:" + "|".join(BARE_REGION_NAMES) + ")"
        # A region prefix is ideographs ending in one of these by the eleventh; a bracket ends the run.
        region = "^" + char_class(ranges=_CJK_RANGES) + "{0,10}[省市区县州]"
        decided = f"{matches(raw, f'(?:{safe}|[（）])+')} AND NOT regexp_matches({raw}, {text(region)}) " \
                  f"AND NOT regexp_matches({raw}, {text(bare)})"
    return FastPath(
        ("value",),
        (
            {"ok": decided},
            {
                "state": f"CASE WHEN {raw} IS NULL OR {n('ok')} THEN NULL ELSE '?' END",
                "message": "CAST(NULL AS VARCHAR)",
                "value": f"CASE WHEN {n('ok')} THEN replace({raw}, '有限责任公司', '有限公司') END",
            },
        ),
    )


# --- dates ------------------------------------------------------------------------------------------------------

# (pattern with year, month and day groups, precision) for parse_date()'s forms; an empty group reads as 1.
DATE_FORMS: tuple[tuple[str, str], ...] = (
    (r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?:T| +)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
     r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?", "day"),
    (r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", "day"),
    (r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})", "day"),
    (r"([0-9]{4})\.([0-9]{1,2})\.([0-9]{1,2})", "day"),
    (r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})[日号]?", "day"),
    (r"([0-9]{4})([0-9]{2})([0-9]{2})", "day"),
    (r"([0-9]{4})年([0-9]{1,2})月?()", "month"),
    (r"([0-9]{4})[-/.]([0-9]{1,2})()", "month"),
    (r"([0-9]{4})([0-9]{2})()", "month"),
    (r"([0-9]{4})年?()()", "year"),
)
_EXCEL = r"^([0-9]{5})(?:\.[0-9]+)?$"


def date(raw: str, n: Name, today: dt.date) -> FastPath:
    """The documented forms as anchored regexes over ASCII digits; years before 1890 and non-dates go to Python."""
    t, form, day = n("t"), n("form"), n("day")
    forms = " ".join(
        f"WHEN {matches(t, pattern)} THEN {{'parts': regexp_extract({t}, {text('^' + pattern + '$')}, "
        f"['y', 'm', 'd']), 'precision': {text(precision)}}}"
        for pattern, precision in DATE_FORMS
    )
    year, month, mday = (f"TRY_CAST(NULLIF({form}.parts.{p}, '') AS INTEGER)" for p in "ymd")
    dated = f"""CASE WHEN {form} IS NOT NULL AND {n('y')} >= {EARLIEST_YEAR} AND {_exists(n('y'), n('m'), n('d'))}
            THEN make_date({n('y')}, {n('m')}, {n('d')})
        WHEN {form} IS NULL AND {n('serial')} BETWEEN 20000 AND 80000 THEN DATE '1899-12-30' + {n('serial')} END"""
    iso = f"strftime({day}, '%Y-%m-%d')"
    shown = f"CASE {n('kind')} WHEN 'day' THEN {iso} WHEN 'month' THEN strftime({day}, '%Y-%m') " \
            f"ELSE strftime({day}, '%Y') END"
    return FastPath(
        ("value", "precision"),
        (
            {"t": f"trim({raw}, ' \t\u3000')"},
            {"form": f"CASE {forms} END"},
            {"y": year, "m": f"coalesce({month}, 1)", "d": f"coalesce({mday}, 1)",
             "serial": f"TRY_CAST(regexp_extract({t}, {text(_EXCEL)}, 1) AS INTEGER)",
             "kind": f"coalesce({form}.precision, 'day')"},
            {"day": dated},
            {"state": f"CASE WHEN {raw} IS NULL THEN NULL WHEN {day} IS NULL THEN '?' "
                      f"WHEN {day} > DATE '{today.isoformat()}' THEN 'date.future' END"},
            {
                "message": f"CASE WHEN {n('state')} = 'date.future' THEN {iso} || ' is after today "
                           f"({today.isoformat()})' END",
                "value": f"CASE WHEN {n('state')} IS NULL AND {day} IS NOT NULL THEN {shown} END",
                "precision": f"CASE WHEN {n('state')} IS NULL AND {day} IS NOT NULL THEN {n('kind')} END",
            },
        ),
    )


# --- addresses --------------------------------------------------------------------------------------------------


def _name(excluded: str, low: int, high: int) -> str:
    """The parser's ``_name()``: its look-ahead on each character becomes a class without those characters."""
    return char_class(ranges=_CJK_RANGES, exclude=excluded) + f"{{{low},{high}}}?"


# (part, pattern) in the order parse_address() takes them, each optional and anchored where the last one ended.
ADDRESS_PARTS: tuple[tuple[str, str], ...] = (
    ("province", _name("省市区县", 2, 7) + "(?:省|自治区|特别行政区)"),
    ("city", _name("省市区县", 1, 9) + "(?:自治州|地区|盟|市)"),
    ("district", _name("省市区县路街号", 1, 9) + "(?:区|县|旗|市)"),
    ("street", _name("省市区县路街巷弄号镇乡", 1, 12) + "(?:街道|镇|乡)"),
    ("road", _name("省市区县路街巷弄号", 1, 12) + "(?:大道|路|街|巷|弄)(?:[0-9]+[弄巷])?"),
    ("number", "[0-9]+(?:-[0-9]+)?号"),
    ("building", "(?:[0-9]+|[A-Za-z])(?:号楼|幢|栋|座)"),
    ("unit", "[0-9]+单元"),
    ("room", "[0-9]+(?:室|$)"),
)
ADDRESS_OUTPUTS = ("value", "province", "city", "district", "street", "road", "number", "building", "unit", "room",
                   "rest")
_MUNICIPALITY = "^(?:北京|天津|上海|重庆)市"
_ADDRESS_TEXT = char_class("0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", _CJK_RANGES) + "+"
# The parser turns a Chinese numeral before one of these into digits; SQL leaves such text to it.
_NUMBERED = f"{CHINESE_NUMERAL.pattern}(?:号|幢|栋|座|单元|室|层|楼|弄)"


def address(raw: str, n: Name, today: dt.date) -> FastPath:
    """parse_address()'s sequence of optional parts, one anchored regex per part over what the last one left.

    Text with anything but ideographs, ASCII letters, digits and hyphens (after white space goes and
    full-width becomes ASCII), or with a Chinese numeral the parser would rewrite, is left to Python.
    """
    muni, ok = n("muni"), n("ok")
    stages: list[Stage] = [
        {"text": f"CASE WHEN {matches(raw, _ADDRESS_TEXT)} THEN {raw} ELSE {_compact(raw)} END"},
        {"ok": f"{matches(n('text'), _ADDRESS_TEXT)} AND NOT regexp_matches({n('text')}, {text(_NUMBERED)})",
         "muni": f"regexp_extract({n('text')}, {text(_MUNICIPALITY)}, 0)"},
        {"rest0": f"substr({n('text')}, 1 + length({muni}))"},
    ]
    for k, (part, pattern) in enumerate(ADDRESS_PARTS, 1):
        rest, taken = n(f"rest{k - 1}"), n(f"take_{part}")
        extract = f"regexp_extract({rest}, {text('^' + pattern)}, 0)"
        if part in ("province", "city"):
            # A municipality is province and city at once; neither is looked for after it.
            extract = f"CASE WHEN {muni} = '' THEN {extract} ELSE '' END"
        stages.append({f"take_{part}": extract})
        if part == "number":
            # The parser's (?!楼): no house number when 楼 follows, for then it is a 号楼 building.
            followed = f"starts_with(substr({rest}, 1 + length({taken})), '楼')"
            stages.append({"take_number_": f"CASE WHEN {followed} THEN '' ELSE {taken} END"})
            taken = n("take_number_")
        stages.append({f"rest{k}": f"substr({rest}, 1 + length({taken}))", f"got_{part}": taken})
    got = {part: n(f"got_{part}") for part, _ in ADDRESS_PARTS}
    building = f"upper(regexp_extract({got['building']}, '^([0-9]+|[A-Za-z])', 1)) || '幢'"
    parts = {
        **got,
        "province": f"CASE WHEN {muni} <> '' THEN {muni} ELSE {got['province']} END",
        "city": f"CASE WHEN {muni} <> '' THEN {muni} ELSE {got['city']} END",
        "building": f"CASE WHEN {got['building']} <> '' THEN {building} ELSE '' END",
        "room": f"CASE WHEN {got['room']} <> '' THEN rtrim({got['room']}, '室') || '室' ELSE '' END",
        "rest": n(f"rest{len(ADDRESS_PARTS)}"),
    }
    stages.append({f"out_{p}": expression for p, expression in parts.items()})
    # The canonical form names a municipality once.
    joined = " || ".join(
        f"CASE WHEN {muni} = '' THEN {n('out_city')} ELSE '' END" if p == "city" else n(f"out_{p}")
        for p in ADDRESS_OUTPUTS[1:]
    )
    final: Stage = {
        "state": f"CASE WHEN {raw} IS NULL OR {ok} THEN NULL ELSE '?' END",
        "message": "CAST(NULL AS VARCHAR)",
        "value": f"CASE WHEN {ok} THEN {joined} END",
    }
    final.update({p: f"CASE WHEN {ok} THEN {n('out_' + p)} END" for p in ADDRESS_OUTPUTS[1:]})
    stages.append(final)
    return FastPath(ADDRESS_OUTPUTS, tuple(stages))


# --- free text --------------------------------------------------------------------------------------------------

_PLAIN_TEXT = char_class((chr(c) for c in range(0x21, 0x7F)), ((0x3001, 0x3003), *_CJK_RANGES)) + "+"


def free_text(raw: str, n: Name, today: dt.date) -> FastPath:
    """Printable ASCII, ideographs and 、。〃 with single inner spaces are already normalised."""
    ok = matches(raw, f"{_PLAIN_TEXT}(?: {_PLAIN_TEXT})*")
    return FastPath(
        ("value",),
        ({
            "state": f"CASE WHEN {raw} IS NULL OR {ok} THEN NULL ELSE '?' END",
            "message": "CAST(NULL AS VARCHAR)",
            "value": f"CASE WHEN {ok} THEN {raw} END",
        },),
    )


# --- composing the query ----------------------------------------------------------------------------------------


def compose(source: str, columns: list[tuple[str, str, Builder]], today: dt.date) -> tuple[str, list[list[str]]]:
    """One SELECT over ``source`` for every (prefix, input column, builder), the stages nested as subqueries.

    Missing values (NULL or white space only) reach the builders as NULL. Returns the query and, per
    input column, the names of its result columns: the outputs, then state and message.
    """
    paths = []
    for prefix, column, build in columns:

        def name(local: str, prefix: str = prefix) -> str:
            return f'"{prefix}_{local}"'

        path = build(name("raw"), name, today)
        defined = [local for stage in path.stages for local in stage]
        if len(set(defined)) != len(defined) or "raw" in defined:
            raise ValueError(f"the SQL for column {column!r} defines a name twice: {sorted(defined)}")
        paths.append((prefix, column, path))
    selects = [f'CASE WHEN NOT ({missing(_quote(column))}) THEN {_quote(column)} END AS "{prefix}_raw"'
               for prefix, column, _ in paths]
    query = f"SELECT {', '.join(selects)} FROM {source}"  # noqa: S608 - identifiers quoted, literals escaped
    depth = max(len(path.stages) for _, _, path in paths)
    for level in range(depth):
        added = []
        for prefix, _, path in paths:
            # A path with fewer stages starts later, so that every path's last stage is the outermost one.
            index = level - (depth - len(path.stages))
            if index >= 0:
                added += [f'{sql} AS "{prefix}_{local}"' for local, sql in path.stages[index].items()]
        query = f"SELECT *, {', '.join(added)} FROM ({query})"  # noqa: S608 - built from the builders' SQL
    names = [[f"{prefix}_{o}" for o in (*path.outputs, "state", "message")] for prefix, _, path in paths]
    return f"SELECT {', '.join(_quote(c) for group in names for c in group)} FROM ({query})", names  # noqa: S608


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
