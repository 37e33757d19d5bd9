"""The word lists the synthetic district is drawn from, loaded once from ``demo/data``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CharPool:
    """Characters with the probability of drawing each."""

    chars: tuple[str, ...]
    p: FloatArray


@dataclass(frozen=True, slots=True)
class Street:
    name: str
    weight: float
    communities: tuple[str, ...]
    roads: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Industry:
    word: str  # as it appears in the enterprise name
    category: str  # 国民经济行业分类 wording
    pollutes: bool  # needs a pollutant discharge permit (排污许可)
    weight: float


@dataclass(frozen=True, slots=True)
class Vocabulary:
    surnames: tuple[str, ...]
    surname_p_zhejiang: FloatArray
    surname_p_national: FloatArray
    single_share: dict[str, float]  # era -> share of one-character given names
    given: dict[tuple[str, str, bool], CharPool]  # (era, "male"/"female", single) -> pool
    rare_chars: dict[str, tuple[str, ...]]  # gender -> characters outside GBK
    homophones: dict[str, tuple[str, ...]]  # character -> characters read alike
    area_codes: tuple[str, ...]
    area_names: dict[str, str]
    area_groups: dict[str, tuple[tuple[str, ...], FloatArray]]  # group -> codes, p
    streets: tuple[Street, ...]
    ethnic_groups: tuple[str, ...]
    ethnic_p: FloatArray
    primary_schools: tuple[str, ...]
    secondary_schools: tuple[str, ...]
    clinics: tuple[str, ...]
    trade_chars: tuple[str, ...]
    industries: tuple[Industry, ...]
    shops: tuple[Industry, ...]
    coop_places: tuple[str, ...]
    coop_products: tuple[tuple[str, str], ...]
    tax_offices: tuple[str, ...]


def _text(name: str) -> str:
    return files("govlink.demo").joinpath("data", name).read_text(encoding="utf-8")


def _rows(name: str) -> list[list[str]]:
    return [line.split("\t") for line in _text(name).splitlines() if line.strip() and not line.startswith("#")]


def _normalised(weights: list[float]) -> FloatArray:
    array = np.asarray(weights, dtype=np.float64)
    result: FloatArray = array / array.sum()
    return result


def _pool(spec: str) -> CharPool:
    """Parse ``"伟60 强15"`` (a character followed by its weight)."""
    weights: dict[str, float] = {}
    for token in spec.split():
        weights[token[0]] = weights.get(token[0], 0.0) + float(token[1:])
    return CharPool(tuple(weights), _normalised(list(weights.values())))


@cache
def load_vocabulary() -> Vocabulary:
    """Read every data file; cached, so later calls are free."""
    surnames = _rows("surnames.tsv")
    given: dict[str, Any] = json.loads(_text("given_names.json"))
    pools = {
        (era, gender, single): _pool(given[era][gender + ("_single" if single else "")])
        for era in ("classic", "modern")
        for gender in ("male", "female")
        for single in (False, True)
    }
    homophones: dict[str, tuple[str, ...]] = {}
    for line in _text("homophones.txt").splitlines():
        if line.strip() and not line.startswith("#"):
            alike = line.split()
            for char in alike:
                homophones[char] = tuple(c for c in alike if c != char)
    areas = _rows("areas.tsv")
    groups: dict[str, tuple[tuple[str, ...], FloatArray]] = {}
    for group in sorted({row[2] for row in areas}):
        members = [row for row in areas if row[2] == group]
        groups[group] = (tuple(r[0] for r in members), _normalised([float(r[3]) for r in members]))
    places: dict[str, Any] = json.loads(_text("streets.json"))
    words: dict[str, Any] = json.loads(_text("enterprise_words.json"))
    return Vocabulary(
        surnames=tuple(r[0] for r in surnames),
        surname_p_zhejiang=_normalised([float(r[1]) for r in surnames]),
        surname_p_national=_normalised([float(r[2]) for r in surnames]),
        single_share={era: float(v) for era, v in given["single_share"].items()},
        given=pools,
        rare_chars={g: tuple(given["rare"][g].split()) for g in ("male", "female")},
        homophones=homophones,
        area_codes=tuple(r[0] for r in areas),
        area_names={r[0]: r[1] for r in areas},
        area_groups=groups,
        streets=tuple(
            Street(s["name"], float(s["weight"]), tuple(s["communities"]), tuple(s["roads"])) for s in places["streets"]
        ),
        ethnic_groups=tuple(e[0] for e in places["ethnic_groups"]),
        ethnic_p=_normalised([float(e[1]) for e in places["ethnic_groups"]]),
        primary_schools=tuple(places["schools"]["primary"]),
        secondary_schools=tuple(places["schools"]["secondary"]),
        clinics=tuple(places["clinics"]),
        trade_chars=tuple(dict.fromkeys(words["trade_chars"])),
        industries=tuple(Industry(i[0], i[1], bool(i[2]), float(i[3])) for i in words["industries"]),
        shops=tuple(Industry(s[0], s[1], bool(s[2]), 1.0) for s in words["shops"]),
        coop_places=tuple(words["coop_places"]),
        coop_products=tuple((p[0], p[1]) for p in words["coop_products"]),
        tax_offices=tuple(words["tax_offices"]),
    )
