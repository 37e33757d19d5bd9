"""Extracts whose rows are about people: 户籍, 流动人口, 参保, 救助, 婚姻, 健康档案, 学籍.

Each builder picks the people its department would know, writes them in that department's own
columns, formats and habits, and adds noise at fixed rates. Rates are per eligible row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from govlink.demo.enterprise_extracts import corrupt_enterprise_name, corrupt_uscc, enterprise_names
from govlink.demo.population import REFERENCE_DATE, IntArray
from govlink.demo.table import ExtractTable
from govlink.demo.world import (
    FULL,
    AddressStyle,
    BuiltExtract,
    ExtractSpec,
    World,
    add_address,
    add_dates,
    corrupt_id,
    corrupt_name,
    corrupt_phone,
    moved_mask,
    near_duplicate_changes,
    person_addresses,
)

_REF = REFERENCE_DATE.toordinal()
_YEAR = 365.2425
_EXPORTED = "2026年10月导出"


def _gender(world: World, sel: IntArray, male: str = "男", female: str = "女") -> list[str]:
    return [male if m else female for m in world.pop.male[sel].tolist()]


def _take(values: list[str], sel: IntArray) -> list[str]:
    return [values[i] for i in sel.tolist()]


def _between(rng: np.random.Generator, low: IntArray, high: IntArray) -> IntArray:
    """A day drawn uniformly from [low, high] for each row (high is raised to low where needed)."""
    high = np.maximum(high, low)
    days: IntArray = low + (rng.random(len(low)) * (high - low + 1)).astype(np.int64)
    return days


def ga_household_register(world: World, rng: np.random.Generator) -> BuiltExtract:
    """公安分局 户籍人口: everyone with a 户籍 in the district; the authoritative person source."""
    pop = world.pop
    sel = np.flatnonzero(pop.local)
    hh = pop.household[sel]
    t = ExtractTable(rng, len(sel))
    t.add("户号", [f"{h + 1:09d}" for h in hh.tolist()])
    t.add("与户主关系", _take(pop.relation, sel))
    t.add("姓名", _take(pop.name, sel), field="name")
    t.add("性别", _gender(world, sel), field="gender")
    t.add("民族", _take(pop.ethnicity, sel))
    add_dates(t, "出生日期", pop.birth[sel], "iso", field="birth_date")
    t.add("公民身份号码", _take(pop.id_number, sel), field="id_number")
    no_move = np.zeros(len(sel), dtype=bool)
    add_address(t, "户籍地址", person_addresses(world, sel, FULL, no_move), no_move, {"address_building": 0.01})
    t.add("所属社区", [pop.home.community[h] for h in hh.tolist()])
    t.add("联系电话", _take(pop.phone, sel), field="phone")
    t.mention("", "person", _take(pop.ids, sel))
    corrupt_id(t, "公民身份号码", pop.birth_year[sel], {"id_legacy15": 0.01})
    corrupt_name(t, "姓名", world.vocab, {"name_spaced": 0.003})
    corrupt_phone(t, "联系电话", {"phone_missing": 0.05})
    t.duplicate(0.001, 0.001, near_duplicate_changes(name="姓名", phone="联系电话"))
    t.shuffle()
    spec = ExtractSpec("GA", "ga_huji_renkou.csv", "户籍人口信息", "csv", "gb18030", "person", line_terminator="\r\n")
    return BuiltExtract(spec, t)


def ga_floating_population(world: World, rng: np.random.Generator) -> BuiltExtract:
    """公安分局 流动人口居住登记: residents aged 16+ whose 户籍 is elsewhere."""
    pop = world.pop
    ages = pop.age_years()
    sel = np.flatnonzero(~pop.local & (ages >= 16) & (rng.random(pop.size) < 0.85))
    t = ExtractTable(rng, len(sel))
    t.add("姓名", _take(pop.name, sel), field="name")
    t.add("性别", _gender(world, sel, "男性", "女性"), field="gender")
    add_dates(t, "出生日期", pop.birth[sel], "slash", field="birth_date", other_styles=("iso", "cn"), other_rate=0.03)
    ids = _take(pop.id_number, sel)
    t.add("身份证号码", ids, field="id_number")
    t.add("户籍地", [world.vocab.area_names.get(v[:6], "") for v in ids])
    old = moved_mask(world, sel, 0.3, rng)
    style = AddressStyle("杭州市西湖区")
    rates = {"address_building": 0.05, "address_cn_numeral": 0.02, "address_fullwidth": 0.02}
    add_address(t, "现居住地址", person_addresses(world, sel, style, old), old, rates)
    reasons = np.array(["务工", "经商", "投靠亲友", "就学", "其他"], dtype=object)
    reason = reasons[rng.choice(5, size=len(sel), p=[0.62, 0.14, 0.12, 0.07, 0.05])]
    reason[ages[sel] < 18] = "就学"
    t.add("居住事由", [str(r) for r in reason.tolist()])
    earliest = np.maximum(pop.birth[sel] + int(16 * _YEAR), dt.date(2010, 1, 1).toordinal())
    add_dates(t, "登记日期", _between(rng, earliest, np.full(len(sel), _REF - 1)), "slash", field="registered_on")
    t.add("联系电话", _take(pop.phone, sel), field="phone")
    t.mention("", "person", _take(pop.ids, sel))
    corrupt_id(
        t,
        "身份证号码",
        pop.birth_year[sel],
        {"id_missing": 0.005, "id_mistyped": 0.01, "id_fullwidth": 0.01, "id_spaced": 0.02, "id_lower_x": 0.5},
    )
    corrupt_name(t, "姓名", world.vocab, {"name_homophone": 0.02, "name_spaced": 0.01})
    corrupt_phone(t, "联系电话", {"phone_missing": 0.02, "phone_spaced": 0.03, "phone_fullwidth": 0.01})
    t.duplicate(0.01, 0.01, near_duplicate_changes(name="姓名", phone="联系电话", address="现居住地址"))
    t.shuffle()
    spec = ExtractSpec("GA", "ga_liudong_renkou.txt", "流动人口居住登记信息", "tsv", "utf-8", "person")
    return BuiltExtract(spec, t)


def rs_social_insurance(world: World, rng: np.random.Generator) -> BuiltExtract:
    """人社局 参保人员: insured employees, each with the employer they are insured through."""
    pop, ent = world.pop, world.ent
    sel = np.flatnonzero((world.employer >= 0) & (rng.random(pop.size) < 0.95))
    employer = world.employer[sel]
    t = ExtractTable(rng, len(sel))
    t.add("姓名", _take(pop.name, sel), field="name")
    t.add("性别", _gender(world, sel), field="gender")
    t.add("身份证号", _take(pop.id_number, sel), field="id_number")
    add_dates(t, "出生年月", pop.birth[sel], "cn_month", field="birth_date")
    t.add("手机号码", _take(pop.phone, sel), field="phone")
    names, old_rows = enterprise_names(world, employer, 0.3, rng)
    t.add("参保单位名称", names, role="employer", field="name")
    t.mark("参保单位名称", old_rows, "ent_old_name")
    t.add("单位统一社会信用代码", [ent.uscc[e] for e in employer.tolist()], role="employer", field="uscc")
    t.add("险种类型", ["企业职工基本养老保险"] * len(sel))
    t.add("参保状态", ["正常参保" if u < 0.95 else "暂停参保" for u in rng.random(len(sel)).tolist()])
    earliest = np.maximum(pop.birth[sel] + int(18 * _YEAR), ent.registered_on[employer])
    add_dates(t, "首次参保日期", _between(rng, earliest, np.full(len(sel), _REF - 1)), "iso", field="insured_on")
    t.mention("", "person", _take(pop.ids, sel))
    t.mention("employer", "enterprise", [ent.ids[e] for e in employer.tolist()])
    corrupt_id(
        t,
        "身份证号",
        pop.birth_year[sel],
        {"id_missing": 0.003, "id_legacy15": 0.02, "id_mistyped": 0.01, "id_fullwidth": 0.01, "id_lower_x": 0.3},
    )
    corrupt_name(t, "姓名", world.vocab, {"name_homophone": 0.01, "name_traditional": 0.005})
    corrupt_phone(t, "手机号码", {"phone_spaced": 0.02, "phone_fullwidth": 0.01, "phone_prefixed": 0.01})
    corrupt_enterprise_name(t, "参保单位名称", {"ent_bracket_width": 0.2, "ent_form": 0.02})
    corrupt_uscc(t, "单位统一社会信用代码", {"uscc_missing": 0.02, "uscc_mistyped": 0.005, "uscc_lower": 0.01})
    t.duplicate(0.005, 0.01, near_duplicate_changes(name="姓名", phone="手机号码"))
    t.shuffle()
    spec = ExtractSpec(
        "RS", "rs_canbao_renyuan.csv", "社会保险参保人员信息", "csv", "utf-8-sig", "person", line_terminator="\r\n"
    )
    return BuiltExtract(spec, t)


def mz_social_assistance(world: World, rng: np.random.Generator) -> BuiltExtract:
    """民政局 救助对象: every member of the households receiving 低保, 特困 or 临时救助."""
    pop = world.pop
    households = len(pop.household_ids)
    head_age = pop.age_years()[np.searchsorted(pop.household, np.arange(households))]
    sizes = np.bincount(pop.household, minlength=households)
    p = np.where((head_age >= 65) | (sizes == 1), 0.06, 0.02)
    chosen = rng.random(households) < p
    sel = np.flatnonzero(chosen[pop.household])
    hh = pop.household[sel]
    kinds = np.array(["最低生活保障", "低保边缘", "特困人员供养", "临时救助"], dtype=object)
    h_kind = kinds[rng.choice(4, size=households, p=[0.55, 0.2, 0.1, 0.15])]
    h_kind[(sizes > 1) & (h_kind == "特困人员供养")] = "最低生活保障"
    amount = np.round(rng.uniform(900, 1300, households) / 10) * 10 * sizes
    approved = _between(rng, np.full(households, dt.date(2016, 1, 1).toordinal()), np.full(households, _REF - 1))
    head_row = np.array([r == "H" for r in _take(pop.role, sel)], dtype=bool)
    t = ExtractTable(rng, len(sel))
    t.add("救助证编号", [f"XH{h + 1:07d}" for h in hh.tolist()])
    t.add("救助类别", [str(h_kind[h]) for h in hh.tolist()])
    t.add("姓名", _take(pop.name, sel), field="name")
    t.add("与户主关系", _take(pop.relation, sel))
    t.add("性别", _gender(world, sel), field="gender")
    t.add("证件号码", _take(pop.id_number, sel), field="id_number")
    add_dates(t, "出生日期", pop.birth[sel], "excel", field="birth_date", other_styles=("dot", "cn"), other_rate=0.03)
    t.add("家庭人口数", sizes[hh].tolist())
    t.add(
        "月保障金额（元）",
        [int(amount[h]) if head else None for h, head in zip(hh.tolist(), head_row.tolist(), strict=True)],
    )
    old = moved_mask(world, sel, 0.5, rng)
    style = AddressStyle("西湖区", building_word="栋", room_suffix="")
    rates = {"address_cn_numeral": 0.05, "address_fullwidth": 0.03}
    add_address(t, "居住地址", person_addresses(world, sel, style, old), old, rates)
    t.add("联系电话", _take(pop.phone, sel), field="phone")
    add_dates(t, "审批日期", approved[hh], "excel", field="approved_on")
    t.mention("", "person", _take(pop.ids, sel))
    corrupt_id(
        t,
        "证件号码",
        pop.birth_year[sel],
        {"id_missing": 0.02, "id_legacy15": 0.03, "id_mistyped": 0.01, "id_spaced": 0.02},
    )
    corrupt_name(t, "姓名", world.vocab, {"name_homophone": 0.02, "name_traditional": 0.01})
    corrupt_phone(t, "联系电话", {"phone_missing": 0.1})
    t.duplicate(0.01, 0.01, near_duplicate_changes(name="姓名", address="居住地址", id_number="证件号码"))
    t.shuffle()
    spec = ExtractSpec(
        "MZ",
        "mz_shehui_jiuzhu.xlsx",
        "最低生活保障及救助对象信息",
        "xlsx",
        None,
        "person",
        title_rows=(f"西湖区民政局最低生活保障及救助对象名册（{_EXPORTED}）",),
    )
    return BuiltExtract(spec, t)


def mz_marriage(world: World, rng: np.random.Generator) -> BuiltExtract:
    """民政局 婚姻登记: marriages registered in the district since 2003; the wife is the ``spouse``."""
    pop = world.pop
    husbands = np.flatnonzero((pop.partner >= 0) & pop.male)
    wives = pop.partner[husbands]
    earliest = np.maximum(pop.birth[husbands] + int(22 * _YEAR), pop.birth[wives] + int(20 * _YEAR))
    married = earliest + (rng.random(len(husbands)) * 6 * _YEAR).astype(np.int64)
    keep = (married >= dt.date(2003, 1, 1).toordinal()) & (married < _REF) & (rng.random(len(husbands)) < 0.4)
    husbands, wives, married = husbands[keep], wives[keep], married[keep]
    t = ExtractTable(rng, len(husbands))
    years = [dt.date.fromordinal(d).year for d in married.tolist()]
    serial = rng.permutation(max(len(husbands), 1))[: len(husbands)]
    t.add("结婚证字号", [f"J330106-{y}-{s + 1:06d}" for y, s in zip(years, serial.tolist(), strict=True)])
    add_dates(t, "登记日期", married, "cn", field="married_on")
    t.add("男方姓名", _take(pop.name, husbands), field="name")
    t.add("男方身份证件号码", _take(pop.id_number, husbands), field="id_number")
    add_dates(t, "男方出生日期", pop.birth[husbands], "cn", field="birth_date")
    t.add("女方姓名", _take(pop.name, wives), role="spouse", field="name")
    t.add("女方身份证件号码", _take(pop.id_number, wives), role="spouse", field="id_number")
    add_dates(t, "女方出生日期", pop.birth[wives], "cn", role="spouse", field="birth_date")
    t.add("登记机关", ["杭州市西湖区民政局婚姻登记处"] * len(husbands))
    t.mention("", "person", _take(pop.ids, husbands))
    t.mention("spouse", "person", _take(pop.ids, wives))
    for header, sel in (("男方身份证件号码", husbands), ("女方身份证件号码", wives)):
        corrupt_id(t, header, pop.birth_year[sel], {"id_mistyped": 0.005, "id_fullwidth": 0.01})
    for header in ("男方姓名", "女方姓名"):
        corrupt_name(t, header, world.vocab, {"name_homophone": 0.01, "name_traditional": 0.01})
    t.duplicate(0.003, 0.0)
    t.shuffle()
    spec = ExtractSpec(
        "MZ", "mz_hunyin_dengji.csv", "婚姻登记信息", "csv", "utf-8-sig", "person", line_terminator="\r\n"
    )
    return BuiltExtract(spec, t)


def wj_health_records(world: World, rng: np.random.Generator) -> BuiltExtract:
    """卫健局 居民健康档案: most residents, registered at the community health centre of their street."""
    pop = world.pop
    sel = np.flatnonzero(rng.random(pop.size) < np.where(pop.local, 0.65, 0.45))
    hh = pop.household[sel]
    t = ExtractTable(rng, len(sel))
    t.add("档案编号", [f"33010600{k + 1:07d}" for k in rng.permutation(len(sel)).tolist()])
    t.add("姓名", _take(pop.name, sel), field="name")
    t.add("性别", _gender(world, sel), field="gender")
    add_dates(
        t, "出生日期", pop.birth[sel], "excel", field="birth_date", other_styles=("dot", "slash"), other_rate=0.02
    )
    t.add("证件号码", _take(pop.id_number, sel), field="id_number")
    t.add("联系电话", _take(pop.phone, sel), field="phone")
    old = moved_mask(world, sel, 0.7, rng)
    style = AddressStyle("", building_word="号楼")
    rates = {"address_building": 0.05, "address_cn_numeral": 0.03}
    add_address(t, "现住址", person_addresses(world, sel, style, old), old, rates)
    streets = pop.home.street[hh].tolist()
    t.add("管理机构", [world.vocab.clinics[s] for s in streets])
    earliest = np.maximum(pop.birth[sel], dt.date(2009, 1, 1).toordinal())
    add_dates(t, "建档日期", _between(rng, earliest, np.full(len(sel), _REF - 1)), "excel", field="recorded_on")
    t.mention("", "person", _take(pop.ids, sel))
    corrupt_id(
        t,
        "证件号码",
        pop.birth_year[sel],
        {"id_missing": 0.03, "id_legacy15": 0.02, "id_mistyped": 0.01, "id_fullwidth": 0.01, "id_lower_x": 0.5},
    )
    corrupt_name(t, "姓名", world.vocab, {"name_homophone": 0.02, "name_traditional": 0.01, "name_spaced": 0.01})
    corrupt_phone(t, "联系电话", {"phone_missing": 0.05, "phone_spaced": 0.02})
    t.duplicate(0.01, 0.02, near_duplicate_changes(name="姓名", phone="联系电话", address="现住址"))
    phones = t.values("联系电话")
    # Excel holds clean mobile numbers as numbers.
    phones[:] = [int(v) if v.isascii() and v.isdigit() else (v or None) for v in phones]
    t.shuffle()
    spec = ExtractSpec(
        "WJ",
        "wj_jumin_jiankang_dangan.xlsx",
        "居民健康档案信息",
        "xlsx",
        None,
        "person",
        title_rows=(
            f"西湖区卫生健康局居民健康档案（{_EXPORTED}）",
            "导出单位：杭州市西湖区卫生健康局　　导出时间：2026-10-31　　数据范围：全区在档居民",
        ),
    )
    return BuiltExtract(spec, t)


_GRADES = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三", "高一", "高二", "高三")


def jy_students(world: World, rng: np.random.Generator) -> BuiltExtract:
    """教育局 在校学生: children 6–17 with the parent registered as guardian."""
    pop, vocab = world.pop, world.vocab
    ages = pop.age_years()
    kids = np.array([r in ("C", "G") for r in pop.role], dtype=bool)
    sel = np.flatnonzero(kids & (ages >= 6) & (ages <= 17) & (pop.guardian >= 0) & (rng.random(pop.size) < 0.95))
    guardian = pop.guardian[sel]
    grade = np.clip(ages[sel] - 6, 0, 11)
    t = ExtractTable(rng, len(sel))
    t.add("学生姓名", _take(pop.name, sel), field="name")
    t.add("性别", _gender(world, sel), field="gender")
    add_dates(
        t, "出生日期", pop.birth[sel], "compact", field="birth_date", other_styles=("dot", "iso"), other_rate=0.03
    )
    t.add("学生身份证件号", _take(pop.id_number, sel), field="id_number")
    streets = pop.home.street[pop.household[sel]].tolist()
    t.add(
        "学校名称",
        [
            vocab.primary_schools[s % len(vocab.primary_schools)]
            if g < 6
            else vocab.secondary_schools[s % len(vocab.secondary_schools)]
            for s, g in zip(streets, grade.tolist(), strict=True)
        ],
    )
    t.add("年级", [_GRADES[g] for g in grade.tolist()])
    t.add("班级", [f"{c}班" for c in rng.integers(1, 11, len(sel)).tolist()])
    old = moved_mask(world, sel, 0.5, rng)
    style = AddressStyle("杭州市西湖区")
    add_address(t, "家庭住址", person_addresses(world, sel, style, old), old, {"address_cn_numeral": 0.05})
    t.add("监护人姓名", _take(pop.name, guardian), role="guardian", field="name")
    t.add("监护人关系", ["父亲" if m else "母亲" for m in pop.male[guardian].tolist()])
    t.add("监护人身份证件号", _take(pop.id_number, guardian), role="guardian", field="id_number")
    t.add("监护人联系电话", _take(pop.phone, guardian), role="guardian", field="phone")
    t.mention("", "person", _take(pop.ids, sel))
    t.mention("guardian", "person", _take(pop.ids, guardian))
    corrupt_id(
        t, "学生身份证件号", pop.birth_year[sel], {"id_missing": 0.01, "id_mistyped": 0.005, "id_fullwidth": 0.01}
    )
    corrupt_id(
        t,
        "监护人身份证件号",
        pop.birth_year[guardian],
        {"id_missing": 0.02, "id_legacy15": 0.05, "id_mistyped": 0.02, "id_spaced": 0.02, "id_lower_x": 0.4},
    )
    corrupt_name(t, "学生姓名", vocab, {"name_homophone": 0.01, "name_traditional": 0.005})
    corrupt_name(t, "监护人姓名", vocab, {"name_homophone": 0.02})
    corrupt_phone(t, "监护人联系电话", {"phone_fullwidth": 0.02, "phone_spaced": 0.03})
    t.duplicate(0.003, 0.01, near_duplicate_changes(name="学生姓名", address="家庭住址"))
    t.shuffle()
    spec = ExtractSpec("JY", "jy_zaixiao_xuesheng.jsonl", "在校学生信息", "jsonl", "utf-8", "person")
    return BuiltExtract(spec, t)
