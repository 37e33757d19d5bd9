"""The true enterprises of the demo district and who works for them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from govlink.demo.district import DISTRICT_CODE
from govlink.demo.population import REFERENCE_DATE, Addresses, BoolArray, IntArray, Population, draw_addresses
from govlink.demo.vocabulary import Vocabulary
from govlink.standards.credit_code import ALPHABET, make_credit_code

_REF = REFERENCE_DATE.toordinal()
# The unified code replaced separate registration, organisation and tax codes from October 2015.
USCC_START = dt.date(2015, 10, 1).toordinal()

FORMS = ("有限公司", "有限责任公司", "股份有限公司", "个体工商户", "农民专业合作社")
_FORM_P = (0.66, 0.09, 0.02, 0.20, 0.03)
_COMPANY_PREFIXES = (("杭州", 0.55), ("杭州市", 0.05), ("浙江", 0.12), ("杭州市西湖区", 0.08), ("杭州西湖区", 0.05))
_BRACKET_REGION = 0.15  # share of companies named 字号+行业（杭州）有限公司


@dataclass(frozen=True, slots=True)
class Enterprises:
    """The true enterprises; lists hold text, arrays hold numbers, all indexed by enterprise."""

    ids: list[str]
    name: list[str]
    old_name: list[str]  # "" unless renamed
    renamed_on: IntArray  # ordinal, 0 unless renamed
    form: list[str]  # one of FORMS
    org_type: list[str]  # USCC organisation type: 1 企业, 2 个体工商户, 3 农民专业合作社
    uscc: list[str]
    old_tax_id: list[str]  # 15-character 税务登记证号 of enterprises registered before 2015-10; else ""
    industry: list[str]  # 国民经济行业分类 wording
    pollutes: BoolArray
    legal_rep: IntArray  # person index of the 法定代表人 / 经营者
    registered_on: IntArray
    active: BoolArray  # 存续, otherwise 注销
    deregistered_on: IntArray  # ordinal, 0 while active
    capital: npt.NDArray[np.float64]  # 注册资本, 万元; 0 for 个体工商户
    address: Addresses  # building, floor (room // 100) and room for offices
    shopfront: BoolArray  # address is a street number only (shops)
    employees: IntArray  # people insured through this employer (see assign_employers)

    @property
    def size(self) -> int:
        return len(self.ids)

    def status(self) -> list[str]:
        return ["存续" if a else "注销" for a in self.active.tolist()]


def _trade(rng: np.random.Generator, chars: tuple[str, ...], count: int) -> list[str]:
    a = rng.integers(0, len(chars), count).tolist()
    b = rng.integers(0, len(chars), count).tolist()
    return [chars[i] + chars[j] for i, j in zip(a, b, strict=True)]


def _company_name(prefix: str, trade: str, word: str, form: str, bracketed: bool) -> str:
    if bracketed:
        return f"{trade}{word}（杭州）{form}"
    return f"{prefix}{trade}{word}{form}"


def draw_enterprises(rng: np.random.Generator, vocab: Vocabulary, pop: Population, count: int) -> Enterprises:
    """Draw ``count`` enterprises whose legal representatives are adults of ``pop``."""
    form_idx = rng.choice(len(FORMS), size=count, p=_FORM_P)
    form = [FORMS[i] for i in form_idx.tolist()]
    company = form_idx <= 2
    org_type = np.where(company, "1", np.where(form_idx == 3, "2", "3"))

    # Legal representatives: adults 22–70, with some people heading several enterprises.
    ages = pop.age_years()
    adults = np.flatnonzero((ages >= 22) & (ages <= 70))
    if len(adults) == 0:
        adults = np.arange(pop.size)
    legal_rep = adults[rng.integers(0, len(adults), count)]
    serial = rng.random(count) < 0.05
    if count > 1:
        legal_rep[serial] = legal_rep[rng.integers(0, count, int(serial.sum()))]
    # Some people whose names need GB18030 run businesses too, so GBK-only systems meet them.
    rare = np.flatnonzero(pop.rare_name & (ages >= 22))[: max(1, count // 1000)]
    legal_rep[rng.choice(count, size=min(len(rare), count), replace=False)] = rare[: min(len(rare), count)]

    industries = vocab.industries
    weights = np.array([i.weight for i in industries])
    ind_idx = rng.choice(len(industries), size=count, p=weights / weights.sum())
    shop_idx = rng.integers(0, len(vocab.shops), count)
    coop_idx = rng.integers(0, len(vocab.coop_products), count)
    place_idx = rng.integers(0, len(vocab.coop_places), count)
    prefix_p = np.array([p for _, p in _COMPANY_PREFIXES])
    prefix_idx = rng.choice(len(_COMPANY_PREFIXES), size=count, p=prefix_p / prefix_p.sum())
    bracketed = rng.random(count) < _BRACKET_REGION
    unnamed_shop = rng.random(count) < 0.25

    names: list[str] = []
    seen: set[str] = set()
    trades = _trade(rng, vocab.trade_chars, count)
    for e in range(count):
        for attempt in range(50):
            trade = trades[e] if attempt == 0 else _trade(rng, vocab.trade_chars, 1)[0]
            f = form_idx[e]
            if f <= 2:
                name = _company_name(
                    _COMPANY_PREFIXES[prefix_idx[e]][0], trade, industries[ind_idx[e]].word, form[e], bool(bracketed[e])
                )
            elif f == 3 and unnamed_shop[e] and attempt == 0:
                name = f"杭州市西湖区{pop.name[legal_rep[e]]}（个体工商户）"
            elif f == 3:
                name = f"杭州市西湖区{trade}{vocab.shops[shop_idx[e]].word}"
            else:
                product = vocab.coop_products[coop_idx[e]][0]
                name = f"杭州西湖区{vocab.coop_places[place_idx[e]]}{trade}{product}专业合作社"
            if name not in seen:
                break
        seen.add(name)
        names.append(name)

    industry = [
        industries[i].category if f <= 2 else vocab.shops[s].category if f == 3 else vocab.coop_products[c][1]
        for f, i, s, c in zip(form_idx.tolist(), ind_idx.tolist(), shop_idx.tolist(), coop_idx.tolist(), strict=True)
    ]
    pollutes = np.array(
        [
            industries[i].pollutes if f <= 2 else vocab.shops[s].pollutes if f == 3 else False
            for f, i, s in zip(form_idx.tolist(), ind_idx.tolist(), shop_idx.tolist(), strict=True)
        ],
        dtype=bool,
    )

    # Registration: mostly recent, back to 1993.
    years_ago = np.minimum(rng.exponential(7.0, count), 33.5)
    registered_on = (_REF - 10 - years_ago * 365.2425).astype(np.int64)
    age_years = (_REF - registered_on) / 365.2425
    closed_p = np.minimum(0.06 + 0.012 * age_years, 0.35) * np.where(form_idx == 3, 1.5, 1.0)
    active = rng.random(count) >= closed_p
    span = np.maximum(_REF - 1 - (registered_on + 180), 1)
    deregistered_on = np.where(active, 0, registered_on + 180 + (rng.random(count) * span).astype(np.int64))
    deregistered_on = np.minimum(deregistered_on, _REF - 1)

    # Renamed: some companies older than two years changed their name.
    renamed = company & (age_years > 2) & (rng.random(count) < 0.08)
    old_name = [""] * count
    for e in np.flatnonzero(renamed).tolist():
        for _ in range(50):
            trade = _trade(rng, vocab.trade_chars, 1)[0]
            word = industries[int(rng.integers(len(industries)))].word
            keep_trade = rng.random() < 0.4
            candidate = _company_name(
                _COMPANY_PREFIXES[int(rng.integers(len(_COMPANY_PREFIXES)))][0],
                trades[e] if keep_trade else trade,
                word,
                form[e],
                bool(rng.random() < _BRACKET_REGION),
            )
            if candidate not in seen:
                break
        seen.add(candidate)
        old_name[e] = candidate
    rename_span = np.maximum(_REF - 30 - (registered_on + 365), 1)
    renamed_on = np.where(renamed, registered_on + 365 + (rng.random(count) * rename_span).astype(np.int64), 0)

    uscc, old_tax_id = _codes(rng, company, org_type.tolist(), registered_on)
    capital = np.where(
        company,
        np.clip(np.round(np.exp(rng.normal(4.4, 1.3, count))), 3, 50_000),
        np.where(form_idx == 4, np.round(rng.uniform(10, 500, count)), 0.0),
    )
    capital = np.where(np.array(form) == "股份有限公司", np.maximum(capital, 500), capital)

    address = draw_addresses(rng, vocab, count)
    shopfront = form_idx >= 3
    return Enterprises(
        ids=[f"E{i + 1:07d}" for i in range(count)],
        name=names,
        old_name=old_name,
        renamed_on=renamed_on.astype(np.int64),
        form=form,
        org_type=[str(t) for t in org_type.tolist()],
        uscc=uscc,
        old_tax_id=old_tax_id,
        industry=industry,
        pollutes=pollutes,
        legal_rep=legal_rep.astype(np.int64),
        registered_on=registered_on,
        active=active,
        deregistered_on=deregistered_on.astype(np.int64),
        capital=capital.astype(np.float64),
        address=address,
        shopfront=shopfront,
        employees=np.zeros(count, dtype=np.int64),
    )


def _codes(
    rng: np.random.Generator, company: BoolArray, org_type: list[str], registered_on: IntArray
) -> tuple[list[str], list[str]]:
    """Unique credit codes, and the old tax ID of companies registered before the unified code."""
    count = len(org_type)
    legacy = company & (registered_on < USCC_START)
    city_level = company & (rng.random(count) < 0.15)
    alphabet = np.array(list(ALPHABET), dtype=object)
    digits = rng.integers(0, 10, (count, 8))
    tail = alphabet[rng.integers(0, len(ALPHABET), (count, 5))]
    seen: set[str] = set()
    uscc: list[str] = []
    old_tax: list[str] = []
    for e in range(count):
        body = "".join(map(str, digits[e])) if legacy[e] else "MA2" + "".join(tail[e])
        area = "330100" if city_level[e] else DISTRICT_CODE
        code = make_credit_code("9", org_type[e], area, body)
        while code in seen:
            body = "MA2" + "".join(alphabet[rng.integers(0, len(ALPHABET), 5)])
            code = make_credit_code("9", org_type[e], area, body)
        seen.add(code)
        uscc.append(code)
        old_tax.append(DISTRICT_CODE + code[8:17] if legacy[e] else "")
    return uscc, old_tax


def assign_employers(rng: np.random.Generator, pop: Population, ent: Enterprises) -> tuple[IntArray, Enterprises]:
    """Each working-age person's insured employer (an active enterprise) or -1, and ``ent`` with
    its ``employees`` counted from that assignment."""
    employer = np.full(pop.size, -1, dtype=np.int64)
    candidates = np.flatnonzero(ent.active)
    if len(candidates) == 0:
        return employer, ent
    ages = pop.age_years()
    working = (ages >= 18) & (ages < np.where(pop.male, 60, 55))
    employed = working & (rng.random(pop.size) < np.where(pop.local, 0.62, 0.72))
    kind = np.array(ent.org_type)[candidates]
    # Employer sizes are skewed (a few hundred at most here); shops and cooperatives insure a handful.
    weight = rng.lognormal(0.0, 1.6, len(candidates)) * np.where(kind == "1", 1.0, 0.08)
    chosen = rng.choice(len(candidates), size=int(employed.sum()), p=weight / weight.sum())
    employer[employed] = candidates[chosen]
    employees = np.bincount(employer[employed], minlength=ent.size).astype(np.int64)
    return employer, dataclasses.replace(ent, employees=employees)
