"""Unified social credit codes (统一社会信用代码) after GB 32100-2015.

Eighteen characters: registration authority (1), organisation type (1), administrative area (6),
the nine-character organisation code of GB 11714 (which carries its own check character) and a
final check character over the first seventeen, both drawn from a 31-character alphabet without
I, O, S, V and Z.
"""

from __future__ import annotations

from dataclasses import dataclass

from govlink.standards.text import compact

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# 登记管理部门代码 and the 机构类别代码 each allows, per GB 32100-2015 table 1.
REGISTRATION_AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "1239"),
    "2": ("外交", "19"),
    "3": ("司法行政", "123459"),
    "4": ("文化", "19"),
    "5": ("民政", "1239"),
    "6": ("旅游", "19"),
    "7": ("宗教", "129"),
    "8": ("工会", "19"),
    "9": ("工商", "123"),
    "A": ("中央军委改革和编制办公室", "19"),
    "N": ("农业", "1239"),
    "Y": ("其他", "1"),
}


class CreditCodeError(ValueError):
    """Raised with a reason code and a sentence a steward can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class CreditCode:
    value: str
    authority: str
    org_type: str
    area_code: str
    organisation_code: str


def check_character(first17: str) -> str:
    """The GB 32100 check character for the first seventeen characters."""
    try:
        total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    except (KeyError, ValueError) as exc:
        raise CreditCodeError("uscc.format", f"not 17 characters of the code alphabet: {first17!r}") from exc
    return ALPHABET[(31 - total % 31) % 31]


def organisation_check_character(body8: str) -> str:
    """The GB 11714 check character of an eight-character organisation code body."""
    if len(body8) != 8:
        raise CreditCodeError("uscc.org_code", f"an organisation code body has 8 characters: {body8!r}")
    total = 0
    for char, weight in zip(body8, _ORG_WEIGHTS, strict=True):
        if char.isdigit():
            total += int(char) * weight
        elif "A" <= char <= "Z":
            total += (ord(char) - 55) * weight
        else:
            raise CreditCodeError("uscc.org_code", f"invalid character {char!r} in organisation code")
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def parse_credit_code(raw: str) -> CreditCode:
    """Validate a unified social credit code; raises :class:`CreditCodeError` saying what is wrong."""
    value = compact(raw).upper()
    if len(value) != 18:
        raise CreditCodeError("uscc.length", f"a unified social credit code has 18 characters, got {len(value)}")
    bad = [c for c in value if c not in _VALUE]
    if bad:
        raise CreditCodeError("uscc.format", f"character {bad[0]!r} is not allowed (no I, O, S, V, Z)")
    authority = REGISTRATION_AUTHORITIES.get(value[0])
    if authority is None:
        raise CreditCodeError("uscc.authority", f"{value[0]!r} is not a registration authority code")
    if value[1] not in authority[1]:
        raise CreditCodeError("uscc.org_type", f"organisation type {value[1]!r} is not valid for {authority[0]}")
    if not value[2:8].isdigit():
        raise CreditCodeError("uscc.area", "characters 3–8 are an area code of six digits")
    expected = check_character(value[:17])
    if value[17] != expected:
        raise CreditCodeError("uscc.check_digit", f"check character is {value[17]}, expected {expected}")
    if organisation_check_character(value[8:16]) != value[16]:
        raise CreditCodeError("uscc.org_code", f"the organisation code {value[8:17]} fails its own check")
    return CreditCode(value, value[0], value[1], value[2:8], value[8:17])


def is_valid_credit_code(raw: str) -> bool:
    """True when :func:`parse_credit_code` accepts the value."""
    try:
        parse_credit_code(raw)
    except CreditCodeError:
        return False
    return True


def make_credit_code(authority: str, org_type: str, area_code: str, body8: str) -> str:
    """Compose a valid code from its parts; ``body8`` uses digits and upper-case letters."""
    org_code = body8 + organisation_check_character(body8)
    first17 = f"{authority}{org_type}{area_code}{org_code}"
    return first17 + check_character(first17)


def parse_old_tax_id(raw: str) -> str:
    """A 15-character 税务登记证号 issued before the unified code: a six-digit area code and the nine-character
    GB 11714 organisation code (whose check character must fit). Returns it compact and upper-case; the
    registry maps it to the enterprise's unified code through the organisation code both contain."""
    value = compact(raw).upper()
    if len(value) != 15 or not value[:6].isdigit():
        raise CreditCodeError("tax_id.format", "an old tax ID is a six-digit area code and a nine-character "
                                               "organisation code")
    if organisation_check_character(value[6:14]) != value[14]:
        raise CreditCodeError("tax_id.org_code", f"the organisation code {value[6:]} fails its own check")
    return value


def is_old_tax_id(raw: str) -> bool:
    try:
        parse_old_tax_id(raw)
    except CreditCodeError:
        return False
    return True
