"""Default display of personal values by sensitivity (脱敏): what an official sees without a grant.

Names keep their first and last character (张*三, 欧**娜), mobiles their first three and last four digits
(138****5678), ID numbers their six-digit area and last four characters (110101********1234), addresses stop at
the street (浙江省杭州市西湖区北山街道…).  An enterprise's name, credit code and address are public registration
facts and stay as they are; its legal representative's name is a person's.
"""

from __future__ import annotations

from govlink.standards.addresses import AddressError, parse_address

HIDDEN = "*"
# Attributes of a person shown only masked; anything else of a person is hidden entirely unless listed as public.
PUBLIC_PERSON_ATTRIBUTES = frozenset({"gender", "ethnicity"})
PUBLIC_ENTERPRISE_ATTRIBUTES = frozenset({"name", "uscc", "old_tax_id", "address", "registered_on", "status"})


def mask_name(value: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳娜娜 → 欧**娜; Latin names keep their first letter of each word."""
    if " " in value.strip():
        return " ".join(w[:1] + HIDDEN * (len(w) - 1) for w in value.split())
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + HIDDEN
    return value[0] + HIDDEN * (len(value) - 2) + value[-1]


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678; a landline keeps its area code and last two digits."""
    digits = value.strip()
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + HIDDEN * 4 + digits[-4:]
    if len(digits) <= 4:
        return HIDDEN * len(digits)
    head = digits.split("-")[0] + "-" if "-" in digits else digits[:3]
    return head + HIDDEN * max(len(digits) - len(head) - 2, 1) + digits[-2:]


def mask_id_number(value: str) -> str:
    """110101199003071234 → 110101********1234 (the area stays: it is where, not who)."""
    text = value.strip()
    if len(text) < 10:
        return HIDDEN * len(text)
    return text[:6] + HIDDEN * (len(text) - 10) + text[-4:]


def mask_address(value: str) -> str:
    """Cut at the street (街道/镇/乡): what is left places a person in a neighbourhood, not at a door."""
    try:
        parsed = parse_address(value)
    except AddressError:
        return value[:6] + "…" if len(value) > 6 else HIDDEN * len(value)
    city = parsed.city if parsed.city != parsed.province else ""  # a municipality (北京市) is both
    kept = parsed.province + city + parsed.district + parsed.street
    return kept + "…" if kept else HIDDEN * 3


def mask_date(value: str) -> str:
    """A birth date shows its year only."""
    return value[:4] + "-**-**" if len(value) >= 4 else HIDDEN * len(value)


def mask_value(attribute: str, entity_type: str, value: str | None) -> str | None:
    """The default display of one attribute's value of a person or an enterprise."""
    if value is None or value == "":
        return value
    if entity_type == "enterprise":
        if attribute in PUBLIC_ENTERPRISE_ATTRIBUTES:
            return value
        return mask_name(value) if attribute in ("legal_rep_name", "name") else HIDDEN * 4
    if attribute in PUBLIC_PERSON_ATTRIBUTES:
        return value
    masks = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number, "address": mask_address,
             "birth_date": mask_date}
    mask = masks.get(attribute)
    return mask(value) if mask else HIDDEN * 4
