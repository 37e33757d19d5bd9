"""The true district handed to every extract builder, and the column helpers they share."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np

from govlink.demo import noise
from govlink.demo.enterprises import Enterprises
from govlink.demo.population import Addresses, BoolArray, IntArray, Population
from govlink.demo.table import ExtractTable, Perturbation
from govlink.demo.vocabulary import Vocabulary

Format = Literal["csv", "tsv", "xlsx", "jsonl"]
Subject = Literal["person", "enterprise"]
_COMPOUND_SURNAMES = ("诸葛", "欧阳", "司马", "上官")
_HOUSE_NUMBER = re.compile(r"(\d+)号")


@dataclass(frozen=True, slots=True)
class World:
    vocab: Vocabulary
    pop: Population
    ent: Enterprises
    employer: IntArray  # per person: enterprise index or -1


@dataclass(frozen=True, slots=True)
class ExtractSpec:
    """How a department hands over one extract."""

    department_code: str
    file_name: str
    title: str  # what the department calls the data, e.g. 户籍人口信息
    format: Format
    encoding: str | None  # a Python codec name; None for xlsx
    subject: Subject
    title_rows: tuple[str, ...] = ()  # xlsx only: lines above the header, each a merged cell
    line_terminator: str = "\n"


@dataclass(frozen=True, slots=True)
class BuiltExtract:
    spec: ExtractSpec
    table: ExtractTable


@dataclass(frozen=True, slots=True)
class AddressStyle:
    """How a department writes an address: which prefix, whether the 街道 is named, which building word."""

    prefix: str
    with_street: bool = True
    building_word: str = "幢"
    room_suffix: str = "室"


FULL = AddressStyle("浙江省杭州市西湖区")


def split_name(name: str) -> tuple[str, str]:
    cut = 2 if name[:2] in _COMPOUND_SURNAMES else 1
    return name[:cut], name[cut:]


def render_addresses(vocab: Vocabulary, parts: Addresses, index: Sequence[int], style: AddressStyle) -> list[str]:
    """Residential addresses (号, 幢, 单元, 室) of the households or enterprises at ``index``."""
    streets = [s.name for s in vocab.streets] if style.with_street else [""] * len(vocab.streets)
    p, bw, rs = style.prefix, style.building_word, style.room_suffix
    st, rd = parts.street.tolist(), parts.road
    no, bu, un, ro = parts.number.tolist(), parts.building.tolist(), parts.unit.tolist(), parts.room.tolist()
    return [f"{p}{streets[st[h]]}{rd[h]}{no[h]}号{bu[h]}{bw}{un[h]}单元{ro[h]}{rs}" for h in index]


def person_addresses(world: World, persons: IntArray, style: AddressStyle, old: BoolArray) -> list[str]:
    """Current address of each person, or the one before the household moved where ``old``."""
    households = world.pop.household[persons].tolist()
    current = render_addresses(world.vocab, world.pop.home, households, style)
    if old.any():
        rows = np.flatnonzero(old).tolist()
        before = render_addresses(world.vocab, world.pop.previous, [households[r] for r in rows], style)
        for r, text in zip(rows, before, strict=True):
            current[r] = text
    return current


def enterprise_addresses(world: World, ents: IntArray, prefix: str, building_word: str = "号楼") -> list[str]:
    a = world.ent.address
    shop = world.ent.shopfront.tolist()
    rd, no, bu, ro = a.road, a.number.tolist(), a.building.tolist(), a.room.tolist()
    return [
        f"{prefix}{rd[e]}{no[e]}号"
        if shop[e]
        else f"{prefix}{rd[e]}{no[e]}号{bu[e]}{building_word}{ro[e] // 100}层{ro[e]}室"
        for e in ents.tolist()
    ]


def house_number_in_words(value: str, r: int = 0) -> str:
    """12号 → 十二号 for the house number (the first number followed by 号)."""
    return _HOUSE_NUMBER.sub(lambda m: noise.chinese_numeral(int(m.group(1))) + "号", value, count=1)


def drop_prefix(value: str, r: int = 0) -> str:
    for prefix in ("浙江省", "杭州市", "西湖区"):
        value = value.removeprefix(prefix)
    return value


def moved_mask(world: World, persons: IntArray, rate: float, rng: np.random.Generator) -> BoolArray:
    """Rows whose department still holds the address from before the household moved."""
    moved: BoolArray = world.pop.moved[world.pop.household[persons]]
    return moved & (rng.random(len(persons)) < rate)


def add_address(
    table: ExtractTable, header: str, values: list[str], old: BoolArray, rates: Mapping[str, float], role: str = ""
) -> None:
    """Add an address column, log old addresses, then vary a share of the rest."""
    table.add(header, values, role=role, field="address")
    table.mark(header, np.flatnonzero(old).tolist(), "address_old")
    transforms = {
        "address_building": noise.vary_building,
        "address_cn_numeral": house_number_in_words,
        "address_fullwidth": noise.fullwidth,
        "address_no_prefix": drop_prefix,
    }
    for kind, rate in rates.items():
        eligible = None
        if kind == "address_no_prefix":
            eligible = np.array(
                [v.startswith(("浙江省", "杭州市", "西湖区")) for v in table.values(header)], dtype=bool
            )
        elif kind == "address_building":
            eligible = np.array([any(w in v for w in noise.BUILDING_WORDS) for v in table.values(header)], dtype=bool)
        table.corrupt(header, kind, rate, transforms[kind], eligible)


def corrupt_id(table: ExtractTable, header: str, birth_year: IntArray, rates: Mapping[str, float]) -> None:
    """ID-number noise, in a fixed order so that the kinds stay exclusive within a cell."""
    values = table.values(header)
    eighteen = np.array([len(v) == 18 for v in values], dtype=bool)
    transforms = {
        "id_missing": (lambda v, r: "", None),
        "id_legacy15": (noise.id_legacy15, eighteen & (birth_year < 2000)),
        "id_mistyped": (noise.id_mistyped, eighteen),
        "id_fullwidth": (noise.fullwidth, None),
        "id_spaced": (noise.spaced_code, None),
        "id_lower_x": (noise.lower_x, np.array([v.endswith("X") for v in values], dtype=bool)),
    }
    for kind in transforms:
        if kind in rates:
            transform, eligible = transforms[kind]
            table.corrupt(header, kind, rates[kind], transform, eligible)


def corrupt_phone(table: ExtractTable, header: str, rates: Mapping[str, float]) -> None:
    present = np.array([bool(v) for v in table.values(header)], dtype=bool)
    transforms = {
        "phone_missing": lambda v, r: "",
        "phone_spaced": noise.phone_spaced,
        "phone_fullwidth": noise.fullwidth,
        "phone_prefixed": noise.phone_prefixed,
    }
    for kind, transform in transforms.items():
        if kind in rates:
            table.corrupt(header, kind, rates[kind], transform, present)


def corrupt_name(table: ExtractTable, header: str, vocab: Vocabulary, rates: Mapping[str, float]) -> None:
    values = table.values(header)
    homophones = vocab.homophones

    def homophone(value: str, r: int) -> str:
        surname, given = split_name(value)
        return noise.name_homophone(surname, given, homophones, r)

    for kind in ("name_homophone", "name_traditional", "name_spaced"):
        if kind not in rates:
            continue
        if kind == "name_homophone":
            eligible = np.array(
                [bool(noise.homophone_positions(split_name(v)[1], homophones)) for v in values], dtype=bool
            )
            table.corrupt(header, kind, rates[kind], homophone, eligible)
        elif kind == "name_traditional":
            changing = _traditional_chars(vocab)
            eligible = np.array([any(c in changing for c in v) for v in values], dtype=bool)
            table.corrupt(header, kind, rates[kind], noise.traditional, eligible)
        else:
            table.corrupt(header, kind, rates[kind], noise.name_spaced)


def _traditional_chars(vocab: Vocabulary) -> frozenset[str]:
    """Name characters whose traditional form differs (so converting the name really changes it)."""
    chars = set("".join(vocab.surnames))
    for pool in vocab.given.values():
        chars.update(pool.chars)
    return _changed_by_s2t(frozenset(chars))


@cache
def _changed_by_s2t(chars: frozenset[str]) -> frozenset[str]:
    return frozenset(c for c in chars if noise.traditional(c) != c)


def add_dates(
    table: ExtractTable,
    header: str,
    ordinals: IntArray,
    style: str,
    *,
    role: str = "",
    field: str,
    other_styles: Sequence[str] = (),
    other_rate: float = 0.0,
) -> None:
    """A date column in the department's style; a share ``other_rate`` typed in ``other_styles``.

    Style ``excel`` gives real dates for xlsx cells; there the others are text (kind ``date_text``).
    """
    size = len(ordinals)
    other = (table.rng.random(size) < other_rate) if other_styles else np.zeros(size, dtype=bool)
    picks = table.rng.integers(0, max(len(other_styles), 1), size).tolist()
    values: list[object]
    if style == "excel":
        values = [dt.date.fromordinal(o) for o in ordinals.tolist()]
    else:
        from govlink.demo.population import split_dates

        y, m, d = split_dates(ordinals)
        values = list(noise.format_dates(y.tolist(), m.tolist(), d.tolist(), style))
    rows = np.flatnonzero(other).tolist()
    for row in rows:
        values[row] = noise.format_date(dt.date.fromordinal(int(ordinals[row])), other_styles[picks[row]])
    table.add(header, values, role=role, field=field)
    table.mark(header, rows, "date_text" if style == "excel" else "date_format")


def fresh_phone(value: str, r: int) -> str:
    """Another mobile number: the person changed phones between two registrations."""
    return f"1{('3', '5', '8', '9')[r % 4]}{r % 1_000_000_000:09d}"


def near_duplicate_changes(
    name: str | None = None, phone: str | None = None, address: str | None = None, id_number: str | None = None
) -> list[Perturbation]:
    """The usual ways a second registration of the same person differs from the first."""
    out: list[Perturbation] = []
    if name:
        out.append(Perturbation(name, "", "name", "name_spaced", noise.name_spaced))
    if phone:
        out.append(Perturbation(phone, "", "phone", "phone_changed", fresh_phone))
    if address:
        out.append(Perturbation(address, "", "address", "address_building", noise.vary_building))
    if id_number:
        out.append(Perturbation(id_number, "", "id_number", "id_missing", lambda v, r: ""))
    return out
