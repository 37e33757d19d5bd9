"""The true population of the demo district: households, people, their ID numbers and addresses.

Everything is drawn column by column with a seeded :class:`numpy.random.Generator`; the only
per-person Python loop composes ID numbers through :func:`make_id_number`, because uniqueness
has to be checked one number at a time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from govlink.demo.district import DISTRICT_CODE
from govlink.demo.vocabulary import CharPool, Vocabulary
from govlink.standards.id_number import Gender, make_id_number

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# The day the departments exported their files; ages and "current" facts are as of this day.
REFERENCE_DATE = dt.date(2026, 10, 31)
_REF = REFERENCE_DATE.toordinal()
_UNIX_EPOCH = dt.date(1970, 1, 1).toordinal()
_YEAR = 365.2425

# Household templates: H head, S spouse, C child, P parent of the head, L child-in-law, G grandchild.
_TEMPLATES: tuple[tuple[str, float], ...] = (
    ("H", 0.20),
    ("HS", 0.28 * 0.72),
    ("HC", 0.28 * 0.28),
    ("HSC", 0.27 * 0.85),
    ("HCC", 0.27 * 0.05),
    ("HSP", 0.27 * 0.10),
    ("HSCC", 0.14 * 0.55),
    ("HSCP", 0.14 * 0.30),
    ("HSCL", 0.14 * 0.15),
    ("HSCPP", 0.08 * 0.45),
    ("HSCCP", 0.08 * 0.20),
    ("HSCLG", 0.08 * 0.35),
    ("HSCCPP", 0.03 * 0.4),
    ("HSCLGG", 0.03 * 0.6),
)
# Age ranges of the head for each template: (low, high, weight) pieces.
_HEAD_AGES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "H": ((20, 40, 0.6), (40, 92, 0.4)),
    "HS": ((22, 38, 0.5), (50, 88, 0.5)),
    "HC": ((40, 88, 1.0),),
}
_ROLE_CODES = "HSCPLG"
_RELATION_MALE = {"H": "户主", "S": "配偶", "C": "子", "P": "父亲", "L": "女婿", "G": "孙子"}
_RELATION_FEMALE = {"H": "户主", "S": "配偶", "C": "女", "P": "母亲", "L": "儿媳", "G": "孙女"}
_MOBILE_PREFIXES = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
    166, 170, 173, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 198, 199,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Addresses:
    """Address parts, one entry per household (or enterprise): 街道, road, 号, 幢, 单元, 室."""

    street: IntArray  # index into Vocabulary.streets
    community: list[str]
    road: list[str]
    number: IntArray
    building: IntArray
    unit: IntArray
    room: IntArray


@dataclass(frozen=True, slots=True)
class Population:
    """The true people; lists hold text, arrays hold numbers, all indexed by person."""

    ids: list[str]
    household: IntArray  # index of the person's household
    household_ids: list[str]  # per household
    role: list[str]  # template role code, see _TEMPLATES
    relation: list[str]  # 与户主关系
    surname: list[str]
    given: list[str]
    name: list[str]
    male: BoolArray
    birth: IntArray  # proleptic Gregorian ordinal
    birth_year: IntArray
    birth_month: IntArray
    birth_day: IntArray
    id_number: list[str]
    local: BoolArray  # household registered (户籍) in the district; others are 流动人口
    ethnicity: list[str]
    phone: list[str]  # "" for young children and some of the old
    guardian: IntArray  # a parent for children and grandchildren, -1 otherwise
    partner: IntArray  # the spouse for head and spouse, -1 otherwise
    rare_name: BoolArray  # given name has a character outside GBK
    home: Addresses  # per household, current
    previous: Addresses  # per household, before moving (same as home when not moved)
    moved: BoolArray  # per household
    moved_on: IntArray  # per household, ordinal; 0 when not moved

    @property
    def size(self) -> int:
        return len(self.ids)

    def age_years(self) -> IntArray:
        """Completed years of age on REFERENCE_DATE."""
        ref = REFERENCE_DATE
        before = (self.birth_month > ref.month) | ((self.birth_month == ref.month) & (self.birth_day > ref.day))
        ages: IntArray = ref.year - self.birth_year - before.astype(np.int64)
        return ages


def split_dates(ordinals: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Year, month and day arrays of proleptic Gregorian ordinals."""
    days = (ordinals - _UNIX_EPOCH).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    return year, month, day


