"""Extracts whose rows are about enterprises: 企业登记, 税务登记, 排污许可; and enterprise-name noise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from govlink.demo import noise
from govlink.demo.population import REFERENCE_DATE, IntArray, split_dates
from govlink.demo.table import ExtractTable, Perturbation
from govlink.demo.world import (
    BuiltExtract,
    ExtractSpec,
    World,
    add_address,
    add_dates,
    corrupt_id,
    corrupt_name,
    enterprise_addresses,
)

_REF = REFERENCE_DATE.toordinal()
_SC_TYPES = {
    "有限公司": "有限责任公司（自然人投资或控股）",
    "有限责任公司": "有限责任公司（自然人投资或控股）",
    "股份有限公司": "股份有限公司（非上市、自然人投资或控股）",
    "个体工商户": "个体工商户",
    "农民专业合作社": "农民专业合作社",
}
_SW_TYPES = {
    "有限公司": "私营有限责任公司",
    "有限责任公司": "私营有限责任公司",
    "股份有限公司": "私营股份有限公司",
    "个体工商户": "个体经营",
    "农民专业合作社": "农民专业合作社",
}


def enterprise_names(
    world: World, ents: IntArray, old_rate: float, rng: np.random.Generator
) -> tuple[list[str], list[int]]:
    """Current names, except the name before renaming for a share ``old_rate`` of renamed ones."""
    ent = world.ent
    index = ents.tolist()
    names = [ent.name[e] for e in index]
    renamed = np.array([bool(ent.old_name[e]) for e in index], dtype=bool)
    rows = np.flatnonzero(renamed & (rng.random(len(index)) < old_rate)).tolist()
    for row in rows:
        names[row] = ent.old_name[index[row]]
    return names, rows


def corrupt_enterprise_name(table: ExtractTable, header: str, rates: Mapping[str, float]) -> None:
    values = table.values(header)
    if "ent_bracket_width" in rates:
        eligible = np.array(["（" in v for v in values], dtype=bool)
        table.corrupt(header, "ent_bracket_width", rates["ent_bracket_width"], noise.bracket_halfwidth, eligible)
    if "ent_form" in rates:
        eligible = np.array([noise.has_swappable_form(v) for v in values], dtype=bool)
        table.corrupt(header, "ent_form", rates["ent_form"], noise.swap_form, eligible)


def corrupt_uscc(table: ExtractTable, header: str, rates: Mapping[str, float]) -> None:
    values = table.values(header)
    eighteen = np.array([len(v) == 18 for v in values], dtype=bool)
    lettered = np.array([any(c.isalpha() for c in v) for v in values], dtype=bool)
    transforms = {
        "uscc_missing": (lambda v, r: "", None),
        "uscc_mistyped": (noise.uscc_mistyped, eighteen),
        "uscc_lower": (lambda v, r: v.lower(), lettered),
        "uscc_fullwidth": (noise.fullwidth, None),
    }
    for kind, (transform, eligible) in transforms.items():
        if kind in rates:
            table.corrupt(header, kind, rates[kind], transform, eligible)


def _optional_dates(ordinals: IntArray, style: str) -> list[str]:
    """Formatted dates, blank where the ordinal is 0."""
    y, m, d = split_dates(np.where(ordinals > 0, ordinals, _REF))
    text = noise.format_dates(y.tolist(), m.tolist(), d.tolist(), style)
    return [t if o > 0 else "" for t, o in zip(text, ordinals.tolist(), strict=True)]


def _building_change(header: str, world: World, ents: IntArray) -> Perturbation:
    offices = ~world.ent.shopfront[ents]
    return Perturbation(header, "", "address", "address_building", noise.vary_building, offices)


def sc_enterprise_register(world: World, rng: np.random.Generator) -> BuiltExtract:
    """市场监管局 企业登记: every registered market entity, with its legal representative."""
    ent, pop = world.ent, world.pop
    sel = np.arange(ent.size, dtype=np.int64)
    rep = ent.legal_rep[sel]
    t = ExtractTable(rng, len(sel))
    t.add("统一社会信用代码", list(ent.uscc), field="uscc")
    t.add("企业名称", list(ent.name), field="name")
    t.add("企业类型", [_SC_TYPES[f] for f in ent.form])
    t.add("法定代表人", [pop.name[p] for p in rep.tolist()], role="legal_rep", field="name")
    t.add("法定代表人证件号码", [pop.id_number[p] for p in rep.tolist()], role="legal_rep", field="id_number")
    t.add("注册资本（万元）", [f"{c:g}" if c else "" for c in ent.capital.tolist()])
    add_dates(t, "成立日期", ent.registered_on, "iso", field="registered_on")
    t.add("登记状态", ent.status())
    t.add("注销日期", _optional_dates(ent.deregistered_on, "iso"))
    no_move = np.zeros(len(sel), dtype=bool)
    add_address(t, "住所", enterprise_addresses(world, sel, "浙江省杭州市西湖区"), no_move, {"address_building": 0.01})
    t.add(
        "登记机关", ["杭州市市场监督管理局" if u[2:8] == "330100" else "杭州市西湖区市场监督管理局" for u in ent.uscc]
    )
    t.mention("", "enterprise", list(ent.ids))
    t.mention("legal_rep", "person", [pop.ids[p] for p in rep.tolist()])
    corrupt_enterprise_name(t, "企业名称", {"ent_bracket_width": 0.03})
    corrupt_id(
        t, "法定代表人证件号码", pop.birth_year[rep], {"id_legacy15": 0.01, "id_mistyped": 0.005, "id_lower_x": 0.2}
    )
    corrupt_name(t, "法定代表人", world.vocab, {"name_traditional": 0.002})
    t.duplicate(0.003, 0.002, [_building_change("住所", world, sel)])
    t.shuffle()
    spec = ExtractSpec("SC", "sc_qiye_dengji.csv", "企业登记信息", "csv", "utf-8", "enterprise")
    return BuiltExtract(spec, t)


def sw_tax_register(world: World, rng: np.random.Generator) -> BuiltExtract:
    """税务局 税务登记: taxpayers, some still under the old 15-character tax ID or the old name."""
    ent, pop = world.ent, world.pop
    sel = np.flatnonzero(rng.random(ent.size) < np.where(ent.active, 0.92, 0.5))
    rep = ent.legal_rep[sel]
    index = sel.tolist()
    t = ExtractTable(rng, len(sel))
    legacy = np.array([bool(ent.old_tax_id[e]) for e in index], dtype=bool) & (rng.random(len(sel)) < 0.4)
    t.add(
        "纳税人识别号",
        [ent.old_tax_id[e] if old else ent.uscc[e] for e, old in zip(index, legacy.tolist(), strict=True)],
        field="uscc",
    )
    t.mark("纳税人识别号", np.flatnonzero(legacy).tolist(), "uscc_legacy_tax_id")
    names, old_rows = enterprise_names(world, sel, 0.7, rng)
    t.add("纳税人名称", names, field="name")
    t.mark("纳税人名称", old_rows, "ent_old_name")
    t.add("登记注册类型", [_SW_TYPES[ent.form[e]] for e in index])
    t.add("法定代表人（负责人）姓名", [pop.name[p] for p in rep.tolist()], role="legal_rep", field="name")
    t.add("法定代表人身份证号码", [pop.id_number[p] for p in rep.tolist()], role="legal_rep", field="id_number")
    no_move = np.zeros(len(sel), dtype=bool)
    rates = {"address_building": 0.05, "address_cn_numeral": 0.02, "address_fullwidth": 0.02}
    add_address(t, "生产经营地址", enterprise_addresses(world, sel, "杭州市西湖区", "幢"), no_move, rates)
    add_dates(t, "登记日期", ent.registered_on[sel], "cn", field="registered_on")
    offices = world.vocab.tax_offices
    t.add("主管税务机关", [offices[s % len(offices)] for s in ent.address.street[sel].tolist()])
    t.add("纳税人状态", ["正常" if a else "注销" for a in ent.active[sel].tolist()])
    t.mention("", "enterprise", [ent.ids[e] for e in index])
    t.mention("legal_rep", "person", [pop.ids[p] for p in rep.tolist()])
    corrupt_uscc(t, "纳税人识别号", {"uscc_mistyped": 0.005, "uscc_lower": 0.01})
    corrupt_enterprise_name(t, "纳税人名称", {"ent_bracket_width": 0.5, "ent_form": 0.05})
    corrupt_id(
        t, "法定代表人身份证号码", pop.birth_year[rep], {"id_missing": 0.05, "id_legacy15": 0.03, "id_mistyped": 0.01}
    )
    corrupt_name(t, "法定代表人（负责人）姓名", world.vocab, {"name_homophone": 0.01})
    t.duplicate(0.005, 0.01, [_building_change("生产经营地址", world, sel)])
    t.make_unencodable_safe("gbk")
    t.shuffle()
    spec = ExtractSpec("SW", "sw_shuiwu_dengji.csv", "税务登记信息", "csv", "gbk", "enterprise", line_terminator="\r\n")
    return BuiltExtract(spec, t)


def hb_discharge_permits(world: World, rng: np.random.Generator) -> BuiltExtract:
    """生态环境分局 排污许可: active enterprises whose activity needs a pollutant discharge permit."""
    ent, pop = world.ent, world.pop
    sel = np.flatnonzero(ent.active & ent.pollutes & (rng.random(ent.size) < 0.7))
    index = sel.tolist()
    rep = ent.legal_rep[sel]
    issued = np.maximum(ent.registered_on[sel], dt.date(2018, 1, 1).toordinal())
    issued = issued + (rng.random(len(sel)) * np.maximum(_REF - 1 - issued, 0)).astype(np.int64)
    t = ExtractTable(rng, len(sel))
    names, old_rows = enterprise_names(world, sel, 0.1, rng)
    t.add("单位名称", names, field="name")
    t.mark("单位名称", old_rows, "ent_old_name")
    t.add("统一社会信用代码", [ent.uscc[e] for e in index], field="uscc")
    letters = rng.choice(np.array(["P", "V", "U"], dtype=object), size=len(sel), p=[0.6, 0.25, 0.15]).tolist()
    t.add("许可证编号", [f"{ent.uscc[e]}001{c}" for e, c in zip(index, letters, strict=True)])
    t.add("行业类别", [ent.industry[e] for e in index])
    no_move = np.zeros(len(sel), dtype=bool)
    rates = {"address_building": 0.1, "address_no_prefix": 0.1}
    add_address(t, "生产经营场所地址", enterprise_addresses(world, sel, "杭州市西湖区", "幢"), no_move, rates)
    t.add("法定代表人", [pop.name[p] for p in rep.tolist()], role="legal_rep", field="name")
    add_dates(t, "发证日期", issued, "dot", field="issued_on")
    add_dates(t, "有效期限起", issued, "excel", field="valid_from")
    until = np.array([_five_years_on(d) for d in issued.tolist()], dtype=np.int64)
    add_dates(t, "有效期限至", until, "excel", field="valid_until")
    t.mention("", "enterprise", [ent.ids[e] for e in index])
    t.mention("legal_rep", "person", [pop.ids[p] for p in rep.tolist()])
    corrupt_enterprise_name(t, "单位名称", {"ent_bracket_width": 0.3, "ent_form": 0.05})
    corrupt_uscc(t, "统一社会信用代码", {"uscc_missing": 0.05, "uscc_mistyped": 0.01})
    corrupt_name(t, "法定代表人", world.vocab, {"name_homophone": 0.01})
    t.duplicate(0.01, 0.02, [_building_change("生产经营场所地址", world, sel)])
    t.shuffle()
    spec = ExtractSpec(
        "HB",
        "hb_paiwu_xuke.xlsx",
        "排污许可证信息",
        "xlsx",
        None,
        "enterprise",
        title_rows=("杭州市生态环境局西湖分局排污许可证发放情况一览表（截至2026年10月31日）",),
    )
    return BuiltExtract(spec, t)


def _five_years_on(ordinal: int) -> int:
    day = dt.date.fromordinal(ordinal)
    try:
        end = day.replace(year=day.year + 5)
    except ValueError:  # 29 February
        end = day.replace(year=day.year + 5, day=28)
    return (end - dt.timedelta(days=1)).toordinal()
