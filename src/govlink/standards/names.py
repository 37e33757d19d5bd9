"""Person and enterprise names in the forms in which records from different departments are compared.

Both forms are half-width and simplified (OpenCC ``t2s``).  A person name keeps the middle dot
of minority and foreign names (阿沛·阿旺晋美).  An enterprise name loses a leading region
prefix and reads 有限公司 for 有限责任公司, so "浙江省杭州市某某有限责任公司" and "某某有限公司"
compare equal; region stripping is a heuristic without a gazetteer, meant for matching only.
"""

from __future__ import annotations

import re
import unicodedata

import opencc

from govlink.standards.text import squeeze_spaces, to_halfwidth

_T2S = opencc.OpenCC("t2s")  # building a converter loads dictionaries, so do it once

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_MIDDLE_DOTS = re.compile(r"\s*[·・•‧･∙]\s*")
_SPACE_AFTER_CJK = re.compile(rf"(?<=[{_CJK}（）])\s+")
_SPACE_BEFORE_CJK = re.compile(rf"\s+(?=[{_CJK}（）])")
_OPEN_BRACKETS = str.maketrans({"(": "（", "[": "（", "【": "（", "〔": "（", "〈": "（", "《": "（"})
_CLOSE_BRACKETS = str.maketrans({")": "）", "]": "）", "】": "）", "〕": "）", "〉": "）", "》": "）"})

# Region names at the start of an enterprise name: 2–6 characters and an administrative suffix.
# The look-behind and look-ahead keep words such as 超市, 社区, 市场 and 区块链 out of it.
_REGION_PREFIX = re.compile(
    rf"(?:(?![省市区县])[{_CJK}]){{2,6}}?"
    r"(?:特别行政区|自治区|自治州|自治县|"
    r"(?<![超门城都股夜菜花])市|(?<![社园景校小街厂营山郊专辖])区|省|县)"
    r"(?![场块域级政民委长内外属钱心力])"
)
# Bare province and Zhejiang city names that enterprise names often open with, without a suffix.
BARE_REGION_NAMES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建",
    "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
    "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
    "杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水",
)  # fmt: skip
_BARE_REGION = re.compile(f"(?:{'|'.join(sorted(BARE_REGION_NAMES, key=len, reverse=True))})(?![省市区县])")
# What is left after a region prefix must name the enterprise, not only its legal form.
_MIN_REMAINDER = 4
_LEGAL_FORM = re.compile("有限|股份|公司|集团|合伙|（")


def _simplified_halfwidth(raw: str) -> str:
    return str(_T2S.convert(to_halfwidth(unicodedata.normalize("NFC", raw))))


def normalise_person_name(raw: str) -> str:
    """Half-width, simplified, no spaces between Chinese characters, one kind of middle dot (·)."""
    value = _MIDDLE_DOTS.sub("·", _simplified_halfwidth(raw))
    value = _SPACE_BEFORE_CJK.sub("", _SPACE_AFTER_CJK.sub("", value))
    return squeeze_spaces(value)


def _strip_region_prefix(name: str) -> str:
    while True:
        match = _REGION_PREFIX.match(name) or _BARE_REGION.match(name)
        rest = name[match.end() :] if match else ""
        if match is None or len(rest) < _MIN_REMAINDER or _LEGAL_FORM.match(rest):
            return name
        name = rest


def normalise_enterprise_name(raw: str) -> str:
    """The name as compared across registries: half-width, simplified, （） brackets, no region prefix.

    有限责任公司 becomes 有限公司; spaces next to Chinese characters go, others are squeezed.
    """
    value = _simplified_halfwidth(raw).translate(_OPEN_BRACKETS).translate(_CLOSE_BRACKETS)
    value = squeeze_spaces(_SPACE_BEFORE_CJK.sub("", _SPACE_AFTER_CJK.sub("", value)))
    value = value.replace("有限责任公司", "有限公司")
    return _strip_region_prefix(value)


def enterprise_name_key(raw: str) -> str:
    """The normalised enterprise name with every space and punctuation mark removed, for matching."""
    return "".join(c for c in normalise_enterprise_name(raw) if unicodedata.category(c)[0] in "LN")
