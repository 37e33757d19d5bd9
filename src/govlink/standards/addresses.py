"""Postal addresses split into their administrative and building parts, without a gazetteer.

The parser reads, in order and each optionally: province (省/自治区, or one of the four
municipalities), city (市/自治州/地区/盟), district (区/县/旗/县级市), street (街道/镇/乡), road
(路/街/巷/弄/大道, with an optional lane number such as 100弄), house number (33号), building
(号楼/栋/幢/座, all written 幢), unit (单元) and room (室).  What it cannot place goes to ``rest``.
It is meant for the forms in the tests, not for every address a clerk can write.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from govlink.standards.dates import CHINESE_NUMERAL, chinese_numeral_value
from govlink.standards.text import to_halfwidth

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"


def _name(excluded: str, low: int, high: int) -> str:
    """Between ``low`` and ``high`` Chinese characters, none of them in ``excluded``."""
    return rf"(?:(?![{excluded}])[{_CJK}]){{{low},{high}}}?"


_MUNICIPALITY = re.compile(r"(?:北京|天津|上海|重庆)市")
_PROVINCE = re.compile(_name("省市区县", 2, 7) + "(?:省|自治区|特别行政区)")
_CITY = re.compile(_name("省市区县", 1, 9) + "(?:自治州|地区|盟|市)")
_DISTRICT = re.compile(_name("省市区县路街号", 1, 9) + "(?:区|县|旗|市)")
_STREET = re.compile(_name("省市区县路街巷弄号镇乡", 1, 12) + "(?:街道|镇|乡)")
_ROAD = re.compile(_name("省市区县路街巷弄号", 1, 12) + r"(?:大道|路|街|巷|弄)(?:\d+[弄巷])?")
_NUMBER = re.compile(r"\d+(?:-\d+)?号(?!楼)")
_BUILDING = re.compile(r"(\d+|[A-Za-z])(?:号楼|幢|栋|座)")
_UNIT = re.compile(r"\d+单元")
_ROOM = re.compile(r"(\d+)(?:室|$)")
# A Chinese numeral is read as a number only where a number is expected: before one of these.
_NUMBERED = re.compile(rf"({CHINESE_NUMERAL.pattern})(?=号|幢|栋|座|单元|室|层|楼|弄)")
_SPACES = re.compile(r"\s+")


class AddressError(ValueError):
    """Raised with a reason code and a sentence a steward can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Address:
    """An address in parts (empty when absent) and the canonical string joined from them."""

    province: str
    city: str
    district: str
    street: str
    road: str
    number: str
    building: str
    unit: str
    room: str
    rest: str
    normalised: str


def _take(pattern: re.Pattern[str], text: str, pos: int) -> tuple[str, int]:
    match = pattern.match(text, pos)
    return (match.group(), match.end()) if match else ("", pos)


def parse_address(raw: str) -> Address:
    """Split an address into its parts; raises :class:`AddressError` only when it is empty.

    Full-width digits and Chinese numerals before 号/幢/单元/室 become Arabic digits, and every
    kind of building (号楼, 栋, 座) is written 幢.
    """
    text = _SPACES.sub("", to_halfwidth(unicodedata.normalize("NFC", raw)))
    if not text:
        raise AddressError("address.empty", "the address is empty")
    text = _NUMBERED.sub(lambda m: str(chinese_numeral_value(m.group(1))), text)

    province, pos = _take(_MUNICIPALITY, text, 0)
    city = province
    if not province:
        province, pos = _take(_PROVINCE, text, pos)
        city, pos = _take(_CITY, text, pos)
    district, pos = _take(_DISTRICT, text, pos)
    street, pos = _take(_STREET, text, pos)
    road, pos = _take(_ROAD, text, pos)
    number, pos = _take(_NUMBER, text, pos)
    building = ""
    if match := _BUILDING.match(text, pos):
        building, pos = f"{match.group(1).upper()}幢", match.end()
    unit, pos = _take(_UNIT, text, pos)
    room = ""
    if match := _ROOM.match(text, pos):
        room, pos = f"{match.group(1)}室", match.end()
    rest = text[pos:]

    parts = [province, city if city != province else "", district, street, road, number, building, unit, room, rest]
    return Address(province, city, district, street, road, number, building, unit, room, rest, "".join(parts))
