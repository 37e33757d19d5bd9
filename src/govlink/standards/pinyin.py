"""Chinese person names read as tone-less pinyin, so entity resolution can compare how names sound.

Departments write the same person with different characters of the same sound (张伟, 张炜, 张玮) and
romanise names on passports and foreign-resident cards, so GovLink also compares names as pinyin:

- :func:`split_name` — surname and given name of a normalised name (see
  :func:`govlink.standards.names.normalise_person_name`), with 复姓 (欧阳, 司马 …) kept whole and
  the last part of a 少数民族 or foreign name (阿依古丽·买买提, john smith) taken as the surname.
- :func:`name_pinyin` — ``"zhang wei"`` for all three 张伟, with a surname read as a surname
  (单 shan, 曾 zeng, 区 ou) rather than by pypinyin's most common reading.
- :func:`name_initials` — ``"oynn"`` for 欧阳娜娜.

Everything is pure and deterministic: pypinyin ships its dictionary, so nothing is downloaded.
The functions are called once per distinct name over hundreds of thousands of names, so readings
are cached per character and per given name, and a full lazy_pinyin call (about 20 µs) is made only
for a given name with a 多音字, the only kind whose reading pypinyin's phrase dictionary can change.
"""

from __future__ import annotations

from functools import cache, lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

__all__ = ["COMPOUND_SURNAMES", "SURNAME_READINGS", "name_initials", "name_pinyin", "split_name"]

# 复姓: two-character surnames, taken whole when the name has a given name after them.
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
        "夏侯", "轩辕", "令狐", "钟离", "端木", "澹台", "万俟", "闻人", "西门", "南宫", "百里", "呼延",
        "赫连", "独孤", "申屠", "公冶", "太史", "濮阳", "淳于", "单于", "司空", "鲜于", "闾丘", "东郭",
        "公羊", "拓跋", "第五", "羊舌", "微生", "梁丘", "左丘", "东门", "乐正", "宗政", "公良", "亓官",
        "仲孙", "叔孙", "巫马", "公西", "漆雕", "壤驷", "公输", "谷梁", "段干", "子车", "颛孙", "司寇",
        "太叔", "完颜",
    }
)  # fmt: skip

# Surnames whose reading as a surname is not what lazy_pinyin gives for them on their own; a
# compound surname's syllables are separated by a space.  Surnames that pypinyin already reads
# right (沈 shen, 葛 ge, 尉迟 yu chi, 万俟 mo qi, 单于 chan yu, 长孙 zhang sun …) are left out.
SURNAME_READINGS: dict[str, str] = {
    "秘": "bi",
    "薄": "bo",
    "卜": "bu",
    "长": "chang",  # 长 alone is cháng; 长孙 is zhǎngsūn, as pypinyin reads it
    "种": "chong",
    "重": "chong",
    "都": "du",
    "盖": "ge",  # some families say gài
    "句": "gou",
    "角": "jue",
    "阚": "kan",
    "缪": "miao",
    "能": "nai",
    "佴": "nai",
    "粘": "nian",
    "乜": "nie",
    "区": "ou",
    "便": "pian",
    "蕃": "pi",
    "朴": "piao",
    "繁": "po",
    "覃": "qin",  # many families in Guangxi say tán
    "仇": "qiu",
    "单": "shan",
    "召": "shao",
    "折": "she",
    "率": "shuai",
    "隗": "wei",  # kuí is also heard
    "解": "xie",
    "铅": "yan",
    "乐": "yue",  # some families say lè
    "乐正": "yue zheng",
    "员": "yun",  # yuán is also heard
    "藏": "zang",
    "曾": "zeng",
    "查": "zha",
    "翟": "zhai",  # dí is also heard
    "祭": "zhai",
}

_MIDDLE_DOT = "·"


def _is_han(char: str) -> bool:
    # The CJK ideograph blocks (basic, extension A, compatibility, extensions B–H), compared as strings for speed.
    return (
        "\u4e00" <= char <= "\u9fff"
        or "\u3400" <= char <= "\u4dbf"
        or "\uf900" <= char <= "\ufaff"
        or "\U00020000" <= char <= "\U0003134f"
    )


def _split(name: str) -> tuple[str, str, bool]:
    """Surname, given name, and whether the surname is written first."""
    if not name:
        return "", "", True
    if _MIDDLE_DOT in name:
        given, _, surname = name.rpartition(_MIDDLE_DOT)
        return surname, given, False
    if " " in name or not _is_han(name[0]):
        given, _, surname = name.rpartition(" ")
        return surname, given, False
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:], True
    return name[0], name[1:], True


def split_name(name: str) -> tuple[str, str]:
    """The surname and given name of a normalised person name.

    A Chinese name starts with its surname: a 复姓 from :data:`COMPOUND_SURNAMES` when a given
    name follows it, otherwise the first character (张三 → 张, 三; 欧阳娜娜 → 欧阳, 娜娜).  A name
    with a middle dot, or one that is not Chinese, ends with its surname: the part after the last
    ``·`` or, failing that, the last space (阿依古丽·买买提 → 买买提, 阿依古丽; john smith → smith,
    john).  The empty name splits into two empty strings.
    """
    surname, given, _ = _split(name)
    return surname, given


@cache  # bounded by the number of Chinese characters
def _char_reading(char: str) -> tuple[str, bool]:
    """The character's default tone-less reading, and whether it has another one (多音字)."""
    readings = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
    return readings[0], len(readings) > 1


@lru_cache(maxsize=1 << 18)
def _syllables(text: str) -> tuple[str, ...]:
    """What lazy_pinyin reads for the text, split into lower-case syllables."""
    readings: list[str] = []
    for char in text:
        if not _is_han(char):
            break
        reading, polyphonic = _char_reading(char)
        if polyphonic:
            break
        readings.append(reading)
    else:
        # Without a 多音字 no phrase can change a reading, so the per-character readings are lazy_pinyin's.
        return tuple(readings)
    syllables: list[str] = []
    # One call for the whole text, so pypinyin's phrase dictionary picks the readings (长青 chang qing).
    for item in lazy_pinyin(text, style=Style.NORMAL):
        # Non-Chinese runs come back whole ("john smith", "a·b"); spaces and dots separate syllables.
        syllables.extend(item.lower().replace(_MIDDLE_DOT, " ").split())
    return tuple(syllables)


def _surname_syllables(surname: str) -> tuple[str, ...]:
    reading = SURNAME_READINGS.get(surname)
    return tuple(reading.split()) if reading is not None else _syllables(surname)


def _name_syllables(name: str) -> tuple[str, ...]:
    surname, given, surname_first = _split(name)
    if surname_first:
        return _surname_syllables(surname) + _syllables(given)
    return _syllables(given) + _surname_syllables(surname)


def name_pinyin(name: str) -> str:
    """The tone-less pinyin of a normalised person name, syllables joined by single spaces.

    The surname is read as a surname (:data:`SURNAME_READINGS`: 曾国藩 → ``zeng guo fan``), the
    given name as pypinyin reads it, ü as ``v`` (吕 → ``lv``); so homophones meet (张伟, 张炜,
    张玮 → ``zhang wei``).  Text that is not Chinese is lower-cased and split at spaces and middle
    dots (John Smith → ``john smith``); the syllables keep the order in which the name is written.
    """
    return " ".join(_name_syllables(name))


def name_initials(name: str) -> str:
    """The first letter of each syllable of :func:`name_pinyin` (欧阳娜娜 → ``oynn``)."""
    return "".join(syllable[0] for syllable in _name_syllables(name))