def draw_addresses(rng: np.random.Generator, vocab: Vocabulary, count: int) -> Addresses:
    """Residential addresses across the district's streets, by street population weight."""
    weights = np.array([s.weight for s in vocab.streets])
    street = rng.choice(len(vocab.streets), size=count, p=weights / weights.sum())
    pick_c = rng.random(count)
    pick_r = rng.random(count)
    streets = vocab.streets
    community = [
        streets[s].communities[int(u * len(streets[s].communities))]
        for s, u in zip(street.tolist(), pick_c.tolist(), strict=True)
    ]
    road = [
        streets[s].roads[int(u * len(streets[s].roads))] for s, u in zip(street.tolist(), pick_r.tolist(), strict=True)
    ]
    number = np.clip(rng.lognormal(3.6, 1.0, count).astype(np.int64), 1, 688)
    building = rng.integers(1, 37, count)
    unit = rng.choice(np.arange(1, 5), size=count, p=[0.45, 0.35, 0.15, 0.05])
    floor = np.where(rng.random(count) < 0.7, rng.integers(1, 8, count), rng.integers(8, 29, count))
    room = floor * 100 + rng.integers(1, 5, count)
    return Addresses(street.astype(np.int64), community, road, number, building, unit, room.astype(np.int64))


def _choose_templates(rng: np.random.Generator, persons: int) -> list[str]:
    names = [t for t, _ in _TEMPLATES]
    p = np.array([w for _, w in _TEMPLATES])
    drawn = rng.choice(len(names), size=persons // 2 + 8, p=p / p.sum())
    chosen: list[str] = []
    total = 0
    for t in drawn.tolist():
        template = names[t]
        if total + len(template) >= persons:
            # The last household takes exactly the people left, so the total is exact.
            rest = persons - total
            fitting = [n for n in names if len(n) == rest]
            chosen.append(fitting[int(rng.integers(len(fitting)))])
            return chosen
        chosen.append(template)
        total += len(template)
    raise AssertionError("persons // 2 + 8 households always hold `persons` people")


def _head_ages(rng: np.random.Generator, templates: list[str]) -> npt.NDArray[np.float64]:
    ages = np.empty(len(templates))
    u = rng.random(len(templates))
    pick = rng.random(len(templates))
    for i, template in enumerate(templates):
        if template in _HEAD_AGES:
            pieces = _HEAD_AGES[template]
        elif "L" in template:
            pieces = ((55, 85, 1.0),)
        elif "P" in template:
            pieces = ((28, 52, 1.0),)
        else:
            pieces = ((27, 60, 1.0),)
        acc = 0.0
        for low, high, weight in pieces:
            acc += weight
            if pick[i] <= acc or (low, high, weight) == pieces[-1]:
                ages[i] = low + u[i] * (high - low)
                break
    return ages


def _given_names(rng: np.random.Generator, vocab: Vocabulary, male: BoolArray, year: IntArray) -> list[str]:
    n = len(male)
    modern = year >= 2000
    single = rng.random(n) < np.where(modern, vocab.single_share["modern"], vocab.single_share["classic"])
    first = np.empty(n, dtype=object)
    second = np.full(n, "", dtype=object)
    for era, era_mask in (("modern", modern), ("classic", ~modern)):
        for gender, g_mask in (("male", male), ("female", ~male)):
            for is_single in (True, False):
                mask = era_mask & g_mask & (single == is_single)
                count = int(mask.sum())
                if count == 0:
                    continue
                pool: CharPool = vocab.given[(era, gender, is_single)]
                chars = np.array(pool.chars, dtype=object)
                first[mask] = chars[rng.choice(len(chars), size=count, p=pool.p)]
                if not is_single:
                    second[mask] = chars[rng.choice(len(chars), size=count, p=pool.p)]
                    # Doubled names (婷婷) exist but are rarer than independent draws make them.
                    again = mask & (first == second)
                    second[again] = chars[rng.choice(len(chars), size=int(again.sum()), p=pool.p)]
    return [a + b for a, b in zip(first.tolist(), second.tolist(), strict=True)]


def _area_codes(
    rng: np.random.Generator, vocab: Vocabulary, group_p: list[float], count: int
) -> npt.NDArray[np.object_]:
    groups = ("home", "hangzhou", "zhejiang", "other")
    chosen = rng.choice(len(groups), size=count, p=np.array(group_p) / sum(group_p))
    out = np.empty(count, dtype=object)
    for g, name in enumerate(groups):
        mask = chosen == g
        codes, p = vocab.area_groups[name]
        out[mask] = np.array(codes, dtype=object)[rng.choice(len(codes), size=int(mask.sum()), p=p)]
    return out


def _phones(rng: np.random.Generator, count: int) -> list[str]:
    prefixes = np.array(_MOBILE_PREFIXES, dtype=np.int64)
    numbers = prefixes[rng.integers(0, len(prefixes), count)] * 100_000_000 + rng.integers(0, 100_000_000, count)
    while True:
        _, first = np.unique(numbers, return_index=True)
        repeat = np.ones(count, dtype=bool)
        repeat[first] = False
        if not repeat.any():
            return [str(v) for v in numbers.tolist()]
        k = int(repeat.sum())
        numbers[repeat] = prefixes[rng.integers(0, len(prefixes), k)] * 100_000_000 + rng.integers(0, 100_000_000, k)


def draw_population(rng: np.random.Generator, vocab: Vocabulary, persons: int) -> Population:
    """Draw ``persons`` people in households; the same generator state gives the same people."""
    if persons < 1:
        raise ValueError(f"a district needs at least one person, got persons={persons}")
    templates = _choose_templates(rng, persons)
    households = len(templates)
    sizes = np.array([len(t) for t in templates], dtype=np.int64)
    start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    hh = np.repeat(np.arange(households, dtype=np.int64), sizes)
    position = np.arange(persons, dtype=np.int64) - start[hh]
    role_text = "".join(templates)
    role = np.frombuffer(role_text.encode("ascii"), dtype="S1").astype("U1")
    is_role = {code: role == code for code in _ROLE_CODES}

    def first_index(code: str) -> IntArray:
        """Per household, the person index of the first member with this role, or -1."""
        offset = np.array([t.find(code) for t in templates], dtype=np.int64)
        return np.where(offset >= 0, start + offset, -1)

    head, spouse, child = start, first_index("S"), first_index("C")
    in_law, parent = first_index("L"), first_index("P")

    # Who is local: 82 % of households hold a 户籍 here; the rest are 流动人口.
    h_local = rng.random(households) < 0.82
    local = h_local[hh]

    # Gender.
    male = np.zeros(persons, dtype=bool)
    head_male_p = np.array([0.5 if t == "H" else 0.45 if t.startswith("HC") else 0.7 for t in templates])
    male[head] = rng.random(households) < head_male_p
    has_s = spouse >= 0
    male[spouse[has_s]] = ~male[head[has_s]]
    male[is_role["C"] | is_role["G"]] = rng.random(int((is_role["C"] | is_role["G"]).sum())) < 0.52
    has_l = in_law >= 0
    male[in_law[has_l]] = ~male[child[has_l]]
    two_parents = np.array([t.count("P") == 2 for t in templates], dtype=bool)
    one_parent = (parent >= 0) & ~two_parents
    male[parent[two_parents]] = True
    male[parent[two_parents] + 1] = False
    male[parent[one_parent]] = rng.random(int(one_parent.sum())) < 0.35

    # Age in years, by role relative to the head.
    head_age = _head_ages(rng, templates)
    a_head = head_age[hh]
    age = a_head.copy()
    sign = np.where(male[head[hh]], -1.0, 1.0)
    age = np.where(is_role["S"], np.clip(a_head + sign * rng.normal(2.0, 2.5, persons), 18, 99), age)
    with_gen = np.array(["L" in t for t in templates], dtype=bool)[hh]
    gap_hi = np.where(with_gen, 30.0, np.minimum(36.0, a_head - 0.2))
    gap_lo = np.where(with_gen, 24.0, np.minimum(23.0, gap_hi))
    child_age = a_head - (gap_lo + rng.random(persons) * (gap_hi - gap_lo))
    age = np.where(is_role["C"], np.maximum(child_age, 0.05), age)
    age = np.where(is_role["P"], np.clip(a_head + 22 + rng.random(persons) * 12, 0, 99), age)
    c_age = age[np.maximum(child[hh], 0)]
    age = np.where(is_role["L"], np.clip(c_age + rng.normal(0, 2.5, persons), 20, 99), age)
    g_hi = np.maximum(np.minimum(33.0, c_age - 0.2), 0.3)
    g_lo = np.minimum(22.0, g_hi - 0.25)
    age = np.where(is_role["G"], np.maximum(c_age - (g_lo + rng.random(persons) * (g_hi - g_lo)), 0.05), age)
    birth = _REF - 30 - (age * _YEAR).astype(np.int64)
    # Twins: the second child (or grandchild) of some households shares the first one's birthday.
    second = (is_role["C"] | is_role["G"]) & (np.roll(role, 1) == role) & (position > 0)
    twins = second & (rng.random(persons) < 0.1)
    birth[twins] = birth[np.flatnonzero(twins) - 1]
    year, month, day = split_dates(birth)

    # Surnames: children follow the father, parents of the head share the head's surname.
    surname_arr = np.empty(persons, dtype=object)
    names = np.array(vocab.surnames, dtype=object)
    surname_arr[local] = names[rng.choice(len(names), size=int(local.sum()), p=vocab.surname_p_zhejiang)]
    surname_arr[~local] = names[rng.choice(len(names), size=int((~local).sum()), p=vocab.surname_p_national)]
    father = np.where(male[head] | ~has_s, head, spouse)
    heirs = is_role["C"] & (rng.random(persons) < 0.95)
    surname_arr[heirs] = surname_arr[father[hh[heirs]]]
    p_male = is_role["P"] & male
    surname_arr[p_male] = surname_arr[head[hh[p_male]]]
    g_father = np.where(male[np.maximum(child, 0)], child, in_law)
    grand = is_role["G"]
    surname_arr[grand] = surname_arr[g_father[hh[grand]]]
    surname = [str(s) for s in surname_arr.tolist()]
    given = _given_names(rng, vocab, male, year)

    # A few people carry a character outside GBK (生僻字), always some with a local 户籍.
    rare = np.zeros(persons, dtype=bool)
    local_idx = np.flatnonzero(local) if local.any() else np.arange(persons)
    k = min(len(local_idx), max(3, round(persons * 0.0005)))
    for i in sorted(rng.choice(local_idx, size=k, replace=False).tolist()):
        chars = vocab.rare_chars["male" if male[i] else "female"]
        given[i] = given[i][:-1] + chars[i % len(chars)]
        rare[i] = True
    name = [s + g for s, g in zip(surname, given, strict=True)]

    # Birthplace area codes (the first six digits of the ID number).
    area = np.empty(persons, dtype=object)
    area[local] = _area_codes(rng, vocab, [0.60, 0.20, 0.12, 0.08], int(local.sum()))
    area[~local] = _area_codes(rng, vocab, [0.0, 0.05, 0.20, 0.75], int((~local).sum()))
    born_here = rng.random(persons) < np.where(local, 0.85, 0.15)
    # Children before grandchildren, so a grandchild inherits its parent's final code.
    for code, parent_of in (("C", father[hh]), ("G", g_father[hh])):
        kids = is_role[code]
        area[kids] = np.where(born_here[kids], DISTRICT_CODE, area[parent_of[kids]])
    same_home = is_role["P"] & (rng.random(persons) < 0.8)
    area[same_home] = area[head[hh[same_home]]]

    id_number = _id_numbers(rng, area, birth, male)
    ethnic = np.array(vocab.ethnic_groups, dtype=object)[
        rng.choice(len(vocab.ethnic_groups), size=persons, p=vocab.ethnic_p)
    ]
    ages = (_REF - birth) / _YEAR
    has_phone = (ages >= 16) & (rng.random(persons) < np.where(ages >= 80, 0.6, 0.97))
    phones = _phones(rng, persons)
    phone = [p if keep else "" for p, keep in zip(phones, has_phone.tolist(), strict=True)]

    guardian = np.full(persons, -1, dtype=np.int64)
    mother_pick = rng.random(persons) < 0.5
    c_mask = is_role["C"]
    guardian[c_mask] = np.where(mother_pick[c_mask] & has_s[hh[c_mask]], spouse[hh[c_mask]], head[hh[c_mask]])
    guardian[grand] = np.where(mother_pick[grand], in_law[hh[grand]], child[hh[grand]])
    partner = np.full(persons, -1, dtype=np.int64)
    partner[head[has_s]] = spouse[has_s]
    partner[spouse[has_s]] = head[has_s]

    home = draw_addresses(rng, vocab, households)
    previous = draw_addresses(rng, vocab, households)
    moved = rng.random(households) < 0.12
    moved_on = np.where(moved, rng.integers(dt.date(2012, 1, 1).toordinal(), _REF - 30, households), 0)
    previous = _keep_where(previous, home, moved)

    relation = [
        (_RELATION_MALE if m else _RELATION_FEMALE)[r] for r, m in zip(role.tolist(), male.tolist(), strict=True)
    ]
    return Population(
        ids=[f"P{i + 1:07d}" for i in range(persons)],
        household=hh,
        household_ids=[f"H{h + 1:07d}" for h in range(households)],
        role=role.tolist(),
        relation=relation,
        surname=surname,
        given=given,
        name=name,
        male=male,
        birth=birth,
        birth_year=year,
        birth_month=month,
        birth_day=day,
        id_number=id_number,
        local=local,
        ethnicity=[str(e) for e in ethnic.tolist()],
        phone=phone,
        guardian=guardian,
        partner=partner,
        rare_name=rare,
        home=home,
        previous=previous,
        moved=moved,
        moved_on=moved_on.astype(np.int64),
    )


def _keep_where(previous: Addresses, home: Addresses, moved: BoolArray) -> Addresses:
    """Previous address where the household moved, the home address elsewhere."""
    m = moved.tolist()
    return Addresses(
        street=np.where(moved, previous.street, home.street),
        community=[p if x else h for p, h, x in zip(previous.community, home.community, m, strict=True)],
        road=[p if x else h for p, h, x in zip(previous.road, home.road, m, strict=True)],
        number=np.where(moved, previous.number, home.number),
        building=np.where(moved, previous.building, home.building),
        unit=np.where(moved, previous.unit, home.unit),
        room=np.where(moved, previous.room, home.room),
    )


def _id_numbers(rng: np.random.Generator, area: npt.NDArray[np.object_], birth: IntArray, male: BoolArray) -> list[str]:
    sequence = rng.integers(0, 100, len(area)).tolist()
    seen: set[str] = set()
    out: list[str] = []
    for code, ordinal, seq, is_male in zip(area.tolist(), birth.tolist(), sequence, male.tolist(), strict=True):
        born = dt.date.fromordinal(ordinal)
        gender = Gender.MALE if is_male else Gender.FEMALE
        for step in range(100):
            value = make_id_number(code, born, (seq + step) % 100, gender)
            if value not in seen:
                break
        else:
            raise RuntimeError(f"more than 100 people of one gender born on {born} in area {code}")
        seen.add(value)
        out.append(value)
    return out
